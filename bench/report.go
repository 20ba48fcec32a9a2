package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/rekindle/rekindle/store"
)

// Rep is one run's numbers. Zero means the run did not measure it.
type Rep struct {
	SeedRowsPerSec float64 `json:"seed_rows_per_s"`
	SeedSeconds    float64 `json:"seed_seconds"`

	BarePerSec float64 `json:"bare_queue_jobs_per_s,omitempty"` // the yardstick (bare.go)
	BareCPU    CPU     `json:"bare_queue_cpu_per_job"`

	PlanStepsPerSec       float64 `json:"plan_steps_per_s,omitempty"`
	PlanSeconds           float64 `json:"plan_seconds,omitempty"`
	PlanTicks             int     `json:"plan_ticks,omitempty"`
	PlanTickMedianMs      float64 `json:"plan_tick_median_ms,omitempty"`
	PlanTickP99Ms         float64 `json:"plan_tick_p99_ms,omitempty"`
	PlanRoundTripsPerStep float64 `json:"plan_round_trips_per_step,omitempty"`
	PlanCPU               CPU     `json:"plan_cpu_per_step"`

	DispatchPerSec           float64 `json:"dispatch_msgs_per_s,omitempty"`
	DispatchRoundTripsPerMsg float64 `json:"dispatch_round_trips_per_msg,omitempty"`
	DispatchCPU              CPU     `json:"dispatch_cpu_per_msg"`

	EndToEndPerSec    float64 `json:"end_to_end_msgs_per_s,omitempty"`
	EndToEndSeconds   float64 `json:"end_to_end_seconds,omitempty"`
	SustainedPerSec   float64 `json:"sustained_msgs_per_s,omitempty"`
	LatencyP50Seconds float64 `json:"latency_p50_s,omitempty"`
	LatencyP99Seconds float64 `json:"latency_p99_s,omitempty"`
	LatencyMaxSeconds float64 `json:"latency_max_s,omitempty"`
	RoundTripsPerMsg  float64 `json:"round_trips_per_msg,omitempty"`
	CommitsPerMsg     float64 `json:"commits_per_msg,omitempty"`
	ServiceCPU        CPU     `json:"service_cpu_per_msg"` // planner and dispatcher together

	PeakRSSMB      float64 `json:"peak_rss_mb"`
	PeakRSSIsStage bool    `json:"peak_rss_is_per_stage"` // false: the process's peak since start (seeding included)
}

// Report is every run and their medians.
type Report struct {
	Options  Options           `json:"options"`
	Database string            `json:"database"`
	Server   store.BenchServer `json:"server"`
	CPUs     int               `json:"cpus"`
	Go       string            `json:"go"`
	// ClaimLoops is how many claim loops the dispatcher and the bare queue ran.
	ClaimLoops int `json:"claim_loops"`
	// StagesCheckpointed says whether each timed stage began with a
	// CHECKPOINT (the bench's user may not be allowed one).
	StagesCheckpointed bool  `json:"stages_checkpointed"`
	Median             Rep   `json:"median"`
	Runs               []Rep `json:"runs"`
}

func (r *Report) summarize() {
	r.CPUs, r.Go = runtime.NumCPU(), runtime.Version()
	med := func(f func(*Rep) float64) float64 {
		v := make([]float64, len(r.Runs))
		for i := range r.Runs {
			v[i] = f(&r.Runs[i])
		}
		return median(v)
	}
	m := &r.Median
	m.SeedRowsPerSec = med(func(x *Rep) float64 { return x.SeedRowsPerSec })
	m.SeedSeconds = med(func(x *Rep) float64 { return x.SeedSeconds })
	m.BarePerSec = med(func(x *Rep) float64 { return x.BarePerSec })
	m.PlanStepsPerSec = med(func(x *Rep) float64 { return x.PlanStepsPerSec })
	m.PlanSeconds = med(func(x *Rep) float64 { return x.PlanSeconds })
	m.PlanTicks = int(med(func(x *Rep) float64 { return float64(x.PlanTicks) }))
	m.PlanTickMedianMs = med(func(x *Rep) float64 { return x.PlanTickMedianMs })
	m.PlanTickP99Ms = med(func(x *Rep) float64 { return x.PlanTickP99Ms })
	m.PlanRoundTripsPerStep = med(func(x *Rep) float64 { return x.PlanRoundTripsPerStep })
	m.DispatchPerSec = med(func(x *Rep) float64 { return x.DispatchPerSec })
	m.DispatchRoundTripsPerMsg = med(func(x *Rep) float64 { return x.DispatchRoundTripsPerMsg })
	m.EndToEndPerSec = med(func(x *Rep) float64 { return x.EndToEndPerSec })
	m.EndToEndSeconds = med(func(x *Rep) float64 { return x.EndToEndSeconds })
	m.SustainedPerSec = med(func(x *Rep) float64 { return x.SustainedPerSec })
	m.LatencyP50Seconds = med(func(x *Rep) float64 { return x.LatencyP50Seconds })
	m.LatencyP99Seconds = med(func(x *Rep) float64 { return x.LatencyP99Seconds })
	m.LatencyMaxSeconds = med(func(x *Rep) float64 { return x.LatencyMaxSeconds })
	m.RoundTripsPerMsg = med(func(x *Rep) float64 { return x.RoundTripsPerMsg })
	m.CommitsPerMsg = med(func(x *Rep) float64 { return x.CommitsPerMsg })
	m.PeakRSSMB = med(func(x *Rep) float64 { return x.PeakRSSMB })
	cpu := func(f func(*Rep) CPU) CPU {
		return CPU{EngineMicros: med(func(x *Rep) float64 { return f(x).EngineMicros }),
			PostgresMicros: med(func(x *Rep) float64 { return f(x).PostgresMicros })}
	}
	m.BareCPU = cpu(func(x *Rep) CPU { return x.BareCPU })
	m.PlanCPU = cpu(func(x *Rep) CPU { return x.PlanCPU })
	m.DispatchCPU = cpu(func(x *Rep) CPU { return x.DispatchCPU })
	m.ServiceCPU = cpu(func(x *Rep) CPU { return x.ServiceCPU })
	m.PeakRSSIsStage = len(r.Runs) > 0 && r.Runs[0].PeakRSSIsStage
}

// WriteJSON writes the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the medians for a reader.
func (r *Report) WriteText(w io.Writer) error {
	o, m := r.Options, r.Median
	what := "medians of %d runs"
	if len(r.Runs) == 1 {
		what = "%d run"
	}
	layout := "spread through the table"
	if o.Clustered {
		layout = "clustered in the first rows"
	}
	fmt.Fprintf(w, "rekindle bench on %s: %d enrollments, %d due (%s), "+what+"\n", r.Database, o.Enrollments, o.Due, layout, len(r.Runs))
	fmt.Fprintf(w, "engine: plan batch %d, claim batch %d, %d dispatcher workers, pool %d, tick %s\n",
		o.PlanBatch, o.ClaimBatch, o.Workers, o.PoolSize, o.Tick)
	fmt.Fprintf(w, "machine: %d CPUs, %s, PostgreSQL %s (fsync %s, synchronous_commit %s, shared_buffers %s)\n",
		r.CPUs, r.Go, r.Server.Version, r.Server.Fsync, r.Server.SynchronousCommit, r.Server.SharedBuffers)
	if !r.StagesCheckpointed {
		fmt.Fprintln(w, "note: this user may not CHECKPOINT, so a stage may pay for the writes of the one before (grant pg_checkpoint)")
	}
	row := func(label, value, note string) {
		if note != "" {
			note = "   " + note
		}
		fmt.Fprintf(w, "  %-22s %14s%s\n", label, value, note)
	}
	row("seed", rate(m.SeedRowsPerSec, "rows/s"), fmt.Sprintf("(%d subscribers + %d enrollments, COPY, in %.1fs)", o.Enrollments, o.Enrollments, m.SeedSeconds))
	share := func(v float64) string {
		if m.BarePerSec <= 0 {
			return ""
		}
		return fmt.Sprintf("(%.2f of the bare queue)", v/m.BarePerSec)
	}
	if m.BarePerSec > 0 {
		row("bare queue", rate(m.BarePerSec, "jobs/s"), fmt.Sprintf("(yardstick: claim + ack only, batches of %d, %d loops)", o.ClaimBatch, r.ClaimLoops))
	}
	if m.PlanStepsPerSec > 0 {
		row("plan", rate(m.PlanStepsPerSec, "steps/s"), fmt.Sprintf("(%.2fs; %d ticks, tick median %.1f ms, p99 %.1f ms)",
			m.PlanSeconds, m.PlanTicks, m.PlanTickMedianMs, m.PlanTickP99Ms))
	}
	if m.DispatchPerSec > 0 {
		row("dispatch", rate(m.DispatchPerSec, "msgs/s"), share(m.DispatchPerSec))
	}
	if m.EndToEndPerSec > 0 {
		row("end-to-end", rate(m.EndToEndPerSec, "msgs/s"), fmt.Sprintf("(plan + render + dispatch, %.1fs) %s", m.EndToEndSeconds, share(m.EndToEndPerSec)))
	}
	if m.SustainedPerSec > 0 {
		row("sustained", rate(m.SustainedPerSec, "msgs/s"), fmt.Sprintf("(asked %g/s for %s, tick %s)", o.Rate, o.Duration, o.Tick))
	}
	if m.LatencyP99Seconds > 0 {
		row("due -> handed off", fmt.Sprintf("p50 %s", seconds(m.LatencyP50Seconds)),
			fmt.Sprintf("p99 %s, max %s", seconds(m.LatencyP99Seconds), seconds(m.LatencyMaxSeconds)))
	}
	for _, c := range []struct {
		label string
		cpu   CPU
	}{{"cpu per bare-queue job", m.BareCPU}, {"cpu per planned step", m.PlanCPU}, {"cpu per dispatched msg", m.DispatchCPU}, {"cpu per msg end-to-end", m.ServiceCPU}} {
		if c.cpu.EngineMicros > 0 {
			row(c.label, fmt.Sprintf("%.0f µs", c.cpu.EngineMicros+c.cpu.PostgresMicros),
				fmt.Sprintf("(engine %.0f µs + PostgreSQL backends %.0f µs)", c.cpu.EngineMicros, c.cpu.PostgresMicros))
		}
	}
	rss := "(engine stages, seeding excluded)"
	if !m.PeakRSSIsStage {
		rss = "(whole process: the kernel would not reset the peak)"
	}
	row("peak RSS", fmt.Sprintf("%.0f MB", m.PeakRSSMB), rss)
	switch {
	case m.RoundTripsPerMsg > 0:
		note := fmt.Sprintf("(commits %.4f /msg", m.CommitsPerMsg)
		if m.PlanRoundTripsPerStep > 0 {
			note += fmt.Sprintf("; planner alone %.4f /step, dispatcher alone %.4f /msg", m.PlanRoundTripsPerStep, m.DispatchRoundTripsPerMsg)
		}
		row("round trips", fmt.Sprintf("%.4f /msg", m.RoundTripsPerMsg), note+")")
	case m.PlanRoundTripsPerStep > 0:
		row("round trips", fmt.Sprintf("%.4f /step", m.PlanRoundTripsPerStep), "(planner)")
	}
	return nil
}

func rate(v float64, unit string) string {
	return fmt.Sprintf("%s %s", thousands(int64(math.Round(v))), unit)
}

func seconds(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%.0f ms", s*1000)
	}
	return fmt.Sprintf("%.2f s", s)
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	out := ""
	for len(s) > 3 {
		out = "," + s[len(s)-3:] + out
		s = s[:len(s)-3]
	}
	return s + out
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func quantileOf(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func durationMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
