package ops

import (
	"gonum.org/v1/gonum/blas/blas32"

	fastgemm "github.com/sgdpipe/sgdpipe/ops/gemm"
)

// The package installs its own SGEMM (package ops/gemm: packed, cache-blocked, AVX-512/AVX2 micro-kernels
// chosen at run time, pure Go elsewhere) behind gonum's blas32 API, so every blas32 call in the
// process, ours and the user's, uses it.
func init() { SetGemmThreads(1) }

// SetGemmThreads sets how many goroutines one matrix product may use (1 = the calling goroutine only,
// 0 = GOMAXPROCS; products too small to pay for a split always run on one). Data-parallel training
// with one worker per core wants 1, the default; a single worker on several cores may want more.
// It replaces the blas32 implementation, so call it before training starts, not during.
func SetGemmThreads(n int) { blas32.Use(fastgemm.Implementation{Threads: n}) }
