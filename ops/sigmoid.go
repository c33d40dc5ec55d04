package ops

import (
	"math"
	"math/rand/v2"
)

// sigmoidLayer is the logistic function 1/(1+e⁻ˣ), as PyTorch's nn.Sigmoid.
type sigmoidLayer[T float] struct{ width int }

func (s *sigmoidLayer[T]) outDim() int     { return s.width }
func (s *sigmoidLayer[T]) auxPerRow() int  { return 0 }
func (s *sigmoidLayer[T]) hasParams() bool { return false }

// sigmoid is computed without overflow for either sign of x.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func (s *sigmoidLayer[T]) forward(_ []T, x, y mat[T], _ []T, _ bool, _ *rand.PCG) {
	for i := range x.Rows {
		xr := x.row(i)
		yr := y.row(i)[:len(xr)]
		for j, v := range xr {
			yr[j] = T(sigmoid(float64(v)))
		}
	}
}

// forwardBias leaves x alone: backward reads only y.
func (s *sigmoidLayer[T]) forwardBias(x, y mat[T], b []T) {
	for i := range x.Rows {
		xr := x.row(i)
		yr := y.row(i)[:len(xr)]
		br := b[:len(xr)]
		for j, v := range xr {
			yr[j] = T(sigmoid(float64(v + br[j])))
		}
	}
}

// backward uses σ' = y(1 - y).
func (s *sigmoidLayer[T]) backward(_, _ []T, _, y, dy, dx mat[T], _ []T, _ bool) {
	if dx.Data == nil {
		return
	}
	s.backwardBias(mat[T]{}, y, dy, dx, nil)
}

func (s *sigmoidLayer[T]) backwardBias(_, y, dy, dx mat[T], db []T) {
	if db != nil {
		clear(db)
	}
	eachRow(y, dy, dx, func(yr, dyr, dxr []T) {
		for j, v := range yr {
			dxr[j] = dyr[j] * v * (1 - v)
		}
		if db != nil {
			addRow(db, dxr)
		}
	})
}
