package pipeline_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sgdpipe/sgdpipe/pipeline"
)

// TestOrdered runs an order-preserving stage with random per-item delays and checks that outputs
// leave in input order, all outputs of one input before any of the next, for several fan-outs per
// item, worker counts and capacities.
func TestOrdered(t *testing.T) {
	tests := []struct {
		workers, capacity, fanout int
		flush                     bool
	}{
		{8, 1, 1, false},
		{8, 0, 1, false},
		{8, 4, 3, false},
		{3, 1, 5, true},
		{2, 2, 0, false}, // every item dropped
		{16, 1, 2, true},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("workers=%d/cap=%d/fanout=%d/flush=%v", tt.workers, tt.capacity, tt.fanout, tt.flush)
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const items = 400
				l := newLedger(items)
				g := pipeline.New(pipeline.Config{})
				s := pipeline.AddSource(g, "src", countSource(l, items))
				rng := rand.New(rand.NewPCG(1, uint64(tt.workers)))
				delays := make([]time.Duration, items)
				for i := range delays {
					delays[i] = time.Duration(rng.IntN(1000)) * time.Microsecond
				}
				var tr pipeline.Transform[int, int] = fanout{delays: delays, n: tt.fanout, l: l}
				if tt.flush {
					tr = fanoutFlush{fanout: fanout{delays: delays, n: tt.fanout, l: l}}
				}
				out := pipeline.AddTransform(g, "ordered", s, tr,
					pipeline.Workers(tt.workers), pipeline.Ordered(), pipeline.Capacity(tt.capacity))
				var got []int
				pipeline.AddSink(g, "sink", out, pipeline.SinkFunc[int](func(ctx context.Context, v int) error {
					got = append(got, v)
					return nil
				}))
				if err := g.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				l.check(t)
				var want []int
				for i := range items {
					for j := range tt.fanout {
						want = append(want, i*100+j)
					}
				}
				if tt.flush {
					for range tt.workers {
						want = append(want, -1)
					}
				}
				if len(got) != len(want) {
					t.Fatalf("got %d outputs, want %d", len(got), len(want))
				}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("output %d is %d, want %d (outputs %v...)", i, got[i], want[i], got[max(0, i-3):min(len(got), i+3)])
					}
				}
			})
		})
	}
}

// fanout sleeps delays[v], then emits v*100+j for j < n.
type fanout struct {
	delays []time.Duration
	n      int
	l      *ledger
}

func (f fanout) Process(ctx context.Context, v int, emit func(int) error) error {
	time.Sleep(f.delays[v])
	f.l.consume(v)
	for j := range f.n {
		if err := emit(v*100 + j); err != nil {
			return err
		}
		time.Sleep(f.delays[(v+j)%len(f.delays)] / 4)
	}
	return nil
}

// fanoutFlush also emits -1 from each worker's Flush.
type fanoutFlush struct{ fanout }

func (f fanoutFlush) Flush(ctx context.Context, emit func(int) error) error {
	time.Sleep(f.delays[0])
	return emit(-1)
}

// TestUnorderedWorkers: without Ordered every item still arrives exactly once.
func TestUnorderedWorkers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const items = 500
		l := newLedger(items)
		g := pipeline.New(pipeline.Config{})
		s := pipeline.AddSource(g, "src", countSource(l, items))
		rng := rand.New(rand.NewPCG(2, 3))
		delays := make([]time.Duration, items)
		for i := range delays {
			delays[i] = time.Duration(rng.IntN(1000)) * time.Microsecond
		}
		s = pipeline.AddTransform(g, "w", s, pipeline.TransformFunc[int, int](func(ctx context.Context, v int, emit func(int) error) error {
			time.Sleep(delays[v])
			return emit(v)
		}), pipeline.Workers(8))
		var got []int
		pipeline.AddSink(g, "sink", s, collect(l, 0, &got), pipeline.Workers(3))
		if err := g.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		l.check(t)
		if len(got) != items {
			t.Fatalf("got %d items, want %d", len(got), items)
		}
		inOrder := true
		for i := range got {
			inOrder = inOrder && got[i] == i
		}
		if inOrder {
			t.Error("8 unordered workers with random delays kept the input order: the test cannot tell ordered from unordered")
		}
	})
}
