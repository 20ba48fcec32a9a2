package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/rekindle/rekindle/clock"
)

// A held message whose local wall time, shifted by the pause, lands on a
// DST change resolves as every other time the engine computes (Resolve):
// 01:30 on the fall-back Sunday is its first occurrence (EDT), and 02:30
// on the spring-forward Sunday, which does not exist, is the first instant
// after the gap (03:00 EDT). PostgreSQL's AT TIME ZONE picked the second
// 01:30 (EST) and 03:30 EDT.
func TestResumeShiftResolvesDSTLikeTheEngine(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		enroll  string // 00:00 local on day 0 of the timing program
		planTo  string // the step's day-3 time: it is planned, then held
		resume  string // 00:30 local seven local days later
		step    string
		planned string // the step's time before the pause
		want    string // the step's time after the resume
	}{
		{
			name:    "fall-back overlap",
			enroll:  "2026-10-22T04:00:00Z", // Thursday 00:00 EDT
			planTo:  "2026-10-25T05:30:00Z", // Sunday 01:30 EDT
			resume:  "2026-11-01T04:30:00Z", // Sunday 00:30 EDT, the clocks go back at 02:00
			step:    "overlap",
			planned: "2026-10-25T05:30:00Z",
			want:    "2026-11-01T05:30:00Z", // the first 01:30 (EDT), not 06:30Z (EST)
		},
		{
			name:    "spring-forward gap",
			enroll:  "2027-03-04T05:00:00Z", // Thursday 00:00 EST
			planTo:  "2027-03-07T07:30:00Z", // Sunday 02:30 EST
			resume:  "2027-03-14T05:30:00Z", // Sunday 00:30 EST, the clocks go forward at 02:00
			step:    "gap",
			planned: "2027-03-07T07:30:00Z",
			want:    "2027-03-14T07:00:00Z", // 03:00 EDT, the first instant after the gap, not 03:30 EDT
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			clk := clock.NewManual(utc(c.enroll))
			e := newEngine(t, clk)
			id := mustEnroll(t, e, EnrollRequest{Program: "timing", Email: "dst@example.org", Timezone: "America/New_York"})
			planUntil(t, e, clk, utc(c.planTo), 15*time.Minute)
			if d := stepOn(t, e, id, c.step, "email"); d == nil || d.Status != "queued" || !d.NotBefore.Equal(utc(c.planned)) {
				t.Fatalf("before the pause %s is %+v, want it queued for %s", c.step, d, c.planned)
			}
			if ok, err := e.Pause(ctx, id, nil); !ok || err != nil {
				t.Fatalf("pause: %v %v", ok, err)
			}
			held := deliveries(t, e, id)
			for _, d := range held {
				if d.Status != "held" {
					t.Fatalf("paused: %s on %s is %s, want held", d.Step, d.Channel, d.Status)
				}
			}

			clk.Set(utc(c.resume))
			if ok, err := e.Resume(ctx, id); !ok || err != nil {
				t.Fatalf("resume: %v %v", ok, err)
			}
			now := clk.Now()
			after := map[string]row{}
			for _, d := range deliveries(t, e, id) {
				after[d.Step+"/"+d.Channel] = d
			}
			// Every held message: its local wall time seven local days on,
			// through Resolve, and not before now.
			for _, h := range held {
				local := h.NotBefore.In(ny)
				civil := time.Date(local.Year(), local.Month(), local.Day()+7, local.Hour(), local.Minute(), 0, 0, time.UTC)
				want := Resolve(civil, ny)
				if want.Before(now) {
					want = now
				}
				got, ok := after[h.Step+"/"+h.Channel]
				if !ok || got.Status != "queued" {
					t.Errorf("after resume %s on %s is %+v, want it queued", h.Step, h.Channel, got)
					continue
				}
				if !got.NotBefore.Equal(want) {
					t.Errorf("after resume %s on %s: not_before = %s (%s), want %s (%s): Resolve(%s)",
						h.Step, h.Channel, got.NotBefore.UTC().Format(time.RFC3339), got.NotBefore.In(ny).Format("15:04 MST"),
						want.UTC().Format(time.RFC3339), want.In(ny).Format("15:04 MST"), civil.Format("2006-01-02 15:04"))
				}
			}
			if got := after[c.step+"/email"].NotBefore; !got.Equal(utc(c.want)) {
				t.Errorf("after resume %s goes at %s, want %s", c.step, got.UTC().Format(time.RFC3339), c.want)
			}
		})
	}
}

// shiftLocalDays keeps the wall clock to the second, and resolves a shifted
// wall time on a DST change as Resolve does.
func TestShiftLocalDays(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	cases := []struct {
		in   string
		days int
		want string
	}{
		{"2026-10-30T13:00:00Z", 3, "2026-11-02T14:00:00Z"},     // 09:00 EDT -> 09:00 EST
		{"2026-10-30T13:00:42.5Z", 3, "2026-11-02T14:00:42.5Z"}, // seconds kept
		{"2026-10-25T05:30:00Z", 7, "2026-11-01T05:30:00Z"},     // 01:30 -> the first 01:30 (EDT)
		{"2026-10-25T05:30:20Z", 7, "2026-11-01T05:30:20Z"},     // ... to the second
		{"2027-03-07T07:30:00Z", 7, "2027-03-14T07:00:00Z"},     // 02:30 -> the gap's end, 03:00 EDT
		{"2027-03-07T07:30:20Z", 7, "2027-03-14T07:00:00Z"},     // ... whatever its seconds
		{"2026-11-01T06:30:00Z", 0, "2026-11-01T06:30:00Z"},     // no days: the second 01:30 stays
		{"2026-11-08T14:00:00Z", -7, "2026-11-01T14:00:00Z"},    // back a week: 09:00 EST
		{"2026-12-31T14:00:00Z", 1, "2027-01-01T14:00:00Z"},     // a year's end
		{"2027-02-28T14:00:00Z", 1, "2027-03-01T14:00:00Z"},     // a month's end
		{"2026-11-01T05:30:00.000001Z", 0, "2026-11-01T05:30:00.000001Z"},
	}
	for _, c := range cases {
		if got := shiftLocalDays(utc(c.in), c.days, ny); !got.Equal(utc(c.want)) {
			t.Errorf("shiftLocalDays(%s, %d) = %s, want %s", c.in, c.days, got.UTC().Format(time.RFC3339Nano), c.want)
		}
	}
}
