package ops

import (
	"math/rand/v2"
	"strconv"
)

// dense is a fully connected layer y = x·Wᵀ + b, as PyTorch's nn.Linear.
type dense[T float] struct {
	in, out int
	w       int // offset of W: (out, in), row-major, inside the flat parameter vector
	b       int // offset of b: (out)
}

// newDense registers the tensors "<idx>.weight" and "<idx>.bias" in l.
func newDense[T float](l *Layout, idx, in, out int) *dense[T] {
	name := strconv.Itoa(idx)
	d := &dense[T]{in: in, out: out}
	d.w = l.add(name+".weight", out, in)
	d.b = l.add(name+".bias", out)
	return d
}

func (d *dense[T]) outDim() int     { return d.out }
func (d *dense[T]) auxPerRow() int  { return 0 }
func (d *dense[T]) hasParams() bool { return true }

func (d *dense[T]) weight(p []T) mat[T] {
	return mat[T]{Rows: d.out, Cols: d.in, Stride: d.in, Data: p[d.w : d.w+d.out*d.in]}
}

// bias returns the bias b (out) inside p (the parameters, or their gradients).
func (d *dense[T]) bias(p []T) []T { return p[d.b : d.b+d.out : d.b+d.out] }

func (d *dense[T]) forward(p []T, x, y mat[T], _ []T, _ bool, _ *rand.PCG) {
	bias := d.bias(p)
	for i := range y.Rows {
		copy(y.row(i), bias)
	}
	gemm(y, 1, x, false, d.weight(p), true, 1) // y = x·Wᵀ + y
}

// forwardLinear computes y = x·Wᵀ without the bias: the pointwise activation after the
// layer adds it (see pointwise).
func (d *dense[T]) forwardLinear(p []T, x, y mat[T]) {
	gemm(y, 1, x, false, d.weight(p), true, 0)
}

func (d *dense[T]) backward(p, g []T, x, _, dy, dx mat[T], _ []T, _ bool) {
	colSums(d.bias(g), dy) // db = Σ rows of dy
	d.backwardLinear(p, g, x, dy, dx)
}

// backwardLinear writes dW and, when dx.Data is not nil, dx; the bias gradient is
// written by the caller (backward, or the fused activation after the layer).
func (d *dense[T]) backwardLinear(p, g []T, x, dy, dx mat[T]) {
	gemm(d.weight(g), 1, dy, true, x, false, 0) // dW = dyᵀ·x, (out, in)
	if dx.Data != nil {
		gemm(dx, 1, dy, false, d.weight(p), false, 0) // dx = dy·W, (B, in)
	}
}
