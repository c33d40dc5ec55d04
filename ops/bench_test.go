package ops

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// benchVsRef times ours with b.Loop, then the reference for as many iterations, and
// reports GFLOP/s (flops per call, if > 0), samples/s (samples per call, if > 0),
// x-vs-ref = reference time / our time (above 1: we are faster), and, on Linux, the
// same throughputs per CPU second of the benchmark's thread and x-vs-ref-cpu, the
// ratio of CPU times. Both run serially on this thread (the installed GEMM runs a
// product on the calling goroutine unless SetGemmThreads allows more), so the CPU
// figures are robust to other processes sharing the cores, which wall time is not.
func benchVsRef(b *testing.B, flops, samples float64, ours, ref func()) {
	b.ReportAllocs()
	runtime.LockOSThread() // ours and ref run serially on this thread: its CPU time is theirs
	defer runtime.UnlockOSThread()
	ours()
	ref()
	n := 0
	cpu0, cpuOK := threadCPU()
	for b.Loop() {
		ours()
		n++
	}
	cpu1, _ := threadCPU()
	per := b.Elapsed().Seconds() / float64(n)
	t0 := time.Now()
	for range n {
		ref()
	}
	refPer := time.Since(t0).Seconds() / float64(n)
	cpu2, _ := threadCPU()
	if flops > 0 {
		b.ReportMetric(flops/per/1e9, "GFLOP/s")
	}
	if samples > 0 {
		b.ReportMetric(samples/per, "samples/s")
	}
	b.ReportMetric(refPer/per, "x-vs-ref")
	if cpuOK {
		cpuPer := (cpu1 - cpu0).Seconds() / float64(n)
		if flops > 0 {
			b.ReportMetric(flops/cpuPer/1e9, "GFLOP/cpu-s")
		}
		if samples > 0 {
			b.ReportMetric(samples/cpuPer, "samples/cpu-s")
		}
		b.ReportMetric(cpuPer*1e9, "cpu-ns/op")
		b.ReportMetric(float64(cpu2-cpu1)/float64(cpu1-cpu0), "x-vs-ref-cpu")
	}
}

// mlpDims is the MNIST MLP of the PyTorch anchor.
var mlpDims = []int{784, 256, 128, 10}

// trainFlops is the GEMM work of one training sample: forward and weight gradients for
// every layer, input gradients for all but the first (as PyTorch's anchor counts it).
func trainFlops(dims []int) float64 {
	var f float64
	for i := range len(dims) - 1 {
		mac := float64(dims[i] * dims[i+1])
		f += 4 * mac
		if i > 0 {
			f += 2 * mac
		}
	}
	return f
}

// BenchmarkTrainStep is forward + softmax cross-entropy + backward + plain SGD of the
// MLP 784-256-128-10 at several batch sizes. The reference is the same step's five
// matrix products alone, called directly through blas32.Gemm (the installed
// implementation, ops/gemm on one goroutine): x-vs-ref-cpu near 1 means the step costs
// little beyond its products.
func BenchmarkTrainStep(b *testing.B) {
	for _, bs := range []int{32, 128, 512} {
		b.Run(fmt.Sprintf("B=%d/mlp=784-256-128-10", bs), func(b *testing.B) {
			s := newTrainStep(b, "mlp:256,128", "relu", 0, bs, 784, 10)
			ref := mlpGemms(s, bs)
			benchVsRef(b, trainFlops(mlpDims)*float64(bs), float64(bs), func() { s.run() }, ref)
		})
	}
	b.Run("B=128/linear=784-10", func(b *testing.B) {
		s := newTrainStep(b, "linear", "", 0, 128, 784, 10)
		ref := mlpGemms(s, 128)
		benchVsRef(b, trainFlops([]int{784, 10})*128, 128, func() { s.run() }, ref)
	})
}

// mlpGemms returns the training step's products as direct blas32.Gemm calls.
func mlpGemms(s *trainStep, bs int) func() {
	lay := s.net.Layout()
	var calls []func()
	in := s.x.General()
	for i, t := range lay.Tensors {
		if len(t.Shape) != 2 {
			continue
		}
		w := t.Matrix(s.params).General()
		dw := t.Matrix(s.grads).General()
		out, k := t.Shape[0], t.Shape[1]
		y := NewMatrix(bs, out).General()
		dy := NewMatrix(bs, out).General()
		dx := NewMatrix(bs, k).General()
		x := in
		calls = append(calls, func() {
			blas32.Gemm(blasT(false), blasT(true), 1, x, w, 0, y)
			blas32.Gemm(blasT(true), blasT(false), 1, dy, x, 0, dw)
		})
		if i > 0 {
			calls = append(calls, func() { blas32.Gemm(blasT(false), blasT(false), 1, dy, w, 0, dx) })
		}
		in = y
	}
	return func() {
		for _, c := range calls {
			c()
		}
	}
}

func blasT(t bool) blas.Transpose { return trans(t) }

// BenchmarkDenseGEMM measures the products of the MLP's Dense layers at batch 128:
// forward y = x·Wᵀ, weight gradient dW = dyᵀ·x and input gradient dx = dy·W, through
// Gemm against one direct blas32.Gemm call (x-vs-ref-cpu near 1: Gemm adds nothing;
// the figures of the GEMM itself are ops/gemm's benchmarks).
func BenchmarkDenseGEMM(b *testing.B) {
	const bs = 128
	for l := range len(mlpDims) - 1 {
		in, out := mlpDims[l], mlpDims[l+1]
		rng := rand.New(rand.NewPCG(uint64(in), uint64(out)))
		x := toF32(randMat[float64](rng, bs, in, in, 1))
		w := toF32(randMat[float64](rng, out, in, in, 0.1))
		dy := toF32(randMat[float64](rng, bs, out, out, 1))
		y, dw, dx := NewMatrix(bs, out), NewMatrix(out, in), NewMatrix(bs, in)
		for _, p := range []struct {
			name   string
			dst, a Matrix
			ta     bool
			bm     Matrix
			tb     bool
		}{
			{"fwd", y, x, false, w, true},
			{"dW", dw, dy, true, x, false},
			{"dX", dx, dy, false, w, false},
		} {
			m, n := p.dst.Rows, p.dst.Cols
			k := p.a.Cols
			if p.ta {
				k = p.a.Rows
			}
			b.Run(fmt.Sprintf("%s/%dx%dx%d", p.name, m, k, n), func(b *testing.B) {
				benchVsRef(b, 2*float64(m*n*k), 0,
					func() { Gemm(p.dst, 1, p.a, p.ta, p.bm, p.tb, 0) },
					func() { blas32.Gemm(trans(p.ta), trans(p.tb), 1, p.a.General(), p.bm.General(), 0, p.dst.General()) })
			})
		}
	}
}

// BenchmarkFusion is forward + backward of the MNIST MLP (784-256-128-10, ReLU) with
// each Dense layer fused with the activation after it (the default), against the same
// network with fusion off, in the same run: x-vs-ref above 1 is the gain of fusion.
func BenchmarkFusion(b *testing.B) {
	for _, bs := range []int{32, 128, 512} {
		b.Run(fmt.Sprintf("B=%d/mlp=784-256-128-10", bs), func(b *testing.B) {
			n := newTestNet(b, "mlp:256,128", "relu", 0, 784, 10)
			ref := unfused(n)
			rng := rand.New(rand.NewPCG(1, uint64(bs)))
			p := n.Layout().NewVector()
			if err := n.Init(p, "default", rng); err != nil {
				b.Fatal(err)
			}
			x := mat[float32](toF32(randMat[float64](rng, bs, 784, 784, 1)))
			c := mat[float32](toF32(randMat[float64](rng, bs, 10, 10, 0.01)))
			g := make([]float32, len(p))
			ws, wsRef := n.net.newWorkspace(bs), ref.newWorkspace(bs)
			step := func(net *network[float32], ws *workspace[float32]) func() {
				return func() {
					net.forward(ws, p, x, true, 1)
					net.backward(ws, p, c, g, mat[float32]{})
				}
			}
			benchVsRef(b, trainFlops(mlpDims)*float64(bs), float64(bs), step(n.net, ws), step(ref, wsRef))
		})
	}
}

// BenchmarkReLUBackward is the ReLU backward pass with the bias gradient of the Dense
// layer before it (dx = dy where y > 0, db = column sums of dx) over a 128×256
// activation, against the branchy loop it replaced followed by a separate pass for db.
// Each call takes the next of four random activations, as training sees new signs at
// every step: a branch predictor must not learn one fixed pattern.
func BenchmarkReLUBackward(b *testing.B) {
	const rows, cols = 128, 256
	rng := rand.New(rand.NewPCG(3, 3))
	var ys [4]mat[float32]
	for k := range ys {
		ys[k] = mat[float32](toF32(randMat[float64](rng, rows, cols, cols, 1)))
		reluForward(ys[k], ys[k], nil)
	}
	dy := mat[float32](toF32(randMat[float64](rng, rows, cols, cols, 1)))
	dx := mat[float32]{Rows: rows, Cols: cols, Stride: cols, Data: make([]float32, rows*cols)}
	db := make([]float32, cols)
	k := 0
	branchy := func() {
		k++
		eachRow(ys[k%4], dy, dx, func(yr, dyr, dxr []float32) {
			for j, v := range yr {
				if v > 0 {
					dxr[j] = dyr[j]
				} else {
					dxr[j] = 0
				}
			}
		})
		colSums(db, dx)
	}
	ours := func() {
		k++
		reluBackward(ys[k%4], dy, dx, db)
	}
	benchVsRef(b, 0, 0, ours, branchy)
}
