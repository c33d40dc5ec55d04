package ops

import "math/rand/v2"

// relu is max(x, 0), as PyTorch's nn.ReLU (NaN propagates; the gradient at 0 is 0).
type relu[T float] struct{ width int }

func (r *relu[T]) outDim() int     { return r.width }
func (r *relu[T]) auxPerRow() int  { return 0 }
func (r *relu[T]) hasParams() bool { return false }

func (r *relu[T]) forward(_ []T, x, y mat[T], _ []T, _ bool, _ *rand.PCG) {
	for i := range x.Rows {
		xr := x.row(i)
		yr := y.row(i)[:len(xr)]
		for j, v := range xr {
			yr[j] = max(v, 0)
		}
	}
}

func (r *relu[T]) backward(_, _ []T, _, y, dy, dx mat[T], _ []T, _ bool) {
	if dx.Data == nil {
		return
	}
	eachRow(y, dy, dx, func(yr, dyr, dxr []T) {
		for j, v := range yr {
			if v > 0 {
				dxr[j] = dyr[j]
			} else {
				dxr[j] = 0
			}
		}
	})
}

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

func (r *leakyReLU[T]) backward(_, _ []T, x, _, dy, dx mat[T], _ []T, _ bool) {
	if dx.Data == nil {
		return
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
	})
}
