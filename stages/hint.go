package stages

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/sgdpipe/sgdpipe/pipeline"
)

// stageFlags maps the standard graph's stage names to the flag that gives them more capacity.
var stageFlags = map[string]string{
	"read":      "--readers",
	"shuffle":   "--shuffle-buffer (smaller) or --shuffle shards",
	"normalize": "--normalizers",
	"batch":     "--batch (larger batches amortize per-batch work)",
	"split":     "--micro-batch (larger)",
	"compute":   "--workers",
	"forward":   "--workers",
	"backward":  "--workers",
	"reduce":    "--micro-batch (fewer, larger micro-batches)",
	"optimize":  "--batch (fewer, larger steps)",
}

// Hint returns a one-line suggestion of which flag to raise for the bottleneck named in a training
// run's report, or "" when the report names none.
func Hint(r pipeline.Report) string {
	b := r.Bottleneck
	if b == "" {
		return ""
	}
	for name, flag := range stageFlags {
		if b == name || strings.HasPrefix(b, name) {
			var busy float64
			var workers int
			for _, s := range r.Stages {
				if s.Name == b {
					busy, workers = s.BusyFraction, s.Workers
				}
			}
			if flag == "--workers" && workers >= runtime.GOMAXPROCS(0) {
				return fmt.Sprintf("the %s stage is the bottleneck (%.0f%% busy) with a worker per core: the cores are the limit; a larger --batch does more work per step", b, 100*busy)
			}
			return fmt.Sprintf("the %s stage is the bottleneck (%.0f%% busy); to speed it up, raise %s", b, 100*busy, flag)
		}
	}
	return fmt.Sprintf("the %s stage is the bottleneck", b)
}
