package faults

import (
	"fmt"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/testdb"
)

// testInstances runs three serve processes against one database and makes
// the work due while all three are polling: each delivery must reach its
// provider exactly once.
func testInstances(t *testing.T, sc scale, bin string, sum *summary) {
	total := sc.instEmail + sc.instSMS
	r := row{scenario: fmt.Sprintf("instances: 3 × serve on one database, %d deliveries", total), runs: 1}
	defer func() { r.failed = t.Failed(); sum.add(r) }()

	p := startProviders(t)
	dsn := testdb.New(t)
	db := openDB(t, dsn)
	people := seedPeople(t, db, 1, max(sc.instEmail, sc.instSMS))

	var ds []*daemon
	for i := range 3 {
		set := p.settings(dsn)
		set["REKINDLE_EMAIL_RATE"] = "1000"
		set["REKINDLE_SMS_RATE"] = "300"
		d := newDaemon(t, bin, fmt.Sprintf("serve%d", i+1), set)
		d.start()
		ds = append(ds, d)
	}
	for _, d := range ds {
		d.waitReady(20 * time.Second)
	}
	start := time.Now()
	want := seedDeliveries(t, db, people[:sc.instEmail], "email", "lesson-1", start)
	want = append(want, seedDeliveries(t, db, people[:sc.instSMS], "sms", "lesson-1", start)...)
	done := waitDelivered(t, p, db, want, 5*time.Minute)
	for _, d := range ds {
		if !d.running() {
			t.Errorf("%s exited during the run: %v", d.name, d.err)
		}
	}
	for _, d := range ds {
		d.stop(15 * time.Second)
	}

	tl := countReceipts(p.received(t), want)
	r.lost, r.duplicates = len(tl.lost), tl.duplicates
	r.recovery = fmt.Sprintf("- (no fault; drained in %s)", secs(done.Sub(start)))
	if len(tl.lost) > 0 || tl.duplicates > 0 {
		t.Errorf("%d lost (%s), %d duplicates (%v); want each delivery sent exactly once",
			len(tl.lost), idList(tl.lost, 10), tl.duplicates, tl.dupIDs)
	}
	if c := statusCounts(t, db); c["sent"] != len(want) {
		t.Errorf("deliveries by status %v, want all %d sent", c, len(want))
	}
	var shares []struct {
		Instance string `db:"instance"`
		N        int    `db:"n"`
	}
	if err := db.Select(&shares, `SELECT claimed_by AS instance, count(*) AS n FROM deliveries GROUP BY claimed_by ORDER BY claimed_by`); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d deliveries in %s; sent by instance: %v", len(want), done.Sub(start).Round(time.Millisecond), shares)
}
