package pipeline_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sgdpipe/sgdpipe/pipeline"
)

// Item states in a ledger.
const (
	unborn int8 = iota
	live
	consumed
	discarded
)

// ledger accounts for every item of a test pipeline (ints 0..n-1): produced by the source, then
// consumed by the sink or discarded (by a Discard hook, or by a stage that owns an item it could not
// deliver), exactly once. It also records the most items ever live at once.
type ledger struct {
	mu                            sync.Mutex
	state                         []int8
	produced, consumed, discarded int
	maxLive                       int
	errs                          []string
}

func newLedger(n int) *ledger { return &ledger{state: make([]int8, n)} }

func (l *ledger) move(i int, from, to int8, what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i < 0 || i >= len(l.state) {
		l.errs = append(l.errs, fmt.Sprintf("%s: item %d out of range", what, i))
		return
	}
	if l.state[i] != from {
		l.errs = append(l.errs, fmt.Sprintf("%s item %d in state %d, want %d", what, i, l.state[i], from))
		return
	}
	l.state[i] = to
	switch to {
	case live:
		l.produced++
	case consumed:
		l.consumed++
	case discarded:
		l.discarded++
	}
	l.maxLive = max(l.maxLive, l.produced-l.consumed-l.discarded)
}

func (l *ledger) produce(i int) { l.move(i, unborn, live, "produce") }
func (l *ledger) consume(i int) { l.move(i, live, consumed, "consume") }
func (l *ledger) discard(i int) { l.move(i, live, discarded, "discard") }

// check fails t unless every produced item was consumed or discarded exactly once.
func (l *ledger) check(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.errs[:min(len(l.errs), 5)] {
		t.Error(e)
	}
	if l.produced != l.consumed+l.discarded {
		t.Errorf("produced %d != consumed %d + discarded %d", l.produced, l.consumed, l.discarded)
	}
	for i, s := range l.state {
		if s == live {
			t.Errorf("item %d produced but never consumed nor discarded", i)
			break
		}
	}
}

func (l *ledger) counts() (produced, consumed, discarded int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.produced, l.consumed, l.discarded
}

// countSource emits 0..n-1 (n < 0: until cancelled), recording each item in l before emitting it;
// an item emit refuses is discarded (the source still owns it).
func countSource(l *ledger, n int) pipeline.Source[int] {
	return pipeline.SourceFunc[int](func(ctx context.Context, emit func(int) error) error {
		for i := 0; n < 0 || i < n; i++ {
			l.produce(i)
			if err := emit(i); err != nil {
				l.discard(i)
				return err
			}
		}
		return nil
	})
}

// pass is an identity transform that sleeps d per item (fake time under synctest) and discards the
// item if emit refuses it.
func pass(l *ledger, d time.Duration) pipeline.Transform[int, int] {
	return pipeline.TransformFunc[int, int](func(ctx context.Context, v int, emit func(int) error) error {
		if d > 0 {
			time.Sleep(d)
		}
		if err := emit(v); err != nil {
			l.discard(v)
			return err
		}
		return nil
	})
}

// collect is a sink that records each item in l and, if got is not nil, appends it to *got.
func collect(l *ledger, d time.Duration, got *[]int) pipeline.Sink[int] {
	var mu sync.Mutex
	return pipeline.SinkFunc[int](func(ctx context.Context, v int) error {
		if d > 0 {
			time.Sleep(d)
		}
		l.consume(v)
		if got != nil {
			mu.Lock()
			*got = append(*got, v)
			mu.Unlock()
		}
		return nil
	})
}

// counter counts calls; safe for concurrent use.
type counter struct{ n atomic.Int64 }

func (c *counter) inc()       { c.n.Add(1) }
func (c *counter) get() int64 { return c.n.Load() }
