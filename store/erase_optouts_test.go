package store_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/store"
)

// Erase records in its event how many opt-outs of the person's addresses it
// kept as hashes, and on which channels, so `subscribers show` can still
// say so once nothing links the hashes to the record. An opt-out that was
// already only a hash (the address erased before) counts too: it is still
// honoured.
func TestEraseRecordsTheOptOutsKept(t *testing.T) {
	ctx := context.Background()
	st, _ := testdb.Store(t)
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, q := range []string{
		`INSERT INTO subscribers (id, first_name, email, phone, timezone, email_status, sms_status, created_at, updated_at) VALUES
		 (7, 'Ann', 'ann@example.org', '+12025550100', 'UTC', 'revoked', 'revoked', '2030-01-01', '2030-01-01'),
		 (8, 'Bo', 'bo@example.org', NULL, 'UTC', 'confirmed', 'none', '2030-01-01', '2030-01-01')`,
		`INSERT INTO suppressions (channel, address, reason, source, created_at) VALUES
		 ('email', 'ann@example.org', 'unsubscribed', 'link', '2030-01-01'),
		 ('sms', '+12025550100', 'unsubscribed', 'sms', '2030-01-01'),
		 ('email', 'someone.else@example.org', 'unsubscribed', 'link', '2030-01-01')`,
	} {
		if _, err := st.DB.ExecContext(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	erase := func(id int64) (store.Erasure, store.Overview) {
		t.Helper()
		if _, err := st.ErasePerson(ctx, now, id); err != nil {
			t.Fatal(err)
		}
		var data []byte
		if err := st.DB.GetContext(ctx, &data, `SELECT data FROM events WHERE subscriber_id = $1 AND kind = 'erased'`, id); err != nil {
			t.Fatal(err)
		}
		var e store.Erasure
		if err := json.Unmarshal(data, &e); err != nil {
			t.Fatal(err)
		}
		p, err := st.FindPerson(ctx, "", "", id)
		if err != nil {
			t.Fatal(err)
		}
		o, err := st.PersonOverview(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return e, o
	}
	check := func(who string, id int64, n int, channels ...string) store.Erasure {
		t.Helper()
		e, o := erase(id)
		if e.By != "operator" || e.OptOutsKept == nil || *e.OptOutsKept != n || !slices.Equal(e.OptOutChannels, channels) {
			t.Errorf("%s: erased event %+v, want %d opt-outs kept on %v", who, e, n, channels)
		}
		if o.Erasure == nil || o.Erasure.OptOutsKept == nil || *o.Erasure.OptOutsKept != n || !slices.Equal(o.Erasure.OptOutChannels, channels) {
			t.Errorf("%s: the overview's erasure is %+v, want %d opt-outs kept on %v", who, o.Erasure, n, channels)
		}
		return e
	}
	check("Ann, opted out of both", 7, 2, "email", "sms")
	check("Bo, never opted out", 8, 0)
	// Dee texted STOP; her mailbox was refused for good by the provider.
	// Both are kept, but only the STOP is an opt-out she asked for.
	if _, err := st.DB.ExecContext(ctx, `INSERT INTO subscribers (id, email, phone, timezone, created_at, updated_at)
		VALUES (12, 'dee@example.org', '+12025550177', 'UTC', '2030-01-01', '2030-01-01');
		INSERT INTO suppressions (channel, address, reason, source, created_at) VALUES
		 ('email', 'dee@example.org', 'provider 550', 'provider', '2030-01-01'),
		 ('sms', '+12025550177', 'unsubscribed', 'sms', '2030-01-01')`); err != nil {
		t.Fatal(err)
	}
	// Eve's STOP reached rekindle first as Twilio's 21610 on a send: still
	// her own request, so an opt-out, not a block.
	if _, err := st.DB.ExecContext(ctx, `INSERT INTO subscribers (id, phone, timezone, created_at, updated_at)
		VALUES (13, '+12025550178', 'UTC', '2030-01-01', '2030-01-01');
		INSERT INTO suppressions (channel, address, reason, source, created_at) VALUES
		 ('sms', '+12025550178', 'provider 21610', 'provider', '2030-01-01')`); err != nil {
		t.Fatal(err)
	}
	if e := check("Eve, STOP seen first as Twilio 21610", 13, 1, "sms"); e.BlocksKept != 0 {
		t.Errorf("Eve: erased event %+v, want her STOP counted as an opt-out, not a block", e)
	}
	if e := check("Dee, STOP and a refused mailbox", 12, 1, "sms"); e.BlocksKept != 1 || !slices.Equal(e.BlockChannels, []string{"email"}) {
		t.Errorf("Dee: erased event %+v, want the refused mailbox counted apart (1 on email)", e)
	}
	// Ann's number entered anew: its SMS opt-out is only a hash now.
	if _, err := st.DB.ExecContext(ctx, `INSERT INTO subscribers (id, phone, timezone, created_at, updated_at)
		VALUES (9, '+12025550100', 'UTC', '2030-01-02', '2030-01-02')`); err != nil {
		t.Fatal(err)
	}
	check("Ann's number again", 9, 1, "sms")

	// A person not erased has no erasure; an erasure recorded before the
	// count was has none to show.
	if _, err := st.DB.ExecContext(ctx, `INSERT INTO subscribers (id, email, timezone, created_at, updated_at) VALUES
		(10, 'cy@example.org', 'UTC', '2030-01-02', '2030-01-02'), (11, 'erased:11', 'UTC', '2030-01-02', '2030-01-02')`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB.ExecContext(ctx, `INSERT INTO events (subscriber_id, kind, data, created_at) VALUES (11, 'erased', '{"by": "operator"}', '2030-01-02')`); err != nil {
		t.Fatal(err)
	}
	for id, erased := range map[int64]bool{10: false, 11: true} {
		p, err := st.FindPerson(ctx, "", "", id)
		if err != nil {
			t.Fatal(err)
		}
		o, err := st.PersonOverview(ctx, p)
		switch {
		case err != nil:
			t.Fatal(err)
		case !erased && o.Erasure != nil:
			t.Errorf("subscriber %d, not erased, has an erasure %+v", id, o.Erasure)
		case erased && (o.Erasure == nil || o.Erasure.OptOutsKept != nil):
			t.Errorf("subscriber %d, erased before the count was recorded: erasure %+v, want one without a count", id, o.Erasure)
		}
	}
}
