// Copyright 2026 The sgdpipe Authors.

//go:build race

package gemm

// raceEnabled: the race detector makes sync.Pool drop items at random and
// goroutine starts allocate, so allocation counts mean nothing.
const raceEnabled = true
