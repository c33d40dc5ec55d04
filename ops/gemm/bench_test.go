// Copyright 2026 The sgdpipe Authors.

package gemm

import (
	"fmt"
	"math/rand/v2"
	"runtime"
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

// benchRef is another Sgemm timed in the same run as ours.
type benchRef struct {
	name string
	impl blas.Float32Level3
	// threads, if set, is called with GOMAXPROCS before timing, for
	// implementations that manage their own threads.
	threads func(n int)
}

// references are gonum's native Sgemm and, with the build tag openblas,
// OpenBLAS's (bench_openblas_test.go).
var references = []benchRef{{name: "gonum", impl: gonum.Implementation{}}}

// BenchmarkSgemm measures Implementation{} (goroutines from -cpu) on every
// shape and kernel, and each reference on the same operands. GFLOP/s is
// computed from the median call, which the other engineers' jobs on a shared
// machine disturb less than the mean (ns/op); "x-vs-gonum" (and
// "x-vs-openblas") divide the reference's median call time, measured just
// before, by ours.
func BenchmarkSgemm(b *testing.B) {
	for _, s := range benchShapes {
		name := fmt.Sprintf("%s/%s%s/m=%d/n=%d/k=%d", s.name, transName(s.tA), transName(s.tB), s.m, s.n, s.k)
		b.Run(name, func(b *testing.B) {
			tc := gemmCase{tA: s.tA, tB: s.tB, m: s.m, n: s.n, k: s.k, alpha: 1, beta: 0}
			o := newOperands(tc, rand.New(rand.NewPCG(5, 5)))
			call := func(impl blas.Float32Level3) {
				impl.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, o.a, o.lda, o.b, o.ldb, 0, o.c, o.ldc)
			}
			flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
			refNs := make([]float64, len(references))
			for i, r := range references {
				if r.threads != nil {
					r.threads(runtime.GOMAXPROCS(0))
				}
				refNs[i] = timeCall(func() { call(r.impl) })
			}
			run := func(b *testing.B, impl blas.Float32Level3) float64 {
				call(impl)
				var ring [1024]float64 // the latest call times
				n := 0
				b.ReportAllocs()
				for b.Loop() {
					start := time.Now()
					call(impl)
					ring[n%len(ring)] = float64(time.Since(start).Nanoseconds())
					n++
				}
				ns := median(ring[:min(n, len(ring))])
				b.ReportMetric(flops/ns, "GFLOP/s")
				return ns
			}
			for _, kern := range kernels {
				b.Run(kern.name, func(b *testing.B) {
					ns := run(b, config{kern, packAuto, 0}.use(b))
					for i, r := range references {
						b.ReportMetric(refNs[i]/ns, "x-vs-"+r.name)
					}
				})
			}
			for _, r := range references {
				b.Run(r.name, func(b *testing.B) { run(b, r.impl) })
			}
		})
	}
}

// timeCall returns the median time of f in nanoseconds over about 200 ms of
// calls (at least five).
func timeCall(f func()) float64 {
	f()
	var calls []float64
	deadline := time.Now().Add(200 * time.Millisecond)
	for len(calls) < 5 || time.Now().Before(deadline) {
		start := time.Now()
		f()
		calls = append(calls, float64(time.Since(start).Nanoseconds()))
	}
	return median(calls)
}

func median(x []float64) float64 {
	slices.Sort(x)
	return x[len(x)/2]
}
