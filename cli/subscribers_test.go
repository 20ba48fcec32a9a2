package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/store"
)

// dbGet and dbSelect run a test's own query and fail the test on any error:
// an ignored one would leave the destination zero and let the assertion
// after it pass for the wrong reason.
func dbGet(t testing.TB, db *sqlx.DB, dest any, q string, args ...any) {
	t.Helper()
	if err := db.Get(dest, q, args...); err != nil {
		t.Fatalf("%s: %v", queryHead(q), err)
	}
}

func dbSelect(t testing.TB, db *sqlx.DB, dest any, q string, args ...any) {
	t.Helper()
	if err := db.Select(dest, q, args...); err != nil {
		t.Fatalf("%s: %v", queryHead(q), err)
	}
}

// queryHead is a query's first line, to name it in a failure.
func queryHead(q string) string {
	q, _, _ = strings.Cut(strings.TrimSpace(q), "\n")
	return q
}

// userTables lists every table in the public schema.
func userTables(t *testing.T, db *sqlx.DB) []string {
	t.Helper()
	var names []string
	if err := db.Select(&names, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`); err != nil {
		t.Fatal(err)
	}
	return names
}

// findPersonalData names every table.column (text, json or jsonb) holding
// one of the needles, and every table whose whole row, cast to text,
// holds one (a catch-all for any other column type).
func findPersonalData(t *testing.T, db *sqlx.DB, needles ...string) []string {
	t.Helper()
	var cols []struct {
		Table  string `db:"table_name"`
		Column string `db:"column_name"`
	}
	if err := db.Select(&cols, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')
		ORDER BY table_name, column_name`); err != nil {
		t.Fatal(err)
	}
	if len(cols) == 0 {
		t.Fatal("information_schema lists no text columns: the scan would prove nothing")
	}
	var hits []string
	for _, n := range needles {
		for _, c := range cols {
			var k int
			q := fmt.Sprintf(`SELECT count(*) FROM %q WHERE strpos(%q::text, $1) > 0`, c.Table, c.Column)
			if err := db.Get(&k, q, n); err != nil {
				t.Fatal(err)
			}
			if k > 0 {
				hits = append(hits, fmt.Sprintf("%s.%s holds %q in %d row(s)", c.Table, c.Column, n, k))
			}
		}
		for _, tbl := range userTables(t, db) {
			var k int
			if err := db.Get(&k, fmt.Sprintf(`SELECT count(*) FROM %q x WHERE strpos(x::text, $1) > 0`, tbl), n); err != nil {
				t.Fatal(err)
			}
			if k > 0 {
				hits = append(hits, fmt.Sprintf("table %s holds %q in %d row(s)", tbl, n, k))
			}
		}
	}
	return hits
}

// fingerprint is a digest of every row of every table: equal fingerprints
// mean nothing changed.
func fingerprint(t *testing.T, db *sqlx.DB) string {
	t.Helper()
	var parts []string
	for _, tbl := range userTables(t, db) {
		var h string
		if err := db.Get(&h, fmt.Sprintf(`SELECT coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM %q x`, tbl)); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, tbl+"="+h)
	}
	return strings.Join(parts, " ")
}

type countRow struct {
	Key string `db:"k"`
	N   int    `db:"n"`
}

func counts(t *testing.T, db *sqlx.DB, q string) map[string]int {
	t.Helper()
	var rows []countRow
	if err := db.Select(&rows, q); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Key] = r.N
	}
	return out
}

const (
	deliveriesByStepStatus = `SELECT step_key || ' ' || channel || ' ' || status AS k, count(*) AS n FROM deliveries GROUP BY 1`
	deliveriesByStep       = `SELECT step_key || ' ' || channel AS k, count(*) AS n FROM deliveries GROUP BY 1`
	answersByStep          = `SELECT step_key || '=' || answer AS k, count(*) AS n FROM checkins WHERE answer IS NOT NULL GROUP BY 1`
	enrollmentsByProgram   = `SELECT program || ' ' || phase AS k, count(*) AS n FROM enrollments GROUP BY 1`
)

func TestSubscribersExportThenEraseLeavesNoPersonalData(t *testing.T) {
	ctx := context.Background()
	dsn := testdb.New(t)
	env := map[string]string{"DATABASE_URL": dsn, "REKINDLE_OUTBOX_DIR": t.TempDir(), "REKINDLE_LOG_LEVEL": "error",
		"REKINDLE_SECRET_KEY": "subscribers-test-secret-0123456789"}
	// Monday 2026-03-02 05:00 UTC: midnight in New York.
	h := newEngineHarness(t, env, time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC))
	db := h.a.store.DB

	const email, phone, name = "samwise.erase@example.org", "+12025550147", "Samwise"
	sam, _ := h.enroll(name, email, phone, "America/New_York",
		store.Consent{Channel: "email", Action: "granted", Text: "Send the program to " + email, Source: "web", IP: "203.0.113.7", UserAgent: "Firefox/140"})
	bo, _ := h.enroll("Bo", "bo.keeps@example.org", "+12025550148", "America/Chicago")
	// Two and a half weeks with check-in answers, so every table has rows.
	h.run(17*24*time.Hour, 3*time.Hour, map[string]string{"mood": "4", "space": "yes"}, sam, bo)

	now := h.clk.Now()
	if _, err := h.a.store.ClaimInbound(ctx, now, now, "SM00000000000000000000000000000001", "sms", phone, "STOP"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.a.store.SetInboundResult(ctx, "SM00000000000000000000000000000001", "opted out"); err != nil {
		t.Fatal(err)
	}
	if err := h.a.store.Suppress(ctx, now, []store.Suppression{{Channel: "sms", Address: phone, Reason: "unsubscribed", Source: "sms"}}); err != nil {
		t.Fatal(err)
	}
	if err := h.a.store.Event(ctx, nil, now, 0, 0, "note", map[string]any{"text": "operator changed the address to " + email}); err != nil {
		t.Fatal(err)
	}
	var replies int
	dbGet(t, db, &replies, `SELECT count(*) FROM checkins c JOIN enrollments e ON e.id = c.enrollment_id WHERE e.subscriber_id = $1 AND reply_text IS NOT NULL`, sam)
	if replies == 0 {
		t.Fatal("setup: no answered check-in with reply text for the person")
	}
	if hits := findPersonalData(t, db, email, phone); len(hits) < 5 {
		t.Fatalf("setup: the person's data should be spread over the tables, found only: %v", hits)
	}

	// show: the operator's summary, contact in full.
	code, out, errs := run(t, env, "subscribers", "show", "--email", "Samwise.Erase@example.org")
	if code != 0 {
		t.Fatalf("show: exit %d: %s", code, errs)
	}
	for _, want := range []string{"subscriber " + fmt.Sprint(sam) + ": Samwise", email + " (confirmed)", phone + " (confirmed)",
		"America/New_York", "email confirmed via operator", "#1 rekindle 1.0", "active", "check-ins:", "answered", "next send: 2026-03-",
		"sms   " + phone + ": unsubscribed (via sms)"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}

	// export: everything held, as JSON.
	code, out, errs = run(t, env, "subscribers", "export", "--phone", phone)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	var exp struct {
		ExportedAt string `json:"exported_at"`
		Subscriber struct {
			ID        int64  `json:"id"`
			FirstName string `json:"first_name"`
			Email     string `json:"email"`
			Phone     string `json:"phone"`
		} `json:"subscriber"`
		Consents []struct {
			IP string `json:"ip"`
		} `json:"consents"`
		Enrollments []map[string]any `json:"enrollments"`
		Deliveries  []struct {
			ToAddr    string  `json:"to_addr"`
			Subject   string  `json:"subject"`
			BodyText  string  `json:"body_text"`
			Version   *int64  `json:"program_version_id"`
			FirstName *string `json:"first_name"`
		} `json:"deliveries"`
		Checkins []struct {
			Answer    *string `json:"answer"`
			ReplyText *string `json:"reply_text"`
		} `json:"checkins"`
		Inbound      []map[string]any `json:"inbound_messages"`
		Suppressions []map[string]any `json:"suppressions"`
		Events       []struct {
			Kind string `json:"kind"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &exp); err != nil {
		t.Fatalf("export is not JSON: %v\n%.500s", err, out)
	}
	var sentToSam int
	dbGet(t, db, &sentToSam, `SELECT count(*) FROM deliveries WHERE subscriber_id = $1`, sam)
	if exp.Subscriber.ID != sam || exp.Subscriber.Email != email || exp.Subscriber.Phone != phone || exp.Subscriber.FirstName != name ||
		exp.ExportedAt == "" || len(exp.Consents) != 3 || exp.Consents[2].IP != "203.0.113.7" || len(exp.Enrollments) != 1 ||
		len(exp.Deliveries) != sentToSam || len(exp.Inbound) != 1 || len(exp.Suppressions) != 1 {
		t.Fatalf("export is missing rows (want %d deliveries):\n%.3000s", sentToSam, out)
	}
	withBody, withReply := 0, 0
	for _, d := range exp.Deliveries {
		// A confirmation holds its bodies; a program step holds what it is
		// rendered from when it is sent: the version and the name it greets.
		held := d.BodyText != "" || (d.Version != nil && d.FirstName != nil && *d.FirstName == name)
		if held && (d.ToAddr == email || d.ToAddr == phone) {
			withBody++
		}
	}
	for _, c := range exp.Checkins {
		if c.ReplyText != nil && c.Answer != nil && *c.ReplyText == "4" {
			withReply++
		}
	}
	kinds := map[string]bool{}
	for _, e := range exp.Events {
		kinds[e.Kind] = true
	}
	if withBody != sentToSam || withReply == 0 || !kinds["enrolled"] || !kinds["checkin_answered"] || !kinds["note"] {
		t.Fatalf("export lacks message contents (%d of %d), reply texts (%d) or events (%v)", withBody, sentToSam, withReply, kinds)
	}

	// Bad input changes nothing and says which flag is wrong.
	before := fingerprint(t, db)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"subscribers", "show", "--email", email, "--phone", phone}, 2, "give exactly one of --email, --phone or --id"},
		{[]string{"subscribers", "erase", "--yes"}, 2, "give exactly one of --email, --phone or --id"},
		{[]string{"subscribers", "export", "--email", "nobody@example.org"}, 1, "no subscriber with --email nobody@example.org"},
		{[]string{"subscribers", "erase", "--phone", "+12025550199", "--yes"}, 1, "no subscriber with --phone +12025550199"},
		{[]string{"subscribers", "erase", "--id", "999999", "--yes"}, 1, "no subscriber with --id 999999"},
		{[]string{"subscribers", "erase", "--email", "not-an-address", "--yes"}, 1, "--email"},
		{[]string{"subscribers", "show", "--yes", "--email", email}, 2, "--yes is only for erase"},
		{[]string{"subscribers", "forget", "--email", email}, 2, `unknown subscribers command "forget"`},
		{[]string{"subscribers", "erase", "--email", email}, 2, "nothing changed: add --yes to erase"},
	} {
		code, out, errs := run(t, env, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d naming %q", c.args, code, errs, c.code, c.want)
		}
		if c.want == "nothing changed: add --yes to erase" && !regexp.MustCompile(`suppressions\s+1\s`).MatchString(out) {
			t.Errorf("erase without --yes should list what it would do:\n%s", out)
		}
	}
	// Plan the next day and a half without sending, so messages are queued,
	// and claim one: a message being sent right now makes erase wait.
	h.clk.Advance(36 * time.Hour)
	if _, _, err := h.a.engine.PlanOnce(ctx); err != nil {
		t.Fatal(err)
	}
	claimed, err := h.a.store.ClaimDeliveries(ctx, h.clk.Now(), "email", 1, time.Minute, "test")
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	inFlight := fingerprint(t, db)
	if code, _, errs := run(t, env, "subscribers", "erase", "--email", claimed[0].To, "--yes"); code != 1 || !strings.Contains(errs, "being sent right now") {
		t.Errorf("erase during a send: exit %d %q", code, errs)
	}
	if fingerprint(t, db) != inFlight {
		t.Fatal("a refused erase changed the database")
	}
	if err := h.a.store.AckDeliveries(ctx, h.clk.Now(), []store.Ack{{ID: claimed[0].ID, Attempt: claimed[0].Attempts, Status: "sent"}}, nil); err != nil {
		t.Fatal(err)
	}
	before = fingerprint(t, db)

	byStepStatus := counts(t, db, deliveriesByStepStatus)
	byStep := counts(t, db, deliveriesByStep)
	answers := counts(t, db, answersByStep)
	enrollments := counts(t, db, enrollmentsByProgram)
	var queuedForSam int
	dbGet(t, db, &queuedForSam, `SELECT count(*) FROM deliveries WHERE subscriber_id = $1 AND status = 'queued'`, sam)
	var boRows string
	boQuery := `SELECT md5(string_agg(x::text, '|' ORDER BY x::text)) FROM (
		SELECT s::text AS x FROM subscribers s WHERE id = $1
		UNION ALL SELECT d::text FROM deliveries d WHERE subscriber_id = $1
		UNION ALL SELECT c::text FROM checkins c JOIN enrollments e ON e.id = c.enrollment_id WHERE e.subscriber_id = $1) r`
	dbGet(t, db, &boRows, boQuery, bo)

	code, out, errs = run(t, env, "subscribers", "erase", "--email", email, "--yes")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("erased subscriber %d", sam)) {
		t.Fatalf("erase: exit %d\n%s\n%s", code, out, errs)
	}
	if fingerprint(t, db) == before {
		t.Fatal("erase changed nothing")
	}
	if hits := findPersonalData(t, db, email, phone, strings.TrimPrefix(phone, "+"), name, "203.0.113.7", "Firefox/140"); len(hits) > 0 {
		t.Fatalf("personal data left after erase:\n%s", strings.Join(hits, "\n"))
	}

	// The anonymous counts still add up.
	if got := counts(t, db, deliveriesByStep); fmt.Sprint(got) != fmt.Sprint(byStep) {
		t.Errorf("deliveries by step changed:\nbefore %v\nafter  %v", byStep, got)
	}
	after := counts(t, db, deliveriesByStepStatus)
	moved := 0
	for k, n := range byStepStatus {
		if strings.HasSuffix(k, " queued") {
			cancelled := strings.TrimSuffix(k, " queued") + " cancelled"
			moved += n - after[k]
			if after[k]+after[cancelled] != n+byStepStatus[cancelled] {
				t.Errorf("%s: %d queued before, %d queued + %d cancelled after", k, n, after[k], after[cancelled])
			}
			continue
		}
		if !strings.HasSuffix(k, " cancelled") && after[k] != n {
			t.Errorf("deliveries %s: %d before erase, %d after", k, n, after[k])
		}
	}
	if moved != queuedForSam {
		t.Errorf("%d queued deliveries became cancelled, want the person's %d", moved, queuedForSam)
	}
	if got := counts(t, db, answersByStep); fmt.Sprint(got) != fmt.Sprint(answers) || len(answers) == 0 {
		t.Errorf("check-in answers changed:\nbefore %v\nafter  %v", answers, got)
	}
	if got := counts(t, db, enrollmentsByProgram); fmt.Sprint(got) != fmt.Sprint(enrollments) {
		t.Errorf("enrollments by program changed: %v -> %v", enrollments, got)
	}
	var boAfter string
	dbGet(t, db, &boAfter, boQuery, bo)
	if boAfter != boRows {
		t.Error("erasing one person changed another person's rows")
	}
	dbGet(t, db, &replies, `SELECT count(*) FROM checkins c JOIN enrollments e ON e.id = c.enrollment_id WHERE e.subscriber_id = $1 AND reply_text IS NOT NULL`, sam)
	if replies != 0 {
		t.Errorf("%d check-in reply texts left after erase", replies)
	}
	var status string
	dbGet(t, db, &status, `SELECT status FROM enrollments WHERE subscriber_id = $1`, sam)
	if status != "unenrolled" {
		t.Errorf("the erased person's enrollment is %q, want unenrolled", status)
	}

	// The tombstone shows as erased, with the one opt-out (the STOP) it
	// kept as a hash; a second erase changes nothing.
	if code, out, _ := run(t, env, "subscribers", "show", "--id", fmt.Sprint(sam)); code != 0 || !strings.Contains(out, "erased") ||
		!strings.Contains(out, "kept 1 opt-out (sms) as a hash (sha256:...), not linked to this record, so it stays honoured") {
		t.Errorf("show of an erased person: exit %d\n%s", code, out)
	}
	before = fingerprint(t, db)
	if code, _, errs := run(t, env, "subscribers", "erase", "--id", fmt.Sprint(sam), "--yes"); code != 1 || !strings.Contains(errs, "already erased") {
		t.Errorf("second erase: exit %d %q", code, errs)
	}
	if fingerprint(t, db) != before {
		t.Error("a second erase changed the database")
	}

	// The STOP outlives the erasure: entered anew, the number gets no text
	// until it texts START; email, never opted out of, goes.
	h.clk.Advance(24 * time.Hour)
	again, _ := h.enroll("Sam", email, phone, "America/New_York")
	h.run(2*24*time.Hour, 3*time.Hour, nil)
	byChannel := counts(t, db, fmt.Sprintf(`SELECT channel || ' ' || status AS k, count(*) AS n FROM deliveries WHERE subscriber_id = %d GROUP BY 1`, again))
	if byChannel["sms sent"] != 0 || byChannel["sms cancelled"] == 0 || byChannel["email sent"] == 0 {
		t.Fatalf("re-entered after erase: %v; want SMS cancelled by the kept opt-out, email sent", byChannel)
	}
	if err := h.a.store.Unsuppress(ctx, nil, "sms", phone); err != nil {
		t.Fatal(err)
	}
	var left int
	dbGet(t, db, &left, `SELECT count(*) FROM suppressions WHERE channel = 'sms'`)
	if left != 0 {
		t.Fatalf("START left %d SMS suppression(s): the hashed opt-out must be lifted too", left)
	}
}

// What show says of the opt-outs an erasure kept, from its event.
func TestShowAfterEraseCountsKeptOptOuts(t *testing.T) {
	n := func(i int) *int { return &i }
	for _, c := range []struct {
		e    *store.Erasure
		want string
	}{
		{&store.Erasure{OptOutsKept: n(2), OptOutChannels: []string{"email", "sms"}},
			"kept 2 opt-outs (email, sms) as hashes (sha256:...), not linked to this record, so they stay honoured"},
		{&store.Erasure{OptOutsKept: n(1), OptOutChannels: []string{"email"}},
			"kept 1 opt-out (email) as a hash (sha256:...), not linked to this record, so it stays honoured"},
		{&store.Erasure{OptOutsKept: n(0), OptOutChannels: []string{}}, "none: the erased addresses had not opted out"},
		{&store.Erasure{OptOutsKept: n(0), OptOutChannels: []string{}, BlocksKept: 1, BlockChannels: []string{"email"}},
			"none: the erased addresses had not opted out\n  kept 1 address a provider refused for good (email) as a hash, so it is not tried again"},
		// Erased before the count was recorded, or no event: not "none".
		{&store.Erasure{By: "operator"}, "any opt-out of the erased addresses is kept as a hash"},
		{nil, "any opt-out of the erased addresses is kept as a hash"},
	} {
		var b strings.Builder
		printOverview(&b, store.Overview{Person: store.Person{ID: 3, Email: store.ErasedPrefix + "3", Timezone: "Etc/UTC"}, Erasure: c.e})
		if !strings.Contains(b.String(), "suppressions:\n  "+c.want) {
			t.Errorf("%+v: show says\n%s\nwant %q under suppressions", c.e, b.String(), c.want)
		}
	}
}
