package pipeline

import (
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sourcegraph/conc/panics"
	"github.com/sourcegraph/conc/pool"
	"go.uber.org/zap"
)

// DefaultStallTimeout is the watchdog's timeout when Config.StallTimeout is 0.
const DefaultStallTimeout = 60 * time.Second

// Config configures a Graph. The zero value is valid: no logging, a 60 s stall watchdog that only
// logs.
type Config struct {
	// Logger receives one debug line when Run ends (with the Report), a debug line with the stack of
	// each panic turned into an error, and a warning per stall. nil means zap.NewNop().
	Logger *zap.Logger

	// StallTimeout is how long no stage may make progress (no item sent or received on any edge)
	// before the watchdog reports a stall. 0 means DefaultStallTimeout; < 0 disables the watchdog.
	// The watchdog samples the counters every StallTimeout/10 (at least every millisecond), so a
	// stall is reported between StallTimeout and 1.1*StallTimeout after the last progress. It reports
	// each stall once, and again only after progress resumes and stops again. It runs on the
	// goroutine that advances the statistics' clock every millisecond while Run runs (a thousand
	// short wake-ups a second), so it costs nothing more.
	StallTimeout time.Duration

	// OnStall, if set, is called with the report of each stall, besides the log, from the watchdog's
	// goroutine. The graph keeps running; a caller that wants to give up cancels Run's context.
	OnStall func(StallReport)
}

// Graph is a dataflow graph of stages joined by bounded edges. Build it from one goroutine with
// AddSource, AddTransform, AddSink, Broadcast, Route and Merge, then call Run once. Report and Stop
// are safe to call from any goroutine at any time. A Graph is not reusable: build a new one per run.
// The zero Graph is not usable; use New.
type Graph struct {
	cfg     Config
	log     *zap.Logger
	stages  []*stage
	edges   []anyEdge
	streams []interface {
		isConsumed() bool
		describe() string
	}
	names map[string]bool
	errs  []error // build errors, returned by Run

	clock    atomic.Int64 // coarse graph clock, advanced every clockPeriod while Run runs
	ran      atomic.Bool  // Run has been called
	started  atomic.Bool  // t0 is set: the graph clock runs
	finished atomic.Bool  // Run has returned; endAt is set
	endAt    atomic.Int64 // graph clock when Run finished
	t0       time.Time    // written once, before started is set

	// The run's context, given to every stage, and its cancel; set by Run before any stage starts.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex // guards the fields below
	stopped bool
	stops   []context.CancelFunc // the sources' contexts
	err     error                // the first error of the run
	aborted bool                 // the workers' abort channels are closed
	aborts  []chan struct{}      // one per goroutine, closed after the run's context is cancelled

	drainers sync.WaitGroup // the edges' drainers of a cancelled run
}

// New returns an empty graph with the given configuration. Cost: one small allocation.
func New(cfg Config) *Graph {
	g := &Graph{cfg: cfg, log: cfg.Logger, names: make(map[string]bool)}
	if g.log == nil {
		g.log = zap.NewNop()
	}
	return g
}

// now returns the graph clock: nanoseconds since Run started (monotonic).
func (g *Graph) now() int64 { return int64(time.Since(g.t0)) }

// clockPeriod is the resolution of the coarse clock that times the workers' waits. Reading the
// system clock costs 20-250 ns depending on the machine, as much as a channel hand-off, so waits
// read an atomic that one goroutine per run advances every clockPeriod instead. A wait is then
// measured as a whole number of periods; over many waits the error averages out (a wait of length
// d spans d/clockPeriod ticks on average), and waits longer than a few periods are exact to a period.
const clockPeriod = time.Millisecond

// failf records a build error; Run returns the first one.
func (g *Graph) failf(format string, args ...any) {
	g.errs = append(g.errs, fmt.Errorf("pipeline: "+format, args...))
}

// addStage registers a stage. workers > 0 fixes the number of goroutines (sources, Merge); 0 takes
// it from the Workers option.
func (g *Graph) addStage(name, kind string, workers int, opts []Option) (*stage, options) {
	if g.ran.Load() {
		panic("pipeline: stage added after Run")
	}
	o, errs := parseOptions(kind, opts)
	switch {
	case name == "":
		g.failf("a %s has an empty name: give every stage a unique name", kind)
	case g.names[name]:
		g.failf("two stages are named %q: stage names must be unique", name)
	}
	g.names[name] = true
	for _, e := range errs {
		g.failf("stage %q: %s", name, e)
	}
	if workers == 0 {
		workers = o.workers
	}
	s := &stage{name: name, kind: kind, workers: make([]workerStats, workers)}
	g.stages = append(g.stages, s)
	return s, o
}

// check returns the first build error, or an error naming a stream nobody consumes.
func (g *Graph) check() error {
	if len(g.errs) > 0 {
		return g.errs[0]
	}
	for _, s := range g.streams {
		if !s.isConsumed() {
			return fmt.Errorf("pipeline: %s is never consumed: pass its stream to AddTransform, AddSink, Broadcast, Route or Merge", s.describe())
		}
	}
	return nil
}

// spawn submits one goroutine of stage s to the pool. The goroutine runs body under a pprof label
// stage=<name> (so the watchdog can find its stack), turns a panic into an error naming the stage
// (the stack goes to the debug log, not the message), prefixes errors with the stage name, records
// the first error and cancels the run, and finally calls exit, which closes the stage's outputs
// once its last goroutine is done. Because the run is cancelled before a failing goroutine closes
// anything, a consumer that sees its input closed can tell a failure (ctx.Err() != nil) from the end
// of the input, and never flushes after an error.
func (g *Graph) spawn(p *pool.ContextPool, s *stage, ws *workerStats, body func(*port) error, exit func()) {
	abort := g.newAbort()
	p.Go(func(context.Context) error {
		ws.enter(g)
		var err error
		if r := panics.Try(func() {
			// The run's context, not the pool's: abortAll is an AfterFunc of the run's context, so
			// by the time a worker sees its abort channel closed, its ctx.Err() is set. (The pool's
			// context is a sibling of that AfterFunc and may be cancelled after it runs.)
			pprof.Do(g.ctx, pprof.Labels("stage", s.name), func(ctx context.Context) {
				err = body(&port{ctx: ctx, done: abort, ws: ws, g: g})
			})
		}); r != nil {
			g.log.Debug("pipeline: stage panicked", zap.String("stage", s.name),
				zap.String("panic", fmt.Sprint(r.Value)), zap.ByteString("stack", r.Stack))
			err = panicError(r.Value)
		}
		ws.exit(g)
		if err != nil {
			err = fmt.Errorf("stage %q: %w", s.name, err)
			g.fail(err)
		}
		exit()
		return err
	})
}

// fail records err if it is the run's first error, then cancels the run. Recording before
// cancelling makes the first error win over the context errors it causes.
func (g *Graph) fail(err error) {
	g.mu.Lock()
	if g.err == nil {
		g.err = err
	}
	g.mu.Unlock()
	g.cancel()
}

// newAbort returns a new worker's abort channel, already closed if the run is cancelled.
func (g *Graph) newAbort() chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := make(chan struct{})
	if g.aborted {
		close(c)
	}
	g.aborts = append(g.aborts, c)
	return c
}

// abortAll runs once the run's context is done: it closes every worker's abort channel and starts a
// drainer per edge, which releases producers waiting in send until the edge is closed.
func (g *Graph) abortAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.aborted {
		return
	}
	g.aborted = true
	for _, c := range g.aborts {
		close(c)
	}
	for _, e := range g.edges {
		g.drainers.Go(func() {
			e.drainUntilClosed(func(v any) {
				g.fail(fmt.Errorf("pipeline: Discard hook of stage %q panicked: %v", e.meta().from, v))
			})
		})
	}
}

func panicError(v any) error {
	if err, ok := v.(error); ok {
		return fmt.Errorf("panic: %w", err)
	}
	return fmt.Errorf("panic: %v", v)
}

// Run runs the graph until every stage has finished, or until the first error, and returns that
// error prefixed with `stage "name": `. It may be called once. A panic in stage code becomes an error
// naming the stage. The first error cancels the context every stage was given: emit fails from then
// on, and workers waiting for input or for room are released (a cancelled run unwinds stage by
// stage, as each stage's goroutines return and close their outputs). When ctx is cancelled, the
// error satisfies errors.Is(err, context.Canceled) and names the first stage that noticed. Run
// waits for every goroutine of the graph, so stage code must return soon after its ctx is done (a
// stage that does not is what the stall watchdog reports). When Run returns, every goroutine of the
// graph has exited and every item still in an edge or an ordered slot has been handed to its
// stage's Discard hook. Build errors (bad options, duplicate names, an unconsumed stream) are
// returned before anything starts. Cost: a fixed cost to start and stop the goroutines
// (BenchmarkChain/items=1), plus the per-item cost of each stage.
func (g *Graph) Run(ctx context.Context) error {
	if !g.ran.CompareAndSwap(false, true) {
		return errors.New("pipeline: Run called twice on one Graph: build a new Graph for each run")
	}
	if err := g.check(); err != nil {
		return err
	}
	g.t0 = time.Now()
	g.started.Store(true)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g.ctx, g.cancel = ctx, cancel
	aborted := make(chan struct{})
	stopAbort := context.AfterFunc(ctx, func() { g.abortAll(); close(aborted) })
	p := pool.New().WithContext(ctx).WithCancelOnError().WithFirstError()
	for _, s := range g.stages {
		s.start(p)
	}
	stopTicker := g.startTicker()
	_ = p.Wait() // every stage goroutine has returned; g.err holds the first error
	stopTicker()
	if !stopAbort() {
		<-aborted // the AfterFunc goroutine has started: let it finish
	}
	g.drainers.Wait() // every edge is closed: its producers have returned
	g.endAt.Store(g.now())
	g.finished.Store(true)

	g.mu.Lock()
	err := g.err
	g.mu.Unlock()

	if derr := g.drain(); err == nil {
		err = derr
	}
	if ce := g.log.Check(zap.DebugLevel, "pipeline: run finished"); ce != nil {
		ce.Write(zap.Error(err), zap.Stringer("report", g.Report()))
	}
	return err
}

// drain hands every item left in an edge or a stage buffer to its Discard hook. A hook that panics
// is reported as an error; the other items are still drained.
func (g *Graph) drain() error {
	var first error
	for i, e := range g.edges {
		if r := panics.Try(e.drain); r != nil && first == nil {
			first = fmt.Errorf("pipeline: Discard hook of stage %q panicked: %v", g.edges[i].meta().from, r.Value)
		}
	}
	for _, s := range g.stages {
		if s.drain == nil {
			continue
		}
		if r := panics.Try(s.drain); r != nil && first == nil {
			first = fmt.Errorf("pipeline: Discard hook of stage %q panicked: %v", s.name, r.Value)
		}
	}
	return first
}

// Stop starts a soft stop: it cancels only the sources' contexts. A source that then returns
// ctx.Err() (or an error wrapping it) ends cleanly; the rest of the graph drains what is in flight,
// accumulators Flush, and Run returns nil unless something else fails. Stop before Run makes the
// sources stop as soon as they start. Stop is safe to call from any goroutine, more than once; after
// Run has returned it does nothing. Cancel Run's context for a hard stop.
func (g *Graph) Stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return
	}
	g.stopped = true
	for _, cancel := range g.stops {
		cancel()
	}
}

// registerSource makes cancel part of the next (or a past) Stop.
func (g *Graph) registerSource(cancel context.CancelFunc) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stops = append(g.stops, cancel)
	if g.stopped {
		cancel()
	}
}

// softStopped reports whether a source's error only reflects a soft stop: it wraps
// context.Canceled, Stop was called, and the graph itself (ctx) is not cancelled.
func (g *Graph) softStopped(ctx context.Context, err error) bool {
	if !errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stopped
}
