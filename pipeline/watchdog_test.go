package pipeline_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sgdpipe/sgdpipe/pipeline"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// blockForever is a stage that blocks on its 5th item until the graph is cancelled.
func blockForever(l *ledger) pipeline.Transform[int, int] {
	return pipeline.TransformFunc[int, int](func(ctx context.Context, v int, emit func(int) error) error {
		if v == 5 {
			l.discard(v)
			waitForCancel(ctx)
			return ctx.Err()
		}
		if err := emit(v); err != nil {
			l.discard(v)
			return err
		}
		return nil
	})
}

// waitForCancel is a named function so the stall report's stacks can be checked for it.
func waitForCancel(ctx context.Context) { <-ctx.Done() }

// TestWatchdog: a stage that blocks forever is named in the stall report within the timeout (plus
// the watchdog's sampling period, a tenth of it), with its stack; the report comes once.
func TestWatchdog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const timeout = 10 * time.Second
		l := newLedger(1 << 20)
		reports := make(chan pipeline.StallReport, 10)
		core, logs := observer.New(zap.WarnLevel)
		g := pipeline.New(pipeline.Config{
			Logger:       zap.New(core),
			StallTimeout: timeout,
			OnStall:      func(r pipeline.StallReport) { reports <- r },
		})
		s := pipeline.AddSource(g, "src", countSource(l, -1), pipeline.Discard(l.discard))
		s = pipeline.AddTransform(g, "before", s, pass(l, 0), pipeline.Discard(l.discard))
		s = pipeline.AddTransform(g, "stuck", s, blockForever(l), pipeline.Discard(l.discard))
		s = pipeline.AddTransform(g, "after", s, pass(l, 0), pipeline.Workers(2))
		pipeline.AddSink(g, "sink", s, collect(l, 0, nil))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		start := time.Now()
		go func() { done <- g.Run(ctx) }()

		var rep pipeline.StallReport
		select {
		case rep = <-reports:
		case err := <-done:
			t.Fatalf("Run returned %v before any stall report", err)
		}
		if at := time.Since(start); at < timeout || at > timeout+timeout/10 {
			t.Errorf("stall reported after %v, want within [%v, %v]", at, timeout, timeout+timeout/10)
		}
		if rep.Idle < timeout {
			t.Errorf("Idle %v < timeout %v", rep.Idle, timeout)
		}
		if !slices.Equal(rep.Suspects, []string{"stuck"}) {
			t.Errorf("suspects %v, want [stuck]", rep.Suspects)
		}
		if !slices.Contains(rep.Holding, "stuck") || !slices.Contains(rep.Holding, "before") {
			t.Errorf("holding %v, want stuck (processing) and before (waiting to emit)", rep.Holding)
		}
		if !strings.Contains(rep.Stacks, "waitForCancel") || !strings.Contains(rep.Stacks, `"stage":"stuck"`) {
			t.Errorf("stacks do not show the stuck stage's goroutine:\n%s", rep.Stacks)
		}
		if strings.Contains(rep.Stacks, `"stage":"after"`) {
			t.Errorf("stacks include a stage that is not suspect:\n%s", rep.Stacks)
		}
		full, empty := false, false
		for _, e := range rep.Edges {
			full = full || (e.To == "stuck" && e.Len == e.Cap)
			empty = empty || (e.From == "stuck" && e.Len == 0)
		}
		if !full || !empty {
			t.Errorf("edges %+v: want the edge into stuck full and the one out of it empty", rep.Edges)
		}
		str := rep.String()
		if !strings.Contains(str, `suspect stage(s): "stuck"`) || !strings.Contains(str, "waitForCancel") {
			t.Errorf("report text:\n%s", str)
		}
		if n := logs.FilterMessage("pipeline: stall: no stage made progress").Len(); n != 1 {
			t.Errorf("%d stall log entries, want 1", n)
		}

		time.Sleep(5 * timeout)
		select {
		case r := <-reports:
			t.Errorf("second report for the same stall: %v", r.Suspects)
		default:
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
		l.check(t)
	})
}

// TestWatchdogQuiet: a slow but steady pipeline, and a disabled watchdog, report nothing.
func TestWatchdogQuiet(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		sleep   time.Duration
	}{
		{"steady", time.Second, 900 * time.Millisecond},
		{"disabled", -1, 10 * time.Second},
		{"default", 0, 50 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLedger(10)
				var stalls counter
				g := pipeline.New(pipeline.Config{StallTimeout: tt.timeout, OnStall: func(pipeline.StallReport) { stalls.inc() }})
				s := pipeline.AddSource(g, "src", countSource(l, 10))
				s = pipeline.AddTransform(g, "slow", s, pass(l, tt.sleep))
				pipeline.AddSink(g, "sink", s, collect(l, 0, nil))
				if err := g.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				if stalls.get() != 0 {
					t.Errorf("%d stall reports for a pipeline that progresses", stalls.get())
				}
			})
		})
	}
}

// TestWatchdogOrderedHolding: items buffered in ordered slots make the stage a holder.
func TestWatchdogOrderedHolding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLedger(1 << 20)
		reports := make(chan pipeline.StallReport, 1)
		g := pipeline.New(pipeline.Config{StallTimeout: time.Second, OnStall: func(r pipeline.StallReport) { reports <- r }})
		s := pipeline.AddSource(g, "src", countSource(l, -1), pipeline.Discard(l.discard))
		s = pipeline.AddTransform(g, "ordered", s, pass(l, 0), pipeline.Workers(3), pipeline.Ordered(), pipeline.Discard(l.discard))
		s = pipeline.AddTransform(g, "stuck", s, blockForever(l), pipeline.Discard(l.discard))
		pipeline.AddSink(g, "sink", s, collect(l, 0, nil))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- g.Run(ctx) }()
		rep := <-reports
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		if !slices.Contains(rep.Holding, "ordered") || !slices.Equal(rep.Suspects, []string{"stuck"}) {
			t.Errorf("holding %v suspects %v", rep.Holding, rep.Suspects)
		}
		l.check(t)
	})
}

// TestOnStallPanic: a panicking OnStall is logged, not fatal.
func TestOnStallPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLedger(1 << 20)
		core, logs := observer.New(zap.ErrorLevel)
		g := pipeline.New(pipeline.Config{Logger: zap.New(core), StallTimeout: time.Second,
			OnStall: func(pipeline.StallReport) { panic("in OnStall") }})
		s := pipeline.AddSource(g, "src", countSource(l, -1), pipeline.Discard(l.discard))
		s = pipeline.AddTransform(g, "stuck", s, blockForever(l))
		pipeline.AddSink(g, "sink", s, collect(l, 0, nil))
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := g.Run(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatal(err)
		}
		if logs.FilterMessage("pipeline: OnStall panicked").Len() != 1 {
			t.Error("OnStall's panic was not logged")
		}
		l.check(t)
	})
}
