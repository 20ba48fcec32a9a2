package render

import (
	"fmt"
	"regexp"

	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/smsseg"
)

// StopHint is appended to the first SMS a person gets and to every fourth
// after it.
const StopHint = "Reply STOP to opt out."

// NeedsStopHint says whether the n-th SMS to a person (0-based) carries the
// STOP hint: the first, then at least every fourth.
func NeedsStopHint(n int) bool { return n%4 == 0 }

// SMS renders step for SMS. n is how many SMS this person got before it.
func (c *Compiled) SMS(step *programs.Step, v programs.Vars, n int) (string, error) {
	v.FirstName = smsseg.Plain(v.FirstName)
	return c.sms(step, v, NeedsStopHint(n))
}

func (c *Compiled) sms(step *programs.Step, v programs.Vars, stopHint bool) (string, error) {
	cc, err := c.contentOf(step)
	if err != nil {
		return "", err
	}
	v = c.r.withDefaults(v)
	text, err := execText(cc.sms, v)
	if err != nil {
		return "", fmt.Errorf("render: %s sms: %w", step.Key, err)
	}
	if stopHint {
		// Whether the text already says how to opt out is judged without
		// the person's values: a name such as Christopher says nothing
		// about stopping, and everyone on a step gets the same decision.
		neutral := v
		neutral.FirstName, neutral.ManageURL, neutral.UnsubscribeURL = "", "", ""
		plain, err := execText(cc.sms, neutral)
		if err != nil {
			return "", fmt.Errorf("render: %s sms: %w", step.Key, err)
		}
		stopHint = !mentionsStop(c.r.brand(plain))
	}
	return c.r.decorate(text, stopHint), nil
}

// DecorateSMS adds the brand prefix and, when asked, the STOP hint (unless
// the text already says how to stop).
func (r *Renderer) DecorateSMS(text string, stopHint bool) string {
	return r.decorate(text, stopHint && !mentionsStop(r.brand(text)))
}

func (r *Renderer) brand(text string) string {
	if r.cfg.SMSBrand != "" {
		return r.cfg.SMSBrand + ": " + text
	}
	return text
}

func (r *Renderer) decorate(text string, stopHint bool) string {
	text = r.brand(text)
	if stopHint {
		text += " " + StopHint
	}
	return text
}

// stopInstruction finds a text telling the person how to opt out. It is an
// instruction when STOP follows reply/text/send, directly or as one of the
// keywords offered ("Reply STOP", "reply with STOP", "Reply PAUSE or STOP",
// "text HELP, PAUSE or STOP"), or when STOP comes before "to" ("HELP for
// help, STOP to stop"). In capitals STOP is the keyword itself; written
// "stop" or "Stop" after the verb it counts when quoted or followed by how
// to use it ("reply stop to opt out", "text stop at any time"), since "Don't
// let one text stop you" uses the same two words. Ordinary words ("stop by
// the park", "can't stop thinking", "want the hurt to stop?", "a stop on
// the way") are not an instruction, and such a text still needs the hint:
// a missed hint matters more than a repeated one.
var stopInstruction = regexp.MustCompile(
	// reply/text/send [with] [KEYWORD (, | / | or) ...] STOP
	stopVerb + stopAlts + stopOpen + `STOP\b` +
		// the same with "stop" in any case, quoted or followed by how to use it
		`|` + stopVerb + stopAlts + `["'“‘]` + `(?i:stop)` + `["'”’]` +
		`|` + stopVerb + stopAlts + stopOpen + `(?i:stop)` + stopClose + `\s+(?i:to\b|at\s+any\s*time\b|any\s*time\b|whenever\b)` +
		// STOP to ...
		`|\bSTOP` + stopClose + `\s+(?i:to)\b`)

const (
	stopVerb  = `\b(?i:reply|text|txt|send)\s+(?:(?i:with)\s+)?`
	stopOpen  = `["'“‘*]*`
	stopClose = `["'”’*]*`
	// Other keywords offered before STOP, in capitals: "HELP or ",
	// "HELP, PAUSE or ", "PAUSE/".
	stopAlts = `(?:` + stopOpen + `[A-Z]{2,}` + stopClose + `(?:\s*,\s*(?:(?i:or)\s+)?|\s+(?i:or)\s+|\s*/\s*))*`
)

func mentionsStop(text string) bool { return stopInstruction.MatchString(text) }
