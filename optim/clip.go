package optim

import "math"

// GradNorm returns the Euclidean norm of g, accumulated in float64 in index
// order (deterministic; four interleaved partial sums, the elements past the
// last multiple of four added to the first). It is +Inf or NaN if g holds a
// non-finite value. It reads g once and does not allocate. With AVX2 the
// four sums are the lanes of one vector register (the same additions in the
// same order, so the same bits), about twice as fast as the scalar loop; it
// always runs on the calling goroutine, since splitting the sums would
// change them.
func GradNorm(g []float32) float64 {
	var s [4]float64
	m := len(g) &^ 3
	if useAsm {
		sumSquaresAsm(g[:m], &s)
	} else {
		sumSquares(g[:m], &s)
	}
	for _, x := range g[m:] {
		s[0] += float64(x) * float64(x)
	}
	return math.Sqrt((s[0] + s[1]) + (s[2] + s[3]))
}

// sumSquares adds g[i]² to s[i%4] in index order; len(g) is a multiple of 4.
func sumSquares(g []float32, s *[4]float64) {
	s0, s1, s2, s3 := s[0], s[1], s[2], s[3]
	for len(g) >= 4 {
		x0, x1, x2, x3 := float64(g[0]), float64(g[1]), float64(g[2]), float64(g[3])
		s0 += x0 * x0
		s1 += x1 * x1
		s2 += x2 * x2
		s3 += x3 * x3
		g = g[4:]
	}
	s[0], s[1], s[2], s[3] = s0, s1, s2, s3
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
		op := vecOp{kind: opScale, p: g, g: g, k: [5]float32{float32(coef)}}
		op.run(len(g))
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
	op := vecOp{kind: opClipValue, p: g, g: g, k: [5]float32{float32(c)}}
	op.run(len(g))
}

// clipValue is ClipGradValue's pure-Go kernel.
func clipValue(g []float32, hi float32) {
	lo := -hi
	for i, x := range g {
		g[i] = min(max(x, lo), hi)
	}
}
