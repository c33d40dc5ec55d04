package stages

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sgdpipe/sgdpipe/pipeline"
)

func TestHint(t *testing.T) {
	cores := runtime.GOMAXPROCS(0)
	report := func(bottleneck string, workers int) pipeline.Report {
		return pipeline.Report{Bottleneck: bottleneck, Stages: []pipeline.StageStats{
			{Name: "read", Workers: 2, BusyFraction: 0.9, Busy: 900 * time.Millisecond},
			{Name: "compute", Workers: workers, BusyFraction: 0.8, Busy: 800 * time.Millisecond},
		}}
	}
	tests := []struct {
		name      string
		res       Result
		want, not string
	}{
		{"no bottleneck", Result{Report: report("", 2)}, "", "bottleneck"},
		{"reader", Result{Report: report("read", 2)}, "raise --readers", ""},
		{"compute, a worker per core", Result{Report: report("compute", cores)}, "the cores are the limit", "raise --workers"},
		{"waiting for parameters", Result{Report: report("compute", cores), ParamWait: 600 * time.Millisecond},
			"compute workers spent 75% of their busy time waiting", ""},
	}
	if cores > 1 {
		tests = append(tests, struct {
			name      string
			res       Result
			want, not string
		}{"compute, fewer workers than cores", Result{Report: report("compute", 1)}, "raise --workers", ""})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.res.Hint()
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) || tc.not != "" && strings.Contains(got, tc.not) {
				t.Errorf("Hint() = %q, want it to contain %q (and not %q)", got, tc.want, tc.not)
			}
		})
	}
}

func TestComputeTime(t *testing.T) {
	stagesOf := func(name string) pipeline.Report {
		return pipeline.Report{Stages: []pipeline.StageStats{{Name: name, Workers: 2, Busy: 2 * time.Second}}}
	}
	for _, tc := range []struct {
		name string
		res  Result
		want string
	}{
		{"fused", Result{Report: stagesOf("compute"), StepTime: 300 * time.Millisecond, ParamWait: 200 * time.Millisecond, AssistTime: 60 * time.Millisecond},
			"compute time: 75% forward and backward passes, 15% reducing and applying steps, 3% helping another worker apply one, 7% waiting for the parameters of the step (the data path runs meanwhile)"},
		{"split passes", Result{Report: stagesOf("forward"), ParamWait: 200 * time.Millisecond}, ""},
		{"no stage", Result{StepTime: time.Second}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.res.ComputeTime(); got != tc.want {
				t.Errorf("ComputeTime() = %q, want %q", got, tc.want)
			}
		})
	}
}
