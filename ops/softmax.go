package ops

import (
	"math"
	"math/rand/v2"
)

// softmaxLayer is the row-wise softmax exp(xⱼ)/Σₖexp(xₖ), as PyTorch's nn.Softmax(dim=1),
// computed after subtracting the row maximum so it cannot overflow. Losses take logits,
// so a net trained with CrossEntropy does not end with this layer.
type softmaxLayer[T float] struct{ width int }

func (s *softmaxLayer[T]) outDim() int     { return s.width }
func (s *softmaxLayer[T]) auxPerRow() int  { return 0 }
func (s *softmaxLayer[T]) hasParams() bool { return false }

func (s *softmaxLayer[T]) forward(_ []T, x, y mat[T], _ []T, _ bool, _ *rand.PCG) {
	for i := range x.Rows {
		softmaxRow(y.row(i), x.row(i))
	}
}

// softmaxRow writes softmax(x) into dst, accumulating in float64.
func softmaxRow[T float](dst, x []T) {
	dst = dst[:len(x)]
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, float64(v))
	}
	var sum float64
	for j, v := range x {
		e := math.Exp(float64(v) - m)
		dst[j] = T(e)
		sum += e
	}
	inv := 1 / sum
	for j := range dst {
		dst[j] = T(float64(dst[j]) * inv)
	}
}

// backward is the Jacobian-vector product dxⱼ = yⱼ·(dyⱼ - Σₖ dyₖ·yₖ).
func (s *softmaxLayer[T]) backward(_, _ []T, _, y, dy, dx mat[T], _ []T, _ bool) {
	if dx.Data == nil {
		return
	}
	eachRow(y, dy, dx, func(yr, dyr, dxr []T) {
		var dot float64
		for j, v := range yr {
			dot += float64(dyr[j]) * float64(v)
		}
		for j, v := range yr {
			dxr[j] = T(float64(v) * (float64(dyr[j]) - dot))
		}
	})
}
