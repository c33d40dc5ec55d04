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
// axpyRef over n elements, so that both see the same machine load (the
// machine is shared). It reports ns/param and the ratio of f's time to the
// reference's as x-vs-ref, and returns f's ns per call.
func refLoop(b *testing.B, n int, f func()) float64 {
	rp, rg := randVec(7, n, 1), randVec(8, n, 1e-6)
	var ref time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f()
		b.StopTimer()
		t0 := time.Now()
		axpyRef(rp, rg, 1e-3)
		ref += time.Since(t0)
		b.StartTimer()
	}
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns/float64(n), "ns/param")
	b.ReportMetric(ns/(float64(ref.Nanoseconds())/float64(b.N)), "x-vs-ref")
	return ns
}

// benchStep measures Step of o over n parameters. It reports GB/s of the
// vectors the step streams (params read and written, grads read, each state
// vector read and written), ns/param, and the ratio of its time to
// axpyRef's over the same n (x-vs-ref).
func benchStep(b *testing.B, o Optimizer, n int) {
	p, g := randVec(1, n, 1), randVec(2, n, 0.1)
	o.Step(p, g)
	vecs := 0
	for _, v := range o.State() {
		if v.F32 != nil {
			vecs++
		}
	}
	bytes := float64(4 * n * (3 + 2*vecs))
	ns := refLoop(b, n, func() { o.Step(p, g) })
	b.ReportMetric(bytes/ns, "GB/s")
}

// BenchmarkStep measures one Step of every rule over the 235,146 parameters
// of the MNIST MLP; x-vs-ref is the time relative to a bare p += a·g.
func BenchmarkStep(b *testing.B) {
	for _, rc := range ruleCases {
		b.Run(fmt.Sprintf("%s/n=%d", rc.name, mlpParams), func(b *testing.B) {
			benchStep(b, mustRule(b, rc, mlpParams), mlpParams)
		})
	}
}

// BenchmarkHelpers measures the per-step helpers over the same vector.
func BenchmarkHelpers(b *testing.B) {
	g := randVec(3, mlpParams, 1)
	run := func(name string, bytes int, f func()) {
		b.Run(fmt.Sprintf("%s/n=%d", name, mlpParams), func(b *testing.B) {
			ns := refLoop(b, mlpParams, f)
			b.ReportMetric(float64(bytes)/ns, "GB/s")
		})
	}
	run("AllFinite", 4*mlpParams, func() { AllFinite(g) })
	run("naiveFinite", 4*mlpParams, func() { naiveAllFinite(g) })
	run("GradNorm", 4*mlpParams, func() { GradNorm(g) })
	big := randVec(4, mlpParams, 1)
	run("ClipGradNormTwice", 24*mlpParams, func() { // two calls that both clip (norm pass + scaling pass each)
		ClipGradNorm(big, 1e-3)
		ClipGradNorm(big, 1e-6)
	})
	run("ClipGradValue", 8*mlpParams, func() { ClipGradValue(g, 0.5) })
	avg, _ := NewAverager(mlpParams, AveragerConfig{})
	step := 0
	run("Averager", 12*mlpParams, func() { step++; avg.Update(step, g) })
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
