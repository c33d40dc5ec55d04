package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sgdpipe/sgdpipe/pipeline"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

var errBoom = errors.New("boom")

// TestBackpressure checks that a slow sink bounds the items in flight by the sum of the edge
// capacities plus the workers (source and sink included), counted by the ledger, not by timing.
func TestBackpressure(t *testing.T) {
	tests := []struct {
		name     string
		workers  int
		capacity int
		ordered  bool
	}{
		{"unbuffered", 1, 0, false},
		{"cap1", 1, 1, false},
		{"cap4-workers3", 3, 4, false},
		{"cap2-workers4-ordered", 4, 2, true},
		{"cap0-workers8-ordered", 8, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const items, stages = 300, 3
				l := newLedger(items)
				g := pipeline.New(pipeline.Config{})
				s := pipeline.AddSource(g, "src", countSource(l, items), pipeline.Capacity(tt.capacity))
				bound := 1 + tt.capacity // the source holds one item while it waits in emit
				for i := range stages {
					opts := []pipeline.Option{pipeline.Workers(tt.workers), pipeline.Capacity(tt.capacity)}
					if tt.ordered {
						opts = append(opts, pipeline.Ordered())
					}
					s = pipeline.AddTransform(g, fmt.Sprintf("t%d", i), s, pass(l, 0), opts...)
					bound += tt.workers + tt.capacity
				}
				pipeline.AddSink(g, "slow", s, collect(l, time.Millisecond, nil))
				bound++ // the sink's worker
				if err := g.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				l.check(t)
				if l.consumed != items {
					t.Errorf("consumed %d items, want %d", l.consumed, items)
				}
				if l.maxLive > bound {
					t.Errorf("%d items in flight at once, want <= %d (capacities + workers)", l.maxLive, bound)
				}
				if l.maxLive < bound-tt.workers*stages-1 {
					t.Errorf("only %d items in flight at most: the edges never filled up (bound %d)", l.maxLive, bound)
				}
			})
		})
	}
}

// chain10 builds source -> t1..t8 -> sink with a Discard hook on every stage, each transform sleeping
// d per item (fake time), and with stage fail (1..8) running f instead of pass.
func chain10(l *ledger, d time.Duration, fail int, f pipeline.Transform[int, int], cfg pipeline.Config) *pipeline.Graph {
	g := pipeline.New(cfg)
	hook := pipeline.Discard(l.discard)
	s := pipeline.AddSource(g, "src", countSource(l, -1), hook)
	for i := 1; i <= 8; i++ {
		tr := pass(l, d)
		if i == fail {
			tr = f
		}
		s = pipeline.AddTransform(g, fmt.Sprintf("t%d", i), s, tr, hook, pipeline.Capacity(i%3))
	}
	pipeline.AddSink(g, "sink", s, collect(l, d, nil))
	return g
}

// TestCancel cancels the parent context in the middle of a 10-stage pipeline: Run returns
// context.Canceled within one item's processing time, and every item is consumed or discarded once.
func TestCancel(t *testing.T) {
	for _, after := range []time.Duration{0, time.Millisecond, 50 * time.Millisecond} {
		t.Run(fmt.Sprint(after), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLedger(100000)
				g := chain10(l, time.Millisecond, 0, nil, pipeline.Config{})
				ctx, cancel := context.WithCancel(context.Background())
				var cancelledAt time.Time
				go func() {
					time.Sleep(after)
					cancelledAt = time.Now()
					cancel()
				}()
				err := g.Run(ctx)
				took := time.Since(cancelledAt)
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Run = %v, want context.Canceled", err)
				}
				if !strings.HasPrefix(err.Error(), `stage "`) {
					t.Errorf("error %q does not name a stage", err)
				}
				if took > time.Millisecond {
					t.Errorf("Run returned %v after the cancel, want <= 1ms (one item's sleep)", took)
				}
				l.check(t)
				if after >= 50*time.Millisecond && l.consumed == 0 {
					t.Errorf("nothing consumed in %v", after)
				}
			})
		})
	}
}

// TestError injects an error in stage k of 10: Run returns exactly that error, named after the stage.
func TestError(t *testing.T) {
	for k := 1; k <= 8; k++ {
		t.Run(fmt.Sprintf("t%d", k), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLedger(100000)
				fail := pipeline.TransformFunc[int, int](func(ctx context.Context, v int, emit func(int) error) error {
					if v == 20 {
						l.discard(v)
						return fmt.Errorf("item %d: %w", v, errBoom)
					}
					time.Sleep(time.Millisecond)
					if err := emit(v); err != nil {
						l.discard(v)
						return err
					}
					return nil
				})
				g := chain10(l, time.Millisecond, k, fail, pipeline.Config{})
				err := g.Run(context.Background())
				want := fmt.Sprintf(`stage "t%d": item 20: boom`, k)
				if err == nil || err.Error() != want || !errors.Is(err, errBoom) {
					t.Fatalf("Run = %v, want %s", err, want)
				}
				l.check(t)
			})
		})
	}
}

// TestPanic checks that a panic anywhere becomes an error naming the stage, with the stack in the
// debug log and not in the message.
func TestPanic(t *testing.T) {
	panicky := func(v int) {
		if v == 7 {
			panic("boom")
		}
	}
	tests := []struct {
		stage string
		build func(g *pipeline.Graph, l *ledger)
	}{
		{"src", func(g *pipeline.Graph, l *ledger) {
			s := pipeline.AddSource(g, "src", pipeline.SourceFunc[int](func(ctx context.Context, emit func(int) error) error {
				panicky(7)
				return nil
			}))
			pipeline.AddSink(g, "sink", s, collect(l, 0, nil))
		}},
		{"mid", func(g *pipeline.Graph, l *ledger) {
			s := pipeline.AddSource(g, "src", countSource(l, -1), pipeline.Discard(l.discard))
			s = pipeline.AddTransform(g, "mid", s, pipeline.TransformFunc[int, int](func(ctx context.Context, v int, emit func(int) error) error {
				l.discard(v)
				panicky(v)
				return nil
			}), pipeline.Workers(3))
			pipeline.AddSink(g, "sink", s, collect(l, 0, nil))
		}},
		{"sink", func(g *pipeline.Graph, l *ledger) {
			s := pipeline.AddSource(g, "src", countSource(l, -1), pipeline.Discard(l.discard))
			pipeline.AddSink(g, "sink", s, pipeline.SinkFunc[int](func(ctx context.Context, v int) error {
				l.consume(v)
				panicky(v)
				return nil
			}))
		}},
		{"route", func(g *pipeline.Graph, l *ledger) {
			s := pipeline.AddSource(g, "src", countSource(l, -1), pipeline.Discard(l.discard))
			outs := pipeline.Route(g, "route", s, 2, func(v int) int {
				if v == 7 {
					l.discard(v)
				}
				panicky(v)
				return v % 2
			})
			pipeline.AddSink(g, "a", outs[0], collect(l, 0, nil))
			pipeline.AddSink(g, "b", outs[1], collect(l, 0, nil))
		}},
		{"bcast", func(g *pipeline.Graph, l *ledger) {
			s := pipeline.AddSource(g, "src", countSource(l, -1), pipeline.Discard(l.discard))
			outs := pipeline.Broadcast(g, "bcast", s, 1, func(v int, n int) {
				if v == 7 {
					l.discard(v)
				}
				panicky(v)
			})
			pipeline.AddSink(g, "sink", outs[0], collect(l, 0, nil))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.stage, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				core, logs := observer.New(zap.DebugLevel)
				g := pipeline.New(pipeline.Config{Logger: zap.New(core)})
				l := newLedger(100000)
				tt.build(g, l)
				err := g.Run(context.Background())
				want := fmt.Sprintf("stage %q: panic: boom", tt.stage)
				if err == nil || err.Error() != want {
					t.Fatalf("Run = %v, want %s", err, want)
				}
				entries := logs.FilterMessage("pipeline: stage panicked").All()
				if len(entries) != 1 {
					t.Fatalf("%d panic log entries, want 1", len(entries))
				}
				stack, _ := entries[0].ContextMap()["stack"].(string)
				if !strings.Contains(stack, "TestPanic.func1") { // panicky's frame
					t.Errorf("logged stack does not show the panicking function:\n%s", stack)
				}
				l.check(t)
			})
		})
	}
}

// TestPanicError keeps the chain of a panic value that is an error.
func TestPanicError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := pipeline.New(pipeline.Config{})
		s := pipeline.AddSource(g, "src", pipeline.SourceFunc[int](func(ctx context.Context, emit func(int) error) error {
			panic(errBoom)
		}))
		pipeline.AddSink(g, "sink", s, pipeline.SinkFunc[int](func(ctx context.Context, v int) error { return nil }))
		if err := g.Run(context.Background()); !errors.Is(err, errBoom) {
			t.Fatalf("Run = %v, want it to wrap errBoom", err)
		}
	})
}

// TestDiscardExactlyOnce cancels at many points of a graph with every kind of stage and checks the
// ledger: each item is consumed or discarded exactly once.
func TestDiscardExactlyOnce(t *testing.T) {
	for _, after := range []time.Duration{0, 1, 3, 10, 33, 100} {
		t.Run(fmt.Sprintf("cancel-after-%dms", after), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLedger(1 << 20)
				hook := pipeline.Discard(l.discard)
				g := pipeline.New(pipeline.Config{})
				s := pipeline.AddSource(g, "src", countSource(l, -1), hook, pipeline.Capacity(3))
				s = pipeline.AddTransform(g, "ordered", s, pass(l, time.Millisecond), hook,
					pipeline.Workers(4), pipeline.Ordered(), pipeline.Capacity(2))
				routes := pipeline.Route(g, "route", s, 3, func(v int) int { return v % 3 }, pipeline.Capacity(2))
				a := pipeline.AddTransform(g, "a", routes[0], pass(l, 2*time.Millisecond), hook, pipeline.Workers(2))
				merged := pipeline.Merge(g, "merge", []*pipeline.Stream[int]{a, routes[1], routes[2]}, pipeline.Capacity(4))
				pipeline.AddSink(g, "sink", merged, collect(l, 500*time.Microsecond, nil), pipeline.Workers(2))
				ctx, cancel := context.WithTimeout(context.Background(), after*time.Millisecond)
				defer cancel()
				err := g.Run(ctx)
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Run = %v, want DeadlineExceeded", err)
				}
				l.check(t)
			})
		})
	}
}

// TestParentCancelledBeforeRun: nothing runs and the error says so.
func TestParentCancelledBeforeRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLedger(100)
		g := pipeline.New(pipeline.Config{})
		s := pipeline.AddSource(g, "src", countSource(l, 100), pipeline.Discard(l.discard))
		pipeline.AddSink(g, "sink", s, collect(l, 0, nil))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := g.Run(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
		l.check(t)
	})
}

// TestFlush checks that each worker of an accumulator flushes once at the end of input, and never
// after an error or a cancellation.
func TestFlush(t *testing.T) {
	tests := []struct {
		name    string
		workers int
		ordered bool
		failAt  int // the sink fails at this item (-1: never)
		flushes int64
	}{
		{"one-worker", 1, false, -1, 1},
		{"three-workers", 3, false, -1, 3},
		{"three-workers-ordered", 3, true, -1, 3},
		{"error", 1, false, 10, 0},
		{"error-ordered", 4, true, 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const items = 100
				var flushes counter
				var sum atomic.Int64
				g := pipeline.New(pipeline.Config{})
				s := pipeline.AddSource(g, "src", pipeline.SourceFunc[int](func(ctx context.Context, emit func(int) error) error {
					for i := range items {
						if err := emit(i); err != nil {
							return err
						}
					}
					return nil
				}))
				opts := []pipeline.Option{pipeline.Workers(tt.workers)}
				if tt.ordered {
					opts = append(opts, pipeline.Ordered())
				}
				sums := pipeline.AddTransform(g, "batch", s, &summer{size: 7, flushes: &flushes}, opts...)
				pipeline.AddSink(g, "sink", sums, pipeline.SinkFunc[int](func(ctx context.Context, v int) error {
					if tt.failAt >= 0 && sum.Load() >= int64(tt.failAt) {
						return errBoom
					}
					sum.Add(int64(v))
					return nil
				}))
				err := g.Run(context.Background())
				if tt.failAt < 0 {
					if err != nil {
						t.Fatal(err)
					}
					if want := int64(items * (items - 1) / 2); sum.Load() != want {
						t.Errorf("sum of flushed batches %d, want %d", sum.Load(), want)
					}
				} else if !errors.Is(err, errBoom) {
					t.Fatalf("Run = %v, want errBoom", err)
				}
				if flushes.get() != tt.flushes {
					t.Errorf("Flush called %d times, want %d", flushes.get(), tt.flushes)
				}
			})
		})
	}
}

// summer is an Accumulator that emits the sum of every size inputs it sees; Flush emits the rest.
// One partial sum per worker, keyed by the goroutine's own state is not available, so it keeps one
// shared partial sum under an atomic: workers race to add, which is fine for sums.
type summer struct {
	size    int
	flushes *counter
	n, acc  atomic.Int64
}

func (s *summer) Process(ctx context.Context, v int, emit func(int) error) error {
	acc := s.acc.Add(int64(v))
	if s.n.Add(1)%int64(s.size) == 0 && s.acc.CompareAndSwap(acc, 0) {
		return emit(int(acc))
	}
	return nil
}

func (s *summer) Flush(ctx context.Context, emit func(int) error) error {
	s.flushes.inc()
	if acc := s.acc.Swap(0); acc != 0 {
		return emit(int(acc))
	}
	return nil
}

// TestSoftStop: Stop ends the source cleanly, the graph drains, Flush runs and Run returns nil.
func TestSoftStop(t *testing.T) {
	for _, when := range []string{"during", "before"} {
		t.Run(when, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLedger(1 << 20)
				var flushes counter
				g := pipeline.New(pipeline.Config{})
				s := pipeline.AddSource(g, "src", countSource(l, -1), pipeline.Discard(l.discard))
				s = pipeline.AddTransform(g, "slow", s, pass(l, time.Millisecond), pipeline.Workers(2), pipeline.Ordered())
				acc := &passFlush{l: l, flushes: &flushes}
				s = pipeline.AddTransform(g, "acc", s, acc)
				pipeline.AddSink(g, "sink", s, collect(l, 0, nil))
				if when == "before" {
					g.Stop()
				} else {
					go func() {
						time.Sleep(20 * time.Millisecond)
						g.Stop()
						g.Stop() // idempotent
					}()
				}
				if err := g.Run(context.Background()); err != nil {
					t.Fatalf("Run after Stop = %v, want nil", err)
				}
				g.Stop() // after Run: nothing
				l.check(t)
				produced, consumed, discarded := l.counts()
				if discarded > 1 { // the item the source's last emit refused
					t.Errorf("soft stop consumed %d of %d produced items and discarded %d; want all drained but the one emit refused",
						consumed, produced, discarded)
				}
				if when == "during" && produced < 20 {
					t.Errorf("only %d items produced before Stop", produced)
				}
				if flushes.get() != 1 {
					t.Errorf("Flush called %d times after Stop, want 1", flushes.get())
				}
			})
		})
	}
}

// passFlush is an accumulator that passes items through and counts its flushes.
type passFlush struct {
	l       *ledger
	flushes *counter
}

func (p *passFlush) Process(ctx context.Context, v int, emit func(int) error) error {
	if err := emit(v); err != nil {
		p.l.discard(v)
		return err
	}
	return nil
}

func (p *passFlush) Flush(ctx context.Context, emit func(int) error) error {
	p.flushes.inc()
	return nil
}

// TestSoftStopThenCancel: a hard stop after a soft one still cancels.
func TestSoftStopThenCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLedger(1 << 20)
		g := pipeline.New(pipeline.Config{})
		s := pipeline.AddSource(g, "src", countSource(l, -1), pipeline.Discard(l.discard))
		s = pipeline.AddTransform(g, "stuck", s, pipeline.TransformFunc[int, int](func(ctx context.Context, v int, emit func(int) error) error {
			l.discard(v)
			<-ctx.Done() // ignores Stop; only a hard stop ends it
			return ctx.Err()
		}))
		pipeline.AddSink(g, "sink", s, collect(l, 0, nil))
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(time.Millisecond)
			g.Stop()
			time.Sleep(time.Second)
			cancel()
		}()
		start := time.Now()
		err := g.Run(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d != time.Second+time.Millisecond {
			t.Errorf("Run took %v, want exactly the soft stop + 1s (the hard stop)", d)
		}
		l.check(t)
	})
}

// TestSourceErrorAfterStop: a source error that is not a cancellation still fails the run.
func TestSourceErrorAfterStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := pipeline.New(pipeline.Config{})
		s := pipeline.AddSource(g, "src", pipeline.SourceFunc[int](func(ctx context.Context, emit func(int) error) error {
			<-ctx.Done()
			return fmt.Errorf("closing shard: %w", errBoom)
		}))
		pipeline.AddSink(g, "sink", s, pipeline.SinkFunc[int](func(ctx context.Context, v int) error { return nil }))
		g.Stop()
		if err := g.Run(context.Background()); err == nil || err.Error() != `stage "src": closing shard: boom` {
			t.Fatalf("Run = %v, want the source's error", err)
		}
	})
}

// TestDiscardHookPanic: a Discard hook that panics does not crash the process (it is reported as an
// error naming the stage if nothing failed before), and the other items are still handed over.
func TestDiscardHookPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var hooked atomic.Int64
		g := pipeline.New(pipeline.Config{})
		s := pipeline.AddSource(g, "src", pipeline.SourceFunc[int](func(ctx context.Context, emit func(int) error) error {
			for i := 0; ; i++ {
				if err := emit(i); err != nil {
					return err
				}
			}
		}), pipeline.Capacity(4), pipeline.Discard(func(v int) {
			if hooked.Add(1) == 1 {
				panic("bad hook")
			}
		}))
		pipeline.AddSink(g, "sink", s, pipeline.SinkFunc[int](func(ctx context.Context, v int) error {
			time.Sleep(time.Millisecond)
			return errBoom
		}))
		err := g.Run(context.Background())
		if !errors.Is(err, errBoom) {
			t.Fatalf("Run = %v, want the sink's error first", err)
		}
		if hooked.Load() < 4 {
			t.Errorf("hook called %d times, want every queued item (>= 4)", hooked.Load())
		}
	})
}

// TestOrderedFanoutCancel: an ordered stage whose workers wait for room in their slots (fan-out
// beyond the slot buffer) hands every output to its Discard hook or the sink exactly once when
// cancelled at any point.
func TestOrderedFanoutCancel(t *testing.T) {
	for _, after := range []time.Duration{0, 1, 2, 5, 13, 40} {
		t.Run(fmt.Sprintf("%dms", after), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ins, outs := newLedger(1<<16), newLedger(1<<20)
				g := pipeline.New(pipeline.Config{})
				s := pipeline.AddSource(g, "src", countSource(ins, -1), pipeline.Discard(ins.discard))
				fan := pipeline.AddTransform(g, "fan", s, pipeline.TransformFunc[int, int](
					func(ctx context.Context, v int, emit func(int) error) error {
						ins.consume(v)
						time.Sleep(time.Duration(v%7) * 100 * time.Microsecond)
						for j := range 5 {
							id := v*5 + j
							outs.produce(id)
							if err := emit(id); err != nil {
								outs.discard(id)
								return err
							}
						}
						return nil
					}), pipeline.Workers(3), pipeline.Ordered(), pipeline.Capacity(2), pipeline.Discard(outs.discard))
				var got []int
				pipeline.AddSink(g, "sink", fan, collect(outs, 300*time.Microsecond, &got))
				ctx, cancel := context.WithTimeout(context.Background(), after*time.Millisecond)
				defer cancel()
				if err := g.Run(ctx); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Run = %v", err)
				}
				ins.check(t)
				outs.check(t)
				for i := range got {
					if got[i] != i {
						t.Fatalf("output %d is %d: order lost", i, got[i])
					}
				}
			})
		})
	}
}

// TestOrderedErrorStress is the regression test for a lost-item bug the fuzzer found: workers were
// woken by the abort of a cancelled run before the context they watched reported the
// cancellation, so an ordered put returned a nil error for an item it had not taken. It repeats a
// run (3 ordered stages, fan-out 3, an error in the first stage) that lost items about once in a
// few hundred runs under load.
func TestOrderedErrorStress(t *testing.T) {
	runs := 300
	if testing.Short() {
		runs = 20
	}
	for range runs {
		synctest.Test(t, func(t *testing.T) {
			ins, outs := newLedger(180), newLedger(180*4)
			g := pipeline.New(pipeline.Config{StallTimeout: -1})
			s := pipeline.AddSource(g, "src", countSource(ins, 180), pipeline.Discard(ins.discard), pipeline.Capacity(2))
			opts := []pipeline.Option{pipeline.Workers(5), pipeline.Capacity(2), pipeline.Discard(outs.discard), pipeline.Ordered()}
			s = pipeline.AddTransform(g, "t0", s, pipeline.TransformFunc[int, int](func(ctx context.Context, v int, emit func(int) error) error {
				ins.consume(v)
				if v == 50 {
					return errBoom
				}
				for j := range 3 {
					outs.produce(v*4 + j)
					if err := emit(v*4 + j); err != nil {
						outs.discard(v*4 + j)
						return err
					}
				}
				return nil
			}), opts...)
			s = pipeline.AddTransform(g, "t1", s, pass(outs, 200*time.Microsecond), opts...)
			s = pipeline.AddTransform(g, "t2", s, pass(outs, 400*time.Microsecond), opts...)
			pipeline.AddSink(g, "sink", s, collect(outs, 0, nil))
			if err := g.Run(context.Background()); !errors.Is(err, errBoom) {
				t.Fatalf("Run = %v", err)
			}
			ins.check(t)
			outs.check(t)
		})
		if t.Failed() {
			return
		}
	}
}
