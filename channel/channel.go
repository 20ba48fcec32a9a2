// Package channel defines how a rendered message leaves rekindle, and holds
// the implementations: the file channel (the embedded default), SMTP email
// and Twilio SMS.
package channel

import (
	"context"
	"errors"
	"fmt"
)

// Kind names a delivery channel as stored in the database.
type Kind string

const (
	Email Kind = "email"
	SMS   Kind = "sms"
)

// Message is one rendered delivery, ready to hand to a provider.
type Message struct {
	DeliveryID int64
	Channel    Kind
	Step       string // program step key, for logs and the demo's progress lines
	Kind       string // lesson, checkin, message, confirm, test
	Phase      string // the person's program phase when it was planned
	To         string // email address or E.164 phone number
	ToName     string
	Subject    string // email only
	Preheader  string // email only
	Text       string // plain-text email body, or the SMS body
	HTML       string // email only

	// Unsubscribe and list headers (email only; empty for transactional mail).
	UnsubscribeURL    string // https one-click URL (RFC 8058)
	UnsubscribeMailto string // mailto: fallback
	ListID            string // e.g. "Rekindle <rekindle.example.org>"
}

// Result is what a provider said when it accepted a message.
type Result struct {
	ProviderID string // SMTP Message-ID or Twilio Message SID
	Detail     string // a short human-readable acknowledgement, for send-test
}

// Sender sends messages of one channel. A Sender is used by one goroutine at a
// time (a dispatcher worker) so it may hold a connection open across sends.
// Send must not keep a Message's strings once it returns (copy what it
// keeps): the dispatcher renders the next message into the same memory.
type Sender interface {
	Send(ctx context.Context, m Message) (Result, error)
	Close() error
}

// Channel makes Senders, one per dispatcher worker.
type Channel interface {
	Kind() Kind
	Name() string // "file", "smtp", "twilio", "null", ...
	NewSender() (Sender, error)
}

// Error is a provider error classified for the dispatcher: permanent errors
// fail the delivery and suppress the address; the rest are retried.
type Error struct {
	Permanent bool
	Code      string // provider code: SMTP reply code, Twilio error code, "timeout", "network"
	Err       error
}

func (e *Error) Error() string {
	class := "retryable"
	if e.Permanent {
		class = "permanent"
	}
	return fmt.Sprintf("%s provider error %s: %v", class, e.Code, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Permanent wraps err as a permanent provider error with code.
func Permanent(code string, err error) error { return &Error{Permanent: true, Code: code, Err: err} }

// Retryable wraps err as a retryable provider error with code.
func Retryable(code string, err error) error { return &Error{Code: code, Err: err} }

// Classify reports whether err is permanent, and its provider code. Errors
// that are not *Error are treated as retryable: an unknown failure must not
// lose a message.
func Classify(err error) (permanent bool, code string) {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Permanent, pe.Code
	}
	return false, ""
}
