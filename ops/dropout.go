package ops

import (
	"math"
	"math/rand/v2"
)

// dropout zeroes each element with probability rate during training and scales the
// others by 1/(1-rate), as PyTorch's nn.Dropout; in evaluation it is the identity.
// The mask is drawn from the PCG the network seeds with (batch seed, layer index), so
// the same seed gives the same mask whichever worker computes the micro-batch.
type dropout[T float] struct {
	width int
	rate  float64
	keep  uint32 // an element is kept when a 32-bit draw is >= keep (keep = rate·2³²)
	scale T      // 1/(1-rate)
}

func newDropout[T float](width int, rate float64) *dropout[T] {
	return &dropout[T]{
		width: width,
		rate:  rate,
		keep:  uint32(math.Min(rate*(1<<32), math.MaxUint32)),
		scale: T(1 / (1 - rate)),
	}
}

func (d *dropout[T]) outDim() int     { return d.width }
func (d *dropout[T]) auxPerRow() int  { return d.width }
func (d *dropout[T]) hasParams() bool { return false }

// forward stores the mask (0 or 1/(1-rate) per element) in aux. Each 64-bit draw gives
// two 32-bit uniforms, consumed in row-major order.
func (d *dropout[T]) forward(_ []T, x, y mat[T], aux []T, train bool, rng *rand.PCG) {
	if !train {
		y.copyFrom(x)
		return
	}
	n := x.Rows * d.width
	mask := aux[:n]
	var bits uint64
	for k := range mask {
		if k&1 == 0 {
			bits = rng.Uint64()
		} else {
			bits >>= 32
		}
		if uint32(bits) >= d.keep {
			mask[k] = d.scale
		} else {
			mask[k] = 0
		}
	}
	for i := range x.Rows {
		xr := x.row(i)
		yr := y.row(i)[:len(xr)]
		mr := mask[i*d.width : (i+1)*d.width][:len(xr)]
		for j, v := range xr {
			yr[j] = v * mr[j]
		}
	}
}

func (d *dropout[T]) backward(_, _ []T, _, _, dy, dx mat[T], aux []T, train bool) {
	if dx.Data == nil {
		return
	}
	if !train {
		dx.copyFrom(dy)
		return
	}
	for i := range dy.Rows {
		dyr := dy.row(i)
		dxr := dx.row(i)[:len(dyr)]
		mr := aux[i*d.width : (i+1)*d.width][:len(dyr)]
		for j, v := range dyr {
			dxr[j] = v * mr[j]
		}
	}
}
