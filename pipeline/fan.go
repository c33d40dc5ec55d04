package pipeline

import (
	"fmt"

	"github.com/sourcegraph/conc/pool"
)

// Broadcast adds a stage that sends every item of in to each of n consumers and returns their n
// streams. share(v, n) is called once per item before it is sent, so an owner can take n references
// (Arrow: Retain n-1 times); each consumer then owns one. A nil share copies values as they are.
// Copies that cannot be delivered because the graph was cancelled go to the Discard hook, one call
// per copy. A slow consumer holds back the others once its edge is full. Options: Workers, Capacity
// (of each output), Discard (default: the input's hook). n < 1 makes Run fail.
func Broadcast[T any](g *Graph, name string, in *Stream[T], n int, share func(v T, n int), opts ...Option) []*Stream[T] {
	s, o := g.addStage(name, kindBroadcast, 0, opts)
	ie := in.take(g, s)
	outs := fanOut(g, s, &o, ie, n)
	s.start = func(p *pool.ContextPool) {
		last := s.lastCloses(o.workers, func() { closeAll(outs) })
		for w := range o.workers {
			g.spawn(p, s, &s.workers[w], func(p *port) error {
				return runBroadcast(p, ie, outs, share)
			}, last)
		}
	}
	return fanStreams(g, name, kindBroadcast, outs)
}

func runBroadcast[T any](p *port, in *edge[T], outs []*edge[T], share func(T, int)) error {
	for {
		v, ok, err := in.recv(p)
		if err != nil {
			return err
		}
		if !ok {
			return p.ctx.Err()
		}
		if share != nil {
			share(v, len(outs))
		}
		for i, out := range outs {
			if err := out.send(p, v); err != nil {
				for _, rest := range outs[i:] {
					rest.drop(v)
				}
				return err
			}
		}
	}
}

// Route adds a stage that sends each item of in to exactly one of n consumers, the one at index
// pick(v), and returns their n streams. pick is called once per item, from the stage's workers (so
// concurrently with Workers(n > 1)); an index outside [0, n) stops the graph with an error and the
// item goes to the Discard hook. Options: Workers, Capacity (of each output), Discard (default: the
// input's hook). n < 1 makes Run fail.
func Route[T any](g *Graph, name string, in *Stream[T], n int, pick func(v T) int, opts ...Option) []*Stream[T] {
	if pick == nil {
		panic("pipeline: Route: nil pick")
	}
	s, o := g.addStage(name, kindRoute, 0, opts)
	ie := in.take(g, s)
	outs := fanOut(g, s, &o, ie, n)
	s.start = func(p *pool.ContextPool) {
		last := s.lastCloses(o.workers, func() { closeAll(outs) })
		for w := range o.workers {
			g.spawn(p, s, &s.workers[w], func(p *port) error {
				return runRoute(p, ie, outs, pick)
			}, last)
		}
	}
	return fanStreams(g, name, kindRoute, outs)
}

func runRoute[T any](p *port, in *edge[T], outs []*edge[T], pick func(T) int) error {
	for {
		v, ok, err := in.recv(p)
		if err != nil {
			return err
		}
		if !ok {
			return p.ctx.Err()
		}
		i := pick(v)
		if i < 0 || i >= len(outs) {
			outs[0].drop(v) // the stage's own hook, which defaults to the input's
			return fmt.Errorf("pick returned %d for an item; it must return an index in [0, %d)", i, len(outs))
		}
		if err := outs[i].send(p, v); err != nil {
			outs[i].drop(v)
			return err
		}
	}
}

// Merge adds a stage that forwards the items of all ins into one stream, in arrival order, with one
// goroutine per input; the output ends when every input has ended. Options: Capacity, Discard
// (default: the first input's hook that is set). An empty ins makes Run fail.
func Merge[T any](g *Graph, name string, ins []*Stream[T], opts ...Option) *Stream[T] {
	s, o := g.addStage(name, kindMerge, max(len(ins), 1), opts)
	if len(ins) == 0 {
		g.failf("stage %q: Merge needs at least one input stream", name)
	}
	edges := make([]*edge[T], len(ins))
	var inherit func(T)
	for i, in := range ins {
		edges[i] = in.take(g, s)
		if inherit == nil {
			inherit = edges[i].discard
		}
	}
	out := addOutput(g, s, &o, inherit)
	s.start = func(p *pool.ContextPool) {
		last := s.lastCloses(len(edges), func() { close(out.ch) })
		for w, in := range edges {
			g.spawn(p, s, &s.workers[w], func(p *port) error {
				return runMerge(p, in, out)
			}, last)
		}
	}
	return newStream(g, out, fmt.Sprintf("the output of merge %q", name))
}

func runMerge[T any](p *port, in, out *edge[T]) error {
	for {
		v, ok, err := in.recv(p)
		if err != nil {
			return err
		}
		if !ok {
			return p.ctx.Err()
		}
		if err := out.send(p, v); err != nil {
			out.drop(v)
			return err
		}
	}
}

// fanOut creates the n output edges of a Broadcast or Route stage.
func fanOut[T any](g *Graph, s *stage, o *options, in *edge[T], n int) []*edge[T] {
	if n < 1 {
		g.failf("stage %q: %s needs n >= 1 consumers, got %d", s.name, s.kind, n)
		n = 0
	}
	outs := make([]*edge[T], n)
	for i := range outs {
		outs[i] = addOutput(g, s, o, in.discard)
	}
	return outs
}

func fanStreams[T any](g *Graph, name, kind string, outs []*edge[T]) []*Stream[T] {
	streams := make([]*Stream[T], len(outs))
	for i, e := range outs {
		streams[i] = newStream(g, e, fmt.Sprintf("output %d of %s %q", i, kind, name))
	}
	return streams
}

func closeAll[T any](outs []*edge[T]) {
	for _, e := range outs {
		close(e.ch)
	}
}
