package config

import "testing"

// Durations have floors because below them the daemon misbehaves: a zero
// tick spins, a lease shorter than a send lets a second instance send the
// same message, a negative pacing means nothing. Each floor is allowed, and
// anything below it is refused naming the setting.
func TestDurationFloors(t *testing.T) {
	for _, tc := range []struct{ name, floor, below string }{
		{"REKINDLE_TICK", "1ms", "0s"},
		{"REKINDLE_LEASE", "1s", "999ms"},
		{"REKINDLE_CATCHUP_GRACE", "1m", "59s"},
		{"REKINDLE_PACING", "0s", "-1h"},
		{"REKINDLE_RETRY_BASE", "100ms", "99ms"},
		{"REKINDLE_SMTP_TIMEOUT", "100ms", "0s"},
		{"REKINDLE_TWILIO_TIMEOUT", "100ms", "0s"},
		{"REKINDLE_REPLY_RETENTION", "1h", "59m"},
		{"REKINDLE_SHUTDOWN_TIMEOUT", "0s", "-1s"},
	} {
		accepted(t, map[string]string{tc.name: tc.floor})
		refused(t, map[string]string{tc.name: tc.below}, tc.name, "is below the minimum")
	}
}

// Whole-number settings take both ends of their range and nothing past
// them: 0 planners would plan nothing, a port of 0 or 65536 cannot be
// dialled.
func TestWholeNumberRanges(t *testing.T) {
	for _, tc := range []struct{ name, lo, hi, under, over string }{
		{"REKINDLE_PLANNERS", "1", "16", "0", "17"},
		{"REKINDLE_CLAIM_LOOPS", "1", "16", "0", "17"},
		{"REKINDLE_EMAIL_WORKERS", "1", "64", "0", "65"},
		{"REKINDLE_SMTP_PORT", "1", "65535", "0", "65536"},
	} {
		accepted(t, map[string]string{tc.name: tc.lo})
		accepted(t, map[string]string{tc.name: tc.hi})
		refused(t, map[string]string{tc.name: tc.under}, tc.name, "is not a whole number")
		refused(t, map[string]string{tc.name: tc.over}, tc.name, "is not a whole number")
	}
}

// Quiet hours are two real clock times: 24:00, minute 60 or a time missing
// a digit would be read some other way by the scheduler, so they are
// refused; 23:59 and 00:00 are fine.
func TestQuietHoursAreRealTimes(t *testing.T) {
	for _, bad := range []string{"24:00-08:00", "21:00-24:00", "21:60-08:00", "21:00-08:60", "21:00-08:0", "21:0-08:00", "21:00-08:001"} {
		refused(t, map[string]string{"REKINDLE_QUIET_HOURS": bad}, "REKINDLE_QUIET_HOURS", "want HH:MM-HH:MM")
	}
	accepted(t, map[string]string{"REKINDLE_QUIET_HOURS": "23:59-00:00"})
}

// A URL without a host makes links (and Twilio's API calls) go nowhere.
func TestURLsNeedAHost(t *testing.T) {
	refused(t, map[string]string{"REKINDLE_BASE_URL": "https:///rekindle"}, "REKINDLE_BASE_URL", "is not an http(s) URL")
	refused(t, map[string]string{"REKINDLE_TWILIO_API_URL": "https://"}, "REKINDLE_TWILIO_API_URL", "is not an http(s) URL")
}
