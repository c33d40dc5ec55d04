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

func (d *dense[T]) forward(p []T, x, y mat[T], _ []T, _ bool, _ *rand.PCG) {
	bias := p[d.b : d.b+d.out]
	for i := range y.Rows {
		copy(y.row(i), bias)
	}
	gemm(y, 1, x, false, d.weight(p), true, 1) // y = x·Wᵀ + y
}

func (d *dense[T]) backward(p, g []T, x, _, dy, dx mat[T], _ []T, _ bool) {
	gemm(d.weight(g), 1, dy, true, x, false, 0) // dW = dyᵀ·x, (out, in)
	db := g[d.b : d.b+d.out]
	clear(db)
	for i := range dy.Rows {
		r := dy.row(i)[:len(db)]
		for j, v := range r {
			db[j] += v
		}
	}
	if dx.Data != nil {
		gemm(dx, 1, dy, false, d.weight(p), false, 0) // dx = dy·W, (B, in)
	}
}
