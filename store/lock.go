package store

import (
	"context"
	"fmt"
)

// WithAdvisoryLock runs fn while holding a session advisory lock, if no
// other session holds it; it reports whether fn ran.
func (s *Store) WithAdvisoryLock(ctx context.Context, id int64, fn func(context.Context) error) (bool, error) {
	conn, err := s.DB.Connx(ctx)
	if err != nil {
		return false, fmt.Errorf("store: lock: %w", err)
	}
	defer conn.Close()
	var got bool
	if err := conn.QueryRowxContext(ctx, s.text["try_advisory_lock"], id).Scan(&got); err != nil {
		return false, fmt.Errorf("store: lock: %w", err)
	}
	if !got {
		return false, nil
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), s.text["advisory_unlock"], id)
	return true, fn(ctx)
}
