// Package store owns every SQL statement rekindle runs. Statements live in
// the .sql files beside this one, each under a "-- name:" line, and are
// prepared once at start-up. Callers pass the engine's clock time in; no
// statement reads the database's own now().
package store

import (
	"bufio"
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the PostgreSQL driver

	"github.com/rekindle/rekindle/config"
)

//go:embed sql/*.sql
var sqlFS embed.FS

// Store is the database handle with its prepared statements.
type Store struct {
	DB    *sqlx.DB
	stmts map[string]*sqlx.Stmt
	text  map[string]string
}

// Options tune the connection pool.
type Options struct {
	MaxOpenConns int // default 8
}

// Open connects, checks the connection and the schema, and prepares every
// statement. The schema must already be migrated (see Migrate): otherwise
// the error says to run rekindle migrate, instead of naming the first
// missing table.
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	db, err := Connect(ctx, dsn, opt)
	if err != nil {
		return nil, err
	}
	if err := RequireSchema(ctx, db.DB); err != nil {
		db.Close()
		return nil, err
	}
	s, err := New(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// RequireSchema is CheckSchema for a command that must not change the
// database: one rekindle never migrated (no goose_db_version table) is
// named and left as it was, where CheckSchema would create that table.
func RequireSchema(ctx context.Context, db *sql.DB) error {
	var name string
	var migrated bool
	if err := db.QueryRowContext(ctx, `SELECT current_database(), to_regclass('goose_db_version') IS NOT NULL`).Scan(&name, &migrated); err != nil {
		return fmt.Errorf("store: check schema: %w", err)
	}
	if !migrated {
		return fmt.Errorf("database %s has no rekindle schema yet: run `rekindle migrate`", name)
	}
	return CheckSchema(ctx, db)
}

// Connect opens a pool and pings it. Its errors never hold the password
// dsn may carry (the driver quotes a URL it cannot parse whole).
func Connect(ctx context.Context, dsn string, opt Options) (*sqlx.DB, error) {
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		return nil, RedactError(fmt.Errorf("store: open: %w", err), dsn)
	}
	n := opt.MaxOpenConns
	if n <= 0 {
		n = 8
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, RedactError(fmt.Errorf("store: connect: %w", err), dsn)
	}
	return db, nil
}

// RedactError is err with dsn's password removed from its message; errors.Is
// and errors.As still see the error it wraps.
func RedactError(err error, dsn string) error {
	if err == nil {
		return nil
	}
	msg := config.RedactPassword(err.Error(), dsn)
	if msg == err.Error() {
		return err
	}
	return &redacted{msg: msg, err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// New prepares the statements on an open pool.
func New(ctx context.Context, db *sqlx.DB) (*Store, error) {
	text, err := loadQueries(sqlFS)
	if err != nil {
		return nil, err
	}
	s := &Store{DB: db, stmts: map[string]*sqlx.Stmt{}, text: text}
	for name, q := range text {
		st, err := db.PreparexContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("store: prepare %s: %w", name, err)
		}
		s.stmts[name] = st
	}
	return s, nil
}

// Close releases the statements and the pool.
func (s *Store) Close() error {
	for _, st := range s.stmts {
		st.Close()
	}
	return s.DB.Close()
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.DB.PingContext(ctx) }

// stmt returns a prepared statement by name, bound to tx when tx is not nil.
func (s *Store) stmt(tx *sqlx.Tx, name string) *sqlx.Stmt {
	st, ok := s.stmts[name]
	if !ok {
		panic("store: no statement named " + name) // a programming error caught by any test
	}
	if tx != nil {
		return tx.Stmtx(st)
	}
	return st
}

// loadQueries reads "-- name: x" blocks from every .sql file.
func loadQueries(fsys fs.FS) (map[string]string, error) {
	out := map[string]string{}
	files, err := fs.Glob(fsys, "sql/*.sql")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		var name string
		var body strings.Builder
		flush := func() error {
			if name == "" {
				return nil
			}
			if _, dup := out[name]; dup {
				return fmt.Errorf("store: %s: query %q defined twice", f, name)
			}
			out[name] = strings.TrimSpace(body.String())
			body.Reset()
			return nil
		}
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			line := sc.Text()
			if n, ok := strings.CutPrefix(line, "-- name: "); ok {
				if err := flush(); err != nil {
					return nil, err
				}
				name = strings.TrimSpace(n)
				continue
			}
			if strings.HasPrefix(strings.TrimSpace(line), "--") {
				continue
			}
			body.WriteString(line)
			body.WriteByte('\n')
		}
		if err := flush(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// InTx runs fn in a transaction, committing when it returns nil. Any other
// way out of fn, a panic included, rolls it back: a transaction left open
// on a context that never ends would hold its connection and its row locks
// until the process exits.
func (s *Store) InTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.DB.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback() // after a commit, a no-op (sql.ErrTxDone)
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// ts formats instants for timestamptz[] parameters.
func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
