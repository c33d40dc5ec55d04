// Copyright 2026 The sgdpipe Authors.

package gemm

import (
	"math/rand/v2"
	"sync"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// TestSgemmAllocs checks that steady-state calls allocate nothing, on one
// goroutine and split over several, whatever the size.
func TestSgemmAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	for _, threads := range []int{1, 3} {
		for _, s := range [][3]int{{5, 7, 3}, {128, 256, 784}, {300, 40, 50}} {
			cfg := config{active, packAuto, threads}
			impl := cfg.use(t)
			tc := gemmCase{tA: blas.NoTrans, tB: blas.Trans, m: s[0], n: s[1], k: s[2], alpha: 1, beta: 0}
			o := newOperands(tc, rand.New(rand.NewPCG(7, 7)))
			call := func() {
				impl.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, o.a, o.lda, o.b, o.ldb, 0, o.c, o.ldc)
			}
			if got := testing.AllocsPerRun(20, call); got != 0 {
				t.Errorf("threads=%d m,n,k=%v: %v allocations per call, want 0", threads, s, got)
			}
		}
	}
}

// TestSgemmConcurrent runs products from many goroutines at once, some of
// them split, sharing A and B and the package's pools; run it with -race.
func TestSgemmConcurrent(t *testing.T) {
	cfg := config{active, packAuto, 2}
	impl := cfg.use(t)
	rng := rand.New(rand.NewPCG(8, 8))
	tc := gemmCase{tA: blas.NoTrans, tB: blas.NoTrans, m: 67, n: 45, k: 33, alpha: 1, beta: 0}
	o := newOperands(tc, rng)
	want, mag := reference(tc, o)
	var wg sync.WaitGroup
	outs := make([]*operands, 8)
	for g := range outs {
		out := *o
		out.c = make([]float32, len(o.c))
		outs[g] = &out
		wg.Go(func() {
			for range 20 {
				impl.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, out.a, out.lda, out.b, out.ldb, 0, out.c, out.ldc)
			}
		})
	}
	wg.Wait()
	for _, out := range outs {
		compare(t, tc, out, want, mag)
	}
}
