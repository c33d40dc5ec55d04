package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sgdpipe/sgdpipe/pipeline"
)

// FuzzGraph builds a graph from fuzzed parameters (chain length, workers, capacities, ordering,
// fan-out, an error or a cancellation at some point, per-item delays, and optionally a Route into
// three branches merged back) and checks the engine's invariants: every item is consumed or discarded exactly once, ordered stages keep the order,
// the first error is the injected one, and every goroutine exits (goleak in TestMain).
func FuzzGraph(f *testing.F) {
	f.Add(uint8(3), uint8(1), uint8(1), false, uint8(0), uint16(100), int16(-1), uint16(0), uint8(0))
	f.Add(uint8(5), uint8(4), uint8(0), true, uint8(3), uint16(300), int16(50), uint16(0), uint8(7))
	f.Add(uint8(1), uint8(8), uint8(2), true, uint8(1), uint16(1000), int16(-1), uint16(5), uint8(3))
	f.Add(uint8(8), uint8(2), uint8(3), false, uint8(2), uint16(50), int16(10), uint16(2), uint8(255))
	f.Fuzz(func(t *testing.T, stages, workers, capacity uint8, ordered bool, fanout uint8, items uint16,
		failAt int16, cancelMs uint16, delaySeed uint8) {
		nStages := int(stages%8) + 1
		nWorkers := int(workers%8) + 1
		cp := int(capacity % 4)
		nFan := int(fanout % 4)
		nItems := int(items % 2000)
		synctest.Test(t, func(t *testing.T) {
			// Item ids: a source item i becomes i*4^k+j after k fan-out stages; keep ids in range by
			// fanning out in the first stage only.
			ins := newLedger(nItems)
			outs := newLedger(max(nItems, 1) * 4)
			g := pipeline.New(pipeline.Config{StallTimeout: -1})
			s := pipeline.AddSource(g, "src", countSource(ins, nItems), pipeline.Discard(ins.discard), pipeline.Capacity(cp))
			first := pipeline.TransformFunc[int, int](func(ctx context.Context, v int, emit func(int) error) error {
				ins.consume(v)
				if int(failAt) == v {
					return fmt.Errorf("item %d: %w", v, errBoom)
				}
				for j := range nFan {
					id := v*4 + j
					outs.produce(id)
					if err := emit(id); err != nil {
						outs.discard(id)
						return err
					}
				}
				return nil
			})
			opts := func() []pipeline.Option {
				o := []pipeline.Option{pipeline.Workers(nWorkers), pipeline.Capacity(cp), pipeline.Discard(outs.discard)}
				if ordered {
					o = append(o, pipeline.Ordered())
				}
				return o
			}
			s = pipeline.AddTransform(g, "t0", s, first, opts()...)
			for k := 1; k < nStages; k++ {
				d := time.Duration((int(delaySeed)*k)%5) * 100 * time.Microsecond
				s = pipeline.AddTransform(g, fmt.Sprintf("t%d", k), s, pass(outs, d), opts()...)
			}
			routed := delaySeed%2 == 1
			if routed {
				branches := pipeline.Route(g, "route", s, 3, func(v int) int { return v % 3 }, pipeline.Capacity(cp))
				for b := range branches {
					branches[b] = pipeline.AddTransform(g, fmt.Sprintf("branch%d", b), branches[b],
						pass(outs, time.Duration(b)*100*time.Microsecond), opts()...)
				}
				s = pipeline.Merge(g, "merge", branches, pipeline.Capacity(cp))
			}
			var got []int
			pipeline.AddSink(g, "sink", s, collect(outs, 0, &got))

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if cancelMs > 0 {
				time.AfterFunc(time.Duration(cancelMs)*time.Millisecond, cancel)
			}
			err := g.Run(ctx)
			ins.check(t)
			outs.check(t)
			failed := failAt >= 0 && int(failAt) < nItems
			switch {
			case err == nil:
				if failed {
					t.Fatalf("Run = nil, want the error injected at item %d", failAt)
				}
				if len(got) != nItems*nFan {
					t.Fatalf("sink got %d items, want %d", len(got), nItems*nFan)
				}
			case errors.Is(err, errBoom):
				if want := fmt.Sprintf(`stage "t0": item %d: boom`, failAt); err.Error() != want {
					t.Fatalf("Run = %v, want %s", err, want)
				}
			case errors.Is(err, context.Canceled):
				if cancelMs == 0 {
					t.Fatalf("Run = %v without a cancellation", err)
				}
			default:
				t.Fatalf("Run = %v", err)
			}
			if !routed && (ordered || nWorkers == 1) {
				for i := 1; i < len(got); i++ {
					if got[i] <= got[i-1] {
						t.Fatalf("ordered output %d is %d after %d", i, got[i], got[i-1])
					}
				}
			}
		})
	})
}
