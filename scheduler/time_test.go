package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/clock"
)

func TestResolveDST(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	lh, _ := time.LoadLocation("Australia/Lord_Howe") // a 30-minute DST shift
	berlin, _ := time.LoadLocation("Europe/Berlin")
	cases := []struct {
		civil string
		loc   *time.Location
		want  string
	}{
		{"2026-03-08T02:30:00Z", ny, "2026-03-08T07:00:00Z"}, // gap: first instant after it, 03:00 EDT
		{"2026-03-08T02:00:00Z", ny, "2026-03-08T07:00:00Z"},
		{"2026-03-08T03:00:00Z", ny, "2026-03-08T07:00:00Z"},
		{"2026-11-01T01:30:00Z", ny, "2026-11-01T05:30:00Z"}, // overlap: first occurrence, EDT
		{"2026-11-01T01:00:00Z", ny, "2026-11-01T05:00:00Z"},
		{"2026-11-01T02:00:00Z", ny, "2026-11-01T07:00:00Z"},
		{"2026-03-08T09:00:00Z", ny, "2026-03-08T13:00:00Z"},
		{"2026-04-05T01:45:00Z", lh, "2026-04-04T14:45:00Z"}, // Lord Howe overlap: first, at +11:00 (not 15:15Z at +10:30)
		// Berlin overlap, where Go's time.Date picks the second occurrence
		// (01:30Z, CET): the first is an hour earlier, CEST.
		{"2026-10-25T02:30:00Z", berlin, "2026-10-25T00:30:00Z"},
	}
	for _, c := range cases {
		got := Resolve(utc(c.civil), c.loc)
		if !got.Equal(utc(c.want)) {
			t.Errorf("Resolve(%s in %s) = %s, want %s", c.civil, c.loc, got.UTC().Format(time.RFC3339), c.want)
		}
	}
}

func TestQuietDefer(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	q := DefaultSMSQuiet
	cases := []struct{ in, want string }{
		{"2026-06-10T20:00:00Z", "2026-06-11T06:00:00Z"}, // 22:00 local -> 08:00 next day
		{"2026-06-10T04:00:00Z", "2026-06-10T06:00:00Z"}, // 06:00 local -> 08:00 same day
		{"2026-06-10T10:00:00Z", "2026-06-10T10:00:00Z"}, // noon: untouched
		{"2026-06-10T18:59:00Z", "2026-06-10T18:59:00Z"}, // 20:59: untouched
		{"2026-06-10T19:00:00Z", "2026-06-11T06:00:00Z"}, // 21:00 sharp: quiet
	}
	for _, c := range cases {
		if got := q.Defer(utc(c.in), berlin); !got.Equal(utc(c.want)) {
			t.Errorf("Defer(%s) = %s, want %s", c.in, got.UTC().Format(time.RFC3339), c.want)
		}
	}
	if got := (Quiet{}).Defer(utc("2026-06-10T20:00:00Z"), berlin); !got.Equal(utc("2026-06-10T20:00:00Z")) {
		t.Error("no quiet hours must leave the time alone")
	}
}

// A window that does not wrap past midnight, 00:00-07:00: its first minute
// is quiet and its last is not, and it ends on the same local day.
func TestQuietDeferWithinOneDay(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	q := Quiet{Start: 0, End: 7 * 60}
	cases := []struct{ in, want string }{
		{"2026-06-09T22:00:00Z", "2026-06-10T05:00:00Z"}, // 00:00 sharp: quiet until 07:00
		{"2026-06-10T02:00:00Z", "2026-06-10T05:00:00Z"}, // 04:00 -> 07:00 same day
		{"2026-06-10T05:00:00Z", "2026-06-10T05:00:00Z"}, // 07:00: untouched
		{"2026-06-09T21:59:00Z", "2026-06-09T21:59:00Z"}, // 23:59: untouched
	}
	for _, c := range cases {
		if got := q.Defer(utc(c.in), berlin); !got.Equal(utc(c.want)) {
			t.Errorf("Defer(%s) in 00:00-07:00 = %s, want %s", c.in, got.UTC().Format(time.RFC3339), c.want)
		}
	}
}

// Through the real planner and database: each step exactly once, at the
// instant the design promises.
func TestPlannerDST(t *testing.T) {
	clk := clock.NewManual(utc("2026-03-05T05:00:00Z")) // 00:00 EST on the 5th
	e := newEngine(t, clk)
	spring := mustEnroll(t, e, EnrollRequest{Program: "timing", Email: "spring@example.org", Timezone: "America/New_York"})
	planUntil(t, e, clk, utc("2026-03-10T00:00:00Z"), 15*time.Minute)

	got := map[string][]time.Time{}
	for _, d := range deliveries(t, e, spring) {
		if d.Channel == "email" {
			got[d.Step] = append(got[d.Step], d.DueAt)
		}
	}
	want := map[string]string{
		"d2":      "2026-03-07T14:00:00Z", // day 2, EST
		"d3":      "2026-03-08T13:00:00Z", // day 3, EDT
		"gap":     "2026-03-08T07:00:00Z", // 02:30 does not exist: 03:00 EDT
		"overlap": "2026-03-08T06:30:00Z", // 01:30 EST, an ordinary time that day
	}
	for step, w := range want {
		if len(got[step]) != 1 || !got[step][0].Equal(utc(w)) {
			t.Errorf("%s: got %v, want exactly one at %s", step, got[step], w)
		}
	}

	clk.Set(utc("2026-10-29T04:00:00Z")) // 00:00 EDT on the 29th
	fall := mustEnroll(t, e, EnrollRequest{Program: "timing", Email: "fall@example.org", Timezone: "America/New_York"})
	planUntil(t, e, clk, utc("2026-11-03T00:00:00Z"), 15*time.Minute)
	n := 0
	for _, d := range deliveries(t, e, fall) {
		if d.Step == "overlap" {
			n++
			if !d.DueAt.Equal(utc("2026-11-01T05:30:00Z")) {
				t.Errorf("overlap step due %s, want the first 01:30 (05:30Z)", d.DueAt.UTC())
			}
		}
	}
	if n != 1 {
		t.Fatalf("the 01:30 step on the fall-back day was planned %d times, want once", n)
	}
}

func TestQuietHoursSMSWaitsEmailDoesNot(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-10T10:00:00Z"))
	e := newEngine(t, clk)
	id := mustEnroll(t, e, EnrollRequest{Program: "timing", Email: "q@example.org", Phone: "+4915112345678", Timezone: "Europe/Berlin"})
	planUntil(t, e, clk, utc("2026-06-10T21:00:00Z"), 30*time.Minute)
	sms, email := stepOn(t, e, id, "late", "sms"), stepOn(t, e, id, "late", "email")
	if sms == nil || email == nil {
		t.Fatalf("the 22:00 step was not planned on both channels")
	}
	if want := utc("2026-06-10T20:00:00Z"); !email.NotBefore.Equal(want) {
		t.Errorf("email goes at %s, want 22:00 local (%s)", email.NotBefore.UTC(), want)
	}
	if want := utc("2026-06-11T06:00:00Z"); !sms.NotBefore.Equal(want) {
		t.Errorf("SMS goes at %s, want 08:00 local next morning (%s)", sms.NotBefore.UTC(), want)
	}
}

// A step planned late (the planner was down at 09:00 and is back at 22:00)
// still keeps quiet hours: its SMS waits for 08:00 next morning instead of
// going out at once in the night; its email, with no quiet hours, goes now.
func TestLatePlannedSMSWaitsForQuietHoursToEnd(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-10T20:00:00Z")) // 22:00 in Berlin
	e := newEngine(t, clk)
	id := mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "late@example.org", Phone: "+4915112345679", Timezone: "Europe/Berlin", Start: utc("2026-06-10T05:00:00Z")})
	if _, _, err := e.PlanOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	sms, email := stepOn(t, e, id, "welcome", "sms"), stepOn(t, e, id, "welcome", "email")
	if sms == nil || email == nil {
		t.Fatal("the 08:00 welcome was not planned on both channels")
	}
	if want := utc("2026-06-11T06:00:00Z"); !sms.NotBefore.Equal(want) {
		t.Errorf("the late welcome SMS goes at %s, want 08:00 local next morning (%s)", sms.NotBefore.UTC(), want)
	}
	if want := clk.Now(); !email.NotBefore.Equal(want) {
		t.Errorf("the late welcome email goes at %s, want now (%s)", email.NotBefore.UTC(), want)
	}
}

// stepOn is an enrollment's delivery of step on ch, nil when there is none.
func stepOn(t *testing.T, e *Engine, id int64, step, ch string) *row {
	t.Helper()
	for _, d := range deliveries(t, e, id) {
		if d.Step == step && d.Channel == ch {
			return &d
		}
	}
	return nil
}

// An SMS whose time came while no dispatcher ran (an outage from 08:00 to
// 22:30) is not sent at night when they are back: it goes back to the queue
// for 08:00 next morning, its attempt not counted, and goes then.
func TestClaimedSMSWaitsOutQuietHours(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-10T06:00:00Z")) // 08:00 in Berlin
	e := newEngine(t, clk)
	id := mustEnroll(t, e, EnrollRequest{Program: "basic", Phone: "+4915112345670", Timezone: "Europe/Berlin", Start: clk.Now()})
	if _, _, err := e.PlanOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk.Set(utc("2026-06-10T20:30:00Z")) // 22:30 in Berlin
	ch := newCounting(channel.SMS)
	d := e.NewDispatcher(ch, 1, "night")
	if _, err := d.DispatchOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Status    string    `db:"status"`
		Attempts  int       `db:"attempts"`
		NotBefore time.Time `db:"not_before"`
	}
	if err := e.Store.DB.Get(&r, `SELECT status, attempts, not_before FROM deliveries WHERE enrollment_id = $1 AND step_key = 'welcome'`, id); err != nil {
		t.Fatal(err)
	}
	if ch.total() != 0 || r.Status != "queued" || r.Attempts != 0 || !r.NotBefore.Equal(utc("2026-06-11T06:00:00Z")) {
		t.Fatalf("at 22:30: %d sent, row %+v; want none sent and the welcome queued for 08:00 (06:00Z), no attempt counted", ch.total(), r)
	}
	clk.Set(utc("2026-06-11T06:00:00Z"))
	if _, err := d.DispatchOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ch.total() != 1 {
		t.Fatalf("at 08:00 next morning %d sent, want the welcome", ch.total())
	}
}
