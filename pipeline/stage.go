package pipeline

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/sourcegraph/conc/pool"
)

// Source produces the items of a pipeline. Run is called once, on its own goroutine; it passes each
// item to emit and returns when it has no more (nil), or on failure. emit blocks while the
// downstream edge is full and returns ctx.Err() once the graph is cancelled or stopped (Stop); the
// item passed to a failed emit was not taken and still belongs to the source, which should then
// return the error. Run must not call emit after it returns, and should watch ctx in any long wait
// of its own. A source that returns an error wrapping context.Canceled after Stop ends cleanly.
type Source[Out any] interface {
	Run(ctx context.Context, emit func(Out) error) error
}

// SourceFunc adapts an ordinary function to a Source.
type SourceFunc[Out any] func(ctx context.Context, emit func(Out) error) error

// Run calls f(ctx, emit).
func (f SourceFunc[Out]) Run(ctx context.Context, emit func(Out) error) error { return f(ctx, emit) }

// Transform maps one input to zero or more outputs. Process owns in: it passes it on (emit) or
// releases it, on every path. It passes each output to emit and returns emit's error if emit fails;
// the output given to a failed emit still belongs to Process. emit blocks while the downstream edge
// is full and fails once the graph is cancelled. Process must not retain emit after it returns. With
// Workers(n > 1), Process is called concurrently from n goroutines on the same value.
type Transform[In, Out any] interface {
	Process(ctx context.Context, in In, emit func(Out) error) error
}

// TransformFunc adapts an ordinary function to a Transform.
type TransformFunc[In, Out any] func(ctx context.Context, in In, emit func(Out) error) error

// Process calls f(ctx, in, emit).
func (f TransformFunc[In, Out]) Process(ctx context.Context, in In, emit func(Out) error) error {
	return f(ctx, in, emit)
}

// Accumulator is a many->1 (or many->many) transform, such as a batcher: Flush is called once per
// worker after its input ends, to emit or drop what the worker still holds (a partial last batch).
// Flush is never called after an error or a cancellation; it is called after Stop, since the graph
// then drains normally. With Workers(n > 1), Flush is called n times, concurrently.
type Accumulator[In, Out any] interface {
	Transform[In, Out]
	Flush(ctx context.Context, emit func(Out) error) error
}

// Sink consumes the items at the end of a pipeline. Consume is called once per item and owns it
// from then on, whatever it returns; an error stops the graph. With Workers(n > 1), Consume is called
// concurrently from n goroutines on the same value.
type Sink[In any] interface {
	Consume(ctx context.Context, in In) error
}

// SinkFunc adapts an ordinary function to a Sink.
type SinkFunc[In any] func(ctx context.Context, in In) error

// Consume calls f(ctx, in).
func (f SinkFunc[In]) Consume(ctx context.Context, in In) error { return f(ctx, in) }

// Stage kinds, as reported in StageStats.Kind.
const (
	kindSource    = "source"
	kindTransform = "transform"
	kindSink      = "sink"
	kindBroadcast = "broadcast"
	kindRoute     = "route"
	kindMerge     = "merge"
)

// stage is a node of the graph seen without its item types.
type stage struct {
	name, kind string
	workers    []workerStats
	ins, outs  []anyEdge
	start      func(p *pool.ContextPool) // submits the stage's goroutines with Graph.spawn
	drain      func()                    // discards items left in the stage's own buffers; nil if none
	held       func() int64              // items in the stage's own buffers; nil if none
	live       atomic.Int32              // goroutines that have not returned yet
}

// lastCloses returns the function each of the stage's n goroutines calls when it returns: the last
// one runs closeOut.
func (s *stage) lastCloses(n int, closeOut func()) func() {
	s.live.Store(int32(n))
	return func() {
		if s.live.Add(-1) == 0 {
			closeOut()
		}
	}
}

// Stream is the producing end of an edge between two stages. It must be consumed exactly once, by
// AddTransform, AddSink, Broadcast, Route or Merge on the graph that made it: consuming it twice
// panics ("pipeline: stream consumed twice") and Run fails naming a stream that was never
// consumed. The zero Stream is not usable; streams come from the Add functions.
type Stream[T any] struct {
	g        *Graph
	e        *edge[T]
	what     string // for error messages: `the output of stage "x"`
	consumed bool
}

func newStream[T any](g *Graph, e *edge[T], what string) *Stream[T] {
	s := &Stream[T]{g: g, e: e, what: what}
	g.streams = append(g.streams, s)
	return s
}

// take marks the stream consumed by stage s and returns its edge.
func (st *Stream[T]) take(g *Graph, s *stage) *edge[T] {
	switch {
	case st == nil || st.e == nil:
		panic("pipeline: nil stream")
	case st.g != g:
		panic("pipeline: stream from another graph")
	case st.consumed:
		panic("pipeline: stream consumed twice")
	}
	st.consumed = true
	st.e.to = s.name
	s.ins = append(s.ins, st.e)
	return st.e
}

func (st *Stream[T]) isConsumed() bool { return st.consumed }
func (st *Stream[T]) describe() string { return st.what }

// addOutput creates the output edge of s for item type T, with the stage's Capacity and its Discard
// hook (or inherit when the stage has none).
func addOutput[T any](g *Graph, s *stage, o *options, inherit func(T)) *edge[T] {
	hook, msg := discardHook[T](o)
	if msg != "" {
		g.failf("stage %q: %s", s.name, msg)
	}
	if hook == nil {
		hook = inherit
	}
	e := newEdge(s.name, o.capacity, hook)
	s.outs = append(s.outs, e)
	g.edges = append(g.edges, e)
	return e
}

// AddSource adds a stage that runs src once on its own goroutine and returns the stream of the
// items it emits. Options: Capacity, Discard. The graph keeps src until Run returns.
func AddSource[Out any](g *Graph, name string, src Source[Out], opts ...Option) *Stream[Out] {
	if src == nil {
		panic("pipeline: AddSource: nil source")
	}
	s, o := g.addStage(name, kindSource, 1, opts)
	out := addOutput[Out](g, s, &o, nil)
	s.start = func(p *pool.ContextPool) {
		g.spawn(p, s, &s.workers[0], func(p *port) error {
			return runSource(p, src, out)
		}, s.lastCloses(1, func() { close(out.ch) }))
	}
	return newStream(g, out, fmt.Sprintf("the output of stage %q", name))
}

// runSource runs src under its own context, which Stop cancels; emit waits on that context.
func runSource[Out any](p *port, src Source[Out], out *edge[Out]) error {
	sctx, cancel := context.WithCancel(p.ctx)
	defer cancel()
	p.g.registerSource(cancel)
	sp := &port{ctx: sctx, done: sctx.Done(), ws: p.ws, g: p.g}
	err := src.Run(sctx, func(v Out) error { return out.send(sp, v) })
	if err != nil && p.g.softStopped(p.ctx, err) {
		return nil
	}
	return err
}

// AddTransform adds a stage that calls t.Process for each item of in and returns the stream of what
// it emits. If t also implements Accumulator[In, Out], each worker calls Flush at the end of its
// input. Options: Workers, Ordered, Capacity, Discard. Per item and stage the engine costs about
// one channel hand-off and three atomic adds (see BenchmarkChain).
func AddTransform[In, Out any](g *Graph, name string, in *Stream[In], t Transform[In, Out], opts ...Option) *Stream[Out] {
	if t == nil {
		panic("pipeline: AddTransform: nil transform")
	}
	s, o := g.addStage(name, kindTransform, 0, opts)
	ie := in.take(g, s)
	oe := addOutput[Out](g, s, &o, nil)
	acc, _ := t.(Accumulator[In, Out])
	n := o.workers
	if o.ordered && n > 1 {
		ord := newOrderer[Out](n, max(o.capacity, 1), oe)
		s.drain, s.held = ord.drain, ord.held.Load
		s.start = func(p *pool.ContextPool) {
			last := s.lastCloses(n, func() { close(ord.queue) })
			for w := range n {
				g.spawn(p, s, &s.workers[w], func(p *port) error {
					return runOrdered(p, ie, ord, t, acc)
				}, last)
			}
			g.spawn(p, s, &ord.ws, ord.emit, func() { close(oe.ch) })
		}
	} else {
		s.start = func(p *pool.ContextPool) {
			last := s.lastCloses(n, func() { close(oe.ch) })
			for w := range n {
				g.spawn(p, s, &s.workers[w], func(p *port) error {
					return runTransform(p, ie, oe, t, acc)
				}, last)
			}
		}
	}
	return newStream(g, oe, fmt.Sprintf("the output of stage %q", name))
}

func runTransform[In, Out any](p *port, in *edge[In], out *edge[Out], t Transform[In, Out], acc Accumulator[In, Out]) error {
	emit := func(v Out) error { return out.send(p, v) }
	for {
		v, ok, err := in.recv(p)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if err := t.Process(p.ctx, v, emit); err != nil {
			return err
		}
	}
	if err := p.ctx.Err(); err != nil {
		return err
	}
	if acc != nil {
		return acc.Flush(p.ctx, emit)
	}
	return nil
}

// AddSink adds a stage that calls s.Consume for each item of in. Options: Workers.
func AddSink[In any](g *Graph, name string, in *Stream[In], s Sink[In], opts ...Option) {
	if s == nil {
		panic("pipeline: AddSink: nil sink")
	}
	st, o := g.addStage(name, kindSink, 0, opts)
	ie := in.take(g, st)
	st.start = func(p *pool.ContextPool) {
		last := st.lastCloses(o.workers, func() {})
		for w := range o.workers {
			g.spawn(p, st, &st.workers[w], func(p *port) error {
				return runSink(p, ie, s)
			}, last)
		}
	}
}

func runSink[In any](p *port, in *edge[In], s Sink[In]) error {
	for {
		v, ok, err := in.recv(p)
		if err != nil {
			return err
		}
		if !ok {
			return p.ctx.Err()
		}
		if err := s.Consume(p.ctx, v); err != nil {
			return err
		}
	}
}
