// Copyright 2026 The sgdpipe Authors.

package gemm

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// benchShape is one product of the benchmarks; name says where it comes from.
type benchShape struct {
	name    string
	tA, tB  blas.Transpose
	m, n, k int
}

// benchShapes are the Dense layers of the 784-256-128-10 MLP at batch 128
// (forward out = x·Wᵀ with W (out, in) row-major: NT; dW = dOutᵀ·x: TN;
// dx = dOut·W: NN), then square products.
var benchShapes = []benchShape{
	{"fwd/784x256", blas.NoTrans, blas.Trans, 128, 256, 784},
	{"dW/784x256", blas.Trans, blas.NoTrans, 256, 784, 128},
	{"dx/784x256", blas.NoTrans, blas.NoTrans, 128, 784, 256},
	{"fwd/256x128", blas.NoTrans, blas.Trans, 128, 128, 256},
	{"dW/256x128", blas.Trans, blas.NoTrans, 128, 256, 128},
	{"dx/256x128", blas.NoTrans, blas.NoTrans, 128, 256, 128},
	{"fwd/128x10", blas.NoTrans, blas.Trans, 128, 10, 128},
	{"dW/128x10", blas.Trans, blas.NoTrans, 10, 128, 128},
	{"dx/128x10", blas.NoTrans, blas.NoTrans, 128, 128, 10},
	{"square", blas.NoTrans, blas.NoTrans, 128, 128, 128},
	{"square", blas.NoTrans, blas.NoTrans, 256, 256, 256},
	{"square", blas.NoTrans, blas.NoTrans, 512, 512, 512},
	{"square", blas.NoTrans, blas.NoTrans, 1024, 1024, 1024},
	{"square", blas.NoTrans, blas.NoTrans, 2048, 2048, 2048},
}

// BenchmarkSgemm measures Implementation{} (threads from -cpu) on every
// shape and kernel, reporting GFLOP/s and the speed-up over gonum's native
// Sgemm timed in the same run on the same operands ("x-vs-gonum").
func BenchmarkSgemm(b *testing.B) {
	for _, s := range benchShapes {
		name := fmt.Sprintf("%s/%s%s/m=%d/n=%d/k=%d", s.name, transName(s.tA), transName(s.tB), s.m, s.n, s.k)
		b.Run(name, func(b *testing.B) {
			tc := gemmCase{tA: s.tA, tB: s.tB, m: s.m, n: s.n, k: s.k, alpha: 1, beta: 0}
			o := newOperands(tc, rand.New(rand.NewPCG(5, 5)))
			call := func(impl blas.Float32Level3) {
				impl.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, o.a, o.lda, o.b, o.ldb, 0, o.c, o.ldc)
			}
			ref := timeCall(func() { call(gonum.Implementation{}) })
			for _, kern := range kernels {
				b.Run(kern.name, func(b *testing.B) {
					impl := config{kern, packAuto, 0}.use(b)
					call(impl)
					b.ReportAllocs()
					for b.Loop() {
						call(impl)
					}
					ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
					b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)/ns, "GFLOP/s")
					b.ReportMetric(ref/ns, "x-vs-gonum")
				})
			}
		})
	}
}

// timeCall returns the fastest of a few timed runs of f, in nanoseconds per
// call, spending about 200 ms (at least one call per run).
func timeCall(f func()) float64 {
	f()
	var runs []float64
	deadline := time.Now().Add(200 * time.Millisecond)
	for len(runs) < 3 || time.Now().Before(deadline) && len(runs) < 50 {
		start := time.Now()
		calls := 0
		for calls == 0 || time.Since(start) < 5*time.Millisecond {
			f()
			calls++
		}
		runs = append(runs, float64(time.Since(start).Nanoseconds())/float64(calls))
	}
	return slices.Min(runs)
}
