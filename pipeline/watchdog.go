package pipeline

import (
	"bytes"
	"fmt"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/sourcegraph/conc/panics"
	"go.uber.org/zap"
)

// StallReport describes a stall: a period of Config.StallTimeout or more in which no stage sent or
// received an item. It is a plain value, safe to keep and read from any goroutine.
type StallReport struct {
	Idle   time.Duration // how long no stage made progress
	Stages []StageStats  // counters at the time of the report
	Edges  []EdgeStats   // which edges are full (the consumer is stuck) or empty (the producer is)

	// Suspects are the stages most likely stuck: those with a worker inside stage code (not waiting
	// on an edge); if there are none, the stages in Holding.
	Suspects []string

	// Holding lists stages that hold items: a worker inside stage code or waiting to emit, or outputs
	// buffered in ordered slots.
	Holding []string

	// Stacks holds the goroutine stacks of the suspects (goroutine profile, debug=1 format, keeping
	// only the goroutines labelled stage=<name>; goroutines started by stage code inherit the label).
	Stacks string
}

// String renders the report for people: one line naming the suspects, then the stage and edge
// tables, then the stacks.
func (s StallReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pipeline stalled: no stage made progress for %v; suspect stage(s): %s; holding items: %s\n",
		s.Idle, quoteAll(s.Suspects), quoteAll(s.Holding))
	var elapsed time.Duration
	for _, st := range s.Stages {
		if st.Workers > 0 {
			elapsed = max(elapsed, (st.Busy+st.Starved+st.Blocked)/time.Duration(st.Workers))
		}
	}
	writeStages(&b, s.Stages, elapsed)
	b.WriteByte('\n')
	writeEdges(&b, s.Edges)
	if s.Stacks != "" {
		b.WriteString("\ngoroutines of the suspect stage(s):\n")
		b.WriteString(s.Stacks)
	}
	return b.String()
}

func quoteAll(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// startTicker starts the goroutine that advances the coarse clock and runs the stall watchdog
// (unless disabled); it returns the function that stops it and waits for it to exit.
func (g *Graph) startTicker() (stop func()) {
	timeout := g.cfg.StallTimeout
	if timeout == 0 {
		timeout = DefaultStallTimeout
	}
	var w *watchdog
	if timeout > 0 {
		w = &watchdog{g: g, timeout: timeout, every: max(timeout/10, clockPeriod), last: g.progress(), since: g.t0}
		w.checked = g.t0
	}
	quit, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		tick := time.NewTicker(clockPeriod)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case now := <-tick.C:
				g.clock.Store(g.now())
				if w != nil && now.Sub(w.checked) >= w.every {
					w.check(now)
				}
			}
		}
	}()
	return func() {
		close(quit)
		<-exited
	}
}

// progress is a counter that grows whenever any stage sends or receives an item.
func (g *Graph) progress() int64 {
	var n int64
	for _, e := range g.edges {
		m := e.meta()
		n += m.sent.Load() + m.recvd.Load()
	}
	return n
}

// watchdog is the state of the stall detector; only the ticker goroutine touches it.
type watchdog struct {
	g              *Graph
	timeout, every time.Duration
	last           int64     // progress at the last change
	since, checked time.Time // when progress last changed; when it was last checked
	reported       bool      // the current stall has been reported
}

// check samples the progress counter and reports a stall once it has not moved for the timeout.
func (w *watchdog) check(now time.Time) {
	w.checked = now
	if p := w.g.progress(); p != w.last {
		w.last, w.since, w.reported = p, now, false
		return
	}
	idle := now.Sub(w.since)
	if w.reported || idle < w.timeout {
		return
	}
	w.reported = true
	g := w.g
	rep := g.stallReport(idle)
	g.log.Warn("pipeline: stall: no stage made progress", zap.Duration("idle", idle),
		zap.Strings("suspects", rep.Suspects), zap.Strings("holding", rep.Holding),
		zap.String("report", rep.String()))
	if g.cfg.OnStall != nil {
		if r := panics.Try(func() { g.cfg.OnStall(rep) }); r != nil {
			g.log.Error("pipeline: OnStall panicked", zap.String("panic", fmt.Sprint(r.Value)),
				zap.ByteString("stack", r.Stack))
		}
	}
}

// stallReport builds the report of a stall that has lasted idle.
func (g *Graph) stallReport(idle time.Duration) StallReport {
	r := g.Report()
	rep := StallReport{Idle: idle, Stages: r.Stages, Edges: r.Edges}
	for _, s := range g.stages {
		busy, emitting := false, false
		for w := range s.workers {
			switch s.workers[w].state.Load() {
			case stateBusy:
				busy = true
			case stateBlocked:
				emitting = true
			}
		}
		if busy {
			rep.Suspects = append(rep.Suspects, s.name)
		}
		buffered := s.held != nil && s.held() > 0
		if (busy && s.kind != kindSource) || emitting || buffered {
			rep.Holding = append(rep.Holding, s.name)
		}
	}
	if len(rep.Suspects) == 0 {
		rep.Suspects = rep.Holding
	}
	rep.Stacks = stacks(rep.Suspects)
	return rep
}

// stacks returns the goroutine profile (debug=1) restricted to goroutines labelled with one of the
// given stage names.
func stacks(stages []string) string {
	if len(stages) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return fmt.Sprintf("(goroutine profile failed: %v)\n", err)
	}
	want := make([]string, len(stages))
	for i, s := range stages {
		want[i] = fmt.Sprintf("%q:%q", "stage", s)
	}
	var out strings.Builder
	for _, group := range strings.Split(buf.String(), "\n\n") {
		if strings.HasPrefix(group, "goroutine profile:") {
			_, group, _ = strings.Cut(group, "\n")
		}
		for _, line := range strings.Split(group, "\n") {
			if !strings.HasPrefix(line, "# labels: ") {
				continue
			}
			for _, w := range want {
				if strings.Contains(line, w) {
					out.WriteString(strings.TrimSpace(group))
					out.WriteString("\n\n")
					break
				}
			}
			break
		}
	}
	return out.String()
}
