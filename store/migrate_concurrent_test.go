package store_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/pressly/goose/v3/lock"

	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/store"
)

// openPool opens a separate pool on dsn, as another instance would.
func openPool(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Instances started together against a new database (a deploy of several
// at once) each run `migrate`: both succeed, and every migration is applied
// once, by whichever got the migration lock first.
func TestConcurrentMigrateAppliesEachMigrationOnce(t *testing.T) {
	ctx := context.Background()
	dsn := testdb.New(t)
	pools := []*sql.DB{openPool(t, dsn), openPool(t, dsn)}
	// goose creates its version table before it takes the lock, and an
	// instance that loses that race waits a second for it, by which time
	// the other has finished: the version table made first (as a version
	// check does) lets both reach the migrations together.
	if cur, _, err := store.SchemaVersion(ctx, pools[0]); err != nil || cur != 0 {
		t.Fatalf("a new database is at version %d (%v), want 0", cur, err)
	}
	applied := make([][]int64, len(pools))
	errs := make([]error, len(pools))
	var start, wg sync.WaitGroup
	start.Add(1)
	for i, db := range pools {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			applied[i], errs[i] = store.Migrate(ctx, db)
		}()
	}
	start.Done()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: migrate: %v", i, err)
		}
	}
	_, known, err := store.SchemaVersion(ctx, pools[0])
	if err != nil {
		t.Fatal(err)
	}
	var rows, versions int
	var newest int64
	if err := pools[0].QueryRowContext(ctx, `SELECT count(*), count(DISTINCT version_id), max(version_id)
		FROM goose_db_version WHERE version_id > 0`).Scan(&rows, &versions, &newest); err != nil {
		t.Fatal(err)
	}
	if rows != versions || newest != known {
		t.Fatalf("goose_db_version records %d applications of %d versions up to %d; want each applied once, up to %d", rows, versions, newest, known)
	}
	if got := len(applied[0]) + len(applied[1]); got != versions {
		t.Fatalf("the two instances applied %v and %v: %d migrations, want each of the %d once", applied[0], applied[1], got, versions)
	}
	if err := store.CheckSchema(ctx, pools[1]); err != nil {
		t.Fatalf("after both: %v", err)
	}
}

// Migrate waits for the migration lock another session holds (another
// instance mid-migration) before it touches the schema, and migrates once
// the lock is released.
func TestMigrateWaitsForTheMigrationLock(t *testing.T) {
	ctx := context.Background()
	dsn := testdb.New(t)
	holder := openPool(t, dsn)
	conn, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var holderPID int
	if err := conn.QueryRowContext(ctx, `SELECT pg_backend_pid() FROM (SELECT pg_advisory_lock($1)) l`, lock.DefaultLockID).Scan(&holderPID); err != nil {
		t.Fatal(err)
	}

	db := openPool(t, dsn)
	done := make(chan error, 1)
	go func() {
		_, err := store.Migrate(ctx, db)
		done <- err
	}()
	// Wait until Migrate has asked for the lock (its session's last
	// statement is the try-lock), checking meanwhile that it has not
	// migrated anything.
	for asked := false; !asked; {
		select {
		case err := <-done:
			t.Fatalf("Migrate returned (%v) while another session held the migration lock", err)
		default:
		}
		var tables bool
		if err := holder.QueryRowContext(ctx, `SELECT to_regclass('enrollments') IS NOT NULL`).Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if tables {
			t.Fatal("Migrate created the schema while another session held the migration lock")
		}
		if err := holder.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND pid NOT IN ($1, pg_backend_pid()) AND query LIKE '%pg_try_advisory_lock%')`, holderPID).Scan(&asked); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, lock.DefaultLockID); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("migrate after the lock was released: %v", err)
	}
	if err := store.CheckSchema(ctx, db); err != nil {
		t.Fatal(err)
	}
}
