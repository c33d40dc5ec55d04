// Copyright 2026 The sgdpipe Authors.

//go:build !amd64 || noasm

package gemm

// archKernels returns no assembly kernels: the generic kernel is used.
func archKernels() []*kernel { return nil }
