// Copyright 2026 The sgdpipe Authors.

//go:build !race

package gemm

const raceEnabled = false
