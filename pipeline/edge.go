package pipeline

import (
	"context"
	"sync/atomic"

	"github.com/sourcegraph/conc/panics"
)

// cacheLine pads counters written by different goroutines onto separate cache lines.
const cacheLine = 64

// edgeMeta is the untyped part of an edge: its ends, capacity and counters.
type edgeMeta struct {
	from, to string // producing and consuming stage names; to is "" until the stream is consumed
	capacity int

	// Written by the producing side.
	sent atomic.Int64 // items sent into the edge
	occ  atomic.Int64 // sum over sends of the items already queued when the item arrived
	_    [cacheLine - 16]byte

	// Written by the consuming side.
	recvd atomic.Int64 // items received from the edge
	_     [cacheLine - 8]byte
}

func (m *edgeMeta) meta() *edgeMeta { return m }

// anyEdge is an edge seen without its item type, for stats and draining.
type anyEdge interface {
	meta() *edgeMeta
	length() int
	drain()                             // hands every item still queued to the discard hook
	drainUntilClosed(onPanic func(any)) // the same, waiting for more until the edge is closed
}

// edge is a bounded channel between two stages. Only the engine sends and receives on ch.
type edge[T any] struct {
	edgeMeta
	ch      chan T
	discard func(T) // the producing stage's Discard hook; nil drops items silently
}

func newEdge[T any](from string, capacity int, discard func(T)) *edge[T] {
	e := &edge[T]{ch: make(chan T, capacity), discard: discard}
	e.from, e.capacity = from, capacity
	return e
}

func (e *edge[T]) length() int { return len(e.ch) }

// drop hands an item that will never be consumed to the discard hook.
func (e *edge[T]) drop(v T) {
	if e.discard != nil {
		e.discard(v)
	}
}

func (e *edge[T]) drain() {
	for {
		select {
		case v, ok := <-e.ch:
			if !ok {
				return
			}
			e.drop(v)
		default:
			return
		}
	}
}

// port is what one goroutine of a stage needs to use edges: its context, a channel closed once that
// context is done, and its stats slot. done is private to the goroutine (the graph closes every
// worker's channel on cancellation, after cancelling ctx), so the engine's selects never contend for
// the lock of a channel shared by the whole graph; a source's done is its own context's Done, which
// Stop also closes.
type port struct {
	ctx  context.Context
	done <-chan struct{}
	ws   *workerStats
	g    *Graph
}

// err is the error of a goroutine whose done channel is closed. done is only closed after ctx is
// cancelled, so this is ctx.Err(); context.Canceled stands in should that ever not hold, because a
// nil error here would make a stage believe an item it still owns was delivered.
func (p *port) err() error {
	if err := p.ctx.Err(); err != nil {
		return err
	}
	return context.Canceled
}

// cancelled reports whether the port's context is done, without blocking.
func (p *port) cancelled() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// send delivers v into the edge, waiting (and counting the wait as blocked time) while the edge is
// full. If the run is cancelled before the call, it returns ctx.Err() and the caller still owns v. A
// send already waiting when the run is cancelled completes: the edge's drainer takes v and hands it
// to the discard hook, and the caller's next send fails. So the wait is a plain channel send, not a
// select: the fast path is one non-blocking send, which keeps the clock off it.
func (e *edge[T]) send(p *port, v T) error {
	if p.cancelled() {
		return p.err()
	}
	queued := len(e.ch)
	select {
	case e.ch <- v:
	default:
		t := p.ws.wait(p.g, stateBlocked)
		e.ch <- v
		p.ws.resume(p.g, t, &p.ws.blocked)
	}
	e.sent.Add(1)
	e.occ.Add(int64(queued))
	return nil
}

// recv takes the next item, waiting (and counting the wait as starved time) while the edge is
// empty. ok is false when the edge was closed: err is then nil at the end of the input, or ctx.Err()
// if the run was cancelled (producers close their edges whenever they exit, so a cancelled run
// unblocks its receivers stage by stage). An item received once the run is cancelled is handed to
// the discard hook and recv returns ctx.Err(), so a cancelled worker never starts processing.
func (e *edge[T]) recv(p *port) (v T, ok bool, err error) {
	select {
	case v, ok = <-e.ch:
	default:
		t := p.ws.wait(p.g, stateStarved)
		v, ok = <-e.ch
		p.ws.resume(p.g, t, &p.ws.starved)
	}
	if !ok {
		return v, false, p.ctx.Err()
	}
	e.recvd.Add(1)
	if p.cancelled() {
		e.drop(v)
		var zero T
		return zero, false, p.err()
	}
	return v, true, nil
}

// drainUntilClosed hands every item sent into the edge to the discard hook until the producers
// close it. It runs on its own goroutine once the run is cancelled, so that producers waiting in
// send are released; a panicking hook is reported to onPanic and draining goes on.
func (e *edge[T]) drainUntilClosed(onPanic func(any)) {
	for v := range e.ch {
		if r := panics.Try(func() { e.drop(v) }); r != nil {
			onPanic(r.Value)
		}
	}
}
