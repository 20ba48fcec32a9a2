package scheduler

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rekindle/rekindle/clock"
)

// dbGet, dbSelect and dbExec run a test's own query and fail the test on
// any error: an ignored one would leave the destination zero (or the
// change undone) and let the assertion after it pass for the wrong reason.
func dbGet(t testing.TB, db *sqlx.DB, dest any, q string, args ...any) {
	t.Helper()
	if err := db.Get(dest, q, args...); err != nil {
		t.Fatalf("%s: %v", queryHead(q), err)
	}
}

func dbSelect(t testing.TB, db *sqlx.DB, dest any, q string, args ...any) {
	t.Helper()
	if err := db.Select(dest, q, args...); err != nil {
		t.Fatalf("%s: %v", queryHead(q), err)
	}
}

func dbExec(t testing.TB, db *sqlx.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", queryHead(q), err)
	}
}

// queryHead is a query's first line, to name it in a failure.
func queryHead(q string) string {
	q, _, _ = strings.Cut(strings.TrimSpace(q), "\n")
	return q
}

func planNow(t *testing.T, e *Engine) {
	t.Helper()
	for {
		n, _, err := e.PlanOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func steps(rows []row) map[string]int {
	m := map[string]int{}
	for _, r := range rows {
		m[r.Step]++
	}
	return m
}

// Found 3 days overdue: one lesson now, the rest of the calendar shifted.
func TestCatchUpSendsOneAndShifts(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T05:00:00Z")) // 06:00 London, Monday
	e := newEngine(t, clk)
	id := mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "late@example.org", Timezone: "Europe/London"})
	clk.Set(utc("2026-06-01T08:30:00Z"))
	planNow(t, e)
	before := len(deliveries(t, e, id))

	clk.Set(utc("2026-06-06T09:00:00Z")) // day 5, 10:00: l2 (day 2) is 3 days late
	planNow(t, e)
	rows := deliveries(t, e, id)
	fresh := rows[before:]
	if len(fresh) != 1 || fresh[0].Step != "l2" {
		t.Fatalf("after 3 days down, planned %v; want only l2", fresh)
	}
	var shift int
	var next time.Time
	if err := e.Store.DB.QueryRow(`SELECT shift_days, next_due_at FROM enrollments WHERE id = $1`, id).Scan(&shift, &next); err != nil {
		t.Fatal(err)
	}
	if shift != 3 {
		t.Fatalf("calendar shifted %d days, want 3 (l2 moved from 3 June to 6 June)", shift)
	}
	if want := utc("2026-06-07T08:00:00Z"); !next.Equal(want) { // l3: day 3 + 3, 09:00 BST
		t.Fatalf("next step due %s, want l3 at %s", next.UTC(), want)
	}
}

func TestPauseResumeUnenroll(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T05:00:00Z"))
	e := newEngine(t, clk)
	ctx := context.Background()
	id := mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "pause@example.org", Timezone: "Europe/London"})
	planUntil(t, e, clk, utc("2026-06-02T12:00:00Z"), time.Hour) // welcome, l1
	if ok, err := e.Pause(ctx, id, nil); !ok || err != nil {
		t.Fatalf("pause: %v %v", ok, err)
	}
	planUntil(t, e, clk, utc("2026-06-05T09:00:00Z"), time.Hour)
	if s := steps(deliveries(t, e, id)); s["l2"] != 0 || s["l3"] != 0 {
		t.Fatalf("planned while paused: %v", s)
	}
	if ok, err := e.Resume(ctx, id); !ok || err != nil {
		t.Fatalf("resume: %v %v", ok, err)
	}
	planUntil(t, e, clk, utc("2026-06-20T00:00:00Z"), time.Hour)
	s := steps(deliveries(t, e, id))
	for _, k := range []string{"welcome", "l1", "l2", "l3", "l4", "l5"} {
		if s[k] != 1 {
			t.Fatalf("after pause and resume, %s planned %d times, want once: %v", k, s[k], s)
		}
	}
	var l2 time.Time
	dbGet(t, e.Store.DB, &l2, `SELECT due_at FROM deliveries WHERE enrollment_id = $1 AND step_key = 'l2'`, id)
	if want := utc("2026-06-06T08:00:00Z"); !l2.Equal(want) { // day 2 + 3 days away = 6 June 09:00 BST
		t.Fatalf("l2 due %s after a 3-day pause, want %s", l2.UTC(), want)
	}

	clk.Set(utc("2026-06-20T05:00:00Z")) // 06:00 BST: the welcome and l1 are due later today
	id2 := mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "leave@example.org", Timezone: "Europe/London"})
	clk.Set(utc("2026-06-20T08:30:00Z"))
	planNow(t, e)
	dbExec(t, e.Store.DB, `UPDATE deliveries SET status = 'queued' WHERE enrollment_id = $1`, id2)
	var before int
	dbGet(t, e.Store.DB, &before, `SELECT count(*) FROM deliveries WHERE enrollment_id = $1 AND status = 'queued'`, id2)
	if before == 0 {
		t.Fatal("setup: nothing queued for the person about to leave")
	}
	if ok, err := e.Unenroll(ctx, id2, "test"); !ok || err != nil {
		t.Fatalf("unenroll: %v %v", ok, err)
	}
	var queued int
	dbGet(t, e.Store.DB, &queued, `SELECT count(*) FROM deliveries WHERE enrollment_id = $1 AND status = 'queued'`, id2)
	n := len(deliveries(t, e, id2))
	planUntil(t, e, clk, clk.Now().Add(10*24*time.Hour), 6*time.Hour)
	if queued != 0 || len(deliveries(t, e, id2)) != n {
		t.Fatalf("after unenroll: %d still queued, %d new rows", queued, len(deliveries(t, e, id2))-n)
	}
}

func TestAnswersBranch(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T05:00:00Z")) // Monday
	e := newEngine(t, clk)
	ctx := context.Background()
	id := mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "b@example.org", Phone: "+447700900123", Timezone: "Europe/London"})
	var sub int64
	dbGet(t, e.Store.DB, &sub, `SELECT subscriber_id FROM enrollments WHERE id = $1`, id)

	// Day 4, 19:00: the readiness check-in goes by SMS (prefer_first).
	planUntil(t, e, clk, utc("2026-06-05T18:30:00Z"), time.Hour)
	res, err := e.RecordAnswer(ctx, AnswerInput{SubscriberID: sub, Text: " Not yet ", Source: "sms"})
	if err != nil || res.Value != "not-ready" || len(res.Actions) != 1 {
		t.Fatalf("not ready: %+v %v", res, err)
	}
	// The same question comes back a week later, and the calendar moved.
	planUntil(t, e, clk, utc("2026-06-12T19:00:00Z"), time.Hour)
	s := steps(deliveries(t, e, id))
	if s["ready#2"] != 1 || s["l4"] != 0 {
		t.Fatalf("after 'not yet': %v; want ready#2 asked and l4 not yet sent", s)
	}
	if _, err := e.RecordAnswer(ctx, AnswerInput{SubscriberID: sub, Text: "banana", Source: "sms"}); err != ErrUnrecognized {
		t.Fatalf("an unparseable reply: %v, want ErrUnrecognized", err)
	}
	// A new partner: the moving-on track starts the next day.
	res, err = e.RecordAnswer(ctx, AnswerInput{SubscriberID: sub, Text: "3", Source: "sms"})
	if err != nil || res.Value != "new-partner" {
		t.Fatalf("new partner: %+v %v", res, err)
	}
	planUntil(t, e, clk, clk.Now().Add(5*24*time.Hour), time.Hour)
	s = steps(deliveries(t, e, id))
	if s["o1"] != 1 || s["o2"] != 1 || s["l4"] != 0 || s["l5"] != 0 {
		t.Fatalf("after switching: %v; want o1, o2 and no more main lessons", s)
	}
}

func TestTwoLowMoodsSendSupport(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T05:00:00Z")) // Monday 1 June
	e := newEngine(t, clk)
	ctx := context.Background()
	id := mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "m@example.org", Phone: "+447700900124", Timezone: "Europe/London"})
	var sub int64
	dbGet(t, e.Store.DB, &sub, `SELECT subscriber_id FROM enrollments WHERE id = $1`, id)
	planUntil(t, e, clk, utc("2026-06-07T18:30:00Z"), time.Hour) // Sunday 7th, 19:30 local
	if res, err := e.RecordAnswer(ctx, AnswerInput{SubscriberID: sub, Text: "2", Source: "sms"}); err != nil || len(res.Actions) != 0 {
		t.Fatalf("first low mood: %+v %v; one low week sends nothing", res, err)
	}
	planUntil(t, e, clk, utc("2026-06-14T18:30:00Z"), time.Hour)
	res, err := e.RecordAnswer(ctx, AnswerInput{SubscriberID: sub, Text: "1", Source: "sms"})
	if err != nil || len(res.Actions) != 1 || res.Actions[0] != "send support" {
		t.Fatalf("second low mood: %+v %v; want support sent", res, err)
	}
	if s := steps(deliveries(t, e, id)); s["support@2026-06-14"] != 2 {
		t.Fatalf("support message: %v; want it on email and sms", s)
	}
	// A second answer within the window updates the value, branches nothing.
	res, err = e.RecordAnswer(ctx, AnswerInput{SubscriberID: sub, Value: "4", Source: "email-link"})
	if err != nil || !res.Updated || len(res.Actions) != 0 {
		t.Fatalf("update: %+v %v", res, err)
	}
}
