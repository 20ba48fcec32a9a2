package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// unlockTimeout bounds the advisory unlock: a round trip on a healthy
// session takes a millisecond.
const unlockTimeout = 10 * time.Second

// WithAdvisoryLock runs fn while holding a session advisory lock, if no
// other session holds it; it reports whether fn ran.
//
// The lock is released on the connection that took it. If that unlock
// fails, or reports the lock was not held, the session's state is unknown:
// back in the pool it could keep the lock for as long as the process lives,
// and no other instance would run the job again. The connection is then
// closed instead (ending the session releases every lock it holds), and the
// error is returned, joined to fn's.
func (s *Store) WithAdvisoryLock(ctx context.Context, id int64, fn func(context.Context) error) (ran bool, err error) {
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
	defer func() {
		// Not cut off by a shutdown, but not waiting forever on a session
		// that stopped answering either: that one is closed below.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
		defer cancel()
		var released bool
		uerr := conn.QueryRowxContext(uctx, s.text["advisory_unlock"], id).Scan(&released)
		if uerr == nil && released {
			return
		}
		if uerr == nil {
			uerr = errors.New("the lock was not held")
		}
		// driver.ErrBadConn makes database/sql close the connection rather
		// than pool it.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		err = errors.Join(err, fmt.Errorf("store: lock %d: unlock: %w (connection closed, which releases it)", id, uerr))
	}()
	return true, fn(ctx)
}
