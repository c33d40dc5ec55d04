package optim

import (
	"fmt"
	"testing"
	"time"
)

// mlpParams is the parameter count of a 784-256-128-10 MLP.
const mlpParams = 784*256 + 256 + 256*128 + 128 + 128*10 + 10 // 235,146

// axpyRef is the reference kernel: p += a·g, the least any update can do
// (read two vectors, write one).
func axpyRef(p, g []float32, a float32) {
	p = p[:len(g)]
	for i, gi := range g {
		p[i] += a * gi
	}
}

// refLoop runs f under b.Loop and, after each call with the timer stopped,
// axpyRef over n elements and, if goRef is not nil, goRef (the same work
// with the pure-Go kernels on one goroutine), so that all see the same
// machine load (the machine is shared). It reports ns/param, the ratio of
// f's time to the axpy reference's as x-vs-ref and to goRef's as x-vs-go
// (below 1: faster than the pure-Go loop), and returns f's ns per call.
func refLoop(b *testing.B, n int, f, goRef func()) float64 {
	rp, rg := randVec(7, n, 1), randVec(8, n, 1e-6)
	var ref, gor time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f()
		b.StopTimer()
		t0 := time.Now()
		axpyRef(rp, rg, 1e-3)
		t1 := time.Now()
		ref += t1.Sub(t0)
		if goRef != nil {
			pureGo(goRef)
			gor += time.Since(t1)
		}
		b.StartTimer()
	}
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns/float64(n), "ns/param")
	b.ReportMetric(ns/(float64(ref.Nanoseconds())/float64(b.N)), "x-vs-ref")
	if goRef != nil {
		b.ReportMetric(ns/(float64(gor.Nanoseconds())/float64(b.N)), "x-vs-go")
	}
	return ns
}

// pureGo runs f with the pure-Go kernels on the calling goroutine.
func pureGo(f func()) {
	asm, threads := useAsm, Threads()
	useAsm = false
	SetThreads(1)
	f()
	useAsm = asm
	SetThreads(threads)
}

// benchThreads are the SetThreads values the benchmarks compare.
var benchThreads = []int{1, 2}

// runThreads runs bench as sub-benchmarks threads=1 and threads=2.
func runThreads(b *testing.B, bench func(b *testing.B)) {
	defer SetThreads(Threads())
	for _, t := range benchThreads {
		b.Run(fmt.Sprintf("threads=%d", t), func(b *testing.B) {
			SetThreads(t)
			bench(b)
		})
	}
}

// benchStep measures Step of o over n parameters. It reports GB/s of the
// vectors the step streams (params read and written, grads read, each state
// vector read and written), ns/param, the ratio of its time to axpyRef's
// over the same n (x-vs-ref), and to the time of the same rule's Step with
// the pure-Go kernels on one goroutine (x-vs-go; ref is a second optimizer
// of the rule, with its own parameters).
func benchStep(b *testing.B, o, ref Optimizer, n int) {
	p, g := randVec(1, n, 1), randVec(2, n, 0.1)
	rp := randVec(1, n, 1)
	o.Step(p, g)
	ref.Step(rp, g)
	vecs := 0
	for _, v := range o.State() {
		if v.F32 != nil {
			vecs++
		}
	}
	bytes := float64(4 * n * (3 + 2*vecs))
	ns := refLoop(b, n, func() { o.Step(p, g) }, func() { ref.Step(rp, g) })
	b.ReportMetric(bytes/ns, "GB/s")
}

// BenchmarkStep measures one Step of every rule over the 235,146 parameters
// of the MNIST MLP, with SetThreads 1 and 2; x-vs-ref is the time relative
// to a bare p += a·g, x-vs-go relative to the rule's pure-Go kernel on one
// goroutine.
func BenchmarkStep(b *testing.B) {
	for _, rc := range ruleCases {
		b.Run(fmt.Sprintf("%s/n=%d", rc.name, mlpParams), func(b *testing.B) {
			runThreads(b, func(b *testing.B) {
				benchStep(b, mustRule(b, rc, mlpParams), mustRule(b, rc, mlpParams), mlpParams)
			})
		})
	}
}

// BenchmarkHelpers measures the per-step helpers over the same vector, with
// SetThreads 1 and 2, against the pure-Go loops (x-vs-go).
func BenchmarkHelpers(b *testing.B) {
	g := randVec(3, mlpParams, 1)
	run := func(name string, bytes int, f, goRef func()) {
		b.Run(fmt.Sprintf("%s/n=%d", name, mlpParams), func(b *testing.B) {
			runThreads(b, func(b *testing.B) {
				ns := refLoop(b, mlpParams, f, goRef)
				b.ReportMetric(float64(bytes)/ns, "GB/s")
			})
		})
	}
	allFinite := func() { AllFinite(g) }
	run("AllFinite", 4*mlpParams, allFinite, allFinite)
	run("naiveFinite", 4*mlpParams, func() { naiveAllFinite(g) }, nil)
	dst, rdst, src := randVec(5, mlpParams, 1), randVec(5, mlpParams, 1), randVec(6, mlpParams, 1e-9)
	run("AddFinite", 12*mlpParams, func() { AddFinite(dst, src) }, func() { AddFinite(rdst, src) })
	gradNorm := func() { GradNorm(g) }
	run("GradNorm", 4*mlpParams, gradNorm, gradNorm)
	big, rbig := randVec(4, mlpParams, 1), randVec(4, mlpParams, 1)
	run("ClipGradNormTwice", 24*mlpParams, func() { // two calls that both clip (norm pass + scaling pass each)
		ClipGradNorm(big, 1e-3)
		ClipGradNorm(big, 1e-6)
	}, func() {
		ClipGradNorm(rbig, 1e-3)
		ClipGradNorm(rbig, 1e-6)
	})
	cg, rcg := randVec(3, mlpParams, 1), randVec(3, mlpParams, 1)
	run("ClipGradValue", 8*mlpParams, func() { ClipGradValue(cg, 0.5) }, func() { ClipGradValue(rcg, 0.5) })
	avg, _ := NewAverager(mlpParams, AveragerConfig{})
	ravg, _ := NewAverager(mlpParams, AveragerConfig{})
	step, rstep := 0, 0
	run("Averager", 12*mlpParams, func() { step++; avg.Update(step, g) }, func() { rstep++; ravg.Update(rstep, g) })
}

// naiveAllFinite is the obvious branchy check, the reference for AllFinite.
func naiveAllFinite(g []float32) bool {
	for _, x := range g {
		if x != x || x-x != 0 {
			return false
		}
	}
	return true
}

// BenchmarkAVX512 measures the rules with AVX-512 kernels (Adam, AdamW,
// AMSGrad) against their AVX2 kernels in the same run (x-vs-avx2, below 1:
// faster), on one goroutine. It is skipped where the CPU lacks AVX-512.
func BenchmarkAVX512(b *testing.B) {
	if !haveAVX512 {
		b.Skip("no AVX-512")
	}
	for _, name := range []string{"adam", "adamw", "adam-amsgrad-wd"} {
		var rc ruleCase
		for _, c := range ruleCases {
			if c.name == name {
				rc = c
			}
		}
		b.Run(fmt.Sprintf("%s/n=%d", name, mlpParams), func(b *testing.B) {
			o, ref := mustRule(b, rc, mlpParams), mustRule(b, rc, mlpParams)
			p, rp, g := randVec(1, mlpParams, 1), randVec(1, mlpParams, 1), randVec(2, mlpParams, 0.1)
			var avx2 time.Duration
			b.ReportAllocs()
			for b.Loop() {
				o.Step(p, g)
				b.StopTimer()
				useAVX512 = false
				t0 := time.Now()
				ref.Step(rp, g)
				avx2 += time.Since(t0)
				useAVX512 = true
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(avx2.Nanoseconds()), "x-vs-avx2")
		})
	}
}

// BenchmarkSplit measures SetThreads(2) against one goroutine in the same
// run (x-vs-1thread, below 1: faster) on vectors large enough to be split,
// 2,000,000 elements: Adam's and SGD-momentum's Step, AddFinite and
// AllFinite. (The MNIST MLP's 235,146 parameters are below the size at
// which a kernel splits; see minThreadLen.)
func BenchmarkSplit(b *testing.B) {
	defer SetThreads(Threads())
	const n = 2_000_000
	adam := func() (Optimizer, error) { return NewAdam(n, DefaultAdamConfig()) }
	sgd := func() (Optimizer, error) { return NewSGD(n, SGDConfig{LR: 0.01, Momentum: 0.9}) }
	for _, c := range []struct {
		name string
		mk   func() (Optimizer, error)
	}{{"adam", adam}, {"sgd-momentum", sgd}, {"AddFinite", nil}, {"AllFinite", nil}} {
		b.Run(fmt.Sprintf("%s/n=%d", c.name, n), func(b *testing.B) {
			p, rp, g := randVec(1, n, 1), randVec(1, n, 1), randVec(2, n, 1e-3)
			var f, ref func()
			switch c.name {
			case "AddFinite":
				f, ref = func() { AddFinite(p, g) }, func() { AddFinite(rp, g) }
			case "AllFinite":
				f, ref = func() { AllFinite(p) }, func() { AllFinite(rp) }
			default:
				o, err := c.mk()
				if err != nil {
					b.Fatal(err)
				}
				r, _ := c.mk()
				f, ref = func() { o.Step(p, g) }, func() { r.Step(rp, g) }
			}
			var one time.Duration
			b.ReportAllocs()
			for b.Loop() {
				SetThreads(2)
				f()
				b.StopTimer()
				SetThreads(1)
				t0 := time.Now()
				ref()
				one += time.Since(t0)
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(one.Nanoseconds()), "x-vs-1thread")
		})
	}
}
