// Copyright 2026 The sgdpipe Authors.

//go:build linux

package gemm

import "golang.org/x/sys/unix"

// cpuNow returns the CPU time the process has used, in nanoseconds, or -1
// when it cannot be read.
func cpuNow() int64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts) != nil {
		return -1
	}
	return ts.Nano()
}
