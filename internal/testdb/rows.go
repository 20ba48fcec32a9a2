package testdb

import (
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
)

// RowCounts counts the rows of every table in the public schema, found from
// information_schema so that a table added later is counted too. Tests take
// it before and after bad input to prove nothing was written.
func RowCounts(t testing.TB, db *sqlx.DB) map[string]int {
	t.Helper()
	var tables []string
	if err := db.Select(&tables, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`); err != nil {
		t.Fatal(err)
	}
	if len(tables) < 8 {
		t.Fatalf("only %d tables in the public schema: %v", len(tables), tables)
	}
	out := map[string]int{}
	for _, tb := range tables {
		var n int
		if err := db.Get(&n, `SELECT count(*) FROM "`+strings.ReplaceAll(tb, `"`, `""`)+`"`); err != nil {
			t.Fatal(err)
		}
		out[tb] = n
	}
	return out
}

// SameRows fails the test for every table whose row count changed.
func SameRows(t testing.TB, what string, before, after map[string]int) {
	t.Helper()
	for tb, n := range after {
		if before[tb] != n {
			t.Errorf("%s: table %s went from %d to %d rows", what, tb, before[tb], n)
		}
	}
}
