// Copyright 2026 The sgdpipe Authors.

//go:build !linux

package gemm

// cpuNow returns -1: benchmarks report wall-clock figures only.
func cpuNow() int64 { return -1 }
