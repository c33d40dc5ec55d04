// Copyright 2026 The sgdpipe Authors.

// Package gemm is a float32 matrix multiply (SGEMM) in Go and Go assembly
// that runs near the floating-point peak of one x86-64 core, behind gonum's
// BLAS interface.
//
// # Overview
//
// [Implementation] embeds gonum's native BLAS and replaces its Sgemm, so
//
//	blas32.Use(gemm.Implementation{})
//
// makes every blas32.Gemm (and mat.Dense multiply through blas32) use it,
// while the rest of blas32 stays gonum's. All four transpose cases, any
// alpha and beta, strided sub-matrices and any sizes are supported, with
// gonum's argument checks and panic messages.
//
// The algorithm is Goto's, as in BLIS and OpenBLAS: C is computed in
// register tiles by a micro-kernel; A is cut into mr-row panels that stay in
// L1 while kc×nr panels of B stream from a kc×nc block held in L2. A
// transposed B is packed into such panels (0.1 ns per element), and so is A
// when its rows are a multiple of 4 KiB apart; otherwise both are read in
// place, which measured as fast and keeps small products, such as a 128-row
// batch through a Dense layer, free of copies.
//
// Kernels are chosen once, at init, from what the CPU and OS support (via
// golang.org/x/sys/cpu):
//
//   - AVX-512F: 12×32 tiles (24 zmm accumulators), 12×16 tiles for narrow
//     panels; columns are masked, so edges need no padding or copies;
//   - AVX2 with FMA: 6×16 tiles;
//   - otherwise, or when built with -tags noasm: a pure-Go 4×4 kernel.
//
// This machine kind reports AMD EPYC with AVX-512 but executes a zmm FMA
// once per cycle, as it does two ymm FMAs (Zen 4 style): about 118 GFLOP/s
// per core either way, measured. On one such core the AVX-512 kernel runs
// at 113-115 GFLOP/s for 128³ and 256³, 105-115 GFLOP/s for the products of
// the hidden Dense layers of a 784-256-128-10 MLP at batch 128, 101-107
// GFLOP/s (CPU time) from 512³ to 2048³, and 64-112 GFLOP/s for the 10-wide
// output layer: 3.4-17x gonum's native Sgemm and 0.86-1.37x OpenBLAS 0.3.21
// (AVX-512 kernels, one thread) in the same run; see BenchmarkSgemm.
//
// # Ownership
//
// Sgemm reads a and b, writes c in place and retains none of them. Packing
// buffers belong to the package: they come from a sync.Pool and are reused
// across calls, so steady-state calls do not allocate.
//
// # Concurrency
//
// An Implementation is safe for concurrent use. One call runs on the
// calling goroutine unless the product is large enough to split
// ([ParallelMinFlops] per goroutine) and [Implementation.Threads] allows it;
// then it splits C into stripes computed by that many goroutines, the
// caller's included, and returns after all have finished. No goroutine
// outlives a call.
package gemm
