package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/rekindle/rekindle/internal/testdb"
)

// sweepDB is a migrated database holding one person enrolled by email and
// phone (ana@example.org, +351912345678), for the bad-input sweep's tests.
func sweepDB(t *testing.T) (map[string]string, *sqlx.DB) {
	t.Helper()
	dsn := testdb.New(t)
	env := map[string]string{"DATABASE_URL": dsn, "REKINDLE_OUTBOX_DIR": t.TempDir(), "REKINDLE_LOG_LEVEL": "error"}
	if code, out, errs := run(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s %s", code, out, errs)
	}
	if code, out, errs := run(t, env, "enroll", "--program", "rekindle", "--email", "ana@example.org", "--phone", "+351912345678", "--tz", "Europe/Lisbon", "--name", "Ana"); code != 0 {
		t.Fatalf("enroll: %d %s %s", code, out, errs)
	}
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return env, db
}

// dbContents is every row of every table in the public schema, as text, so
// that a test sees an update as well as an insert or a delete.
func dbContents(t *testing.T, db *sqlx.DB) map[string]string {
	t.Helper()
	var tables []string
	if err := db.Select(&tables, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tb := range tables {
		var s string
		q := `SELECT coalesce(string_agg(r::text, E'\n' ORDER BY r::text), '') FROM "` + strings.ReplaceAll(tb, `"`, `""`) + `" r`
		if err := db.Get(&s, q); err != nil {
			t.Fatal(err)
		}
		out[tb] = s
	}
	return out
}

// sameContents fails the test for every table whose rows changed.
func sameContents(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for tb, s := range after {
		if before[tb] != s {
			t.Errorf("%s: table %s changed:\nbefore:\n%s\nafter:\n%s", what, tb, before[tb], s)
		}
	}
}

// refused runs a command that must be refused with code, naming want on one
// line of stderr, and leave every row as it was.
func refused(t *testing.T, env map[string]string, db *sqlx.DB, code int, want string, args ...string) string {
	t.Helper()
	before := dbContents(t, db)
	got, out, errs := run(t, env, args...)
	if got != code {
		t.Errorf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", args, got, code, out, errs)
	}
	if !strings.Contains(errs, want) {
		t.Errorf("%v: stderr does not name %q:\n%s", args, want, errs)
	}
	if strings.Count(strings.TrimSpace(errs), "\n") > 0 {
		t.Errorf("%v: the error takes more than one line:\n%s", args, errs)
	}
	sameContents(t, strings.Join(args, " "), before, dbContents(t, db))
	return errs
}

// TestPauseDaysBounded: a --days beyond what a duration holds used to wrap
// round to a resume time in the past (1989); --days is bounded as the SMS
// "PAUSE n days" reply is (three digits).
func TestPauseDaysBounded(t *testing.T) {
	env, db := sweepDB(t)
	for _, days := range []string{"200000", "1000"} {
		refused(t, env, db, 2, "--days", "pause", "--email", "ana@example.org", "--days", days)
	}
	if code, out, errs := run(t, env, "pause", "--email", "ana@example.org", "--days", "999"); code != 0 {
		t.Fatalf("pause --days 999: %d %s %s", code, out, errs)
	}
	var until time.Time
	if err := db.Get(&until, `SELECT paused_until FROM enrollments WHERE status = 'paused'`); err != nil {
		t.Fatal(err)
	}
	if want := time.Now().Add(999 * 24 * time.Hour); until.Before(want.Add(-time.Hour)) || until.After(want.Add(time.Hour)) {
		t.Fatalf("pause --days 999: paused until %s, want about %s", until, want)
	}
}

// TestStrayArgumentRefused: Go's flag package stops at the first word that
// is not a flag, so a stray word used to drop every flag after it without a
// word (serve started on the default tick, config passed a bad host). Every
// command that takes no positional argument refuses one, naming it.
func TestStrayArgumentRefused(t *testing.T) {
	env, db := sweepDB(t)
	env["REKINDLE_LISTEN"] = "127.0.0.1:0"
	nowhere := map[string]string{"DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=2"}
	for _, args := range [][]string{
		{"serve", "extra", "--tick", "1s"},
		{"config", "extra", "--smtp-host", "bad host:25"},
		{"status", "extra", "--json"},
		{"migrate", "extra"},
		{"send-test", "--email", "a@b.org", "extra"},
		{"enroll", "extra", "--program", "rekindle", "--email", "bo@example.org", "--tz", "UTC"},
		{"pause", "extra", "--email", "ana@example.org"},
		{"resume", "extra", "--email", "ana@example.org"},
		{"unenroll", "extra", "--email", "ana@example.org"},
		{"unsubscribe", "extra", "--email", "ana@example.org"},
		{"demo", "extra", "--speed", "0"},
	} {
		e := env
		if args[0] == "demo" {
			e = nowhere // the demo makes a database of its own: refused before it tries
		}
		// serve, were the word let through, would run until the context ends.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		before := dbContents(t, db)
		var out, errb bytes.Buffer
		code := Run(ctx, args, &out, &errb, func(k string) (string, bool) { v, ok := e[k]; return v, ok })
		cancel()
		if code != 2 || !strings.Contains(errb.String(), `unexpected argument "extra"`) {
			t.Errorf("%v: exit %d, want 2 naming \"extra\"\nstdout: %s\nstderr: %s", args, code, out.String(), errb.String())
		}
		sameContents(t, strings.Join(args, " "), before, dbContents(t, db))
	}
}

// TestDatabaseURLFlagOverridesBadEnv: flags override the environment, a bad
// DATABASE_URL included; it used to be refused before --database-url was
// read. Without the flag the bad value is still refused, naming it.
func TestDatabaseURLFlagOverridesBadEnv(t *testing.T) {
	env, db := sweepDB(t)
	dsn := env["DATABASE_URL"]
	env["DATABASE_URL"] = "garbage"
	before := dbContents(t, db)
	for _, args := range [][]string{
		{"status", "--database-url", dsn},
		{"subscribers", "show", "--email", "ana@example.org", "--database-url", dsn},
	} {
		code, out, errs := run(t, env, args...)
		if code != 0 || errs != "" || !strings.Contains(out, "ana@example.org") && !strings.Contains(out, "ENROLLMENTS") {
			t.Errorf("%v with DATABASE_URL=garbage: exit %d\nstdout: %s\nstderr: %s", args, code, out, errs)
		}
	}
	sameContents(t, "status and show", before, dbContents(t, db))
	refused(t, env, db, 1, "DATABASE_URL", "status")
	env["DATABASE_URL"] = dsn
	refused(t, env, db, 1, "--database-url", "status", "--database-url", "garbage")
}

// TestEnrollStartWithinAYear: a --start of year 1 or 9999 used to be taken;
// enroll --start is a day within a year of today, either way, in the
// person's zone.
func TestEnrollStartWithinAYear(t *testing.T) {
	env, db := sweepDB(t)
	today := time.Now().In(time.UTC)
	enroll := func(email, start string) []string {
		return []string{"enroll", "--program", "rekindle", "--email", email, "--tz", "UTC", "--start", start}
	}
	for _, start := range []string{
		"0001-01-01", "9999-12-31", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
		today.AddDate(-1, 0, -1).Format("2006-01-02"), today.AddDate(1, 0, 1).Format("2006-01-02"),
	} {
		errs := refused(t, env, db, 2, "--start", enroll("bo@example.org", start)...)
		if !strings.Contains(errs, "within a year of today, "+today.AddDate(-1, 0, 0).Format("2006-01-02")) {
			t.Errorf("--start %s: the refusal does not say which days it takes:\n%s", start, errs)
		}
	}
	for i, start := range []string{today.AddDate(-1, 0, 0).Format("2006-01-02"), today.AddDate(1, 0, 0).Format("2006-01-02")} {
		if code, out, errs := run(t, env, enroll(fmt.Sprintf("edge%d@example.org", i), start)...); code != 0 {
			t.Errorf("--start %s: exit %d: %s%s", start, code, out, errs)
		}
	}
}

// TestEnrollRefusesOptedOut: enrolling an address that opted out used to
// record "confirmed via operator" and an enrollment whose every message
// would be cancelled. It is refused as the sign-up form refuses it, naming
// the flag, the channel and when, and saying what can be done; one address
// opted out refuses the whole enrollment rather than half of it.
func TestEnrollRefusesOptedOut(t *testing.T) {
	env, db := sweepDB(t)
	for _, args := range [][]string{{"unsubscribe", "--email", "x@example.org"}, {"unsubscribe", "--phone", "+351912345670"}} {
		if code, out, errs := run(t, env, args...); code != 0 {
			t.Fatalf("%v: %d %s %s", args, code, out, errs)
		}
	}
	enroll := func(contact ...string) []string {
		return append([]string{"enroll", "--program", "rekindle", "--tz", "UTC"}, contact...)
	}
	for _, c := range []struct {
		contact []string
		want    []string
	}{
		{[]string{"--email", "x@example.org"}, []string{"--email opted out of email on ", "(via operator)", "rekindle lift-optout --email", "give --phone without --email"}},
		{[]string{"--email", "X@example.org", "--phone", "+351912345679"}, []string{"--email opted out of email on "}},
		{[]string{"--email", "y@example.org", "--phone", "+351912345670"}, []string{"--phone opted out of texts on ", "texts START", "give --email without --phone"}},
		{[]string{"--email", "x@example.org", "--phone", "+351912345670"}, []string{"--email opted out", "--phone opted out", "nothing was enrolled"}},
	} {
		errs := refused(t, env, db, 1, c.want[0], enroll(c.contact...)...)
		for _, w := range c.want[1:] {
			if !strings.Contains(errs, w) {
				t.Errorf("%v: stderr does not say %q:\n%s", c.contact, w, errs)
			}
		}
	}
	// The addresses that did not opt out still enroll.
	if code, out, errs := run(t, env, enroll("--email", "y@example.org", "--phone", "+351912345679")...); code != 0 {
		t.Fatalf("enroll: %d %s %s", code, out, errs)
	}
}

// TestUnsubscribeTwiceChangesNothing: asking again used to add another
// revoked consent and another opt-out event each time; it says since when
// the address opted out and leaves every row as it is.
func TestUnsubscribeTwiceChangesNothing(t *testing.T) {
	env, db := sweepDB(t)
	for _, args := range [][]string{
		{"unsubscribe", "--email", "ana@example.org"},
		{"unsubscribe", "--phone", "+351912345678"},
		{"unsubscribe", "--email", "stranger@example.org"},
	} {
		if code, out, errs := run(t, env, args...); code != 0 || strings.Contains(out, "already") {
			t.Fatalf("%v: %d %s %s", args, code, out, errs)
		}
		before := dbContents(t, db)
		code, out, errs := run(t, env, args...)
		if code != 0 || !strings.Contains(out, "already opted out, since 20") || !strings.Contains(out, "nothing changed") {
			t.Errorf("%v again: exit %d\nstdout: %s\nstderr: %s", args, code, out, errs)
		}
		sameContents(t, strings.Join(args, " ")+" again", before, dbContents(t, db))
	}
}

// TestSubscribersHelp: subscribers -h used to be refused as an unknown
// subcommand (exit 2); like every other command's -h it prints the
// subcommands and exits 0.
func TestSubscribersHelp(t *testing.T) {
	for _, h := range []string{"-h", "--help", "-help", "help"} {
		code, out, errs := run(t, nil, "subscribers", h)
		if code != 0 || strings.Contains(errs, "unknown") {
			t.Errorf("subscribers %s: exit %d\nstdout: %s\nstderr: %s", h, code, out, errs)
		}
		for _, w := range []string{"show ", "export ", "erase ", "--email", "--yes"} {
			if !strings.Contains(errs, w) {
				t.Errorf("subscribers %s does not list %q:\n%s", h, w, errs)
			}
		}
	}
}
