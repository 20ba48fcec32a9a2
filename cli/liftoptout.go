package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rekindle/rekindle/logging"
	"github.com/rekindle/rekindle/store"
)

// runLiftOptOut lifts an email opt-out when the person asks for their
// emails back (the sign-up page tells someone who unsubscribed to write to
// the support contact). It sends nothing and enrolls no one: the person
// signs up again and confirms the address, so consent comes from them, not
// from the operator. A text opt-out is not lifted here: only the person
// texting START to the number may lift it.
func runLiftOptOut(ctx context.Context, env *Env, args []string) error {
	fs := flagSet(env, "lift-optout")
	fs.String("database-url", "", "PostgreSQL URL (env DATABASE_URL)")
	email := fs.String("email", "", "the address whose opt-out the person asked to lift")
	phone := fs.String("phone", "", "refused: a text opt-out is lifted by the person texting START")
	request := fs.String("request", "", "how and when the person asked, kept in the audit log (e.g. \"email to support, 2026-12-05\")")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	switch {
	case *phone != "":
		return usagef("--phone: a text opt-out is lifted only by the person texting START to the number, never by an operator")
	case *email == "":
		return usagef("give --email, the address whose opt-out the person asked to lift")
	case strings.TrimSpace(*request) == "":
		return usagef("--request: say how and when the person asked for their emails back; it is kept in the audit log")
	}
	if err := checkRequest(*request); err != nil {
		return err
	}
	addr, _, err := contact(*email, "", "")
	if err != nil {
		return err
	}
	// The store alone: lifting plans nothing, so no program is loaded.
	st, _, err := adminStore(ctx, env, fs)
	if err != nil {
		return err
	}
	defer st.Close()
	shown := logging.MaskEmail(addr)
	lifted, err := st.LiftEmailOptOut(ctx, time.Now(), addr, strings.TrimSpace(*request))
	if errors.Is(err, store.ErrNotOptedOut) {
		return fmt.Errorf("%s has no opt-out to lift; nothing changed", shown)
	}
	if err != nil {
		return err
	}
	what := strings.Join(lifted.Reasons, ", ")
	if lifted.Status == "confirmed" {
		// Only a provider's block stood in the way; the person never
		// withdrew their consent, so their programs go on by email.
		fmt.Fprintf(env.Stdout, "lift-optout: %s is no longer blocked; the person's consent to it stands, so their running programs email them again from their next step (lifted: %s)\n", shown, what)
		return nil
	}
	if lifted.SubscriberID != 0 {
		live, err := st.LiveEnrollments(ctx, lifted.SubscriberID)
		if err != nil {
			return err
		}
		if len(live) > 0 {
			// Signing up to a program they are in asks them to confirm the
			// email (web/signup.go), and the program goes on meanwhile.
			fmt.Fprintf(env.Stdout, "lift-optout: %s is no longer opted out, but is not confirmed; the person is in %d running program(s) by text: signing up to it again on the web page asks them to confirm the address, "+
				"and their texts carry on meanwhile; nothing is emailed until they confirm (lifted: %s)\n",
				shown, len(live), what)
			return nil
		}
	}
	fmt.Fprintf(env.Stdout, "lift-optout: %s may be emailed again once the person signs up and confirms the address; nothing is sent until then (lifted: %s)\n", shown, what)
	return nil
}

// checkRequest refuses a --request the audit log cannot keep as given: not
// UTF-8 (it was kept with its bytes replaced), a NUL (PostgreSQL refused
// it, in an error naming no flag) or another control character than a
// line break or tab, or longer than a note (500 characters).
func checkRequest(s string) error {
	bad := func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }
	if !utf8.ValidString(s) || strings.ContainsFunc(s, bad) || utf8.RuneCountInString(s) > 500 {
		return fmt.Errorf("--request: want plain text of at most 500 characters, saying how and when the person asked")
	}
	return nil
}
