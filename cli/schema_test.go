package cli

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/rekindle/rekindle/internal/testdb"
)

// Every command that needs the schema says to run rekindle migrate on a
// database that was never migrated, instead of a driver error about the
// first missing table, and leaves it as it was.
func TestCommandsOnAnUnmigratedDatabaseSayMigrate(t *testing.T) {
	dsn := testdb.New(t)
	env := map[string]string{"DATABASE_URL": dsn, "REKINDLE_AUTO_MIGRATE": "false"}
	for _, args := range [][]string{
		{"status"}, {"status", "--json"},
		{"subscribers", "show", "--email", "a@example.org"},
		{"subscribers", "export", "--id", "1"},
		{"subscribers", "erase", "--email", "a@example.org"},
		{"pause", "--email", "a@example.org"},
		{"resume", "--phone", "+12025550143"},
		{"unenroll", "--email", "a@example.org"},
		{"unsubscribe", "--email", "a@example.org"},
		{"enroll", "--program", "rekindle", "--email", "a@example.org", "--tz", "UTC"},
		{"programs", "versions"},
		{"programs", "migrate", "--from", "1", "--to", "2"},
		{"serve"},
	} {
		code, _, errs := run(t, env, args...)
		if code != 1 || !strings.Contains(errs, "run `rekindle migrate`") || strings.Contains(errs, "pq:") {
			t.Errorf("%s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables int
	if err := db.QueryRow(`SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("the commands created %d tables in a database they refused", tables)
	}
}
