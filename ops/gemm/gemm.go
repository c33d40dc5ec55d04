// Copyright 2026 The sgdpipe Authors.

package gemm

import (
	"runtime"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Panic messages for bad arguments: the same strings as gonum's, so that
// callers see one behaviour whichever implementation blas32 uses.
const (
	badTranspose = "blas: illegal transpose"
	mLT0         = "blas: m < 0"
	nLT0         = "blas: n < 0"
	kLT0         = "blas: k < 0"
	badLdA       = "blas: bad leading dimension of A"
	badLdB       = "blas: bad leading dimension of B"
	badLdC       = "blas: bad leading dimension of C"
	shortA       = "blas: insufficient length of a"
	shortB       = "blas: insufficient length of b"
	shortC       = "blas: insufficient length of c"
)

// Implementation is gonum's native BLAS with a fast Sgemm: every other
// routine is gonum's. Install it with blas32.Use(gemm.Implementation{}).
//
// The zero value is ready to use and picks the number of goroutines itself
// (see Threads). An Implementation is safe for concurrent use: calls share
// nothing but a pool of packing buffers.
type Implementation struct {
	gonum.Implementation

	// Threads is the most goroutines one Sgemm call may use, counting the
	// caller's. 0 (the zero value) means runtime.GOMAXPROCS(0); 1 keeps
	// every call on the calling goroutine, which is what a caller that
	// already runs one product per core wants. Whatever the setting, a
	// product is split only when each goroutine gets at least
	// ParallelMinFlops of work, so small products never pay for goroutines.
	// Negative values are treated as 1.
	Threads int
}

// ParallelMinFlops is the least work (2·m·n·k floating-point operations) that
// one goroutine of a split product must receive, about 300 µs on one
// AVX-512 core. Starting and joining a goroutine costs microseconds, but a
// split also waits for its slowest part: on a 2-core machine shared with
// other jobs, splitting the Dense-layer products of a batch of 128 (8-51
// MFLOP) was measured no faster, and up to 30% slower, than one goroutine.
const ParallelMinFlops = 32 << 20

var _ blas.Float32 = Implementation{}

// Sgemm computes
//
//	C = alpha * op(A) * op(B) + beta * C
//
// where op(X) is X or Xᵀ as tA and tB say (blas.ConjTrans means Trans), A is
// m×k after op, B is k×n after op and C is m×n, all row-major with leading
// dimensions lda, ldb and ldc. When beta == 0, C is not read: NaNs in it are
// overwritten. When alpha == 0 or k == 0, A and B are not read.
//
// Sgemm panics, with gonum's messages, on an illegal transpose, negative
// sizes, a leading dimension below the row length, or slices too short for
// the sizes given.
//
// a and b are only read; c is written in place; none is retained. Sgemm does
// not allocate in steady state: packing buffers come from a sync.Pool. It
// runs on the calling goroutine unless the product is big enough to split
// (see Threads); it returns only after every goroutine it started has
// finished. Cost: 2·m·n·k flops at 100-115 GFLOP/s per core with the
// AVX-512 kernel for products of 128³ and more (60-90 GFLOP/s when a side
// is about 10), plus a fixed ~0.2 µs; see the package doc and benchmarks.
func (impl Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	aTrans := checkTranspose(tA)
	bTrans := checkTranspose(tB)
	if m < 0 {
		panic(mLT0)
	}
	if n < 0 {
		panic(nLT0)
	}
	if k < 0 {
		panic(kLT0)
	}
	if aTrans {
		if lda < max(1, m) {
			panic(badLdA)
		}
	} else if lda < max(1, k) {
		panic(badLdA)
	}
	if bTrans {
		if ldb < max(1, k) {
			panic(badLdB)
		}
	} else if ldb < max(1, n) {
		panic(badLdB)
	}
	if ldc < max(1, n) {
		panic(badLdC)
	}
	if m == 0 || n == 0 {
		return
	}
	if aTrans {
		if len(a) < (k-1)*lda+m {
			panic(shortA)
		}
	} else if len(a) < (m-1)*lda+k {
		panic(shortA)
	}
	if bTrans {
		if len(b) < (n-1)*ldb+k {
			panic(shortB)
		}
	} else if len(b) < (k-1)*ldb+n {
		panic(shortB)
	}
	if len(c) < (m-1)*ldc+n {
		panic(shortC)
	}
	if (alpha == 0 || k == 0) && beta == 1 {
		return
	}
	if alpha == 0 || k == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	threads := impl.Threads
	if threads == 0 && 2*float64(m)*float64(n)*float64(k) >= 2*minFlopsPerThread {
		threads = runtime.GOMAXPROCS(0) // takes a lock: only when a split may pay
	}
	p := problem{
		m: m, n: n, k: k,
		a: a, lda: lda, aT: aTrans,
		b: b, ldb: ldb, bT: bTrans,
		c: c, ldc: ldc,
		alpha: alpha, beta: beta,
	}
	p.run(active, threads)
}

func checkTranspose(t blas.Transpose) bool {
	switch t {
	case blas.NoTrans:
		return false
	case blas.Trans, blas.ConjTrans:
		return true
	}
	panic(badTranspose)
}

// scale sets C = beta*C; beta == 0 writes zeros without reading C.
func scale(m, n int, beta float32, c []float32, ldc int) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}
