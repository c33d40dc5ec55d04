// Copyright 2026 The sgdpipe Authors.

// Package openblas exposes OpenBLAS's cblas_sgemm as a blas.Float32Level3
// Sgemm, for benchmarks that compare package gemm with OpenBLAS in the same
// run. It is compiled only with the build tag openblas (and cgo), and needs
// OpenBLAS's development files (Debian: libopenblas-dev) found through
// pkg-config; without the tag the package is empty.
//
// # Overview
//
// [Implementation] embeds gonum's native BLAS and replaces Sgemm with a call
// to cblas_sgemm in row-major order; [SetThreads] sets OpenBLAS's own
// thread count.
//
// # Ownership
//
// Sgemm reads a and b and writes c in place; OpenBLAS retains none of them.
//
// # Concurrency
//
// Calls may run concurrently; OpenBLAS manages its own threads.
package openblas
