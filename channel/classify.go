package channel

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
)

// This file classifies provider errors (SMTP reply codes, Twilio error codes,
// network failures) into the dispatcher's two classes, and says which codes
// mean the address itself is bad and should be suppressed.
//
// Error has no "suppress" flag, and a permanent error is not always the
// address's fault (a body Twilio refuses, a trial account). Errors built here
// that do mean "this address is bad" also wrap a marker that ShouldSuppress
// finds, so a caller can tell the two apart without parsing codes.

// ShouldSuppress reports whether err is a permanent provider error that says
// the recipient address itself is bad (unknown mailbox, invalid or
// unsubscribed phone number), as opposed to a permanent failure of this one
// delivery (e.g. a message body the provider refuses).
func ShouldSuppress(err error) bool {
	var pe *Error
	if !errors.As(err, &pe) || !pe.Permanent {
		return false
	}
	var m *suppressMarker
	return errors.As(err, &m)
}

// suppressMarker wraps the cause of a permanent error whose code means the
// address is bad.
type suppressMarker struct{ err error }

func (m *suppressMarker) Error() string { return m.err.Error() }
func (m *suppressMarker) Unwrap() error { return m.err }

// permanentAddress is Permanent(code, err) marked for suppression.
func permanentAddress(code string, err error) error {
	return Permanent(code, &suppressMarker{err: err})
}

// SMTPCodeSuppresses reports whether an SMTP reply, returned for a
// recipient at a stage of the transaction ("rcpt", "data"), says the mailbox
// does not exist or can never receive mail. enhanced is the RFC 3463 status
// code the reply carried ("5.1.1"), or "" when the server gave none.
//
// A wrong answer here removes a real person from the list for good, and the
// commonest 550s are about us, not them: a relay that refuses to relay
// (5.7.1), our sending IP on a blocklist (5.7.606), a DMARC or SPF failure
// (5.7.26). So:
//
//   - with an enhanced code, only address statuses suppress: 5.1.1 no such
//     mailbox, 5.1.2 no such domain, 5.1.3 bad address syntax, 5.1.6 mailbox
//     moved, 5.1.10 the domain accepts no mail (null MX), 5.2.1 mailbox
//     disabled. 5.1.7 and 5.1.8 are about our sender's address, 5.7.x is
//     policy: neither suppresses;
//   - without one, 550 (mailbox unavailable), 551 (user not local) and 553
//     (mailbox name not allowed) suppress on RCPT only: after DATA the server
//     has accepted the recipient and is refusing the message.
//
// 552 (storage exceeded: a full mailbox empties) and 554 (transaction
// failed) never suppress, nor does any 4xx.
func SMTPCodeSuppresses(stage string, code int, enhanced string) bool {
	if code < 500 || code >= 600 || (stage != "rcpt" && stage != "data") {
		return false
	}
	if enhanced != "" {
		switch enhanced {
		case "5.1.1", "5.1.2", "5.1.3", "5.1.6", "5.1.10", "5.2.1":
			return true
		}
		return false
	}
	return stage == "rcpt" && (code == 550 || code == 551 || code == 553)
}

// smtpPolicy reports whether an enhanced status code is a security or
// policy refusal (5.7.x): relaying denied, a blocklisted IP, DMARC, SPF,
// authentication required. These are usually the sending setup's fault and
// hit every recipient alike, so they are retried with backoff, giving an
// operator time to fix the setup, rather than failing each message at once.
func smtpPolicy(enhanced string) bool { return strings.HasPrefix(enhanced, "5.7.") }

// TwilioCodeSuppresses reports whether a Twilio error code (from the REST API
// or from a status callback's ErrorCode) means the phone number itself cannot
// or must not receive SMS, so it should be suppressed. The list is kept
// conservative: a code that can just as well come from our own account,
// sender or content does not suppress.
//
// Suppress:
//
//	21211 Invalid 'To' phone number
//	21214 'To' phone number cannot be reached
//	21217 Phone number does not appear to be valid
//	21610 Attempt to send to an unsubscribed recipient (the person sent STOP)
//	21614 'To' number is not a valid mobile number (landline)
//	30005 Unknown destination handset (the number does not exist any more)
//	30006 Landline or unreachable carrier
//
// Deliberately not suppressed:
//
//	21219 'To' number not verified: a trial-account limit, not the number's fault
//	21408 Permission to send to this region not enabled: our geo permissions
//	21612 Cannot send with this combination of To and From: can be our sender
//	30003 Unreachable destination handset: phone off or out of coverage, temporary
//	30004 Message blocked: may be carrier filtering of our content
//	30007 Carrier filtering (spam): our content or registration
//	30008 Unknown error
func TwilioCodeSuppresses(code int) bool {
	switch code {
	case 21211, 21214, 21217, 21610, 21614, 30005, 30006:
		return true
	}
	return false
}

// twilioRetryCodes are 4xx Twilio codes that are worth retrying: rate
// limits, and failures of our own account or configuration, which affect
// every delivery and must not fail (let alone suppress) them all. They are
// retried with backoff until an operator fixes the cause.
var twilioRetryCodes = map[int]bool{
	20003: true, // authentication failed (401)
	20005: true, // account not active
	20008: true, // resource not accessible with test credentials
	20404: true, // resource not found: wrong Account SID or API URL
	20429: true, // too many requests
	21212: true, // invalid 'From' number
	21606: true, // 'From' is not a valid, SMS-capable number of this account
	21611: true, // 'From' has too many queued messages
	21659: true, // 'From' is not a Twilio number
	21660: true, // mismatch between 'From' and the account
	21701: true, // Messaging Service SID invalid
	21703: true, // Messaging Service has no phone numbers
	21408: true, // region not enabled in geo permissions
	30001: true, // queue overflow
	30002: true, // account suspended
}

// classifyTwilioAPI classifies a Twilio REST API error reply.
//
//   - HTTP 429, 5xx and the codes in twilioRetryCodes: retryable (status 401,
//     403 and 404 too: they are about our credentials or URL, not the message);
//   - a code in TwilioCodeSuppresses: permanent, and ShouldSuppress says yes;
//   - any other 4xx with a code (e.g. 21602 body required, 21617 body too
//     long): permanent for this delivery, the number is not suppressed.
//
// The code is the Twilio code when there is one, else the HTTP status.
func classifyTwilioAPI(status, code int, err error) error {
	codeStr := strconv.Itoa(code)
	if code == 0 {
		codeStr = strconv.Itoa(status)
	}
	switch {
	case status == 429 || status >= 500 || status == 401 || status == 403 || status == 404:
		return Retryable(codeStr, err)
	case twilioRetryCodes[code]:
		return Retryable(codeStr, err)
	case TwilioCodeSuppresses(code):
		return permanentAddress(codeStr, err)
	case status >= 400 && status < 500 && code != 0:
		return Permanent(codeStr, err)
	default:
		// A 4xx without a Twilio code (a proxy's page?) or an odd status:
		// unknown, so retried rather than lost.
		return Retryable(codeStr, err)
	}
}

// classifySMTPReply classifies an SMTP reply code, with its enhanced status
// code when the server gave one, for a stage of the transaction ("mail",
// "rcpt", "data").
//
//   - 4xx: retryable;
//   - 5xx with a 5.7.x policy status: retryable (see smtpPolicy);
//   - 5xx on RCPT or for the content (DATA): permanent; ShouldSuppress says
//     yes when SMTPCodeSuppresses does;
//   - 5xx on MAIL FROM: about our sender, not the recipient: retryable.
func classifySMTPReply(stage string, code int, enhanced string, err error) error {
	codeStr := strconv.Itoa(code)
	switch {
	case code >= 500 && code < 600 && smtpPolicy(enhanced):
		return Retryable(codeStr, err)
	case code >= 500 && code < 600 && (stage == "rcpt" || stage == "data"):
		if SMTPCodeSuppresses(stage, code, enhanced) {
			return permanentAddress(codeStr, err)
		}
		return Permanent(codeStr, err)
	default:
		return Retryable(codeStr, err)
	}
}

// classifyNetErr classifies a transport failure: always retryable, with
// code "timeout" for deadlines (ours or the context's), "canceled" for a
// canceled context and "network" for the rest.
func classifyNetErr(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return Retryable("canceled", err)
	case isTimeout(err):
		return Retryable("timeout", err)
	default:
		return Retryable("network", err)
	}
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// redactedError replaces the text of an error (which may quote the full
// recipient address) while keeping it in the chain for errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact wraps err, with every occurrence of the secrets in its text
// replaced by their masked form.
func redact(err error, prefix string, replacements ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if len(replacements) > 0 {
		msg = strings.NewReplacer(replacements...).Replace(msg)
	}
	return &redactedError{msg: prefix + msg, err: err}
}

// PermanentAddress wraps err as a permanent error whose code means the
// address itself is bad: the dispatcher suppresses it.
func PermanentAddress(code string, err error) error { return permanentAddress(code, err) }
