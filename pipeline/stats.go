package pipeline

import (
	"fmt"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// Worker states, as seen by Report and the watchdog.
const (
	stateIdle    int32 = iota // not started yet
	stateBusy                 // inside stage code (or the engine's bookkeeping between waits)
	stateStarved              // waiting for input
	stateBlocked              // waiting for room in an output
	stateExited
)

// workerStats is written by one goroutine and read by Report and the watchdog. Busy time is not
// counted per item: it is the worker's lifetime minus its starved and blocked time. Waits are timed
// with the graph's coarse clock (an atomic load), and only on the slow path of a channel operation:
// the fast path never reads a clock.
type workerStats struct {
	state   atomic.Int32
	since   atomic.Int64 // graph clock (ns since Run started) when the current wait began
	begin   atomic.Int64 // graph clock when the worker started
	end     atomic.Int64 // graph clock when the worker exited
	starved atomic.Int64 // ns spent waiting for input, finished waits only
	blocked atomic.Int64 // ns spent waiting for output, finished waits only
	_       [cacheLine]byte
}

func (w *workerStats) enter(g *Graph) {
	w.begin.Store(g.now())
	w.state.Store(stateBusy)
}

func (w *workerStats) exit(g *Graph) {
	w.end.Store(g.now())
	w.state.Store(stateExited)
}

// wait marks the start of a wait of the given kind and returns its start time.
func (w *workerStats) wait(g *Graph, state int32) int64 {
	t := g.clock.Load()
	w.since.Store(t)
	w.state.Store(state)
	return t
}

// resume ends a wait that began at t and adds its length to total.
func (w *workerStats) resume(g *Graph, t int64, total *atomic.Int64) {
	w.state.Store(stateBusy)
	total.Add(g.clock.Load() - t)
}

// times returns the worker's busy, starved and blocked time as of now (graph clock), counting a wait
// in progress.
func (w *workerStats) times(now int64) (busy, starved, blocked int64) {
	state := w.state.Load()
	if state == stateIdle {
		return 0, 0, 0
	}
	starved, blocked = w.starved.Load(), w.blocked.Load()
	end := now
	if state == stateExited {
		end = w.end.Load()
	}
	switch state {
	case stateStarved:
		starved += max(now-w.since.Load(), 0)
	case stateBlocked:
		blocked += max(now-w.since.Load(), 0)
	}
	busy = max(end-w.begin.Load()-starved-blocked, 0)
	return busy, starved, blocked
}

// StageStats is a snapshot of one stage's counters. Times are summed over the stage's workers, so
// Busy+Starved+Blocked is about Workers*Elapsed once the stage has run for the whole pipeline.
// The zero value describes a stage that has not run.
type StageStats struct {
	Name    string
	Kind    string // "source", "transform", "sink", "broadcast", "route" or "merge"
	Workers int
	In, Out int64 // items received from the input edges / sent into the output edges

	// Busy is the time workers spent outside the engine's waits: in stage code and in the engine's
	// own bookkeeping. Starved is time spent waiting for input, Blocked waiting for room downstream.
	Busy, Starved, Blocked time.Duration

	BusyFraction float64 // Busy / (Workers * Elapsed), in [0, 1]
}

// EdgeStats is a snapshot of one edge (a bounded channel between two stages).
type EdgeStats struct {
	From, To string // producing and consuming stage
	Len, Cap int    // items queued at the time of the snapshot, and capacity

	// MeanOccupancy is the mean number of items an item found already queued when it was sent
	// (0..Cap): near Cap, the consumer is the slower side; near 0, the producer is.
	MeanOccupancy float64
}

// Report is a snapshot of a graph's counters, taken by (*Graph).Report. It is a plain value: safe to
// keep, copy and read from any goroutine.
type Report struct {
	Elapsed    time.Duration // since Run started, or Run's whole duration once it has returned
	Stages     []StageStats  // in the order stages were added
	Edges      []EdgeStats   // in the order edges were created
	Bottleneck string        // the stage with the highest BusyFraction ("" if nothing ran)
}

// Report returns a snapshot of every stage's and edge's counters. It is safe to call from any
// goroutine while Run is running (for live progress) and after it returned; before Run it returns
// zero counters. It must not be called concurrently with adding stages. Cost: a few atomic loads
// per worker and edge, plus the Report's slices.
func (g *Graph) Report() Report {
	var r Report
	var now int64
	if g.started.Load() {
		now = g.now()
		if g.finished.Load() {
			now = g.endAt.Load()
		}
		r.Elapsed = time.Duration(now)
	}
	r.Stages = make([]StageStats, len(g.stages))
	best := -1.0
	for i, s := range g.stages {
		st := StageStats{Name: s.name, Kind: s.kind, Workers: len(s.workers)}
		for _, e := range s.ins {
			st.In += e.meta().recvd.Load()
		}
		for _, e := range s.outs {
			st.Out += e.meta().sent.Load()
		}
		for w := range s.workers {
			b, sv, bl := s.workers[w].times(now)
			st.Busy += time.Duration(b)
			st.Starved += time.Duration(sv)
			st.Blocked += time.Duration(bl)
		}
		if r.Elapsed > 0 && st.Workers > 0 {
			st.BusyFraction = min(float64(st.Busy)/(float64(st.Workers)*float64(r.Elapsed)), 1)
		}
		r.Stages[i] = st
		ran := st.In+st.Out > 0 || st.Busy > 0
		if ran && st.BusyFraction > best {
			best, r.Bottleneck = st.BusyFraction, st.Name
		}
	}
	r.Edges = make([]EdgeStats, len(g.edges))
	for i, e := range g.edges {
		m := e.meta()
		es := EdgeStats{From: m.from, To: m.to, Len: e.length(), Cap: m.capacity}
		if n := m.sent.Load(); n > 0 {
			es.MeanOccupancy = float64(m.occ.Load()) / float64(n)
		}
		r.Edges[i] = es
	}
	return r
}

// String renders the report as an aligned table of stages, a table of edges and a line naming the
// bottleneck.
func (r Report) String() string {
	var b strings.Builder
	writeStages(&b, r.Stages, r.Elapsed)
	b.WriteByte('\n')
	writeEdges(&b, r.Edges)
	if r.Bottleneck == "" {
		fmt.Fprintf(&b, "\nbottleneck: none (nothing ran) after %v\n", r.Elapsed)
		return b.String()
	}
	for _, s := range r.Stages {
		if s.Name == r.Bottleneck {
			fmt.Fprintf(&b, "\nbottleneck: %q (%s, busy %.1f%% of %d worker(s) over %v)\n",
				s.Name, s.Kind, 100*s.BusyFraction, s.Workers, r.Elapsed)
		}
	}
	return b.String()
}

func pct(d, elapsed time.Duration, workers int) string {
	if elapsed <= 0 || workers <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(d)/(float64(workers)*float64(elapsed)))
}

func writeStages(b *strings.Builder, stages []StageStats, elapsed time.Duration) {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "stage\tkind\tworkers\tin\tout\tbusy\tstarved\tblocked\n")
	for _, s := range stages {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", s.Name, s.Kind, s.Workers, s.In, s.Out,
			pct(s.Busy, elapsed, s.Workers), pct(s.Starved, elapsed, s.Workers), pct(s.Blocked, elapsed, s.Workers))
	}
	tw.Flush()
}

func writeEdges(b *strings.Builder, edges []EdgeStats) {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "edge\tqueued\tmean occupancy\tstate\n")
	for _, e := range edges {
		to := e.To
		if to == "" {
			to = "?"
		}
		state := ""
		switch {
		case e.Cap > 0 && e.Len >= e.Cap:
			state = "full"
		case e.Len == 0:
			state = "empty"
		}
		fmt.Fprintf(tw, "%s -> %s\t%d/%d\t%.2f\t%s\n", e.From, to, e.Len, e.Cap, e.MeanOccupancy, state)
	}
	tw.Flush()
}
