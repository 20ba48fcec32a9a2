package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

//go:embed benchdb/sql/*.sql
var benchFS embed.FS

// BenchMarker is the comment that marks a database as one `rekindle bench`
// may truncate and reseed.
const BenchMarker = "rekindle bench database: its rows are synthetic and every run replaces them"

// ErrNotBenchDatabase means a database holds subscribers the bench did not
// create: it is never touched.
var ErrNotBenchDatabase = errors.New("holds subscribers and is not a bench database")

// Bench is the benchmark's handle on its own database: seeding and resetting
// statements that no daemon runs.
type Bench struct {
	DB   *sqlx.DB
	Name string // the database's name
	text map[string]string
	lock *sql.Conn // holds bench_lock for the run
}

// ErrBenchRunning means another `rekindle bench` is using the database.
var ErrBenchRunning = errors.New("another rekindle bench is running on it")

// EnsureDatabase creates database name on the server of dsn unless it
// exists, connecting through the server's "postgres" database. It returns
// the URL of the database.
func EnsureDatabase(ctx context.Context, dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("store: database url: %w", err)
	}
	admin := *u
	admin.Path = "/postgres"
	db, err := sql.Open("postgres", admin.String())
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", fmt.Errorf("store: connect to PostgreSQL at %s: %w", u.Host, err)
	}
	if !exists {
		if _, err := db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
			return "", fmt.Errorf("store: create database %s: %w", name, err)
		}
	}
	u.Path = "/" + name
	return u.String(), nil
}

// OpenBench connects to a bench database. It refuses (ErrNotBenchDatabase)
// a database that holds subscribers unless it carries BenchMarker, and
// marks an empty one, before anything in it changes.
func OpenBench(ctx context.Context, dsn string) (*Bench, error) {
	sub, err := fs.Sub(benchFS, "benchdb")
	if err != nil {
		return nil, err
	}
	text, err := loadQueries(sub)
	if err != nil {
		return nil, err
	}
	// Enough connections for the bare queue's loops (see BareQueue).
	db, err := Connect(ctx, dsn, Options{MaxOpenConns: 8})
	if err != nil {
		return nil, err
	}
	b := &Bench{DB: db, text: text}
	if err := b.takeLock(ctx); err != nil {
		b.Close()
		return nil, err
	}
	if err := b.claim(ctx); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func (b *Bench) takeLock(ctx context.Context) error {
	if err := b.DB.GetContext(ctx, &b.Name, "SELECT current_database()"); err != nil {
		return fmt.Errorf("store: bench: %w", err)
	}
	conn, err := b.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: bench: %w", err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, b.text["bench_lock"]).Scan(&got); err != nil {
		conn.Close()
		return fmt.Errorf("store: bench: lock: %w", err)
	}
	if !got {
		conn.Close()
		return fmt.Errorf("store: database %s: %w (wait for it to finish, or give this one --database NAME)", b.Name, ErrBenchRunning)
	}
	b.lock = conn
	return nil
}

func (b *Bench) claim(ctx context.Context) error {
	var marker string
	if err := b.DB.GetContext(ctx, &marker, b.text["bench_marker"]); err != nil {
		return fmt.Errorf("store: bench: %w", err)
	}
	if marker == BenchMarker {
		return nil
	}
	var hasSchema, hasSubscribers bool
	if err := b.DB.GetContext(ctx, &hasSchema, b.text["bench_has_schema"]); err != nil {
		return fmt.Errorf("store: bench: %w", err)
	}
	if hasSchema {
		if err := b.DB.GetContext(ctx, &hasSubscribers, b.text["bench_has_subscribers"]); err != nil {
			return fmt.Errorf("store: bench: %w", err)
		}
	}
	if hasSubscribers {
		return fmt.Errorf("store: database %s %w: refusing to touch it (bench uses a dedicated database, by default rekindle_bench)", b.Name, ErrNotBenchDatabase)
	}
	mark := "COMMENT ON DATABASE " + pq.QuoteIdentifier(b.Name) + " IS " + pq.QuoteLiteral(BenchMarker)
	if _, err := b.DB.ExecContext(ctx, mark); err != nil {
		return fmt.Errorf("store: bench: mark database %s: %w", b.Name, err)
	}
	return nil
}

// Close ends the run's hold on the database and closes the connection pool.
func (b *Bench) Close() error {
	if b.lock != nil {
		// Unlocked on its session first: closing alone ends the session a
		// moment later, after a next run may already have looked.
		b.lock.ExecContext(context.Background(), b.text["bench_unlock"])
		b.lock.Close() // the session's end releases the lock in any case
		b.lock = nil
	}
	return b.DB.Close()
}

// BenchRow writes row i of a COPY: values in the statement's column order.
type BenchRow func(i int) []any

// Seed empties every table a run writes and loads n subscribers and n
// enrollments with COPY in one transaction. Ids run from 1 to n.
func (b *Bench) Seed(ctx context.Context, n int, subscriber, enrollment BenchRow) error {
	tx, err := b.DB.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: bench seed: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, b.text["bench_reset"]); err != nil {
		return fmt.Errorf("store: bench reset: %w", err)
	}
	if err := copyRows(ctx, tx, b.text["bench_copy_subscribers"], n, subscriber); err != nil {
		return fmt.Errorf("store: bench copy subscribers: %w", err)
	}
	if err := copyRows(ctx, tx, b.text["bench_copy_enrollments"], n, enrollment); err != nil {
		return fmt.Errorf("store: bench copy enrollments: %w", err)
	}
	if _, err := tx.ExecContext(ctx, b.text["bench_sequences"], n); err != nil {
		return fmt.Errorf("store: bench sequences: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: bench seed: commit: %w", err)
	}
	return nil
}

func copyRows(ctx context.Context, tx *sqlx.Tx, query string, n int, row BenchRow) error {
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		if _, err := st.ExecContext(ctx, row(i)...); err != nil {
			st.Close()
			return fmt.Errorf("row %d: %w", i, err)
		}
	}
	if _, err := st.ExecContext(ctx); err != nil { // flushes the copy
		st.Close()
		return err
	}
	return st.Close()
}

// Analyze refreshes the planner statistics of the tables a run reads, as
// autovacuum would after a bulk load.
func (b *Bench) Analyze(ctx context.Context) error {
	if _, err := b.DB.ExecContext(ctx, b.text["bench_analyze"]); err != nil {
		return fmt.Errorf("store: bench analyze: %w", err)
	}
	return nil
}

// BenchOutcome is what a run left in the database.
type BenchOutcome struct {
	StillDue int64 `db:"still_due"`
	Queued   int64 `db:"queued"`
	Sent     int64 `db:"sent"`
	Other    int64 `db:"other"`
}

// Outcome counts enrollments still due at now and deliveries by status.
func (b *Bench) Outcome(ctx context.Context, now time.Time) (BenchOutcome, error) {
	var o BenchOutcome
	if err := b.DB.GetContext(ctx, &o, b.text["bench_outcome"], now); err != nil {
		return o, fmt.Errorf("store: bench outcome: %w", err)
	}
	return o, nil
}

// BenchServer is what a benchmark reader needs to know of the server.
type BenchServer struct {
	Version           string `db:"version" json:"version"`
	Fsync             string `db:"fsync" json:"fsync"`
	SynchronousCommit string `db:"synchronous_commit" json:"synchronous_commit"`
	SharedBuffers     string `db:"shared_buffers" json:"shared_buffers"`
	Autovacuum        string `db:"autovacuum" json:"autovacuum"`
}

// Server reports the server's version and durability settings.
func (b *Bench) Server(ctx context.Context) (BenchServer, error) {
	var s BenchServer
	if err := b.DB.GetContext(ctx, &s, b.text["bench_server"]); err != nil {
		return s, fmt.Errorf("store: bench server: %w", err)
	}
	return s, nil
}

// Checkpoint writes every dirty buffer out now, so the stage that follows
// does not pay for the writes of the one before. It returns false, and no
// error, when the bench's user may not checkpoint (PostgreSQL 15 asks for a
// superuser or the pg_checkpoint role).
func (b *Bench) Checkpoint(ctx context.Context) (bool, error) {
	if _, err := b.DB.ExecContext(ctx, "CHECKPOINT"); err != nil {
		if isInsufficientPrivilege(err) {
			return false, nil
		}
		return false, fmt.Errorf("store: bench checkpoint: %w", err)
	}
	return true, nil
}
