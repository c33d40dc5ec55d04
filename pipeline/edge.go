package pipeline

import (
	"context"
	"runtime"
	"sync/atomic"
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
	drain() // hands every item still queued to the discard hook; only after all workers returned
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
// full. It returns ctx.Err() if the context is done before v is delivered; the caller then still owns v.
// The non-blocking first attempt keeps the clock off the fast path.
func (e *edge[T]) send(p *port, v T) error {
	if p.cancelled() {
		return p.ctx.Err()
	}
	queued := len(e.ch)
	select {
	case e.ch <- v:
	default:
		runtime.Gosched()
		select {
		case e.ch <- v:
			goto sent
		default:
		}
		t := p.ws.wait(p.g, stateBlocked)
		select {
		case e.ch <- v:
			p.ws.resume(p.g, t, &p.ws.blocked)
		case <-p.done:
			p.ws.resume(p.g, t, &p.ws.blocked)
			return p.ctx.Err()
		}
	}
sent:
	e.sent.Add(1)
	e.occ.Add(int64(queued))
	return nil
}

// recv takes the next item, waiting (and counting the wait as starved time) while the edge is empty.
// ok is false when the edge was closed by its producer. If the context is done, recv returns
// ctx.Err(); an item it received in the same instant is handed to the discard hook first, so a
// cancelled worker never starts processing.
func (e *edge[T]) recv(p *port) (v T, ok bool, err error) {
	select {
	case v, ok = <-e.ch:
	default:
		runtime.Gosched()
		select {
		case v, ok = <-e.ch:
			goto got
		default:
		}
		t := p.ws.wait(p.g, stateStarved)
		select {
		case v, ok = <-e.ch:
			p.ws.resume(p.g, t, &p.ws.starved)
		case <-p.done:
			p.ws.resume(p.g, t, &p.ws.starved)
			return v, false, p.ctx.Err()
		}
	}
got:
	if !ok {
		return v, false, nil
	}
	e.recvd.Add(1)
	if p.cancelled() {
		e.drop(v)
		var zero T
		return zero, false, p.ctx.Err()
	}
	return v, true, nil
}
