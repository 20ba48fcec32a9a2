package scheduler

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/render"
	"github.com/rekindle/rekindle/store"
	"github.com/rekindle/rekindle/token"
)

var testLayouts = fstest.MapFS{
	"email/layout.html": {Data: []byte(`<!doctype html><html lang="{{.Lang}}"><head><title>{{.Subject}}</title></head><body><h1>{{.Subject}}</h1>{{.Body}}{{with .Checkin}}{{range .Answers}}<a href="{{.URL}}">{{.Label}}</a>{{end}}{{end}}<a href="{{.UnsubscribeURL}}">Unsubscribe</a></body></html>`)},
	"email/layout.txt":  {Data: []byte("{{.BodyText}}\n{{with .Checkin}}{{range .Answers}}{{.Label}}: {{.URL}}\n{{end}}{{end}}Unsubscribe: {{.UnsubscribeURL}}\n")},
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newEngine builds an engine over a fresh database with the testdata programs.
func newEngine(t *testing.T, clk clock.Clock) *Engine {
	t.Helper()
	st, _ := testdb.Store(t)
	return engineOn(t, st, clk)
}

func engineOn(t *testing.T, st *store.Store, clk clock.Clock) *Engine {
	t.Helper()
	progs := map[string]*programs.Program{}
	for _, name := range []string{"basic", "timing"} {
		p, err := programs.Load(os.DirFS("../programs/testdata"), name)
		if err != nil {
			t.Fatal(err)
		}
		progs[name] = p
	}
	return engineRunning(t, st, clk, progs)
}

// engineRunning builds an engine over st that runs progs.
func engineRunning(t *testing.T, st *store.Store, clk clock.Clock, progs map[string]*programs.Program) *Engine {
	t.Helper()
	r, err := render.New(testLayouts, render.Config{SMSBrand: "Test", Support: "Call a friend."})
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := token.NewSigner("test-secret-key-0123456789")
	links := &token.Links{Base: "https://rekindle.test", Signer: signer, Now: clk.Now}
	e := New(st, clk, quietLog(), Config{SMSQuiet: DefaultSMSQuiet}, r, links)
	if err := e.LoadPrograms(context.Background(), progs); err != nil {
		t.Fatal(err)
	}
	return e
}

// counting is a channel that records every send.
type counting struct {
	kind  channel.Kind
	mu    sync.Mutex
	sent  map[int64]int
	order []channel.Message
	fail  func(channel.Message) error
}

func newCounting(kind channel.Kind) *counting { return &counting{kind: kind, sent: map[int64]int{}} }

func (c *counting) Kind() channel.Kind                 { return c.kind }
func (c *counting) Name() string                       { return "counting" }
func (c *counting) NewSender() (channel.Sender, error) { return c, nil }
func (c *counting) Close() error                       { return nil }
func (c *counting) Send(_ context.Context, m channel.Message) (channel.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		if err := c.fail(m); err != nil {
			return channel.Result{}, err
		}
	}
	c.sent[m.DeliveryID]++
	// Copied, as channel.Sender asks: the dispatcher renders the next
	// email into the memory m's texts share.
	m.Subject, m.Preheader = strings.Clone(m.Subject), strings.Clone(m.Preheader)
	m.Text, m.HTML = strings.Clone(m.Text), strings.Clone(m.HTML)
	c.order = append(c.order, m)
	return channel.Result{ProviderID: "ok"}, nil
}

func (c *counting) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.sent {
		n += v
	}
	return n
}

// planUntil runs the planner every step from the clock's time until end.
func planUntil(t *testing.T, e *Engine, clk *clock.Manual, end time.Time, step time.Duration) {
	t.Helper()
	for ; !clk.Now().After(end); clk.Advance(step) {
		for {
			n, _, err := e.PlanOnce(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
	}
}

type row struct {
	Step      string    `db:"step_key"`
	Channel   string    `db:"channel"`
	Status    string    `db:"status"`
	DueAt     time.Time `db:"due_at"`
	NotBefore time.Time `db:"not_before"`
	Kind      string    `db:"kind"`
}

func deliveries(t *testing.T, e *Engine, enrollmentID int64) []row {
	t.Helper()
	var out []row
	if err := e.Store.DB.Select(&out, `SELECT step_key, channel, status, due_at, not_before, kind FROM deliveries
		WHERE enrollment_id = $1 ORDER BY not_before, id`, enrollmentID); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustEnroll(t *testing.T, e *Engine, r EnrollRequest) int64 {
	t.Helper()
	if r.Source == "" {
		r.Source = "operator"
	}
	_, id, err := e.Enroll(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
