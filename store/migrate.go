package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/rekindle/rekindle/migrations"
)

// ErrSchemaTooNew means the database was migrated by a newer rekindle.
var ErrSchemaTooNew = errors.New("the database schema is newer than this binary knows")

func provider(db *sql.DB) (*goose.Provider, error) {
	// The session locker holds a Postgres advisory lock while migrating, so
	// instances starting together apply each migration once. One waiting
	// for the lock tries again every second (goose's default is every 5 s,
	// which held up every instance but the first by seconds after a
	// migration of a few milliseconds); it still gives up after 5 minutes
	// (300 tries), as by default. A second is the shortest goose allows.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithSessionLocker(locker))
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return p, nil
}

// SchemaVersion returns the database's schema version and the newest this
// binary knows.
func SchemaVersion(ctx context.Context, db *sql.DB) (current, known int64, err error) {
	p, err := provider(db)
	if err != nil {
		return 0, 0, err
	}
	srcs := p.ListSources()
	known = srcs[len(srcs)-1].Version
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, known, fmt.Errorf("migrate: read version: %w", err)
	}
	return current, known, nil
}

// CheckSchema fails unless the schema is exactly the one this binary knows.
func CheckSchema(ctx context.Context, db *sql.DB) error {
	cur, known, err := SchemaVersion(ctx, db)
	if err != nil {
		return err
	}
	switch {
	case cur > known:
		return fmt.Errorf("%w: database is at version %d, this binary knows up to %d; run the newer rekindle or restore an older database", ErrSchemaTooNew, cur, known)
	case cur < known:
		return fmt.Errorf("the database schema is at version %d, this binary needs %d: run `rekindle migrate`", cur, known)
	}
	return nil
}

// Migrate applies pending migrations under the advisory lock. It refuses to
// touch a schema newer than it knows.
func Migrate(ctx context.Context, db *sql.DB) (applied []int64, err error) {
	cur, known, err := SchemaVersion(ctx, db)
	if err != nil {
		return nil, err
	}
	if cur > known {
		return nil, fmt.Errorf("%w: database is at version %d, this binary knows up to %d", ErrSchemaTooNew, cur, known)
	}
	p, err := provider(db)
	if err != nil {
		return nil, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	for _, r := range res {
		applied = append(applied, r.Source.Version)
	}
	return applied, nil
}
