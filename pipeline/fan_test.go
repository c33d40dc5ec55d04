package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sgdpipe/sgdpipe/pipeline"
)

// refItem is a reference-counted item, as an Arrow record is: share takes n-1 extra references and
// each consumer or discard releases one.
type refItem struct {
	id   int
	refs atomic.Int32
}

// refs tracks every refItem of a test.
type refs struct {
	mu       sync.Mutex
	items    []*refItem
	problems []string
}

func (r *refs) make(id int) *refItem {
	it := &refItem{id: id}
	it.refs.Store(1)
	r.mu.Lock()
	r.items = append(r.items, it)
	r.mu.Unlock()
	return it
}

func (r *refs) release(it *refItem) {
	if n := it.refs.Add(-1); n < 0 {
		r.mu.Lock()
		r.problems = append(r.problems, fmt.Sprintf("item %d released once too often", it.id))
		r.mu.Unlock()
	}
}

func (r *refs) check(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.problems[:min(5, len(r.problems))] {
		t.Error(p)
	}
	for _, it := range r.items {
		if n := it.refs.Load(); n != 0 {
			t.Errorf("item %d has %d references left", it.id, n)
			return
		}
	}
}

// TestBroadcastMerge sends every item to three branches, merges them and checks each branch saw
// each item once, with reference counts balanced, including when the run is cancelled midway.
func TestBroadcastMerge(t *testing.T) {
	for _, cancelAfter := range []time.Duration{0, 5 * time.Millisecond} {
		t.Run(fmt.Sprint(cancelAfter), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const items = 200
				var r refs
				var shares atomic.Int64
				g := pipeline.New(pipeline.Config{})
				src := pipeline.AddSource(g, "src", pipeline.SourceFunc[*refItem](func(ctx context.Context, emit func(*refItem) error) error {
					for i := range items {
						it := r.make(i)
						if err := emit(it); err != nil {
							r.release(it)
							return err
						}
					}
					return nil
				}), pipeline.Discard(r.release))
				share := func(it *refItem, n int) {
					shares.Add(1)
					it.refs.Add(int32(n - 1))
				}
				branches := pipeline.Broadcast(g, "bcast", src, 3, share, pipeline.Capacity(2))
				tagged := make([]*pipeline.Stream[string], len(branches))
				for b, br := range branches {
					tagged[b] = pipeline.AddTransform(g, fmt.Sprintf("branch%d", b), br,
						pipeline.TransformFunc[*refItem, string](func(ctx context.Context, it *refItem, emit func(string) error) error {
							time.Sleep(time.Duration(b+1) * 100 * time.Microsecond)
							defer r.release(it)
							return emit(fmt.Sprintf("%d:%d", b, it.id))
						}))
				}
				merged := pipeline.Merge(g, "merge", tagged)
				seen := map[string]int{}
				pipeline.AddSink(g, "sink", merged, pipeline.SinkFunc[string](func(ctx context.Context, s string) error {
					seen[s]++
					return nil
				}))
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if cancelAfter > 0 {
					time.AfterFunc(cancelAfter, cancel)
				}
				err := g.Run(ctx)
				r.check(t)
				if cancelAfter > 0 {
					if !errors.Is(err, context.Canceled) {
						t.Fatalf("Run = %v, want context.Canceled", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if shares.Load() != items {
					t.Errorf("share called %d times, want once per item (%d)", shares.Load(), items)
				}
				if len(seen) != 3*items {
					t.Errorf("sink saw %d distinct items, want %d", len(seen), 3*items)
				}
				for k, n := range seen {
					if n != 1 {
						t.Errorf("%s seen %d times", k, n)
					}
				}
				rep := g.Report()
				if st := rep.Stages[1]; st.Name != "bcast" || st.In != items || st.Out != 3*items {
					t.Errorf("broadcast stats %+v, want in %d out %d", st, items, 3*items)
				}
			})
		})
	}
}

// TestRoute sends each item to the branch pick chooses; an index out of range is an error naming the
// stage, and the item goes to the Discard hook.
func TestRoute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLedger(100)
		g := pipeline.New(pipeline.Config{})
		s := pipeline.AddSource(g, "src", countSource(l, 100))
		outs := pipeline.Route(g, "route", s, 3, func(v int) int { return v % 3 }, pipeline.Workers(2))
		got := make([][]int, 3)
		for i, o := range outs {
			pipeline.AddSink(g, fmt.Sprintf("sink%d", i), o, collect(l, 0, &got[i]))
		}
		if err := g.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		l.check(t)
		for i, vs := range got {
			if len(vs) != 34-boolInt(i > 0) {
				t.Errorf("branch %d got %d items", i, len(vs))
			}
			for _, v := range vs {
				if v%3 != i {
					t.Errorf("item %d went to branch %d", v, i)
				}
			}
		}
	})
	synctest.Test(t, func(t *testing.T) {
		l := newLedger(100)
		g := pipeline.New(pipeline.Config{})
		s := pipeline.AddSource(g, "src", countSource(l, 100), pipeline.Discard(l.discard))
		outs := pipeline.Route(g, "route", s, 2, func(v int) int { return v - 10 })
		pipeline.AddSink(g, "a", outs[0], collect(l, 0, nil))
		pipeline.AddSink(g, "b", outs[1], collect(l, 0, nil))
		err := g.Run(context.Background())
		want := `stage "route": pick returned -10 for an item; it must return an index in [0, 2)`
		if err == nil || err.Error() != want {
			t.Fatalf("Run = %v, want %s", err, want)
		}
		l.check(t)
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestMergeInheritsDiscard: Merge hands undelivered items to its first input's hook by default.
func TestMergeInheritsDiscard(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		la, lb := newLedger(1<<20), newLedger(1<<20)
		g := pipeline.New(pipeline.Config{})
		a := pipeline.AddSource(g, "a", countSource(la, -1), pipeline.Discard(la.discard))
		b := pipeline.AddSource(g, "b", pipeline.SourceFunc[int](func(ctx context.Context, emit func(int) error) error {
			<-ctx.Done()
			return ctx.Err()
		}))
		m := pipeline.Merge(g, "merge", []*pipeline.Stream[int]{a, b}, pipeline.Capacity(5))
		pipeline.AddSink(g, "sink", m, pipeline.SinkFunc[int](func(ctx context.Context, v int) error {
			time.Sleep(time.Millisecond)
			la.consume(v)
			if v == 10 {
				return errBoom
			}
			return nil
		}))
		if err := g.Run(context.Background()); !errors.Is(err, errBoom) {
			t.Fatalf("Run = %v, want errBoom", err)
		}
		la.check(t)
		lb.check(t)
		if _, _, d := la.counts(); d < 5 {
			t.Errorf("only %d items discarded; the merge's output edge (capacity 5) was full", d)
		}
	})
}

// TestSinkError stops the graph with the sink's error.
func TestSinkError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLedger(1 << 20)
		g := pipeline.New(pipeline.Config{})
		s := pipeline.AddSource(g, "src", countSource(l, -1), pipeline.Discard(l.discard))
		pipeline.AddSink(g, "sink", s, pipeline.SinkFunc[int](func(ctx context.Context, v int) error {
			l.consume(v)
			if v == 3 {
				return fmt.Errorf("write row %d: %w", v, errBoom)
			}
			return nil
		}), pipeline.Workers(2))
		err := g.Run(context.Background())
		if err == nil || !strings.HasPrefix(err.Error(), `stage "sink": write row 3`) {
			t.Fatalf("Run = %v", err)
		}
		l.check(t)
	})
}

// TestReportWhileRunning reads the report from another goroutine during the run (for -race).
func TestReportWhileRunning(t *testing.T) {
	l := newLedger(20000)
	g := pipeline.New(pipeline.Config{})
	s := pipeline.AddSource(g, "src", countSource(l, 20000))
	s = pipeline.AddTransform(g, "t", s, pass(l, 0), pipeline.Workers(2), pipeline.Ordered())
	pipeline.AddSink(g, "sink", s, collect(l, 0, nil))
	done := make(chan struct{})
	var reports int
	go func() {
		defer close(done)
		for l.consumedCount() < 20000 {
			_ = g.Report().String()
			reports++
			time.Sleep(100 * time.Microsecond)
		}
	}()
	if err := g.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("reporter did not finish")
	}
	l.check(t)
	rep := g.Report()
	names := []string{}
	for _, s := range rep.Stages {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{"src", "t", "sink"}) {
		t.Errorf("stages %v", names)
	}
	if rep.Stages[1].In != 20000 || rep.Stages[1].Out != 20000 || rep.Stages[0].Out != 20000 || rep.Stages[2].In != 20000 {
		t.Errorf("counts %+v", rep.Stages)
	}
}

func (l *ledger) consumedCount() int {
	_, c, _ := l.counts()
	return c
}
