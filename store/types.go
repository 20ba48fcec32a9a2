package store

import (
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// JSON scans and writes a jsonb column as a Go value.
type JSON[T any] struct{ V T }

// Scan implements sql.Scanner.
func (j *JSON[T]) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		return nil
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return fmt.Errorf("store: cannot scan %T as json", src)
	}
	return json.Unmarshal(b, &j.V)
}

// Value implements driver.Valuer.
func (j JSON[T]) Value() (driver.Value, error) {
	b, err := json.Marshal(j.V)
	return string(b), err
}

// String is the JSON text.
func (j JSON[T]) String() string {
	b, _ := json.Marshal(j.V)
	return string(b)
}

// Enrollment is an enrollment row with the subscriber fields the planner needs.
type Enrollment struct {
	ID               int64                      `db:"id"`
	SubscriberID     int64                      `db:"subscriber_id"`
	ProgramVersionID int64                      `db:"program_version_id"`
	Program          string                     `db:"program"`
	Status           string                     `db:"status"`
	Timezone         string                     `db:"timezone"`
	StartDate        time.Time                  `db:"start_date"`
	Track            string                     `db:"track"`
	TrackOrigin      int                        `db:"track_origin"`
	ShiftDays        int                        `db:"shift_days"`
	Cursor           int64                      `db:"cursor"`
	CronCursors      JSON[map[string]string]    `db:"cron_cursors"`
	LastLesson       JSON[map[string]time.Time] `db:"last_lesson"`
	Extensions       JSON[map[string]int]       `db:"extensions"`
	SMSCount         int                        `db:"sms_count"`
	Phase            string                     `db:"phase"`
	NextDueAt        sql.NullTime               `db:"next_due_at"`
	PausedAt         sql.NullTime               `db:"paused_at"`

	FirstName   string `db:"first_name"`
	Email       string `db:"email"`
	Phone       string `db:"phone"`
	EmailStatus string `db:"email_status"`
	SMSStatus   string `db:"sms_status"`
}

// NewDelivery is a delivery the planner writes. A program step's message
// carries what it is rendered from when it is sent (ProgramVersionID and
// the fields after it); a confirmation carries its rendered bodies (and its
// program version, whose quiet hours it keeps).
type NewDelivery struct {
	EnrollmentID   int64
	SubscriberID   int64
	StepKey        string
	Kind           string
	Phase          string
	Channel        string
	To             string
	DueAt          time.Time
	NotBefore      time.Time
	Subject        string
	Preheader      string
	Text           string
	HTML           string
	UnsubscribeURL string

	ProgramVersionID int64
	Day              int
	FirstName        string
	CheckinToken     string
	StopHint         bool

	// Handoff writes the delivery already claimed, for this process to send
	// without claiming it back (see PlanBatch).
	Handoff bool
}

// NewCheckin is an open check-in the planner writes with its prompt.
type NewCheckin struct {
	EnrollmentID int64
	StepKey      string
	Occurrence   string
	Prompt       string
	Token        string
	OpenedAt     time.Time
	ClosesAt     time.Time
}

// Delivery is a claimed delivery, ready to send.
type Delivery struct {
	ID             int64     `db:"id"`
	EnrollmentID   int64     `db:"enrollment_id"`
	SubscriberID   int64     `db:"subscriber_id"`
	StepKey        string    `db:"step_key"`
	Kind           string    `db:"kind"`
	Phase          string    `db:"phase"`
	Channel        string    `db:"channel"`
	To             string    `db:"to_addr"`
	Status         string    `db:"status"`
	Attempts       int       `db:"attempts"`
	DueAt          time.Time `db:"due_at"`
	Subject        string    `db:"subject"`
	Preheader      string    `db:"preheader"`
	Text           string    `db:"body_text"`
	HTML           string    `db:"body_html"`
	UnsubscribeURL string    `db:"unsubscribe_url"`
	Timezone       string    `db:"timezone"`

	// Set for a program step rendered when it is sent (see NewDelivery).
	ProgramVersionID int64  `db:"program_version_id"`
	Day              int    `db:"day"`
	FirstName        string `db:"first_name"`
	CheckinToken     string `db:"checkin_token"`
	StopHint         bool   `db:"stop_hint"`
}

// Ack is the outcome of one send attempt.
type Ack struct {
	ID         int64
	Attempt    int
	Status     string // sent, queued (retry), failed
	ProviderID string
	Code       string
	Err        string
	RetryAt    time.Time // for status queued
	Deferred   bool      // queued again for quiet hours, not attempted: the attempt is not counted
}

// Suppression stops all sends to one address on one channel.
type Suppression struct {
	Channel, Address, Reason, Source string
}

// SuppressedByRequest is the Reason of a suppression the person asked for
// (STOP, an unsubscribe link, an operator recording their request); a
// provider's refusal of an address reads "provider <code>".
const SuppressedByRequest = "unsubscribed"

// ByRequest reports whether a suppression's reason is the person's own
// request: rekindle's own record of it, or Twilio's 21610 (the number
// texted STOP to the carrier, which may be recorded first when a status
// callback arrives before the STOP itself).
func ByRequest(reason string) bool {
	return reason == SuppressedByRequest || reason == "provider 21610"
}

// Checkin is a check-in row.
type Checkin struct {
	ID           int64     `db:"id"`
	EnrollmentID int64     `db:"enrollment_id"`
	StepKey      string    `db:"step_key"`
	Occurrence   string    `db:"occurrence"`
	Prompt       string    `db:"prompt"`
	OpenedAt     time.Time `db:"opened_at"`
	ClosesAt     time.Time `db:"closes_at"`
	Answer       string    `db:"answer"`
}
