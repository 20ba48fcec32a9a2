package render

import (
	"fmt"
	"strings"

	"github.com/rekindle/rekindle/programs"
)

// StopHint is appended to the first SMS a person gets and to every fourth
// after it.
const StopHint = "Reply STOP to opt out."

// NeedsStopHint says whether the n-th SMS to a person (0-based) carries the
// STOP hint: the first, then at least every fourth.
func NeedsStopHint(n int) bool { return n%4 == 0 }

// SMS renders step for SMS. n is how many SMS this person got before it.
func (c *Compiled) SMS(step *programs.Step, v programs.Vars, n int) (string, error) {
	cc, err := c.contentOf(step)
	if err != nil {
		return "", err
	}
	text, err := execText(cc.sms, c.r.withDefaults(v))
	if err != nil {
		return "", fmt.Errorf("render: %s sms: %w", step.Key, err)
	}
	return c.r.DecorateSMS(text, NeedsStopHint(n)), nil
}

// DecorateSMS adds the brand prefix and, when asked, the STOP hint (unless
// the text already says how to stop).
func (r *Renderer) DecorateSMS(text string, stopHint bool) string {
	if r.cfg.SMSBrand != "" {
		text = r.cfg.SMSBrand + ": " + text
	}
	if stopHint && !strings.Contains(strings.ToUpper(text), "STOP") {
		text += " " + StopHint
	}
	return text
}
