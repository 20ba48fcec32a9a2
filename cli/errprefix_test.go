package cli

import (
	"strings"
	"testing"
)

// A failing command says its name once: "rekindle lift-optout: ...", not
// "rekindle lift-optout: lift-optout: ...", whichever package the error
// comes from.
func TestCommandErrorsNameTheCommandOnce(t *testing.T) {
	env, _ := sweepDB(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"lift-optout", "--email", "someone@example.org", "--request", "email to support"},
			"rekindle lift-optout: s***@example.org has no opt-out to lift"},
		{[]string{"enroll", "--program", "no-such-program", "--email", "sam@example.org", "--tz", "Europe/Berlin"},
			"rekindle enroll: "},
	} {
		code, _, errs := run(t, env, c.args...)
		if code != 1 || !strings.HasPrefix(errs, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 and a line starting %q", c.args[0], code, errs, c.want)
		}
		if strings.Contains(errs, c.args[0]+": "+c.args[0]+":") {
			t.Errorf("%s: the command is named twice: %q", c.args[0], errs)
		}
	}
}
