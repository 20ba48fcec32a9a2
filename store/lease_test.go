package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/store"
)

// The lease a claim takes, the rescue that ends it, and the fence that keeps
// a worker whose lease was rescued from writing over the attempt after it.

const lease = time.Minute

// leased is a store with one queued email whose time has come at t0.
func leased(t *testing.T) (*store.Store, int64, time.Time) {
	t.Helper()
	st, _ := testdb.Store(t)
	t0 := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	var id int64
	if err := st.DB.QueryRow(`INSERT INTO deliveries (step_key, kind, channel, to_addr, due_at, not_before, subject, body_text, created_at, updated_at)
		VALUES ('l1', 'lesson', 'email', 'lease@example.org', $1, $1, 'Hello', 'Body', $1, $1) RETURNING id`, t0).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return st, id, t0
}

// claimOne claims the delivery at now and returns its attempt number.
func claimOne(t *testing.T, st *store.Store, now time.Time, worker string) int {
	t.Helper()
	got, err := st.ClaimDeliveries(context.Background(), now, "email", 10, lease, worker)
	if err != nil || len(got) != 1 || got[0].Status != "sending" {
		t.Fatalf("claim by %s at %s: %+v %v; want the one delivery, sending", worker, now, got, err)
	}
	return got[0].Attempts
}

func deliveryState(t *testing.T, st *store.Store, id int64) (status string, attempts int, reason string) {
	t.Helper()
	if err := st.DB.QueryRow(`SELECT status, attempts, coalesce(error, '') FROM deliveries WHERE id = $1`, id).Scan(&status, &attempts, &reason); err != nil {
		t.Fatal(err)
	}
	return
}

// A worker that stalled past its lease and comes back with its outcome
// after the message was rescued and claimed again does not write over the
// new attempt, still in flight: the message stays with the second worker,
// whose own outcome then lands.
func TestStaleAckDoesNotLandOnTheNextAttempt(t *testing.T) {
	ctx := context.Background()
	st, id, t0 := leased(t)
	first := claimOne(t, st, t0, "stalled")
	later := t0.Add(lease + time.Second)
	if ids, err := st.RescueExpired(ctx, later, 5); err != nil || len(ids) != 1 {
		t.Fatalf("rescue after the lease ran out: %v %v; want the one delivery", ids, err)
	}
	second := claimOne(t, st, later, "fresh")
	if first != 1 || second != 2 {
		t.Fatalf("attempts %d then %d, want 1 then 2", first, second)
	}

	if err := st.AckDeliveries(ctx, later, []store.Ack{{ID: id, Attempt: first, Status: "failed", Err: "stale"}}, nil); err != nil {
		t.Fatal(err)
	}
	if s, n, why := deliveryState(t, st, id); s != "sending" || n != 2 || why == "stale" {
		t.Fatalf("after the stalled worker's ack the message is %s at attempt %d (%q); want still sending at attempt 2", s, n, why)
	}
	if err := st.AckDeliveries(ctx, later, []store.Ack{{ID: id, Attempt: second, Status: "sent"}}, nil); err != nil {
		t.Fatal(err)
	}
	if s, n, _ := deliveryState(t, st, id); s != "sent" || n != 2 {
		t.Fatalf("after the second worker's ack the message is %s at attempt %d; want sent at attempt 2", s, n)
	}
}

// A lease that runs out on the last attempt allowed ends the message as
// failed, not queued for an attempt it may not have; one with attempts left
// goes back to the queue.
func TestLeaseExpiringOnTheLastAttemptFails(t *testing.T) {
	ctx := context.Background()
	st, id, t0 := leased(t)
	claimOne(t, st, t0, "w")
	later := t0.Add(lease + time.Second)
	if ids, err := st.RescueExpired(ctx, later, 2); err != nil || len(ids) != 1 {
		t.Fatalf("rescue: %v %v", ids, err)
	}
	if s, n, _ := deliveryState(t, st, id); s != "queued" || n != 1 {
		t.Fatalf("lease expired on attempt 1 of 2: %s at attempt %d, want queued", s, n)
	}

	claimOne(t, st, later, "w") // attempt 2 of 2
	last := later.Add(lease + time.Second)
	if ids, err := st.RescueExpired(ctx, last, 2); err != nil || len(ids) != 1 {
		t.Fatalf("rescue: %v %v", ids, err)
	}
	if s, n, why := deliveryState(t, st, id); s != "failed" || n != 2 || why != "lease expired on the last attempt" {
		t.Fatalf("lease expired on attempt 2 of 2: %s at attempt %d (%q), want failed (lease expired on the last attempt)", s, n, why)
	}
}

// The rescue leaves a lease alone until it has run out: a second before,
// the worker may still be sending, and taking its message would send it
// twice.
func TestRescueLeavesALiveLease(t *testing.T) {
	ctx := context.Background()
	st, id, t0 := leased(t)
	claimOne(t, st, t0, "w")
	if ids, err := st.RescueExpired(ctx, t0.Add(lease-time.Second), 5); err != nil || len(ids) != 0 {
		t.Fatalf("rescue a second before the lease ends took %v (%v); want nothing", ids, err)
	}
	if s, n, _ := deliveryState(t, st, id); s != "sending" || n != 1 {
		t.Fatalf("a second before its lease ends the message is %s at attempt %d; want still sending", s, n)
	}
	if ids, err := st.RescueExpired(ctx, t0.Add(lease+time.Second), 5); err != nil || len(ids) != 1 || ids[0] != id {
		t.Fatalf("rescue a second after the lease ended took %v (%v); want the message", ids, err)
	}
}
