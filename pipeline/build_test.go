package pipeline_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sgdpipe/sgdpipe/pipeline"
)

var (
	nopSource    = pipeline.SourceFunc[int](func(ctx context.Context, emit func(int) error) error { return nil })
	nopTransform = pipeline.TransformFunc[int, int](func(ctx context.Context, v int, emit func(int) error) error { return emit(v) })
	nopSink      = pipeline.SinkFunc[int](func(ctx context.Context, v int) error { return nil })
)

// TestBuildErrors: misuse that may come from configuration is reported by Run, in one line naming
// the stage and the option, before anything starts.
func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name  string
		build func(g *pipeline.Graph)
		want  string
	}{
		{"unconsumed", func(g *pipeline.Graph) {
			pipeline.AddSource(g, "src", nopSource)
		}, `pipeline: the output of stage "src" is never consumed: pass its stream to AddTransform, AddSink, Broadcast, Route or Merge`},
		{"unconsumed-branch", func(g *pipeline.Graph) {
			outs := pipeline.Broadcast(g, "b", pipeline.AddSource(g, "src", nopSource), 2, nil)
			pipeline.AddSink(g, "sink", outs[0], nopSink)
		}, `pipeline: output 1 of broadcast "b" is never consumed`},
		{"workers-zero", func(g *pipeline.Graph) {
			s := pipeline.AddTransform(g, "t", pipeline.AddSource(g, "src", nopSource), nopTransform, pipeline.Workers(0))
			pipeline.AddSink(g, "sink", s, nopSink)
		}, `pipeline: stage "t": Workers(0): must be at least 1`},
		{"capacity-negative", func(g *pipeline.Graph) {
			pipeline.AddSink(g, "sink", pipeline.AddSource(g, "src", nopSource, pipeline.Capacity(-2)), nopSink)
		}, `pipeline: stage "src": Capacity(-2): must be at least 0`},
		{"workers-on-source", func(g *pipeline.Graph) {
			pipeline.AddSink(g, "sink", pipeline.AddSource(g, "src", nopSource, pipeline.Workers(2)), nopSink)
		}, `pipeline: stage "src": option Workers does not apply to a source`},
		{"ordered-on-sink", func(g *pipeline.Graph) {
			pipeline.AddSink(g, "sink", pipeline.AddSource(g, "src", nopSource), nopSink, pipeline.Workers(2), pipeline.Ordered())
		}, `pipeline: stage "sink": option Ordered does not apply to a sink`},
		{"capacity-on-sink", func(g *pipeline.Graph) {
			pipeline.AddSink(g, "sink", pipeline.AddSource(g, "src", nopSource), nopSink, pipeline.Capacity(3))
		}, `pipeline: stage "sink": option Capacity does not apply to a sink`},
		{"workers-on-merge", func(g *pipeline.Graph) {
			m := pipeline.Merge(g, "m", []*pipeline.Stream[int]{pipeline.AddSource(g, "src", nopSource)}, pipeline.Workers(2))
			pipeline.AddSink(g, "sink", m, nopSink)
		}, `pipeline: stage "m": option Workers does not apply to a merge`},
		{"discard-type", func(g *pipeline.Graph) {
			s := pipeline.AddSource(g, "src", nopSource, pipeline.Discard(func(string) {}))
			pipeline.AddSink(g, "sink", s, nopSink)
		}, `pipeline: stage "src": Discard hook is a func(string), but the stage emits int: use Discard[int]`},
		{"discard-nil", func(g *pipeline.Graph) {
			pipeline.AddSink(g, "sink", pipeline.AddSource(g, "src", nopSource, pipeline.Discard[int](nil)), nopSink)
		}, `pipeline: stage "src": Discard(nil): give a hook, or leave the option out`},
		{"zero-option", func(g *pipeline.Graph) {
			pipeline.AddSink(g, "sink", pipeline.AddSource(g, "src", nopSource, pipeline.Option{}), nopSink)
		}, `pipeline: stage "src": a zero Option`},
		{"duplicate-name", func(g *pipeline.Graph) {
			s := pipeline.AddTransform(g, "x", pipeline.AddSource(g, "x", nopSource), nopTransform)
			pipeline.AddSink(g, "sink", s, nopSink)
		}, `pipeline: two stages are named "x": stage names must be unique`},
		{"empty-name", func(g *pipeline.Graph) {
			pipeline.AddSink(g, "sink", pipeline.AddSource(g, "", nopSource), nopSink)
		}, `pipeline: a source has an empty name`},
		{"broadcast-zero", func(g *pipeline.Graph) {
			pipeline.Broadcast(g, "b", pipeline.AddSource(g, "src", nopSource), 0, nil)
		}, `pipeline: stage "b": broadcast needs n >= 1 consumers, got 0`},
		{"route-negative", func(g *pipeline.Graph) {
			pipeline.Route(g, "r", pipeline.AddSource(g, "src", nopSource), -1, func(int) int { return 0 })
		}, `pipeline: stage "r": route needs n >= 1 consumers, got -1`},
		{"merge-empty", func(g *pipeline.Graph) {
			pipeline.AddSink(g, "sink", pipeline.Merge[int](g, "m", nil), nopSink)
		}, `pipeline: stage "m": Merge needs at least one input stream`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := pipeline.New(pipeline.Config{})
			tt.build(g)
			err := g.Run(context.Background())
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("Run = %v\nwant prefix %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
			if r := g.Report(); r.Elapsed != 0 {
				t.Errorf("graph ran after a build error: %+v", r)
			}
		})
	}
}

// TestBuildPanics: structural programmer errors panic at build time with a fixed message.
func TestBuildPanics(t *testing.T) {
	tests := []struct {
		name  string
		build func(g, other *pipeline.Graph)
		want  string
	}{
		{"consumed-twice", func(g, _ *pipeline.Graph) {
			s := pipeline.AddSource(g, "src", nopSource)
			pipeline.AddSink(g, "a", s, nopSink)
			pipeline.AddSink(g, "b", s, nopSink)
		}, "pipeline: stream consumed twice"},
		{"other-graph", func(g, other *pipeline.Graph) {
			pipeline.AddSink(other, "a", pipeline.AddSource(g, "src", nopSource), nopSink)
		}, "pipeline: stream from another graph"},
		{"nil-stream", func(g, _ *pipeline.Graph) {
			pipeline.AddSink(g, "a", nil, nopSink)
		}, "pipeline: nil stream"},
		{"nil-source", func(g, _ *pipeline.Graph) {
			pipeline.AddSource[int](g, "src", nil)
		}, "pipeline: AddSource: nil source"},
		{"nil-transform", func(g, _ *pipeline.Graph) {
			pipeline.AddTransform[int, int](g, "t", pipeline.AddSource(g, "src", nopSource), nil)
		}, "pipeline: AddTransform: nil transform"},
		{"nil-sink", func(g, _ *pipeline.Graph) {
			pipeline.AddSink[int](g, "t", pipeline.AddSource(g, "src", nopSource), nil)
		}, "pipeline: AddSink: nil sink"},
		{"nil-pick", func(g, _ *pipeline.Graph) {
			pipeline.Route(g, "r", pipeline.AddSource(g, "src", nopSource), 2, nil)
		}, "pipeline: Route: nil pick"},
		{"after-run", func(g, _ *pipeline.Graph) {
			pipeline.AddSink(g, "sink", pipeline.AddSource(g, "src", nopSource), nopSink)
			if err := g.Run(context.Background()); err != nil {
				panic(err)
			}
			pipeline.AddSource(g, "late", nopSource)
		}, "pipeline: stage added after Run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != tt.want {
					t.Errorf("panic %v, want %q", r, tt.want)
				}
			}()
			tt.build(pipeline.New(pipeline.Config{}), pipeline.New(pipeline.Config{}))
		})
	}
}

func TestRunTwice(t *testing.T) {
	g := pipeline.New(pipeline.Config{})
	pipeline.AddSink(g, "sink", pipeline.AddSource(g, "src", nopSource), nopSink)
	if err := g.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := g.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "Run called twice") {
		t.Fatalf("second Run = %v", err)
	}
}

func TestEmptyGraph(t *testing.T) {
	if err := pipeline.New(pipeline.Config{}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}
