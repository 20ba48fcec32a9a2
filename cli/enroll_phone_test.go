package cli

import (
	"fmt"
	"strings"
	"testing"
)

// TestEnrollRefusesLandline: rekindle enroll used to take a landline (or a
// toll-free, premium-rate...) number for texts, which the sign-up form
// refuses: the person would wait for lessons that can never reach them. It
// is refused by the same rule (scheduler.Textable), naming --phone and
// changing nothing; mobiles, and numbers that may be either (US), enroll.
func TestEnrollRefusesLandline(t *testing.T) {
	env, db := sweepDB(t)
	enroll := func(email, phone string) []string {
		return []string{"enroll", "--program", "rekindle", "--tz", "UTC", "--email", email, "--phone", phone}
	}
	for _, c := range []struct{ phone, want string }{
		{"+44 20 7946 0018", "landline"},
		{"+1 800 253 0000", "cannot receive texts"},
		{"+44 909 879 0000", "cannot receive texts"},
	} {
		errs := refused(t, env, db, 1, "--phone", enroll("bo@example.org", c.phone)...)
		if !strings.Contains(errs, c.want) {
			t.Errorf("%s: stderr does not say %q:\n%s", c.phone, c.want, errs)
		}
	}
	// Without --email, the phone alone is refused too.
	refused(t, env, db, 1, "landline", "enroll", "--program", "rekindle", "--tz", "UTC", "--phone", "+44 20 7946 0018")
	for i, mobile := range []string{"+44 7400 123456", "+1 202 555 0142"} {
		if code, out, errs := run(t, env, enroll(fmt.Sprintf("m%d@example.org", i), mobile)...); code != 0 {
			t.Errorf("%s: exit %d, want it enrolled: %s%s", mobile, code, out, errs)
		}
	}
}

// TestEnrollContactClashNamesTheFlag: an email and a phone on file for two
// different people were refused as "phone: this number is already on file
// with another email address", naming no flag. The refusal names --phone,
// and nothing changes.
func TestEnrollContactClashNamesTheFlag(t *testing.T) {
	env, db := sweepDB(t)
	if code, out, errs := run(t, env, "enroll", "--program", "rekindle", "--tz", "UTC", "--email", "bo@example.org"); code != 0 {
		t.Fatalf("enroll bo: %d %s %s", code, out, errs)
	}
	errs := refused(t, env, db, 1, "--phone", "enroll", "--program", "rekindle", "--tz", "UTC",
		"--email", "bo@example.org", "--phone", "+351912345678")
	if !strings.Contains(errs, "already on file with another email address") {
		t.Errorf("the refusal does not say why:\n%s", errs)
	}
}
