package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sgdpipe/sgdpipe/pipeline"
)

// TestBottleneck: the stage that sleeps per item is named the bottleneck, with the highest busy
// fraction; the stages before it are mostly blocked, those after it mostly starved.
func TestBottleneck(t *testing.T) {
	for _, workers := range []int{1, 3} {
		synctest.Test(t, func(t *testing.T) {
			const items = 300
			l := newLedger(items)
			g := pipeline.New(pipeline.Config{})
			s := pipeline.AddSource(g, "src", countSource(l, items))
			s = pipeline.AddTransform(g, "before", s, pass(l, 100*time.Microsecond))
			s = pipeline.AddTransform(g, "slow", s, pass(l, time.Millisecond), pipeline.Workers(workers))
			s = pipeline.AddTransform(g, "after", s, pass(l, 50*time.Microsecond), pipeline.Capacity(4))
			pipeline.AddSink(g, "sink", s, collect(l, 0, nil))
			if r := g.Report(); r.Bottleneck != "" || r.Elapsed != 0 || len(r.Stages) != 5 {
				t.Errorf("report before Run: %+v", r)
			}
			if err := g.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			r := g.Report()
			if r.Bottleneck != "slow" {
				t.Fatalf("bottleneck %q, want \"slow\"\n%v", r.Bottleneck, r)
			}
			byName := map[string]pipeline.StageStats{}
			for _, s := range r.Stages {
				byName[s.Name] = s
			}
			for _, s := range r.Stages {
				if s.Name != "slow" && s.BusyFraction >= byName["slow"].BusyFraction {
					t.Errorf("%s busy %.3f >= slow's %.3f", s.Name, s.BusyFraction, byName["slow"].BusyFraction)
				}
				total := s.Busy + s.Starved + s.Blocked
				// Early stages finish a few items before the end: allow 5%.
				if want := time.Duration(s.Workers) * r.Elapsed; total > want || total < want*95/100 {
					t.Errorf("%s: busy+starved+blocked = %v, want about workers*elapsed = %v", s.Name, total, want)
				}
			}
			want := time.Duration(items) * time.Millisecond / time.Duration(workers)
			if r.Elapsed < want || r.Elapsed > want*11/10 {
				t.Errorf("elapsed %v, want about %v", r.Elapsed, want)
			}
			if f := byName["slow"].BusyFraction; f < 0.95 {
				t.Errorf("slow busy fraction %.3f, want > 0.95", f)
			}
			if b := byName["before"]; b.Blocked < b.Busy || b.Blocked < b.Starved {
				t.Errorf("stage before the bottleneck should be mostly blocked: %+v", b)
			}
			if a := byName["after"]; a.Starved < a.Busy || a.Starved < a.Blocked {
				t.Errorf("stage after the bottleneck should be mostly starved: %+v", a)
			}
			if e := r.Edges[1]; e.From != "before" || e.To != "slow" || e.MeanOccupancy < 0.5 {
				t.Errorf("edge into the bottleneck should be full: %+v", e)
			}
			if e := r.Edges[2]; e.From != "slow" || e.To != "after" || e.Cap != 1 || e.MeanOccupancy > 0.1 {
				t.Errorf("edge out of the bottleneck should be empty: %+v", e)
			}
			str := r.String()
			for _, want := range []string{`bottleneck: "slow" (transform, busy`, "before -> slow", "stage", "starved"} {
				if !strings.Contains(str, want) {
					t.Errorf("report text lacks %q:\n%s", want, str)
				}
			}
		})
	}
}

// TestLiveReport: the report counts waits in progress, so a stage stuck waiting shows as starved.
func TestLiveReport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := pipeline.New(pipeline.Config{StallTimeout: -1})
		s := pipeline.AddSource(g, "src", pipeline.SourceFunc[int](func(ctx context.Context, emit func(int) error) error {
			time.Sleep(time.Second) // busy producing
			return emit(1)
		}))
		pipeline.AddSink(g, "sink", s, pipeline.SinkFunc[int](func(ctx context.Context, v int) error { return nil }))
		done := make(chan error)
		go func() { done <- g.Run(context.Background()) }()
		time.Sleep(500 * time.Millisecond)
		synctest.Wait()
		r := g.Report()
		if r.Elapsed != 500*time.Millisecond {
			t.Errorf("elapsed %v while running, want 500ms", r.Elapsed)
		}
		if src, sink := r.Stages[0], r.Stages[1]; src.Busy != 500*time.Millisecond || sink.Starved != 500*time.Millisecond {
			t.Errorf("live stats: src busy %v, sink starved %v; want 500ms each", src.Busy, sink.Starved)
		}
		if r.Bottleneck != "src" {
			t.Errorf("bottleneck %q, want src", r.Bottleneck)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if r := g.Report(); r.Elapsed != time.Second || r.Stages[1].In != 1 {
			t.Errorf("final report %+v", r)
		}
	})
}

func TestReportStringEmpty(t *testing.T) {
	g := pipeline.New(pipeline.Config{})
	s := pipeline.AddSource(g, "src", pipeline.SourceFunc[int](func(ctx context.Context, emit func(int) error) error { return nil }))
	pipeline.AddSink(g, "sink", s, pipeline.SinkFunc[int](func(ctx context.Context, v int) error { return nil }))
	str := g.Report().String()
	if !strings.Contains(str, "bottleneck: none") || !strings.Contains(str, "src -> sink") {
		t.Errorf("report before Run:\n%s", str)
	}
}
