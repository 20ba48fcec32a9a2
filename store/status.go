package store

import (
	"context"
	"fmt"
	"time"
)

// Count is one group's row count.
type Count struct {
	Program string `db:"program" json:"program,omitempty"`
	Phase   string `db:"phase" json:"phase,omitempty"`
	Channel string `db:"channel" json:"channel,omitempty"`
	Status  string `db:"status" json:"status"`
	N       int64  `db:"n" json:"n"`
}

// Status is the operator's overview.
type Status struct {
	Enrollments         []Count `json:"enrollments"`
	Deliveries          []Count `json:"deliveries"`
	DueEnrollments      int64   `json:"due_enrollments"`
	OldestDueSeconds    float64 `json:"oldest_due_seconds"`
	DueDeliveries       int64   `json:"due_deliveries"`
	OldestQueuedSeconds float64 `json:"oldest_queued_seconds"`
}

// Status counts enrollments and deliveries and measures the due backlog.
// With inFlight (what a metrics scrape reads, through indexes), only queued
// and sending deliveries are counted and enrollments not at all: counting
// them reads the whole table, which only grows, so a scrape takes them from
// EnrollmentCounts at a pace of its own. Without, every enrollment and
// every delivery by status (the operator's `status`, which reads the tables).
func (s *Store) Status(ctx context.Context, now time.Time, inFlight bool) (Status, error) {
	var st Status
	if !inFlight {
		var err error
		if st.Enrollments, err = s.EnrollmentCounts(ctx); err != nil {
			return st, err
		}
	}
	deliveries := "delivery_counts"
	if inFlight {
		deliveries = "delivery_in_flight_counts"
	}
	if err := s.stmt(nil, deliveries).SelectContext(ctx, &st.Deliveries); err != nil {
		return st, fmt.Errorf("store: status: %w", err)
	}
	if err := s.stmt(nil, "due_backlog").QueryRowxContext(ctx, now).Scan(&st.DueEnrollments, &st.OldestDueSeconds); err != nil {
		return st, fmt.Errorf("store: status: %w", err)
	}
	if err := s.stmt(nil, "queued_backlog").QueryRowxContext(ctx, now).Scan(&st.DueDeliveries, &st.OldestQueuedSeconds); err != nil {
		return st, fmt.Errorf("store: status: %w", err)
	}
	return st, nil
}

// EnrollmentCounts counts every enrollment by program, phase and status.
// It reads the whole table.
func (s *Store) EnrollmentCounts(ctx context.Context) ([]Count, error) {
	var c []Count
	if err := s.stmt(nil, "enrollment_counts").SelectContext(ctx, &c); err != nil {
		return nil, fmt.Errorf("store: status: %w", err)
	}
	return c, nil
}

// PurgeReplies clears check-in reply text older than before; the parsed
// answers stay.
func (s *Store) PurgeReplies(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.stmt(nil, "purge_replies").ExecContext(ctx, before)
	if err != nil {
		return 0, fmt.Errorf("store: purge replies: %w", err)
	}
	return res.RowsAffected()
}
