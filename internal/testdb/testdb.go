// Package testdb gives each test its own freshly migrated PostgreSQL
// database on the server named by TEST_DATABASE_URL or DATABASE_URL (default:
// the local server, trust auth).
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/lib/pq"

	"github.com/rekindle/rekindle/store"
)

// ServerURL is the admin connection the test databases are created through.
func ServerURL() string {
	for _, k := range []string{"TEST_DATABASE_URL", "DATABASE_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// New creates an empty database, dropped when the test ends, and returns its URL.
func New(t testing.TB) string {
	t.Helper()
	admin, err := sql.Open("postgres", ServerURL())
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "rekindle_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("testdb: create database (is PostgreSQL up at %s?): %v", ServerURL(), err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("postgres", ServerURL())
		if err != nil {
			return
		}
		defer a.Close()
		a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	u, err := url.Parse(ServerURL())
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Store creates a migrated database and opens a store on it.
func Store(t testing.TB) (*store.Store, string) {
	t.Helper()
	dsn := New(t)
	ctx := context.Background()
	db, err := store.Connect(ctx, dsn, store.Options{MaxOpenConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Migrate(ctx, db.DB); err != nil {
		t.Fatal(err)
	}
	s, err := store.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dsn
}
