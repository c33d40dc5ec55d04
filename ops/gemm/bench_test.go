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
// shape and kernel, and each reference on the same operands.
//
// Calls are timed in batches of at least 100 µs, by the wall clock and by
// the process's CPU time. "GFLOP/s" is 2·m·n·k over the median wall time of
// a call; "cpu-GFLOP/s" over its median CPU time, that is per busy core,
// which jobs sharing the machine disturb far less (Linux only; it also
// counts helper threads, such as OpenBLAS's spinning workers). The
// "x-vs-gonum" (and, with -tags openblas, "x-vs-openblas") ratios come from
// pairedRatio: batches of the reference and of ours, alternated.
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
			for _, r := range references {
				if r.threads != nil {
					r.threads(runtime.GOMAXPROCS(0))
				}
			}
			run := func(b *testing.B, impl blas.Float32Level3) {
				var tm timing
				tm.batch = batchSize(func() { call(impl) })
				b.ReportAllocs()
				tm.start()
				for b.Loop() {
					call(impl)
					tm.tick()
				}
				tm.stop()
				wall, cpu := tm.medians()
				b.ReportMetric(flops/wall, "GFLOP/s")
				if cpu > 0 {
					b.ReportMetric(flops/cpu, "cpu-GFLOP/s")
				}
			}
			for _, kern := range kernels {
				if kern == &genericKernel && flops > 1<<28 && len(kernels) > 1 {
					continue // the fallback takes seconds a call here; it is measured on the smaller shapes
				}
				b.Run(kern.name, func(b *testing.B) {
					impl := config{kern, packAuto, 0}.use(b)
					run(b, impl)
					for _, r := range references {
						ratio := pairedRatio(func() { call(r.impl) }, func() { call(impl) })
						b.ReportMetric(ratio, "x-vs-"+r.name)
					}
				})
			}
			for _, r := range references {
				b.Run(r.name, func(b *testing.B) { run(b, r.impl) })
			}
		})
	}
}

// timing collects the per-call wall and CPU times of batches of calls; it
// keeps the latest 256 batches in fixed arrays, so it does not allocate.
type timing struct {
	batch       int // calls per batch
	calls       int // calls in the current batch
	wall0, cpu0 int64
	wall, cpu   [256]float64 // per-call ns of each batch
	n           int          // batches recorded
}

// batchSize returns how many calls of f take about 100 µs (at least one).
func batchSize(f func()) int {
	f()
	start := time.Now()
	f()
	return max(1, int(100*time.Microsecond/max(time.Since(start), 1)))
}

func (t *timing) start() {
	t.calls = 0
	t.wall0, t.cpu0 = time.Now().UnixNano(), cpuNow()
}

// tick counts one call and closes the batch when it is full.
func (t *timing) tick() {
	t.calls++
	if t.calls == t.batch {
		t.stop()
		t.start()
	}
}

// stop records the current batch, if it has any calls.
func (t *timing) stop() {
	if t.calls == 0 {
		return
	}
	w, c := time.Now().UnixNano(), cpuNow()
	i := t.n % len(t.wall)
	t.wall[i] = float64(w-t.wall0) / float64(t.calls)
	t.cpu[i] = -1
	if c >= 0 && t.cpu0 >= 0 {
		t.cpu[i] = float64(c-t.cpu0) / float64(t.calls)
	}
	t.n++
	t.calls = 0
}

// medians returns the median wall and CPU time per call, in nanoseconds;
// cpu is -1 when CPU time is not available.
func (t *timing) medians() (wall, cpu float64) {
	k := min(t.n, len(t.wall))
	return median(t.wall[:k]), median(t.cpu[:k])
}

// pairedRatio returns how many times faster ours is than ref: the median,
// over alternating batches of calls to each (about 300 ms, at least three
// pairs), of ref's wall time per call over ours. Pairing the batches keeps
// the ratio steady while the load from other jobs comes and goes.
func pairedRatio(ref, ours func()) float64 {
	nRef, nOurs := batchSize(ref), batchSize(ours)
	var ratios [256]float64
	n := 0
	deadline := time.Now().Add(300 * time.Millisecond)
	for n < 3 || time.Now().Before(deadline) && n < len(ratios) {
		t0 := time.Now()
		for range nRef {
			ref()
		}
		t1 := time.Now()
		for range nOurs {
			ours()
		}
		t2 := time.Now()
		ratios[n] = float64(t1.Sub(t0)) / float64(nRef) / (float64(t2.Sub(t1)) / float64(nOurs))
		n++
	}
	return median(ratios[:n])
}

func median(x []float64) float64 {
	slices.Sort(x)
	return x[len(x)/2]
}
