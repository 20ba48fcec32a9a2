package scheduler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/internal/fakesmtp"
)

// These tests run the real dispatcher with the real SMTP channel (go-mail)
// against an in-process SMTP server. channel/email_test.go covers the
// channel on its own; here the claims, workers, acks, retries and
// suppressions are the dispatcher's.

const (
	smtpFromDomain = "lessons.rekindle.test"
	smtpMailto     = "mailto:unsubscribe@lessons.rekindle.test?subject=unsubscribe"
	smtpListID     = "Rekindle <rekindle.lessons.rekindle.test>"
)

// smtpSetup is an engine over a fresh database whose email dispatcher sends
// through the SMTP channel to a fake server.
type smtpSetup struct {
	e   *Engine
	clk *clock.Manual
	srv *fakesmtp.Server
	d   *Dispatcher
}

func newSMTPSetup(t *testing.T, workers int) *smtpSetup {
	t.Helper()
	clk := clock.NewManual(utc("2026-06-01T10:00:00Z"))
	e := newEngine(t, clk)
	e.Cfg.ListID, e.Cfg.Mailto = smtpListID, smtpMailto
	srv, err := fakesmtp.Start(fakesmtp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	d := smtpDispatcher(t, e, srv.Host(), srv.Port(), workers)
	return &smtpSetup{e: e, clk: clk, srv: srv, d: d}
}

// smtpDispatcher is an email dispatcher of e sending through the SMTP
// channel to host:port.
func smtpDispatcher(t *testing.T, e *Engine, host string, port, workers int) *Dispatcher {
	t.Helper()
	ch, err := channel.NewSMTP(channel.SMTPConfig{Host: host, Port: port, TLS: "none",
		From: "Rekindle <hello@" + smtpFromDomain + ">", Timeout: 5 * time.Second, IdleTimeout: time.Minute}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	d := e.NewDispatcher(ch, workers, "smtp-test")
	t.Cleanup(func() { d.Close() })
	return d
}

// queued is a seeded delivery as the dispatcher should send it.
type queued struct {
	ID    int64  `db:"id"`
	To    string `db:"to_addr"`
	Subj  string `db:"subject"`
	Text  string `db:"body_text"`
	HTML  string `db:"body_html"`
	Unsub string `db:"unsubscribe_url"`
}

// seedEmails queues one email delivery, due now, to each address, with a
// text and an HTML body and a one-click unsubscribe link of its own.
func (s *smtpSetup) seedEmails(t *testing.T, addrs []string) map[int64]queued {
	t.Helper()
	var rows []queued
	now := s.clk.Now()
	if err := s.e.Store.DB.Select(&rows, `INSERT INTO deliveries (step_key, kind, channel, to_addr, due_at, not_before,
			subject, body_text, body_html, unsubscribe_url, created_at, updated_at)
		SELECT 'step-' || g, 'lesson', 'email', a, $1, $1,
			'Lesson ' || g || ' — a gentle start', 'Hello reader ' || g || E',\nthis is your lesson.\n',
			'<p>Hello reader <b>' || g || '</b>, this is your lesson.</p>',
			'https://rekindle.test/unsubscribe/tok-' || g, $1, $1
		FROM unnest($2::text[]) WITH ORDINALITY AS u(a, g)
		RETURNING id, to_addr, subject, body_text, body_html, unsubscribe_url`, now, pq.Array(addrs)); err != nil {
		t.Fatal(err)
	}
	out := map[int64]queued{}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out
}

// drain runs dispatch passes until one claims nothing, and returns how many
// deliveries were claimed in all.
func (s *smtpSetup) drain(t *testing.T) int {
	t.Helper()
	total := 0
	for {
		n, err := s.d.DispatchOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

// checkReceived parses a received message as a mail client would and
// checks it against the delivery it came from; it returns that delivery's id.
func checkReceived(t *testing.T, m fakesmtp.Message, want map[int64]queued) int64 {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("parse received message: %v", err)
	}
	h := msg.Header
	id, ok := channel.ParseSMTPMessageID(h.Get("Message-Id"))
	if !ok {
		t.Fatalf("Message-ID %q is not derived from a delivery id", h.Get("Message-Id"))
	}
	q, ok := want[id]
	if !ok {
		t.Fatalf("received a message for delivery %d, which was not queued", id)
	}
	if got, wantID := h.Get("Message-Id"), channel.SMTPMessageID(id, smtpFromDomain); got != wantID {
		t.Errorf("delivery %d: Message-ID %q, want %q", id, got, wantID)
	}
	if len(m.To) != 1 || m.To[0] != q.To {
		t.Errorf("delivery %d: envelope To %q, want %s", id, m.To, q.To)
	}
	if to, err := netmail.ParseAddress(h.Get("To")); err != nil || to.Address != q.To {
		t.Errorf("delivery %d: To header %q (%v)", id, h.Get("To"), err)
	}
	if subj, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); err != nil || subj != q.Subj {
		t.Errorf("delivery %d: Subject %q (%v), want %q", id, subj, err, q.Subj)
	}

	// List-Unsubscribe: the delivery's own https link and the list's mailto.
	var https, mailto []string
	for _, item := range strings.Split(h.Get("List-Unsubscribe"), ",") {
		item = strings.TrimSpace(item)
		if !strings.HasPrefix(item, "<") || !strings.HasSuffix(item, ">") {
			t.Errorf("delivery %d: List-Unsubscribe item %q is not in angle brackets", id, item)
			continue
		}
		switch u := item[1 : len(item)-1]; {
		case strings.HasPrefix(u, "https://"):
			https = append(https, u)
		case strings.HasPrefix(u, "mailto:"):
			mailto = append(mailto, u)
		default:
			t.Errorf("delivery %d: List-Unsubscribe item %q", id, item)
		}
	}
	if len(https) != 1 || https[0] != q.Unsub || len(mailto) != 1 || mailto[0] != smtpMailto {
		t.Errorf("delivery %d: List-Unsubscribe %q; want <%s> and <%s>", id, h.Get("List-Unsubscribe"), q.Unsub, smtpMailto)
	}
	if got := h.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("delivery %d: List-Unsubscribe-Post %q", id, got)
	}
	if got := h.Get("List-Id"); got != smtpListID {
		t.Errorf("delivery %d: List-Id %q, want %q", id, got, smtpListID)
	}

	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("delivery %d: Content-Type %q (%v)", id, h.Get("Content-Type"), err)
	}
	parts := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("delivery %d: part: %v", id, err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts[pt] = strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	if len(parts) != 2 || parts["text/plain"] != q.Text || parts["text/html"] != q.HTML {
		t.Errorf("delivery %d: parts %q; want text/plain %q and text/html %q", id, parts, q.Text, q.HTML)
	}
	return id
}

// 200 queued emails, 4 workers: every delivery reaches the server once,
// over no more connections than workers, complete with its list headers,
// and every row is 'sent' after one attempt.
func TestDispatcherSMTPSendsEachEmailOnceOverWorkerConnections(t *testing.T) {
	const workers, n = 4, 200
	s := newSMTPSetup(t, workers)
	s.e.Cfg.ClaimBatch = 50 // several claims: connections outlive a batch
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("reader%d@example.org", i+1)
	}
	want := s.seedEmails(t, addrs)

	if claimed := s.drain(t); claimed != n {
		t.Fatalf("claimed %d deliveries, want %d", claimed, n)
	}
	if got := s.srv.Connections(); got > workers {
		t.Errorf("the server saw %d connections for %d workers", got, workers)
	}
	msgs := s.srv.Messages()
	if len(msgs) != n {
		t.Fatalf("the server received %d messages, want %d", len(msgs), n)
	}
	seen := map[int64]int{}
	for _, m := range msgs {
		seen[checkReceived(t, m, want)]++
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("delivery %d received %d times", id, seen[id])
		}
	}

	var rows []struct {
		ID         int64   `db:"id"`
		Status     string  `db:"status"`
		Attempts   int     `db:"attempts"`
		ProviderID *string `db:"provider_id"`
		Sent       bool    `db:"sent"`
	}
	if err := s.e.Store.DB.Select(&rows, `SELECT id, status, attempts, provider_id, sent_at IS NOT NULL AS sent FROM deliveries`); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Status != "sent" || r.Attempts != 1 || !r.Sent || r.ProviderID == nil || *r.ProviderID != channel.SMTPMessageID(r.ID, smtpFromDomain) {
			t.Errorf("delivery %d: status %s, attempts %d, sent_at set %v, provider_id %v; want sent once with its Message-ID",
				r.ID, r.Status, r.Attempts, r.Sent, r.ProviderID)
		}
	}
	// Nothing left: another pass sends nothing more.
	if claimed := s.drain(t); claimed != 0 || s.srv.MessageCount() != n {
		t.Errorf("a further pass claimed %d and the server has %d messages", claimed, s.srv.MessageCount())
	}
}

// A recipient answered 451 once is retried after the backoff and sent once;
// a recipient answered 550 fails at once, is suppressed and is never tried
// again, whatever passes follow and however late.
func TestDispatcherSMTPTransientRetriedPermanentSuppressed(t *testing.T) {
	const workers = 4
	s := newSMTPSetup(t, workers)
	const flaky, gone = "flaky@example.org", "gone@example.org"
	addrs := []string{flaky, gone}
	for i := range 18 {
		addrs = append(addrs, fmt.Sprintf("fine%d@example.org", i+1))
	}
	want := s.seedEmails(t, addrs)
	ids := map[string]int64{}
	for id, q := range want {
		ids[q.To] = id
	}
	s.srv.InjectRecipient(flaky, 1, fakesmtp.Fault{Code: 451})
	// Enough 550s that any retry would be answered 550 again, and counted.
	s.srv.InjectRecipient(gone, 5, fakesmtp.Fault{Code: 550})

	type state struct {
		Status   string `db:"status"`
		Attempts int    `db:"attempts"`
		Code     string `db:"error_code"`
	}
	row := func(addr string) state {
		t.Helper()
		var st state
		if err := s.e.Store.DB.Get(&st, `SELECT status, attempts, coalesce(error_code, '') AS error_code FROM deliveries WHERE id = $1`, ids[addr]); err != nil {
			t.Fatal(err)
		}
		return st
	}
	received := func(addr string) int {
		n := 0
		for _, m := range s.srv.Messages() {
			if len(m.To) == 1 && m.To[0] == addr {
				n++
			}
		}
		return n
	}

	s.drain(t)
	if st := row(flaky); st.Status != "queued" || st.Attempts != 1 || st.Code != "451" {
		t.Fatalf("after a 451: %+v; want queued for a retry after 1 attempt, code 451", st)
	}
	if st := row(gone); st.Status != "failed" || st.Attempts != 1 || st.Code != "550" {
		t.Fatalf("after a 550: %+v; want failed after 1 attempt, code 550", st)
	}
	var reason string
	if err := s.e.Store.DB.Get(&reason, `SELECT reason FROM suppressions WHERE channel = 'email' AND address = $1`, gone); err != nil {
		t.Fatalf("the 550 address was not suppressed: %v", err)
	}
	if reason != "provider 550" {
		t.Errorf("suppression reason %q, want %q", reason, "provider 550")
	}
	if s.srv.MessageCount() != 18 {
		t.Fatalf("the server has %d messages after the first pass, want the 18 fine ones", s.srv.MessageCount())
	}

	// Before the backoff has passed, further passes send nothing.
	if claimed := s.drain(t); claimed != 0 {
		t.Fatalf("a pass inside the backoff claimed %d deliveries", claimed)
	}
	if s.srv.RcptAttempts(flaky) != 1 {
		t.Fatalf("the 451 address was retried inside the backoff")
	}

	// After it, the 451 address is sent, once.
	s.clk.Advance(2 * s.e.Cfg.RetryBase)
	s.drain(t)
	if st := row(flaky); st.Status != "sent" || st.Attempts != 2 {
		t.Fatalf("after the backoff: %+v; want sent on attempt 2", st)
	}
	// Long after every backoff, and with a new delivery queued to the 550
	// address: that one is cancelled at claim, and the server never hears
	// of the address again.
	if _, err := s.e.Store.DB.Exec(`INSERT INTO deliveries (step_key, channel, to_addr, due_at, not_before, subject, body_text, created_at, updated_at)
		VALUES ('later', 'email', $1, $2, $2, 'Later', 'Later', $2, $2)`, gone, s.clk.Now()); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		s.clk.Advance(s.e.Cfg.RetryMax + s.e.Cfg.Lease)
		if _, err := s.e.RescueOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		s.drain(t)
	}
	var later string
	if err := s.e.Store.DB.Get(&later, `SELECT status FROM deliveries WHERE step_key = 'later'`); err != nil {
		t.Fatal(err)
	}
	if later != "cancelled" {
		t.Errorf("a delivery queued to the suppressed address is %s, want cancelled", later)
	}
	if st := row(gone); st.Status != "failed" || st.Attempts != 1 {
		t.Errorf("the 550 delivery is %+v; want failed after its one attempt", st)
	}
	for addr, wantRcpt := range map[string]int{flaky: 2, gone: 1} {
		if got := s.srv.RcptAttempts(addr); got != wantRcpt {
			t.Errorf("the server saw %d RCPT TO %s, want %d", got, addr, wantRcpt)
		}
	}
	if got := received(flaky); got != 1 {
		t.Errorf("the server received %d messages for %s, want 1", got, flaky)
	}
	if got := received(gone); got != 0 {
		t.Errorf("the server received %d messages for %s, want 0", got, gone)
	}
	msgs := s.srv.Messages()
	if len(msgs) != 19 {
		t.Fatalf("the server has %d messages, want 19 (18 fine, the 451 one once)", len(msgs))
	}
	for _, m := range msgs {
		checkReceived(t, m, want)
	}
	if got := s.srv.Connections(); got > workers {
		t.Errorf("the server saw %d connections for %d workers", got, workers)
	}
	var notSent int
	if err := s.e.Store.DB.Get(&notSent, `SELECT count(*) FROM deliveries WHERE to_addr LIKE 'fine%' AND (status <> 'sent' OR attempts <> 1)`); err != nil {
		t.Fatal(err)
	}
	if notSent != 0 {
		t.Errorf("%d of the fine deliveries are not sent after exactly one attempt", notSent)
	}
}

// A server that stalls after taking a message's content does not keep the
// attempt past its claim's lease: past it, the rescuer would hand the row to
// another worker while this one might still deliver it (two copies, with no
// crash anywhere). The attempt is given up before the lease ends and put
// back for a retry, under the fence of its own attempt.
//
// The engine runs on the real clock here, so that the lease the claim wrote
// on the row is a real instant; a relay in front of the fake server notes
// when the client hung up on it. The test compares those two facts, not how
// long DispatchOnce took (which includes recording the outcome, the last
// eighth of the lease, and varies with the machine's load).
func TestDispatcherSMTPStallEndsWithinTheLease(t *testing.T) {
	s := newSMTPSetup(t, 1)
	lease := 4 * time.Second // the SMTP channel's own timeout is 5 s
	s.e.Cfg.Lease = lease
	s.clk.Set(time.Now())
	s.e.Clock = clock.Real{}
	relay := relayNotingHangUp(t, s.srv.Addr())
	d := smtpDispatcher(t, s.e, "127.0.0.1", relay.port(), 1)
	seeded := s.seedEmails(t, []string{"stall@example.org"})
	if len(seeded) != 1 {
		t.Fatalf("seeded %d deliveries, want 1", len(seeded))
	}
	var id int64
	for k := range seeded {
		id = k
	}
	s.srv.HangNext(fakesmtp.StageData, 1, 30*time.Second)

	dispatched := make(chan error, 1)
	go func() {
		_, err := d.DispatchOnce(context.Background())
		dispatched <- err
	}()

	type state struct {
		Status   string     `db:"status"`
		Attempts int        `db:"attempts"`
		Lease    *time.Time `db:"lease_until"`
		Code     string     `db:"error_code"`
	}
	row := func() state {
		t.Helper()
		var r state
		dbGet(t, s.e.Store.DB, &r, `SELECT status, attempts, lease_until, coalesce(error_code, '') AS error_code FROM deliveries WHERE id = $1`, id)
		return r
	}
	// The claim, as the rescuer would see it while the server stalls.
	var claim state
	for claim = row(); claim.Status != "sending"; claim = row() {
		select {
		case err := <-dispatched:
			t.Fatalf("the dispatch ended (%v) before the message was ever seen in flight: %+v", err, row())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if claim.Lease == nil {
		t.Fatalf("the message in flight holds no lease: %+v", claim)
	}
	select {
	case err := <-dispatched:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the dispatch did not end while the server stalled")
	}

	var hungUp time.Time
	select {
	case hungUp = <-relay.hungUp:
	case <-time.After(time.Second):
		t.Fatal("the client never hung up on the stalled server")
	}
	if !hungUp.Before(*claim.Lease) {
		t.Fatalf("the stalled attempt was given up at %s, %s after its lease ran out (%s): the rescuer could have handed it to another worker meanwhile",
			hungUp.UTC().Format(time.StampMilli), hungUp.Sub(*claim.Lease), claim.Lease.UTC().Format(time.StampMilli))
	}
	if r := row(); r.Status != "queued" || r.Attempts != 1 || r.Lease != nil || r.Code == "" {
		t.Fatalf("after the stall: %+v, want queued for a retry after 1 failed attempt (its error code kept), no lease", r)
	}
	if n := s.srv.MessageCount(); n != 0 {
		t.Fatalf("the stalled server accepted %d messages, want none", n)
	}
}

// hangUpRelay passes SMTP connections through to a server and reports when a
// client closed its side: the moment it gave up.
type hangUpRelay struct {
	ln     net.Listener
	hungUp chan time.Time
}

func relayNotingHangUp(t *testing.T, target string) *hangUpRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &hangUpRelay{ln: ln, hungUp: make(chan time.Time, 16)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	track := func(c net.Conn) {
		mu.Lock()
		open = append(open, c)
		mu.Unlock()
	}
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			track(client)
			track(server)
			wg.Add(2)
			go func() {
				defer wg.Done()
				io.Copy(client, server)
			}()
			go func() {
				defer wg.Done()
				// Ends when the client closes (EOF or reset); a read on a
				// connection this relay closed at cleanup is not a hang-up.
				_, err := io.Copy(server, client)
				if !errors.Is(err, net.ErrClosed) {
					r.hungUp <- time.Now()
				}
				server.Close()
			}()
		}
	}()
	return r
}

func (r *hangUpRelay) port() int { return r.ln.Addr().(*net.TCPAddr).Port }
