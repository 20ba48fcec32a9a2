package cli

import (
	"strings"
	"testing"

	"github.com/rekindle/rekindle/internal/testdb"
)

// A program folder that stops validating (a curly quote in a lesson) must
// not stop an operator from honouring an opt-out, pausing, resuming or
// ending someone's program: those plan nothing new from the folder, and run
// on the versions stored in the database. Enrolling still refuses.
func TestOptOutAndPauseWorkWhileTheProgramsDoNotValidate(t *testing.T) {
	dir := smsProgram(t, "Day one. Notice what you feel today and give it a name.")
	env := map[string]string{"DATABASE_URL": testdb.New(t), "REKINDLE_PROGRAMS_DIR": dir, "REKINDLE_OUTBOX_DIR": t.TempDir()}
	if code, out, errs := run(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s %s", code, out, errs)
	}
	for _, who := range []string{"ana@example.org", "bo@example.org"} {
		if code, out, errs := run(t, env, "enroll", "--program", "p", "--email", who, "--tz", "UTC"); code != 0 {
			t.Fatalf("enroll %s: %d %s %s", who, code, out, errs)
		}
	}
	setSMS(t, dir, "It\u2019s day one. Notice what you feel today and give it a name.")

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"pause", "--email", "ana@example.org"}, "pause: p"},
		{[]string{"resume", "--email", "ana@example.org"}, "resume: p"},
		{[]string{"unenroll", "--email", "ana@example.org"}, "unenroll: p"},
		{[]string{"unsubscribe", "--email", "bo@example.org"}, "suppressed and its consent revoked"},
		{[]string{"lift-optout", "--email", "bo@example.org", "--request", "asked by email"}, "may be emailed again"},
	} {
		code, out, errs := run(t, env, c.args...)
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("%v with a program that does not validate: exit %d\nstdout: %s\nstderr: %s", c.args, code, out, errs)
		}
	}
	code, _, errs := run(t, env, "enroll", "--program", "p", "--email", "cy@example.org", "--tz", "UTC")
	if code != 1 || !strings.Contains(errs, "needs UCS-2") {
		t.Fatalf("enroll with a program that does not validate: exit %d: %s", code, errs)
	}
}
