package store

import "github.com/jmoiron/sqlx"

// replanned runs a statement unprepared, so that PostgreSQL plans it for
// its actual parameters and the table's current size on every execution.
//
// The planner's and dispatcher's batch statements read tables whose size
// swings by orders of magnitude (an empty outbox, then a million queued
// deliveries within a minute). A prepared statement may settle on a generic
// plan made while a table looked empty, a sequential scan, and keep it for
// the life of the connection: `rekindle bench` measured claims slowing from
// milliseconds to seconds that way. Planning costs well under a millisecond
// per batch of hundreds of rows, and the parse is one more round trip per
// batch. The statement is still prepared once at start-up, which checks it.
func (s *Store) replanned(tx *sqlx.Tx) sqlx.ExtContext {
	if tx != nil {
		return tx
	}
	return s.DB
}
