package programs

import (
	"errors"
	"strings"
	"testing"
)

// TestCronOnceADay: a repeating step's schedule may fire at most once a day,
// since the scheduler keys its deliveries by date and drops a second one.
func TestCronOnceADay(t *testing.T) {
	cases := []struct {
		spec string
		want string // "" when the schedule is accepted
	}{
		{"0 19 * * SUN", ""},
		{"0 18 * * WED", ""},
		{"0 9 * * *", ""},
		{"30 1 * * *", ""}, // once, even on a fall-back day: civil times are UTC
		{"0 9 * * MON,WED,FRI", ""},
		{"0 9 1,15 * *", ""},
		{"0 9 29 2 *", ""},
		{"@daily", ""},
		{"@midnight", ""},
		{"@weekly", ""},
		{"@monthly", ""},
		{"@yearly", ""},
		{"@every 24h", ""},
		{"@every 36h", ""},
		{"@every 168h", ""},

		{"0 9,19 * * *", "at 09:00 and 19:00"},
		{"0 9,19 * * SUN", "at 09:00 and 19:00"},
		{"*/30 * * * *", "at 00:00 and 00:30"},
		{"15,45 8 * * *", "at 08:15 and 08:45"},
		{"0 9-10 * * MON", "at 09:00 and 10:00"},
		{"0 9,21 29 2 *", "at 09:00 and 21:00"},
		{"* * * * *", "at 00:00 and 00:01"},
		{"@hourly", "at 00:00 and 01:00"},
		{"@every 6h", "every 6h"},
		{"@every 90m", "every 1h30m"},
		{"@every 23h59m", "every 23h59m"},
		{"@every 30s", "every 30s"},
		{"@every 1ms", "every 1s"},
	}
	for _, c := range cases {
		sched, err := ParseCron(c.spec)
		if err != nil {
			t.Fatalf("%q: %v", c.spec, err)
		}
		if got := firesTwiceADay(sched); got != c.want {
			t.Errorf("%q: got %q, want %q", c.spec, got, c.want)
		}
	}
}

// TestCronTwiceADayRefused: the refusal names the step and its cron field,
// on the cron's line, whatever kind of schedule repeats.
func TestCronTwiceADayRefused(t *testing.T) {
	for spec, want := range map[string]string{
		`"0 9,19 * * *"`:                 "p/program.yaml:75: steps[mood].cron: fires more than once a day (at 09:00 and 19:00); a repeating step may run at most once a day",
		`"*/30 * * * *"`:                 "p/program.yaml:75: steps[mood].cron: fires more than once a day (at 00:00 and 00:30); a repeating step may run at most once a day",
		`"@every 6h"`:                    "p/program.yaml:75: steps[mood].cron: fires more than once a day (every 6h); a repeating step may run at most once a day",
		`"@hourly"`:                      "p/program.yaml:75: steps[mood].cron: fires more than once a day (at 00:00 and 01:00); a repeating step may run at most once a day",
		`"0 19 * * SUN"`:                 "",
		`"0 19 * * *"`:                   "",
		`"@every 48h"`:                   "",
		`"CRON_TZ=Asia/Tokyo 0 8 * * *"`: `p/program.yaml:75: steps[mood].cron: "CRON_TZ=Asia/Tokyo 0 8 * * *": a zone prefix is not allowed: a cron runs in each person's own time zone`,
		`"0 9 30 2 *"`:                   `p/program.yaml:75: steps[mood].cron: "0 9 30 2 *" never fires (no such date)`,
	} {
		t.Run(spec, func(t *testing.T) {
			m := basicFS(t, func(s string) string {
				if spec == `"0 19 * * SUN"` {
					return s + "\n" // unchanged schedule: the control
				}
				return strings.Replace(s, `"0 19 * * SUN"`, spec, 1)
			})
			p, err := Load(m, "p")
			if want == "" {
				if err != nil {
					t.Fatalf("refused a once-a-day schedule: %v", err)
				}
				return
			}
			if p != nil {
				t.Fatal("a broken program was returned")
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].String() != want {
				t.Fatalf("want exactly\n%s\ngot:\n%v", want, err)
			}
		})
	}
}
