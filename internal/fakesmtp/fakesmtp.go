// Package fakesmtp is an in-process SMTP server for tests, built on
// github.com/emersion/go-smtp.
//
// It records every accepted message (envelope and raw bytes), counts the
// connections it accepted and the RCPT commands naming each address, and can
// be told to misbehave: answer a given reply code for the next N commands of
// a stage (MAIL, RCPT or DATA) or for the next N RCPTs naming one address,
// drop the connection, or hang (sleep past a client's timeout) before
// answering.
//
//	srv, err := fakesmtp.Start(fakesmtp.Options{})
//	if err != nil { ... }
//	defer srv.Close()
//	srv.Inject(fakesmtp.StageRcpt, 1, fakesmtp.Fault{Code: 451})
//	// ... send mail to srv.Host():srv.Port() ...
//	msgs := srv.Messages()
//
// The server is safe for concurrent use. Close stops every goroutine it
// started, including sessions that are hanging on purpose.
package fakesmtp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Stage names the point of an SMTP session at which a fault is injected.
type Stage string

const (
	// StageConnect acts when a connection is accepted, before the greeting:
	// a Code is sent as the greeting and the connection closed, Drop closes
	// the connection without a word, Hang delays the greeting.
	StageConnect Stage = "connect"
	// StageMail acts on MAIL FROM.
	StageMail Stage = "mail"
	// StageRcpt acts on RCPT TO.
	StageRcpt Stage = "rcpt"
	// StageData acts on the message content: the content is read, then the
	// fault decides the reply to the final "." (a Code there is what real
	// servers send for content they refuse after DATA).
	StageData Stage = "data"
)

// Fault is what the server does instead of its normal answer. Exactly one of
// Code, Drop and Hang is normally set; Hang may be combined with Code or Drop
// (sleep first, then answer or drop).
type Fault struct {
	// Code is the SMTP reply code to answer (e.g. 421, 451, 550, 554).
	Code int
	// Message is the reply text; a default is used when empty.
	Message string
	// Enhanced is the RFC 3463 status code sent with Code (e.g. {5, 7, 1});
	// the zero value picks one that fits Code and the stage.
	Enhanced smtp.EnhancedCode
	// Drop closes the connection instead of answering.
	Drop bool
	// Hang sleeps this long before answering (or until the server closes).
	Hang time.Duration
}

// Options configures a Server. The zero value is a plain-text server on
// 127.0.0.1 with a random port.
type Options struct {
	// Addr to listen on; default "127.0.0.1:0".
	Addr string
	// Domain announced in the greeting; default "fakesmtp.test".
	Domain string
	// STARTTLS, when true, makes the server offer STARTTLS with a
	// self-signed certificate for 127.0.0.1/localhost. Use
	// Server.ClientTLSConfig to trust it.
	STARTTLS bool
	// ImplicitTLS makes the listener speak TLS from the first byte (like
	// port 465), with the same self-signed certificate.
	ImplicitTLS bool
	// Users enables AUTH PLAIN with these username/password pairs (allowed
	// without TLS, this is a test server). Nil: no AUTH offered.
	Users map[string]string
	// ReadTimeout closes idle sessions; default 1 minute.
	ReadTimeout time.Duration
	// DiscardContent keeps envelopes and sizes but not the raw bytes (for
	// benchmarks that send many messages).
	DiscardContent bool
	// Logger receives go-smtp's internal error reports; default discards.
	Logger *log.Logger
}

// Message is one message the server accepted.
type Message struct {
	From     string    // MAIL FROM address
	To       []string  // RCPT TO addresses
	Data     []byte    // raw message as received (CRLF line ends, dot-unstuffed); nil with DiscardContent
	Size     int       // length of the raw message
	Helo     string    // the client's EHLO/HELO name
	AuthUser string    // the authenticated user, if any
	TLS      bool      // whether the session was encrypted
	ConnID   int64     // which accepted connection (1-based) carried it
	Received time.Time // when the final "." was accepted
}

// Server is a running fake SMTP server.
type Server struct {
	opts     Options
	srv      *smtp.Server
	ln       net.Listener
	done     chan struct{}
	served   chan struct{}
	cert     *tls.Certificate
	closeErr error
	closeOne sync.Once

	connSeq atomic.Int64 // connections accepted so far
	active  atomic.Int64 // connections currently open

	mu         sync.Mutex
	msgs       []Message
	faults     map[Stage][]Fault
	rcptFaults map[string][]Fault // by lower-cased address
	rcptSeen   map[string]int     // RCPT commands by lower-cased address
	outages    map[Stage]Fault    // standing faults, after the queued ones
	conns      map[*conn]struct{}
	cond       *sync.Cond
}

// Start starts a server according to opts. Close it when done.
func Start(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Domain == "" {
		opts.Domain = "fakesmtp.test"
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = log.New(io.Discard, "", 0)
	}
	s := &Server{
		opts:       opts,
		done:       make(chan struct{}),
		served:     make(chan struct{}),
		faults:     make(map[Stage][]Fault),
		rcptFaults: make(map[string][]Fault),
		rcptSeen:   make(map[string]int),
		conns:      make(map[*conn]struct{}),
	}
	s.cond = sync.NewCond(&s.mu)

	srv := smtp.NewServer(backend{s})
	srv.Domain = opts.Domain
	srv.ReadTimeout = opts.ReadTimeout
	srv.WriteTimeout = opts.ReadTimeout
	srv.MaxMessageBytes = 32 << 20
	srv.MaxRecipients = 100
	srv.AllowInsecureAuth = true
	srv.ErrorLog = opts.Logger
	var serverTLS *tls.Config
	if opts.STARTTLS || opts.ImplicitTLS {
		cert, err := selfSigned()
		if err != nil {
			return nil, fmt.Errorf("fakesmtp: certificate: %w", err)
		}
		s.cert = cert
		serverTLS = &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
	}
	if opts.STARTTLS {
		srv.TLSConfig = serverTLS
	}
	s.srv = srv

	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("fakesmtp: listen: %w", err)
	}
	s.ln = &listener{Listener: ln, s: s}
	if opts.ImplicitTLS {
		s.ln = tls.NewListener(s.ln, serverTLS)
	}
	go func() {
		defer close(s.served)
		_ = srv.Serve(s.ln)
	}()
	return s, nil
}

// Listen is Start with only an address, for running the fake next to a real
// binary (e.g. "127.0.0.1:2525").
func Listen(addr string) (*Server, error) { return Start(Options{Addr: addr}) }

// Addr returns the listening address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host returns the listening IP.
func (s *Server) Host() string {
	h, _, _ := net.SplitHostPort(s.Addr())
	return h
}

// Port returns the listening TCP port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr())
	n, _ := strconv.Atoi(p)
	return n
}

// ClientTLSConfig returns a tls.Config that trusts the server's self-signed
// certificate (nil unless Options.STARTTLS or Options.ImplicitTLS).
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.cert == nil {
		return nil
	}
	return clientConfig(s.cert)
}

// Close stops the server: the listener and every open connection are closed,
// hanging sessions wake up, and Close waits for the accept loop to end.
// Calling it again is harmless.
func (s *Server) Close() error {
	s.closeOne.Do(func() {
		close(s.done)
		// Close the listener ourselves too: go-smtp only knows it once its
		// Serve has started, which may not have happened yet.
		lnErr := s.ln.Close()
		err := s.srv.Close()
		if errors.Is(err, net.ErrClosed) {
			err = nil
		}
		if err == nil && !errors.Is(lnErr, net.ErrClosed) {
			err = lnErr
		}
		s.closeErr = err
		<-s.served
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	return s.closeErr
}

// Connections returns how many connections the server has accepted so far.
func (s *Server) Connections() int { return int(s.connSeq.Load()) }

// ActiveConnections returns how many connections are open right now.
func (s *Server) ActiveConnections() int { return int(s.active.Load()) }

// Messages returns a copy of the messages accepted so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// MessageCount returns how many messages were accepted so far.
func (s *Server) MessageCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// WaitMessages waits until at least n messages were accepted or timeout
// passes, and reports whether n were reached.
func (s *Server) WaitMessages(n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	t := time.AfterFunc(timeout, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer t.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.msgs) < n && time.Now().Before(deadline) && !s.closed() {
		s.cond.Wait()
	}
	return len(s.msgs) >= n
}

// Reset forgets the recorded messages, the RCPT counts and pending faults
// (the connection counter is kept).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = nil
	s.faults = make(map[Stage][]Fault)
	s.rcptFaults = make(map[string][]Fault)
	s.rcptSeen = make(map[string]int)
	s.outages = nil
}

// InjectRecipient queues fault for the next n RCPT commands naming addr
// (compared without regard to case), on any connection. Unlike Inject on
// StageRcpt, it hits that address whichever of several concurrent clients
// sends it; it is applied before the stage-wide RCPT faults.
func (s *Server) InjectRecipient(addr string, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := strings.ToLower(addr)
	for range n {
		s.rcptFaults[k] = append(s.rcptFaults[k], f)
	}
}

// RcptAttempts returns how many RCPT commands named addr (without regard to
// case), whatever the server answered them: a client's delivery attempts
// for that address.
func (s *Server) RcptAttempts(addr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcptSeen[strings.ToLower(addr)]
}

// Inject queues fault for the next n commands of stage, across all
// connections. Faults queue up: Inject(StageRcpt, 2, f1) then
// Inject(StageRcpt, 1, f2) makes the next three RCPTs answer f1, f1, f2.
func (s *Server) Inject(stage Stage, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[stage] = append(s.faults[stage], f)
	}
}

// FailNext answers code (e.g. 451, 550) to the next n commands of stage.
func (s *Server) FailNext(stage Stage, n, code int) {
	s.Inject(stage, n, Fault{Code: code})
}

// DropNext closes the connection on the next n commands of stage.
func (s *Server) DropNext(stage Stage, n int) { s.Inject(stage, n, Fault{Drop: true}) }

// HangNext sleeps d before answering the next n commands of stage normally.
func (s *Server) HangNext(stage Stage, n int, d time.Duration) {
	s.Inject(stage, n, Fault{Hang: d})
}

// PendingFaults returns how many injected faults have not fired yet.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, q := range s.faults {
		n += len(q)
	}
	for _, q := range s.rcptFaults {
		n += len(q)
	}
	return n
}

// DropConnections closes every open connection now, as a server restart or
// an idle timeout on the server side would. The server keeps accepting.
func (s *Server) DropConnections() {
	s.mu.Lock()
	cs := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		_ = c.Conn.Close()
	}
}

func (s *Server) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *Server) nextFault(stage Stage) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[stage]
	if len(q) == 0 {
		f, ok := s.outages[stage]
		return f, ok
	}
	f := q[0]
	s.faults[stage] = q[1:]
	return f, true
}

// sleep waits d or until the server closes; it reports whether it slept
// the whole time.
func (s *Server) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return false
	}
}

// seeRcpt counts a RCPT naming addr and returns the fault queued for that
// address, if any.
func (s *Server) seeRcpt(addr string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := strings.ToLower(addr)
	s.rcptSeen[k]++
	q := s.rcptFaults[k]
	if len(q) == 0 {
		return Fault{}, false
	}
	s.rcptFaults[k] = q[1:]
	return q[0], true
}

func (s *Server) record(m Message) {
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	s.cond.Broadcast()
	s.mu.Unlock()
}

// apply runs a fault for a command. It returns the error the session
// returns to go-smtp (nil: go on normally).
func (s *Server) apply(c *conn, stage Stage, f Fault) error {
	if !s.sleep(f.Hang) {
		_ = c.Conn.Close()
		return errClosing
	}
	if f.Drop {
		_ = c.Conn.Close()
		return errClosing
	}
	if f.Code == 0 {
		return nil
	}
	msg := f.Message
	if msg == "" {
		msg = defaultText(f.Code, stage)
	}
	if f.Code == 421 {
		// RFC 5321 4.2.2: a server sending 421 closes the connection.
		c.closeAfterWrite.Store(true)
	}
	ec := f.Enhanced
	if ec == (smtp.EnhancedCode{}) {
		ec = enhanced(f.Code, stage)
	}
	return &smtp.SMTPError{Code: f.Code, EnhancedCode: ec, Message: msg}
}

var errClosing = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "connection closing"}

func defaultText(code int, stage Stage) string {
	switch {
	case code == 421:
		return "fakesmtp.test Service not available, closing transmission channel"
	case code == 450 || code == 451:
		return "Requested action aborted: local error in processing, try again later"
	case code == 452:
		return "Insufficient system storage"
	case code == 550 && stage == StageRcpt:
		return "Requested action not taken: mailbox unavailable"
	case code == 552:
		return "Message size exceeds fixed maximum message size"
	case code == 554:
		return "Transaction failed"
	case code/100 == 5:
		return "Requested action not taken"
	default:
		return "fault injected"
	}
}

func enhanced(code int, stage Stage) smtp.EnhancedCode {
	class := code / 100
	if class != 4 && class != 5 {
		return smtp.NoEnhancedCode
	}
	if stage == StageRcpt && (code == 550 || code == 551 || code == 553) {
		return smtp.EnhancedCode{class, 1, 1}
	}
	return smtp.EnhancedCode{class, 0, 0}
}

// listener counts accepted connections and wraps them.
type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	id := l.s.connSeq.Add(1)
	l.s.active.Add(1)
	w := &conn{Conn: c, s: l.s, id: id}
	l.s.mu.Lock()
	l.s.conns[w] = struct{}{}
	l.s.mu.Unlock()
	if f, ok := l.s.nextFault(StageConnect); ok {
		w.greetFault = &f
	}
	return w, nil
}

// conn is an accepted connection: it applies StageConnect faults to the
// greeting and closes itself after a 421 reply.
type conn struct {
	net.Conn
	s               *Server
	id              int64
	greetFault      *Fault
	greeted         bool
	closeAfterWrite atomic.Bool
	closeOnce       sync.Once
}

func (c *conn) Write(p []byte) (int, error) {
	if !c.greeted {
		c.greeted = true
		if f := c.greetFault; f != nil {
			if !c.s.sleep(f.Hang) || f.Drop {
				_ = c.Close()
				return 0, net.ErrClosed
			}
			if f.Code != 0 {
				msg := f.Message
				if msg == "" {
					msg = defaultText(f.Code, StageConnect)
				}
				_, _ = fmt.Fprintf(c.Conn, "%d %s\r\n", f.Code, msg)
				_ = c.Close()
				return 0, net.ErrClosed
			}
		}
	}
	n, err := c.Conn.Write(p)
	if c.closeAfterWrite.Load() {
		_ = c.Close()
	}
	return n, err
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() {
		c.s.active.Add(-1)
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	})
	return err
}

// rawConn finds our wrapper under a go-smtp connection (which may have been
// upgraded to TLS).
func rawConn(nc net.Conn) *conn {
	for {
		switch c := nc.(type) {
		case *conn:
			return c
		case *tls.Conn:
			nc = c.NetConn()
		default:
			return nil
		}
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	rc := rawConn(c.Conn())
	if rc == nil {
		return nil, errors.New("fakesmtp: unknown connection")
	}
	_, isTLS := c.TLSConnectionState()
	return &session{s: b.s, c: rc, helo: c.Hostname(), tls: isTLS}, nil
}

type session struct {
	s    *Server
	c    *conn
	helo string
	tls  bool
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Users == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || ss.s.opts.Users == nil {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, password string) error {
		if pw, ok := ss.s.opts.Users[username]; !ok || pw != password {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Users != nil && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	if f, ok := ss.s.nextFault(StageMail); ok {
		if err := ss.s.apply(ss.c, StageMail, f); err != nil {
			return err
		}
	}
	ss.from = from
	ss.to = nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	f, ok := ss.s.seeRcpt(to)
	if !ok {
		f, ok = ss.s.nextFault(StageRcpt)
	}
	if ok {
		if err := ss.s.apply(ss.c, StageRcpt, f); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if f, ok := ss.s.nextFault(StageData); ok {
		if err := ss.s.apply(ss.c, StageData, f); err != nil {
			return err
		}
	}
	m := Message{
		From:     ss.from,
		To:       slices.Clone(ss.to),
		Size:     len(data),
		Helo:     ss.helo,
		AuthUser: ss.user,
		TLS:      ss.tls,
		ConnID:   ss.c.id,
		Received: time.Now(),
	}
	if !ss.s.opts.DiscardContent {
		m.Data = data
	}
	ss.s.record(m)
	return nil
}

func (ss *session) Reset() {
	ss.from = ""
	ss.to = nil
}

func (ss *session) Logout() error { return nil }

// SetOutage makes every command of stage answer f from now until EndOutage,
// on every connection: a provider that is down (say 421 to every MAIL, or
// connections dropped at the greeting) rather than one that fails a counted
// number of times. Queued and recipient faults still come first.
func (s *Server) SetOutage(stage Stage, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outages == nil {
		s.outages = make(map[Stage]Fault)
	}
	s.outages[stage] = f
}

// EndOutage ends every outage set with SetOutage; the server answers
// normally again (queued faults stay queued).
func (s *Server) EndOutage() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outages = nil
}
