package store_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/migrations"
)

// migratedTo opens a fresh test database with the schema at version, and
// the goose provider that takes it further (or back).
func migratedTo(t *testing.T, ctx context.Context, version int64) (*sql.DB, *goose.Provider) {
	t.Helper()
	db, err := sql.Open("postgres", testdb.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	return db, p
}
