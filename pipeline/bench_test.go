package pipeline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sgdpipe/sgdpipe/pipeline"
)

// chainStages is the number of stages in the benchmarked chains: a source, three transforms, a sink.
const chainStages = 5

// runChain runs items ints through source -> 3 no-op transforms -> sink on the engine.
func runChain(items int) error {
	g := pipeline.New(pipeline.Config{StallTimeout: -1})
	s := pipeline.AddSource(g, "src", pipeline.SourceFunc[int](func(ctx context.Context, emit func(int) error) error {
		for i := range items {
			if err := emit(i); err != nil {
				return err
			}
		}
		return nil
	}))
	noop := pipeline.TransformFunc[int, int](func(ctx context.Context, v int, emit func(int) error) error { return emit(v) })
	for i := range chainStages - 2 {
		s = pipeline.AddTransform(g, fmt.Sprintf("t%d", i), s, noop)
	}
	sum := 0
	pipeline.AddSink(g, "sink", s, pipeline.SinkFunc[int](func(ctx context.Context, v int) error { sum += v; return nil }))
	err := g.Run(context.Background())
	if err == nil && sum != items*(items-1)/2 {
		err = fmt.Errorf("sum %d, want %d", sum, items*(items-1)/2)
	}
	return err
}

// runRefChain is the same chain written by hand: goroutines joined by channels of capacity 1.
func runRefChain(items int) error {
	ch := make(chan int, 1)
	go func(out chan<- int) {
		for i := range items {
			out <- i
		}
		close(out)
	}(ch)
	for range chainStages - 2 {
		in, out := ch, make(chan int, 1)
		go func(in <-chan int, out chan<- int) {
			for v := range in {
				out <- v
			}
			close(out)
		}(in, out)
		ch = out
	}
	sum := 0
	for v := range ch {
		sum += v
	}
	if sum != items*(items-1)/2 {
		return fmt.Errorf("sum %d, want %d", sum, items*(items-1)/2)
	}
	return nil
}

// runSelectChain is the hand-written chain as the Go blog's "Pipelines and cancellation" writes it:
// every send and receive also selects on ctx.Done(), which the engine's stages get for free.
func runSelectChain(items int) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := ctx.Done()
	ch := make(chan int, 1)
	go func(out chan<- int) {
		defer close(out)
		for i := range items {
			select {
			case out <- i:
			case <-done:
				return
			}
		}
	}(ch)
	for range chainStages - 2 {
		out := make(chan int, 1)
		go func(in <-chan int, out chan<- int) {
			defer close(out)
			for {
				var v int
				var ok bool
				select {
				case v, ok = <-in:
				case <-done:
					return
				}
				if !ok {
					return
				}
				select {
				case out <- v:
				case <-done:
					return
				}
			}
		}(ch, out)
		ch = out
	}
	sum := 0
	for v := range ch {
		sum += v
	}
	if sum != items*(items-1)/2 {
		return fmt.Errorf("sum %d, want %d", sum, items*(items-1)/2)
	}
	return nil
}

// BenchmarkChain measures the engine on a chain of 5 no-op stages against the hand-written channel
// chain in the same run. items=1 shows the fixed cost of building and running a graph; larger sizes
// the per-item cost. Metrics: ns/item and ns/item/stage for the engine; ref-ns/item for the plain
// reference (range and send, no cancellation) and x-vs-ref = engine time / its time (target <=
// 1.5); sel-ns/item and x-vs-selref for the reference that also selects on ctx.Done(). Each loop
// runs all three, interleaved, so machine load affects them alike; ns/op is their sum.
func BenchmarkChain(b *testing.B) {
	for _, items := range []int{1, 1 << 16} {
		b.Run(fmt.Sprintf("items=%d", items), func(b *testing.B) { benchChain(b, items) })
	}
}

func benchChain(b *testing.B, items int) {
	b.ReportAllocs()
	var eng, ref, sel time.Duration
	for b.Loop() {
		t := time.Now()
		if err := runChain(items); err != nil {
			b.Fatal(err)
		}
		eng += time.Since(t)
		t = time.Now()
		if err := runRefChain(items); err != nil {
			b.Fatal(err)
		}
		ref += time.Since(t)
		t = time.Now()
		if err := runSelectChain(items); err != nil {
			b.Fatal(err)
		}
		sel += time.Since(t)
	}
	n := float64(b.N) * float64(items)
	b.ReportMetric(float64(eng.Nanoseconds())/n, "ns/item")
	b.ReportMetric(float64(eng.Nanoseconds())/n/chainStages, "ns/item/stage")
	b.ReportMetric(float64(ref.Nanoseconds())/n, "ref-ns/item")
	b.ReportMetric(float64(sel.Nanoseconds())/n, "sel-ns/item")
	b.ReportMetric(float64(eng)/float64(ref), "x-vs-ref")
	b.ReportMetric(float64(eng)/float64(sel), "x-vs-selref")
}

// runWorkers runs items ints through source -> a transform with the given workers -> sink, the
// transform spinning for work iterations per item.
func runWorkers(items, workers, work int, ordered bool) error {
	g := pipeline.New(pipeline.Config{StallTimeout: -1})
	s := pipeline.AddSource(g, "src", pipeline.SourceFunc[int](func(ctx context.Context, emit func(int) error) error {
		for i := range items {
			if err := emit(i); err != nil {
				return err
			}
		}
		return nil
	}))
	opts := []pipeline.Option{pipeline.Workers(workers)}
	if ordered {
		opts = append(opts, pipeline.Ordered())
	}
	s = pipeline.AddTransform(g, "work", s, pipeline.TransformFunc[int, int](func(ctx context.Context, v int, emit func(int) error) error {
		x := v
		for range work {
			x = x*1103515245 + 12345
		}
		return emit(v + x - x)
	}), opts...)
	next := 0
	pipeline.AddSink(g, "sink", s, pipeline.SinkFunc[int](func(ctx context.Context, v int) error {
		if ordered && v != next {
			return fmt.Errorf("got %d, want %d", v, next)
		}
		next++
		return nil
	}))
	return g.Run(context.Background())
}

// BenchmarkOrdered measures an ordered transform with 4 workers against the same stage unordered,
// in the same run: ns/item for each, and x-vs-ref = ordered time / unordered time. work is the
// per-item work in multiply-add iterations (about 1 ns each).
func BenchmarkOrdered(b *testing.B) {
	for _, work := range []int{0, 1000} {
		b.Run(fmt.Sprintf("work=%d", work), func(b *testing.B) {
			const items = 1 << 14
			b.ReportAllocs()
			var ord, unord time.Duration
			for b.Loop() {
				t := time.Now()
				if err := runWorkers(items, 4, work, true); err != nil {
					b.Fatal(err)
				}
				ord += time.Since(t)
				t = time.Now()
				if err := runWorkers(items, 4, work, false); err != nil {
					b.Fatal(err)
				}
				unord += time.Since(t)
			}
			n := float64(b.N) * items
			b.ReportMetric(float64(ord.Nanoseconds())/n, "ordered-ns/item")
			b.ReportMetric(float64(unord.Nanoseconds())/n, "unordered-ns/item")
			b.ReportMetric(float64(ord)/float64(unord), "x-vs-ref")
		})
	}
}
