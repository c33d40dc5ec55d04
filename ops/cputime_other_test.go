//go:build !linux

package ops

import "time"

// threadCPU is unavailable off Linux: benchmarks then report wall time only.
func threadCPU() (time.Duration, bool) { return 0, false }
