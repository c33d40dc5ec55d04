package pipeline

import (
	"sync"
	"sync/atomic"
)

// orderer makes an n-worker transform emit in input order. It follows conc's stream: a bounded queue
// of per-item result slots, filled by the workers in any order and drained in submission order by
// one emitter goroutine, which performs the sends into the output edge.
//
// A worker first takes a free slot, then the receive turn; it receives one input and enqueues the
// slot while holding the turn, so the queue order is the input order. It then processes the input,
// appending outputs to its slot (at most limit buffered per slot before it waits for the emitter),
// and marks the slot done. The emitter streams the head slot's outputs as they arrive, and recycles
// the slot once it is done and empty. There are exactly n slots, made once, so the steady state
// allocates nothing and at most n inputs are in flight.
type orderer[T any] struct {
	free  chan *slot[T] // slots not in use; cap n
	queue chan *slot[T] // slots in input order; cap n; closed by the last worker to return
	turn  chan struct{} // the receive turn: holding its token means receiving the next input
	slots []*slot[T]    // all slots, for the final drain
	limit int           // outputs a slot buffers before its worker waits
	out   *edge[T]      // the stage's output edge
	held  atomic.Int64  // outputs buffered in slots, for the stall report
	ws    workerStats   // the emitter's stats; not part of the stage's worker totals
}

// slot holds the outputs of one input (or of one worker's Flush).
type slot[T any] struct {
	mu    sync.Mutex
	buf   []T           // outputs appended by the worker; guarded by mu
	done  bool          // the worker has finished with this slot; guarded by mu
	sent  []T           // outputs taken by the emitter and not yet sent; emitter only (and drain)
	ready chan struct{} // cap 1: buf grew or done was set
	room  chan struct{} // cap 1: the emitter took buf
}

func newOrderer[T any](n, limit int, out *edge[T]) *orderer[T] {
	o := &orderer[T]{
		free:  make(chan *slot[T], n),
		queue: make(chan *slot[T], n),
		turn:  make(chan struct{}, 1),
		slots: make([]*slot[T], n),
		limit: limit,
		out:   out,
	}
	o.turn <- struct{}{}
	for i := range o.slots {
		s := &slot[T]{
			buf:   make([]T, 0, limit),
			sent:  make([]T, 0, limit),
			ready: make(chan struct{}, 1),
			room:  make(chan struct{}, 1),
		}
		o.slots[i] = s
		o.free <- s
	}
	return o
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// finish marks the slot done: its worker will append nothing more.
func (s *slot[T]) finish() {
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	signal(s.ready)
}

// put appends v to slot s, waiting (as blocked time) while the slot already buffers limit outputs.
// It returns ctx.Err() if the graph is cancelled first; the caller then still owns v.
func (o *orderer[T]) put(p *port, s *slot[T], v T) error {
	for {
		if p.cancelled() {
			return p.err()
		}
		s.mu.Lock()
		if len(s.buf) < o.limit {
			s.buf = append(s.buf, v)
			s.mu.Unlock()
			o.held.Add(1)
			signal(s.ready)
			return nil
		}
		s.mu.Unlock()
		t := p.ws.wait(p.g, stateBlocked)
		select {
		case <-s.room:
		case <-p.done:
		}
		p.ws.resume(p.g, t, &p.ws.blocked)
	}
}

// take waits on ch for a token or slot, counting the wait as the given state.
func take[V any](p *port, ch chan V, state int32) (V, error) {
	select {
	case v := <-ch:
		return v, nil
	default:
	}
	total := &p.ws.starved
	if state == stateBlocked {
		total = &p.ws.blocked
	}
	t := p.ws.wait(p.g, state)
	defer p.ws.resume(p.g, t, total)
	select {
	case v := <-ch:
		return v, nil
	case <-p.done:
		var zero V
		return zero, p.err()
	}
}

// runOrdered is the loop of one worker of an ordered transform.
func runOrdered[In, Out any](p *port, in *edge[In], o *orderer[Out], t Transform[In, Out], acc Accumulator[In, Out]) error {
	var cur *slot[Out]
	emit := func(v Out) error { return o.put(p, cur, v) }
	for {
		s, err := take(p, o.free, stateBlocked) // a free slot means the emitter keeps up downstream
		if err != nil {
			return err
		}
		if _, err := take(p, o.turn, stateStarved); err != nil {
			o.free <- s
			return err
		}
		v, ok, err := in.recv(p)
		if err != nil || !ok {
			flush := err == nil && acc != nil
			if flush {
				o.queue <- s // Flush's outputs follow every input received before the end
			} else {
				o.free <- s
			}
			o.turn <- struct{}{}
			if !flush {
				if err == nil {
					err = p.ctx.Err()
				}
				return err
			}
			cur = s
			err = acc.Flush(p.ctx, emit)
			s.finish()
			return err
		}
		o.queue <- s
		o.turn <- struct{}{}
		cur = s
		err = t.Process(p.ctx, v, emit)
		s.finish()
		if err != nil {
			return err
		}
	}
}

// emit is the emitter's loop: it sends the outputs of the slots in queue order.
func (o *orderer[T]) emit(p *port) error {
	for {
		var s *slot[T]
		select {
		case next, ok := <-o.queue:
			if !ok {
				return nil
			}
			s = next
		case <-p.done:
			return p.err()
		}
		for {
			s.mu.Lock()
			s.buf, s.sent = s.sent[:0], s.buf
			done := s.done
			s.mu.Unlock()
			signal(s.room)
			for i := range s.sent {
				if err := o.out.send(p, s.sent[i]); err != nil {
					s.sent = s.sent[i:] // left for drain
					return err
				}
				var zero T
				s.sent[i] = zero
				o.held.Add(-1)
			}
			s.sent = s.sent[:0]
			if done {
				break
			}
			select {
			case <-s.ready:
			case <-p.done:
				return p.err()
			}
		}
		s.done = false
		select { // forget stale signals before reuse
		case <-s.ready:
		default:
		}
		select {
		case <-s.room:
		default:
		}
		o.free <- s
	}
}

// drain hands every output still buffered in a slot to the discard hook. Called after all of the
// stage's goroutines have returned.
func (o *orderer[T]) drain() {
	var zero T
	for _, s := range o.slots {
		for _, list := range [][]T{s.sent, s.buf} {
			for i, v := range list {
				o.out.drop(v)
				list[i] = zero
			}
		}
		s.sent, s.buf = s.sent[:0], s.buf[:0]
		o.held.Store(0)
	}
}
