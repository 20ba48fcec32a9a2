package cli

import (
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/config"
)

// TestSendRateBurst: REKINDLE_EMAIL_RATE and REKINDLE_SMS_RATE are messages
// per second, and README tells an operator to set them to the provider's
// limit (divided by the instances). Lessons fall due in waves (09:00 local
// time), each after the limiter has sat idle and filled up to its burst,
// which then goes out at once. The burst was a whole second of messages, so
// the first second of every wave (and of start-up) sent nearly twice the
// rate: at 10/s, 10 at once and 9 more before the second was out, which a
// provider enforcing its per-second limit throttles. The burst is now 10ms
// of messages, at least one: no second holds more than the rate and 1%,
// and a high rate is still reached (with a burst of 1, a rate in the
// thousands would leave each send a sleep shorter than the timer keeps).
//
// Shown on simulated time through the limiters buildChannels wires to SMTP
// and Twilio, with the limiter's explicit-time API: no sleeping.
func TestSendRateBurst(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC) // a wave, after an idle night
	for _, c := range []struct {
		rate  string
		burst int
	}{
		{"0.01", 1}, {"0.5", 1}, {"1", 1}, {"10", 1}, {"150", 1}, {"1000", 10}, {"1000000", 10000},
	} {
		env := map[string]string{
			"REKINDLE_SMTP_HOST": "smtp.example.org", "REKINDLE_EMAIL_RATE": c.rate,
			"TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000", "TWILIO_AUTH_TOKEN": "token",
			"REKINDLE_TWILIO_FROM": "+15005550006", "REKINDLE_SMS_RATE": c.rate,
		}
		cfg, _, err := config.LoadLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, nil)
		if err != nil {
			t.Fatal(err)
		}
		chans, err := buildChannels(cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		perSecond, _ := strconv.ParseFloat(c.rate, 64)
		for _, ch := range chans {
			name := fmt.Sprintf("REKINDLE_%s_RATE=%s", map[channel.Kind]string{channel.Email: "EMAIL", channel.SMS: "SMS"}[ch.Kind()], c.rate)
			l, ok := ch.(interface{ Limiter() *rate.Limiter })
			if !ok {
				t.Fatalf("%s: %s (%T) is not rate-limited", name, ch.Name(), ch)
			}
			lim := l.Limiter()
			if lim.Limit() != rate.Limit(perSecond) || lim.Burst() != c.burst {
				t.Errorf("%s: limit %v, burst %d; want %v, %d", name, lim.Limit(), lim.Burst(), perSecond, c.burst)
			}
			// Every message of the wave is waiting: each goes when its
			// token is ready.
			atOnce, inFirstSecond, now := 0, 0, t0
			for now.Before(t0.Add(time.Second)) {
				r := lim.ReserveN(now, 1)
				if !r.OK() {
					t.Fatalf("%s: reservation refused", name)
				}
				now = now.Add(r.DelayFrom(now))
				if now.Equal(t0) {
					atOnce++
				}
				if now.Before(t0.Add(time.Second)) {
					inFirstSecond++
				}
			}
			if atOnce != c.burst {
				t.Errorf("%s: %d messages at once when a wave starts, want %d", name, atOnce, c.burst)
			}
			if most := int(math.Ceil(perSecond * 1.01)); inFirstSecond > most {
				t.Errorf("%s: %d messages in the wave's first second, want at most %d", name, inFirstSecond, most)
			}
			if least := int(perSecond); inFirstSecond < least {
				t.Errorf("%s: %d messages in the wave's first second, want at least %d", name, inFirstSecond, least)
			}
		}
	}
}
