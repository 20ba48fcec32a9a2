package bench

import (
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// cpuTime is CPU consumed over a stage by this process and by the
// PostgreSQL backends serving the bench database (found by their process
// titles, so only when the server runs on this machine). CPU per message
// does not depend on what else shares the machine, as throughput does.
type cpuTime struct {
	self, backends time.Duration
	backendsSeen   bool
}

// cpuSample is the CPU used so far by this process and by each backend of
// the bench database, by pid.
type cpuSample struct {
	self     time.Duration
	backends map[int]time.Duration
}

// clockTick is USER_HZ, the unit of /proc/*/stat times: 100 on every Linux
// architecture Go supports.
const clockTick = 10 * time.Millisecond

func readCPU(database string) cpuSample {
	c := cpuSample{backends: map[int]time.Duration{}}
	c.self, _ = procCPU("/proc/self/stat")
	pids, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range pids {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if !servesDatabase(strings.Fields(strings.ReplaceAll(string(b), "\x00", " ")), database) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err != nil {
			continue
		}
		if d, err := procCPU(filepath.Join(filepath.Dir(p), "stat")); err == nil {
			c.backends[pid] = d
		}
	}
	return c
}

// since is the CPU used between an earlier sample and this one, counted per
// backend: a connection that closed in between would otherwise take its
// whole total out of the sum. What it used in between is lost (an
// undercount, never a negative).
func (c cpuSample) since(earlier cpuSample) cpuTime {
	t := cpuTime{self: c.self - earlier.self, backendsSeen: len(c.backends) > 0}
	for pid, d := range c.backends {
		t.backends += d - earlier.backends[pid]
	}
	return t
}

// servesDatabase says whether a process title is a backend's for the
// database: "postgres: [CLUSTER:] USER DATABASE HOST(PORT) STATE".
func servesDatabase(title []string, database string) bool {
	if len(title) < 3 || title[0] != "postgres:" {
		return false
	}
	rest := title[1:]
	if strings.HasSuffix(rest[0], ":") { // Debian's cluster name, "15/main:"
		rest = rest[1:]
	}
	return len(rest) >= 2 && rest[1] == database
}

// procCPU reads utime+stime from a /proc/PID/stat file.
func procCPU(path string) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: fields count from its closing paren.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, os.ErrInvalid
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, os.ErrInvalid
	}
	return time.Duration(u+st) * clockTick, nil
}

// CPU is CPU time per message (or planned step), in microseconds.
type CPU struct {
	EngineMicros   float64 `json:"engine_us"`             // this process
	PostgresMicros float64 `json:"postgres_us,omitempty"` // the database's backends (not its WAL writer or checkpointer)
}

func (c cpuTime) per(n int) CPU {
	if n == 0 {
		return CPU{}
	}
	out := CPU{EngineMicros: float64(c.self) / float64(time.Microsecond) / float64(n)}
	if c.backendsSeen {
		out.PostgresMicros = float64(c.backends) / float64(time.Microsecond) / float64(n)
	}
	return out
}

// cpuWatch samples the CPU counters through a stage. A backend whose
// connection closes before the stage ends (the service's shutdown cancels
// queries, and database/sql closes a connection whose query was cancelled)
// takes its counter with it; the watch keeps the last value it saw, so at
// most one interval of that backend's work goes uncounted.
type cpuWatch struct {
	db    string
	first cpuSample
	seen  cpuSample // the latest value of every backend seen since first
	mu    sync.Mutex
	quit  chan struct{}
	done  chan struct{}
	once  sync.Once
}

// cpuWatchEvery is how often a watch samples. A sample reads every
// process's command line in /proc, a few milliseconds of the engine's CPU
// that the stage would otherwise count as its own.
const cpuWatchEvery = time.Second

func watchCPU(database string) *cpuWatch {
	w := &cpuWatch{db: database, first: readCPU(database), quit: make(chan struct{}), done: make(chan struct{})}
	w.seen = cpuSample{self: w.first.self, backends: maps.Clone(w.first.backends)}
	go func() {
		defer close(w.done)
		t := time.NewTicker(cpuWatchEvery)
		defer t.Stop()
		for {
			select {
			case <-w.quit:
				return
			case <-t.C:
				w.sample()
			}
		}
	}()
	return w
}

// sample records the backends now; a stage about to close connections
// calls it too.
func (w *cpuWatch) sample() { w.merge(readCPU(w.db)) }

func (w *cpuWatch) merge(s cpuSample) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen.self = s.self
	maps.Copy(w.seen.backends, s.backends)
}

// halt ends the sampling; a stage that fails defers it. It may be called
// more than once.
func (w *cpuWatch) halt() {
	w.once.Do(func() { close(w.quit) })
	<-w.done
}

// stop ends the watch and returns the CPU used since it began.
func (w *cpuWatch) stop() cpuTime {
	w.halt()
	w.sample()
	return w.seen.since(w.first)
}
