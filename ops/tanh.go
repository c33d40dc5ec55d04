package ops

import (
	"math"
	"math/rand/v2"
)

// tanhLayer is the hyperbolic tangent, as PyTorch's nn.Tanh.
type tanhLayer[T float] struct{ width int }

func (t *tanhLayer[T]) outDim() int     { return t.width }
func (t *tanhLayer[T]) auxPerRow() int  { return 0 }
func (t *tanhLayer[T]) hasParams() bool { return false }

func (t *tanhLayer[T]) forward(_ []T, x, y mat[T], _ []T, _ bool, _ *rand.PCG) {
	for i := range x.Rows {
		xr := x.row(i)
		yr := y.row(i)[:len(xr)]
		for j, v := range xr {
			yr[j] = T(math.Tanh(float64(v)))
		}
	}
}

// forwardBias leaves x alone: backward reads only y.
func (t *tanhLayer[T]) forwardBias(x, y mat[T], b []T) {
	for i := range x.Rows {
		xr := x.row(i)
		yr := y.row(i)[:len(xr)]
		br := b[:len(xr)]
		for j, v := range xr {
			yr[j] = T(math.Tanh(float64(v + br[j])))
		}
	}
}

// backward uses tanh' = 1 - y².
func (t *tanhLayer[T]) backward(_, _ []T, _, y, dy, dx mat[T], _ []T, _ bool) {
	if dx.Data == nil {
		return
	}
	t.backwardBias(mat[T]{}, y, dy, dx, nil)
}

func (t *tanhLayer[T]) backwardBias(_, y, dy, dx mat[T], db []T) {
	if db != nil {
		clear(db)
	}
	eachRow(y, dy, dx, func(yr, dyr, dxr []T) {
		for j, v := range yr {
			dxr[j] = dyr[j] * (1 - v*v)
		}
		if db != nil {
			addRow(db, dxr)
		}
	})
}
