package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/store"
)

// benchReport is the part of `bench --json` a reader relies on.
type benchReport struct {
	Database     string `json:"database"`
	Checkpointed bool   `json:"stages_checkpointed"`
	Options      struct {
		Enrollments int `json:"enrollments"`
		Due         int `json:"due"`
	} `json:"options"`
	Median struct {
		Seed    float64 `json:"seed_rows_per_s"`
		Bare    float64 `json:"bare_queue_jobs_per_s"`
		BareCPU struct {
			Postgres float64 `json:"postgres_us"`
		} `json:"bare_queue_cpu_per_job"`
		EndToEndCPU struct {
			Postgres float64 `json:"postgres_us"`
		} `json:"service_cpu_per_msg"`
		Plan       float64 `json:"plan_steps_per_s"`
		Dispatch   float64 `json:"dispatch_msgs_per_s"`
		EndToEnd   float64 `json:"end_to_end_msgs_per_s"`
		Sustained  float64 `json:"sustained_msgs_per_s"`
		P50        float64 `json:"latency_p50_s"`
		P99        float64 `json:"latency_p99_s"`
		Max        float64 `json:"latency_max_s"`
		RSS        float64 `json:"peak_rss_mb"`
		RoundTrips float64 `json:"round_trips_per_msg"`
	} `json:"median"`
	Runs []json.RawMessage `json:"runs"`
}

func deliveriesByStatus(t *testing.T, dsn string) map[string]int {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT status, count(*) FROM deliveries GROUP BY status")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		out[s] = n
	}
	return out
}

func TestBenchMeasuresEveryStage(t *testing.T) {
	dsn := testdb.New(t)
	code, out, errs := run(t, nil, "bench", "--database-url", dsn, "--enrollments", "700", "--due", "450",
		"--reps", "2", "--tick", "20ms", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	var rep benchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	m := rep.Median
	if rep.Options.Enrollments != 700 || rep.Options.Due != 450 || len(rep.Runs) != 2 {
		t.Fatalf("report is not of the run asked for: %+v, %d runs", rep.Options, len(rep.Runs))
	}
	for name, v := range map[string]float64{"seed": m.Seed, "bare queue": m.Bare, "plan": m.Plan, "dispatch": m.Dispatch, "end-to-end": m.EndToEnd,
		"p50": m.P50, "p99": m.P99, "peak RSS": m.RSS, "round trips": m.RoundTrips} {
		if v <= 0 {
			t.Errorf("%s not measured: %v\n%s", name, v, out)
		}
	}
	// Backend CPU is counted per connection: one that closes between two
	// readings must not make another stage's share negative.
	if m.BareCPU.Postgres < 0 || m.EndToEndCPU.Postgres < 0 {
		t.Errorf("negative PostgreSQL CPU: bare queue %v µs, end to end %v µs", m.BareCPU.Postgres, m.EndToEndCPU.Postgres)
	}
	// The tests' user is a superuser: every stage began from a checkpoint.
	if !rep.Checkpointed {
		t.Error("the stages did not begin with a checkpoint")
	}
	if !(m.P50 <= m.P99 && m.P99 <= m.Max) {
		t.Errorf("latency quantiles out of order: p50 %v, p99 %v, max %v", m.P50, m.P99, m.Max)
	}
	// The last stage sent every due person their welcome, and nobody else.
	if got := deliveriesByStatus(t, dsn); len(got) != 1 || got["sent"] != 450 {
		t.Fatalf("deliveries after the run: %v, want 450 sent", got)
	}
	// The text report names the stages a reader compares with the targets.
	code, text, errs := run(t, nil, "bench", "--database-url", dsn, "--enrollments", "200", "--reps", "1", "--tick", "20ms")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	for _, want := range []string{"seed", "bare queue", "of the bare queue", "plan", "dispatch", "end-to-end", "due -> handed off", "peak RSS", "round trips"} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}
}

func TestBenchSustainedRate(t *testing.T) {
	dsn := testdb.New(t)
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof")
	code, out, errs := run(t, nil, "bench", "--database-url", dsn, "--enrollments", "100", "--rate", "100",
		"--duration", "2s", "--reps", "1", "--tick", "50ms", "--json", "--cpuprofile", cpu, "--memprofile", mem)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	// Both profiles are written, in pprof's gzip-compressed form.
	for _, f := range []string{cpu, mem} {
		b, err := os.ReadFile(f)
		if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("%s is not a profile (%d bytes, %v)", filepath.Base(f), len(b), err)
		}
	}
	var rep benchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// 100 a second for 2 seconds: 200 people due, the seeded 100 topped up.
	if rep.Options.Due != 200 || rep.Options.Enrollments != 200 {
		t.Fatalf("due %d of %d, want 200 of 200", rep.Options.Due, rep.Options.Enrollments)
	}
	if rep.Median.Sustained <= 0 || rep.Median.P99 <= 0 {
		t.Fatalf("sustained rate or latency not measured:\n%s", out)
	}
	if got := deliveriesByStatus(t, dsn); got["sent"] != 200 {
		t.Fatalf("deliveries after the run: %v, want 200 sent", got)
	}
}

func TestBenchRefusesARealDatabase(t *testing.T) {
	dsn := testdb.New(t)
	env := map[string]string{"DATABASE_URL": dsn}
	if code, _, errs := run(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", errs)
	}
	if code, _, errs := run(t, env, "enroll", "--program", "rekindle", "--email", "ana@example.org", "--tz", "Europe/Lisbon"); code != 0 {
		t.Fatalf("enroll: %s", errs)
	}
	code, _, errs := run(t, env, "bench", "--database-url", dsn, "--enrollments", "10", "--reps", "1")
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if code != 1 || !strings.Contains(errs, "database "+name+" holds subscribers and is not a bench database") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// Nothing changed: the person is still enrolled.
	code, out, _ := run(t, env, "status", "--json")
	if code != 0 || !strings.Contains(strings.Join(strings.Fields(out), ""), `"status":"active"`) {
		t.Fatalf("status after the refusal: %d %s", code, out)
	}
}

func TestBenchBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--enrollments", "10", "--due", "20"}, "--due 20 is more than --enrollments 10"},
		{[]string{"--reps", "0"}, "--reps must be at least 1"},
		{[]string{"--rate", "100", "--plan-only"}, "--rate and --plan-only do not go together"},
		{[]string{"--enrollments", "0"}, "--enrollments must be at least 1"},
	} {
		code, _, errs := run(t, nil, append([]string{"bench"}, c.args...)...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d %q, want 2 and %q", c.args, code, errs, c.want)
		}
	}
}

// Two benches on one database would empty the tables under each other: the
// second is refused, naming the database, and the first's rows are kept.
func TestBenchRefusesASecondRunOnItsDatabase(t *testing.T) {
	dsn := testdb.New(t)
	if code, _, errs := run(t, nil, "bench", "--database-url", dsn, "--enrollments", "50", "--reps", "1", "--tick", "20ms"); code != 0 {
		t.Fatalf("first run: %s", errs)
	}
	first, err := store.OpenBench(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	code, _, errs := run(t, nil, "bench", "--database-url", dsn, "--enrollments", "10", "--reps", "1", "--tick", "20ms")
	if code != 1 || !strings.Contains(errs, "database "+first.Name+": another rekindle bench is running on it") {
		t.Fatalf("second run while the first holds the database: exit %d: %s", code, errs)
	}
	if got := deliveriesByStatus(t, dsn); got["sent"] != 50 {
		t.Fatalf("deliveries after the refusal: %v, want the first run's 50 sent", got)
	}
	first.Close()
	if code, _, errs := run(t, nil, "bench", "--database-url", dsn, "--enrollments", "10", "--reps", "1", "--tick", "20ms"); code != 0 {
		t.Fatalf("a run after the first ended: %s", errs)
	}
}
