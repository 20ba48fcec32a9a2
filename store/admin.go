package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ErasedPrefix starts the email column of an erased person's tombstone row.
const ErasedPrefix = "erased:"

// ErrErased means the person was already erased.
var ErrErased = errors.New("already erased")

// ErrSending means a message to the person is being sent right now.
var ErrSending = errors.New("a message to this person is being sent right now")

// Person is a subscriber as an operator sees them.
type Person struct {
	ID          int64     `db:"id" json:"id"`
	FirstName   string    `db:"first_name" json:"first_name"`
	Email       string    `db:"email" json:"email"`
	Phone       string    `db:"phone" json:"phone"`
	Timezone    string    `db:"timezone" json:"timezone"`
	EmailStatus string    `db:"email_status" json:"email_status"`
	SMSStatus   string    `db:"sms_status" json:"sms_status"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
	UpdatedAt   time.Time `db:"updated_at" json:"updated_at"`
}

// Erased reports whether this row is an erased person's tombstone.
func (p Person) Erased() bool { return strings.HasPrefix(p.Email, ErasedPrefix) }

// FindPerson finds a person by exactly one of email, phone or id.
func (s *Store) FindPerson(ctx context.Context, email, phone string, id int64) (Person, error) {
	var p Person
	err := s.stmt(nil, "admin_find_person").GetContext(ctx, &p, email, phone, id)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("store: find person: %w", err)
	}
	return p, nil
}

// PersonConsent is one piece of consent evidence, without the IP and agent.
type PersonConsent struct {
	Channel   string    `db:"channel"`
	Action    string    `db:"action"`
	Source    string    `db:"source"`
	CreatedAt time.Time `db:"created_at"`
}

// PersonEnrollment is one of a person's enrollments with its pinned version.
type PersonEnrollment struct {
	ID          int64        `db:"id"`
	Program     string       `db:"program"`
	VersionID   int64        `db:"program_version_id"`
	Version     string       `db:"version"`
	Hash        string       `db:"hash"`
	Status      string       `db:"status"`
	Track       string       `db:"track"`
	Phase       string       `db:"phase"`
	Timezone    string       `db:"timezone"`
	StartDate   time.Time    `db:"start_date"`
	NextDueAt   sql.NullTime `db:"next_due_at"`
	PausedUntil sql.NullTime `db:"paused_until"`
	CompletedAt sql.NullTime `db:"completed_at"`
}

// PersonSuppression is an opt-out on one of the person's addresses; a
// hashed one (kept after an erasure) shows its address as "hashed".
type PersonSuppression struct {
	Channel   string    `db:"channel"`
	Address   string    `db:"address"`
	Reason    string    `db:"reason"`
	Source    string    `db:"source"`
	CreatedAt time.Time `db:"created_at"`
}

// SuppressionsOf is every suppression of an email and a phone (either may
// be ""), in either form one is kept (an erased person's as a hash), oldest
// first.
func (s *Store) SuppressionsOf(ctx context.Context, email, phone string) ([]PersonSuppression, error) {
	var out []PersonSuppression
	if err := s.stmt(nil, "admin_person_suppressions").SelectContext(ctx, &out, email, phone); err != nil {
		return nil, fmt.Errorf("store: suppressions: %w", err)
	}
	return out, nil
}

// Overview is what the operator's `subscribers show` prints.
type Overview struct {
	Person       Person
	Consents     []PersonConsent
	Enrollments  []PersonEnrollment
	Deliveries   []Count
	NextSend     sql.NullTime
	NextWhat     string
	Checkins     int64
	Answered     int64
	LastAnswer   string
	Suppressions []PersonSuppression
	// Erasure is what the erase recorded, for an erased person; nil
	// otherwise.
	Erasure *Erasure
}

// Erasure is the payload of a person's "erased" event.
type Erasure struct {
	By string `json:"by"`
	// OptOutsKept is how many opt-outs of the person's addresses were kept
	// as hashes (still honoured); nil for an erasure recorded before the
	// count was.
	OptOutsKept    *int     `json:"optouts_kept"`
	OptOutChannels []string `json:"optout_channels"`
	// BlocksKept counts the other suppressions kept as hashes: addresses a
	// provider refused for good (a number that cannot take texts, a
	// mailbox that does not exist), which the person never asked for.
	BlocksKept    int      `json:"blocks_kept,omitempty"`
	BlockChannels []string `json:"block_channels,omitempty"`
}

// PersonOverview gathers the operator's view of one person.
func (s *Store) PersonOverview(ctx context.Context, p Person) (Overview, error) {
	o := Overview{Person: p}
	wrap := func(err error) error { return fmt.Errorf("store: person %d: %w", p.ID, err) }
	if err := s.stmt(nil, "admin_person_consents").SelectContext(ctx, &o.Consents, p.ID); err != nil {
		return o, wrap(err)
	}
	if err := s.stmt(nil, "admin_person_enrollments").SelectContext(ctx, &o.Enrollments, p.ID); err != nil {
		return o, wrap(err)
	}
	if err := s.stmt(nil, "admin_person_delivery_counts").SelectContext(ctx, &o.Deliveries, p.ID); err != nil {
		return o, wrap(err)
	}
	err := s.stmt(nil, "admin_person_next_send").QueryRowxContext(ctx, p.ID).Scan(&o.NextSend, &o.NextWhat)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return o, wrap(err)
	}
	if err := s.stmt(nil, "admin_person_checkins").QueryRowxContext(ctx, p.ID).Scan(&o.Checkins, &o.Answered, &o.LastAnswer); err != nil {
		return o, wrap(err)
	}
	if err := s.stmt(nil, "admin_person_suppressions").SelectContext(ctx, &o.Suppressions, p.Email, p.Phone); err != nil {
		return o, wrap(err)
	}
	if p.Erased() {
		var data []byte
		err := s.stmt(nil, "admin_person_erasure").QueryRowxContext(ctx, p.ID).Scan(&data)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return o, wrap(err)
		default:
			var e Erasure
			if err := json.Unmarshal(data, &e); err != nil {
				return o, wrap(fmt.Errorf("erased event: %w", err))
			}
			o.Erasure = &e
		}
	}
	return o, nil
}

// ExportPerson returns everything held about a person as one JSON document:
// every column of their subscriber, consent, enrollment, delivery, check-in,
// inbound message, suppression and event rows.
func (s *Store) ExportPerson(ctx context.Context, p Person) (json.RawMessage, error) {
	var doc string
	if err := s.stmt(nil, "admin_export_person").GetContext(ctx, &doc, p.ID, p.Email, p.Phone); err != nil {
		return nil, fmt.Errorf("store: export person %d: %w", p.ID, err)
	}
	return json.RawMessage(doc), nil
}

// ErasePlan counts, per table, the rows an erasure touches.
type ErasePlan struct {
	Enrollments       int64 `db:"enrollments" json:"enrollments"`
	LiveEnrollments   int64 `db:"live_enrollments" json:"live_enrollments"`
	Deliveries        int64 `db:"deliveries" json:"deliveries"`
	QueuedDeliveries  int64 `db:"queued_deliveries" json:"queued_deliveries"`
	SendingDeliveries int64 `db:"sending_deliveries" json:"sending_deliveries"`
	Checkins          int64 `db:"checkins" json:"checkins"`
	ReplyTexts        int64 `db:"reply_texts" json:"reply_texts"`
	Consents          int64 `db:"consents" json:"consents"`
	InboundMessages   int64 `db:"inbound_messages" json:"inbound_messages"`
	Suppressions      int64 `db:"suppressions" json:"suppressions"`
	Events            int64 `db:"events" json:"events"`
}

// PlanErase says what ErasePerson would change, changing nothing.
func (s *Store) PlanErase(ctx context.Context, p Person) (ErasePlan, error) {
	return s.planErase(ctx, nil, p)
}

func (s *Store) planErase(ctx context.Context, tx *sqlx.Tx, p Person) (ErasePlan, error) {
	var plan ErasePlan
	if err := s.stmt(tx, "admin_erase_plan").GetContext(ctx, &plan, p.ID, p.Email, p.Phone); err != nil {
		return plan, fmt.Errorf("store: erase plan %d: %w", p.ID, err)
	}
	return plan, nil
}

// ErasePerson removes a person's personal data in one transaction and keeps
// the rows that anonymous counts are made of: the subscriber row becomes a
// tombstone, running enrollments end, queued messages are cancelled,
// deliveries lose their address and rendered content, check-ins their reply
// text, consents their IP and user agent, inbound texts their sender and
// body; suppressions are kept as hashes and audit events are scrubbed of
// the addresses. It refuses (ErrSending) while a message to the person is
// being sent, and (ErrErased) a second time.
func (s *Store) ErasePerson(ctx context.Context, now time.Time, id int64) (ErasePlan, error) {
	var plan ErasePlan
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var p Person
		err := s.stmt(tx, "admin_lock_person").GetContext(ctx, &p, id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("store: erase %d: %w", id, err)
		}
		if p.Erased() {
			return ErrErased
		}
		for _, name := range []string{"admin_lock_person_enrollments", "admin_lock_person_deliveries"} {
			var ids []int64
			if err := s.stmt(tx, name).SelectContext(ctx, &ids, p.ID); err != nil {
				return fmt.Errorf("store: erase %d: lock: %w", id, err)
			}
		}
		if plan, err = s.planErase(ctx, tx, p); err != nil {
			return err
		}
		if plan.SendingDeliveries > 0 {
			return ErrSending
		}
		steps := []struct {
			name string
			args []any
		}{
			{"admin_erase_enrollments", []any{p.ID, now}},
			{"admin_erase_cancel_queued", []any{p.ID, now}},
			{"admin_erase_deliveries", []any{p.ID, p.Email, p.Phone, now}},
			{"admin_erase_checkins", []any{p.ID}},
			{"admin_erase_consents", []any{p.ID, p.Email, p.Phone}},
			{"admin_erase_inbound", []any{p.Email, p.Phone}},
			{"admin_hash_suppressions", []any{p.Email, p.Phone}},
			{"admin_delete_plain_suppressions", []any{p.Email, p.Phone}},
			{"admin_erase_events", []any{p.Email, p.Phone}},
			{"admin_erase_subscriber", []any{p.ID, now}},
		}
		for _, st := range steps {
			if _, err := s.stmt(tx, st.name).ExecContext(ctx, st.args...); err != nil {
				return fmt.Errorf("store: erase %d: %s: %w", id, strings.TrimPrefix(st.name, "admin_"), err)
			}
		}
		// The opt-outs of the person's addresses now exist only as hashes,
		// which name nobody: the event records how many were kept, and on
		// which channels, for `subscribers show` to say afterwards.
		var kept []PersonSuppression
		if err := s.stmt(tx, "admin_person_suppressions").SelectContext(ctx, &kept, p.Email, p.Phone); err != nil {
			return fmt.Errorf("store: erase %d: kept opt-outs: %w", id, err)
		}
		// Only the person's own requests are opt-outs; a provider's
		// refusal of an address is kept too, but counted apart.
		optouts, blocks := []string{}, []string{}
		for _, k := range kept {
			if ByRequest(k.Reason) {
				optouts = append(optouts, k.Channel)
			} else {
				blocks = append(blocks, k.Channel)
			}
		}
		return s.Event(ctx, tx, now, p.ID, 0, "erased", map[string]any{"by": "operator",
			"optouts_kept": len(optouts), "optout_channels": optouts, "blocks_kept": len(blocks), "block_channels": blocks})
	})
	return plan, err
}

// VersionInfo is one stored program version and how many enrollments are
// pinned to it.
type VersionInfo struct {
	ID        int64     `db:"id" json:"id"`
	Slug      string    `db:"slug" json:"slug"`
	Version   string    `db:"version" json:"version"`
	Hash      string    `db:"hash" json:"hash"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	Live      int64     `db:"live" json:"live"`
	Total     int64     `db:"total" json:"total"`
}

// ProgramVersions lists every stored program version.
func (s *Store) ProgramVersions(ctx context.Context) ([]VersionInfo, error) {
	var out []VersionInfo
	if err := s.stmt(nil, "admin_program_versions").SelectContext(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: program versions: %w", err)
	}
	return out, nil
}

// Pinned is a running enrollment on the version being moved from.
type Pinned struct {
	ID           int64                   `db:"id"`
	SubscriberID int64                   `db:"subscriber_id"`
	Status       string                  `db:"status"`
	Timezone     string                  `db:"timezone"`
	StartDate    time.Time               `db:"start_date"`
	Track        string                  `db:"track"`
	Origin       int                     `db:"track_origin"`
	Shift        int                     `db:"shift_days"`
	Cursor       int64                   `db:"cursor"`
	CronCursors  JSON[map[string]string] `db:"cron_cursors"`
	Extensions   JSON[map[string]int]    `db:"extensions"`
	Phase        string                  `db:"phase"`
	NextDueAt    sql.NullTime            `db:"next_due_at"`
	Email        string                  `db:"email"`
	Phone        string                  `db:"phone"`
}

// Move is a pinned enrollment's schedule on the version it moves to.
type Move struct {
	ID          int64
	Track       string
	Cursor      int64
	CronCursors map[string]string
	Extensions  map[string]int
	Phase       string
	NextDueAt   *time.Time
}

// MoveEnrollments moves every running enrollment pinned to version from
// onto version to, in one transaction: it locks them, asks plan for each
// one's new schedule, and writes the moves guarded by the old version, so
// a row that moved meanwhile rolls everything back. Check-ins follow their
// steps' new keys (renamed: old key -> new key). With apply false it plans
// and rolls back, changing nothing.
func (s *Store) MoveEnrollments(ctx context.Context, now time.Time, from, to int64, renamed map[string]string, apply bool,
	plan func([]Pinned) ([]Move, error)) error {
	errDryRun := errors.New("dry run")
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var rows []Pinned
		if err := s.stmt(tx, "admin_lock_pinned_enrollments").SelectContext(ctx, &rows, from); err != nil {
			return fmt.Errorf("store: enrollments on version %d: %w", from, err)
		}
		moves, err := plan(rows)
		if err != nil {
			return err
		}
		if !apply {
			return errDryRun
		}
		if len(moves) == 0 {
			return nil
		}
		n := len(moves)
		ids, cursors := make([]int64, n), make([]int64, n)
		tracks, crons, exts, phases := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		next := make([]*string, n)
		subs, data := make([]int64, n), make([]string, n)
		bySub := map[int64]int64{}
		for _, r := range rows {
			bySub[r.ID] = r.SubscriberID
		}
		for i, m := range moves {
			ids[i], tracks[i], cursors[i], phases[i] = m.ID, m.Track, m.Cursor, m.Phase
			crons[i], exts[i] = jsonOf(m.CronCursors), jsonOf(m.Extensions)
			if m.NextDueAt != nil {
				t := ts(*m.NextDueAt)
				next[i] = &t
			}
			subs[i] = bySub[m.ID]
			data[i] = jsonOf(map[string]int64{"from_version": from, "to_version": to})
		}
		res, err := s.stmt(tx, "admin_move_enrollments").ExecContext(ctx, now, to, from, pq.Array(ids), pq.Array(tracks),
			pq.Array(cursors), pq.Array(crons), pq.Array(exts), pq.Array(phases), pq.Array(nullable(next)))
		if err != nil {
			return fmt.Errorf("store: move enrollments: %w", err)
		}
		if got, _ := res.RowsAffected(); got != int64(n) {
			return fmt.Errorf("store: move enrollments: %d of %d rows were still on version %d; nothing changed", got, n, from)
		}
		olds, news := make([]string, 0, len(renamed)), make([]string, 0, len(renamed))
		for o, nw := range renamed {
			olds, news = append(olds, o), append(news, nw)
		}
		if len(olds) > 0 {
			if _, err := s.stmt(tx, "admin_rename_checkin_steps").ExecContext(ctx, pq.Array(ids), pq.Array(olds), pq.Array(news)); err != nil {
				return fmt.Errorf("store: rename check-in steps: %w", err)
			}
		}
		if _, err := s.stmt(tx, "admin_insert_events").ExecContext(ctx, now, "program_migrated", pq.Array(subs), pq.Array(ids), pq.Array(data)); err != nil {
			return fmt.Errorf("store: move enrollments: event: %w", err)
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		return nil
	}
	return err
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	if string(b) == "null" {
		return "{}"
	}
	return string(b)
}
