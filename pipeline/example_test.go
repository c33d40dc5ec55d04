package pipeline_test

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sgdpipe/sgdpipe/pipeline"
)

// A custom three-stage pipeline: a source of lines, a transform that splits them into words on four
// workers (Ordered keeps the input order), and a sink that collects them. Stages never touch channels: they
// call emit, and the engine does the rest.
func Example() {
	lines := []string{"the quick brown fox", "jumps over", "the lazy dog"}

	g := pipeline.New(pipeline.Config{})
	src := pipeline.AddSource(g, "lines", pipeline.SourceFunc[string](func(ctx context.Context, emit func(string) error) error {
		for _, l := range lines {
			if err := emit(l); err != nil {
				return err // cancelled: stop producing
			}
		}
		return nil
	}))
	words := pipeline.AddTransform(g, "split", src, pipeline.TransformFunc[string, string](
		func(ctx context.Context, line string, emit func(string) error) error {
			for _, w := range strings.Fields(line) {
				if err := emit(strings.ToUpper(w)); err != nil {
					return err
				}
			}
			return nil
		}), pipeline.Workers(4), pipeline.Ordered())
	var out []string
	pipeline.AddSink(g, "collect", words, pipeline.SinkFunc[string](func(ctx context.Context, w string) error {
		out = append(out, w)
		return nil
	}))

	if err := g.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	fmt.Println(strings.Join(out, " "))
	r := g.Report()
	fmt.Println(r.Stages[1].Name, "in:", r.Stages[1].In, "out:", r.Stages[1].Out)
	// Output:
	// THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG
	// split in: 3 out: 9
}

// Broadcast sends every item to several branches; Merge joins them again, in arrival order.
func ExampleBroadcast() {
	g := pipeline.New(pipeline.Config{})
	nums := pipeline.AddSource(g, "nums", pipeline.SourceFunc[int](func(ctx context.Context, emit func(int) error) error {
		for i := 1; i <= 3; i++ {
			if err := emit(i); err != nil {
				return err
			}
		}
		return nil
	}))
	// share would take extra references of a reference-counted item (Arrow: Retain n-1 times).
	branches := pipeline.Broadcast(g, "fan", nums, 2, nil)
	square := pipeline.AddTransform(g, "square", branches[0], pipeline.TransformFunc[int, string](
		func(ctx context.Context, v int, emit func(string) error) error {
			return emit(fmt.Sprintf("%d^2=%d", v, v*v))
		}))
	negate := pipeline.AddTransform(g, "negate", branches[1], pipeline.TransformFunc[int, string](
		func(ctx context.Context, v int, emit func(string) error) error {
			return emit(fmt.Sprintf("-%d=%d", v, -v))
		}))
	all := pipeline.Merge(g, "join", []*pipeline.Stream[string]{square, negate})
	var got []string
	pipeline.AddSink(g, "collect", all, pipeline.SinkFunc[string](func(ctx context.Context, s string) error {
		got = append(got, s)
		return nil
	}))
	if err := g.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	slices.Sort(got) // Merge interleaves in arrival order
	fmt.Println(strings.Join(got, " "))
	// Output:
	// -1=-1 -2=-2 -3=-3 1^2=1 2^2=4 3^2=9
}

// Route sends each item to exactly one branch.
func ExampleRoute() {
	g := pipeline.New(pipeline.Config{})
	nums := pipeline.AddSource(g, "nums", pipeline.SourceFunc[int](func(ctx context.Context, emit func(int) error) error {
		for i := range 6 {
			if err := emit(i); err != nil {
				return err
			}
		}
		return nil
	}))
	parity := pipeline.Route(g, "parity", nums, 2, func(v int) int { return v % 2 })
	var even, odd []int
	pipeline.AddSink(g, "even", parity[0], pipeline.SinkFunc[int](func(ctx context.Context, v int) error { even = append(even, v); return nil }))
	pipeline.AddSink(g, "odd", parity[1], pipeline.SinkFunc[int](func(ctx context.Context, v int) error { odd = append(odd, v); return nil }))
	if err := g.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	fmt.Println(even, odd)
	// Output:
	// [0 2 4] [1 3 5]
}

// batcher is an Accumulator: it groups items into batches of size and flushes the partial last one.
type batcher struct {
	size int
	cur  []int
}

func (b *batcher) Process(ctx context.Context, v int, emit func([]int) error) error {
	b.cur = append(b.cur, v)
	if len(b.cur) < b.size {
		return nil
	}
	full := b.cur
	b.cur = nil
	return emit(full)
}

func (b *batcher) Flush(ctx context.Context, emit func([]int) error) error {
	if len(b.cur) == 0 {
		return nil
	}
	return emit(b.cur)
}

// An Accumulator's Flush runs once per worker at the end of its input, here to emit the partial
// last batch.
func ExampleAccumulator() {
	g := pipeline.New(pipeline.Config{})
	nums := pipeline.AddSource(g, "nums", pipeline.SourceFunc[int](func(ctx context.Context, emit func(int) error) error {
		for i := range 7 {
			if err := emit(i); err != nil {
				return err
			}
		}
		return nil
	}))
	batches := pipeline.AddTransform(g, "batch", nums, pipeline.Transform[int, []int](&batcher{size: 3}))
	pipeline.AddSink(g, "print", batches, pipeline.SinkFunc[[]int](func(ctx context.Context, b []int) error {
		fmt.Println(b)
		return nil
	}))
	if err := g.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// [0 1 2]
	// [3 4 5]
	// [6]
}

// Errors name the stage they come from; the first one wins and cancels the rest.
func ExampleGraph_Run() {
	g := pipeline.New(pipeline.Config{})
	nums := pipeline.AddSource(g, "nums", pipeline.SourceFunc[int](func(ctx context.Context, emit func(int) error) error {
		for i := 0; ; i++ {
			if err := emit(i); err != nil {
				return err
			}
		}
	}))
	pipeline.AddSink(g, "check", nums, pipeline.SinkFunc[int](func(ctx context.Context, v int) error {
		if v == 3 {
			return fmt.Errorf("value %d out of range [0, 3)", v)
		}
		return nil
	}))
	fmt.Println(g.Run(context.Background()))
	// Output:
	// stage "check": value 3 out of range [0, 3)
}
