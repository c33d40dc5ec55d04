package optim

import "math"

// GradNorm returns the Euclidean norm of g, accumulated in float64 in index
// order (deterministic; four interleaved partial sums). It is +Inf or NaN if
// g holds a non-finite value. It reads g once and does not allocate.
func GradNorm(g []float32) float64 {
	var s0, s1, s2, s3 float64
	for len(g) >= 4 {
		x0, x1, x2, x3 := float64(g[0]), float64(g[1]), float64(g[2]), float64(g[3])
		s0 += x0 * x0
		s1 += x1 * x1
		s2 += x2 * x2
		s3 += x3 * x3
		g = g[4:]
	}
	for _, x := range g {
		s0 += float64(x) * float64(x)
	}
	return math.Sqrt((s0 + s1) + (s2 + s3))
}

// ClipGradNorm scales g in place so that its norm is at most maxNorm, with
// torch's clip_grad_norm_ semantics: coef = maxNorm/(total + 1e-6), and g
// is multiplied by coef only when coef < 1 (a clipped gradient's norm is
// therefore slightly below maxNorm). It returns the total norm before
// clipping. The norm of the whole flat vector equals torch's norm of the
// per-tensor norms. If the norm is not finite g is left as it is (torch
// would fill it with NaN) and the norm is returned for the divergence guard
// to act on. maxNorm must be > 0 (a programmer error otherwise: it panics).
// It makes one or two passes over g and does not allocate.
func ClipGradNorm(g []float32, maxNorm float64) (total float64) {
	if !(maxNorm > 0) {
		panic("optim: ClipGradNorm: maxNorm must be > 0")
	}
	total = GradNorm(g)
	if math.IsNaN(total) || math.IsInf(total, 0) {
		return total
	}
	if coef := maxNorm / (total + 1e-6); coef < 1 {
		scale(g, float32(coef))
	}
	return total
}

func scale(g []float32, c float32) {
	for i := range g {
		g[i] *= c
	}
}

// ClipGradValue clamps every element of g to [-c, c] in place, as torch's
// clip_grad_value_ does (NaN stays NaN). c must be > 0 (a programmer error
// otherwise: it panics). One pass, no allocation.
func ClipGradValue(g []float32, c float64) {
	if !(c > 0) {
		panic("optim: ClipGradValue: c must be > 0")
	}
	hi := float32(c)
	lo := -hi
	for i, x := range g {
		g[i] = min(max(x, lo), hi)
	}
}
