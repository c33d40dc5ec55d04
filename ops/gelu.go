package ops

import (
	"math"
	"math/rand/v2"
)

// gelu is the Gaussian error linear unit x·Φ(x). With approxTanh unset it is exact, with
// Φ from erf, as PyTorch's nn.GELU() default; with approxTanh set it is
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as nn.GELU(approximate="tanh").
type gelu[T float] struct {
	width      int
	approxTanh bool
}

func (g *gelu[T]) outDim() int     { return g.width }
func (g *gelu[T]) auxPerRow() int  { return 0 }
func (g *gelu[T]) hasParams() bool { return false }

const (
	sqrt2        = math.Sqrt2
	invSqrt2Pi   = 0.3989422804014327 // 1/√(2π)
	sqrt2OverPi  = 0.7978845608028654 // √(2/π)
	geluTanhCube = 0.044715
)

// geluExact returns x·Φ(x) and its derivative Φ(x) + x·φ(x).
func geluExact(x float64) (y, dy float64) {
	cdf := 0.5 * (1 + math.Erf(x/sqrt2))
	pdf := invSqrt2Pi * math.Exp(-0.5*x*x)
	return x * cdf, cdf + x*pdf
}

// geluTanh returns the tanh approximation and its derivative.
func geluTanh(x float64) (y, dy float64) {
	u := sqrt2OverPi * (x + geluTanhCube*x*x*x)
	t := math.Tanh(u)
	du := sqrt2OverPi * (1 + 3*geluTanhCube*x*x)
	return 0.5 * x * (1 + t), 0.5*(1+t) + 0.5*x*(1-t*t)*du
}

func (g *gelu[T]) forward(_ []T, x, y mat[T], _ []T, _ bool, _ *rand.PCG) {
	f := geluExact
	if g.approxTanh {
		f = geluTanh
	}
	for i := range x.Rows {
		xr := x.row(i)
		yr := y.row(i)[:len(xr)]
		for j, v := range xr {
			o, _ := f(float64(v))
			yr[j] = T(o)
		}
	}
}

// forwardBias stores x + b into x: backward recomputes the derivative from x.
func (g *gelu[T]) forwardBias(x, y mat[T], b []T) {
	f := geluExact
	if g.approxTanh {
		f = geluTanh
	}
	for i := range x.Rows {
		xr := x.row(i)
		yr := y.row(i)[:len(xr)]
		br := b[:len(xr)]
		for j, v := range xr {
			v += br[j]
			xr[j] = v
			o, _ := f(float64(v))
			yr[j] = T(o)
		}
	}
}

// backward recomputes the derivative from x rather than storing it in forward.
func (g *gelu[T]) backward(_, _ []T, x, _, dy, dx mat[T], _ []T, _ bool) {
	if dx.Data == nil {
		return
	}
	g.backwardBias(x, mat[T]{}, dy, dx, nil)
}

func (g *gelu[T]) backwardBias(x, _, dy, dx mat[T], db []T) {
	if db != nil {
		clear(db)
	}
	f := geluExact
	if g.approxTanh {
		f = geluTanh
	}
	eachRow(x, dy, dx, func(xr, dyr, dxr []T) {
		for j, v := range xr {
			_, d := f(float64(v))
			dxr[j] = dyr[j] * T(d)
		}
		if db != nil {
			addRow(db, dxr)
		}
	})
}
