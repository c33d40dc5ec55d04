package ops

import "math/rand/v2"

// relu is max(x, 0), as PyTorch's nn.ReLU (NaN propagates; the gradient at 0 is 0).
type relu[T float] struct{ width int }

func (r *relu[T]) outDim() int     { return r.width }
func (r *relu[T]) auxPerRow() int  { return 0 }
func (r *relu[T]) hasParams() bool { return false }

func (r *relu[T]) forward(_ []T, x, y mat[T], _ []T, _ bool, _ *rand.PCG) { reluForward(x, y, nil) }

// forwardBias leaves x alone: backward reads only y (y > 0 exactly where x + b > 0).
func (r *relu[T]) forwardBias(x, y mat[T], b []T) { reluForward(x, y, b) }

func (r *relu[T]) backward(_, _ []T, _, y, dy, dx mat[T], _ []T, _ bool) {
	if dx.Data == nil {
		return
	}
	reluBackward(y, dy, dx, nil)
}

func (r *relu[T]) backwardBias(_, y, dy, dx mat[T], db []T) { reluBackward(y, dy, dx, db) }

// leakyReLU is x for x > 0 and slope·x otherwise, as PyTorch's nn.LeakyReLU.
type leakyReLU[T float] struct {
	width int
	slope T
}

func (r *leakyReLU[T]) outDim() int     { return r.width }
func (r *leakyReLU[T]) auxPerRow() int  { return 0 }
func (r *leakyReLU[T]) hasParams() bool { return false }

func (r *leakyReLU[T]) forward(_ []T, x, y mat[T], _ []T, _ bool, _ *rand.PCG) {
	s := r.slope
	for i := range x.Rows {
		xr := x.row(i)
		yr := y.row(i)[:len(xr)]
		for j, v := range xr {
			if v > 0 {
				yr[j] = v
			} else {
				yr[j] = s * v
			}
		}
	}
}

// forwardBias stores x + b into x: backward reads the pre-activation (the slope may be
// negative, so y alone does not tell the side).
func (r *leakyReLU[T]) forwardBias(x, y mat[T], b []T) {
	s := r.slope
	for i := range x.Rows {
		xr := x.row(i)
		yr := y.row(i)[:len(xr)]
		br := b[:len(xr)]
		for j, v := range xr {
			v += br[j]
			xr[j] = v
			if v > 0 {
				yr[j] = v
			} else {
				yr[j] = s * v
			}
		}
	}
}

func (r *leakyReLU[T]) backward(_, _ []T, x, _, dy, dx mat[T], _ []T, _ bool) {
	if dx.Data == nil {
		return
	}
	r.backwardBias(x, mat[T]{}, dy, dx, nil)
}

func (r *leakyReLU[T]) backwardBias(x, _, dy, dx mat[T], db []T) {
	if db != nil {
		clear(db)
	}
	s := r.slope
	eachRow(x, dy, dx, func(xr, dyr, dxr []T) {
		for j, v := range xr {
			if v > 0 {
				dxr[j] = dyr[j]
			} else {
				dxr[j] = s * dyr[j]
			}
		}
		if db != nil {
			addRow(db, dxr)
		}
	})
}
