package optim

import "math"

// AllFinite reports whether every element of g is finite (no NaN, no ±Inf).
// It is branch-free over the data (integer operations on the exponent bits,
// four independent accumulators), reads g once and does not allocate: the
// divergence guard runs it on every reduced gradient.
func AllFinite(g []float32) bool { return nonFiniteBits(g)&signBit == 0 }

// FirstNonFinite returns the index of the first NaN or ±Inf in g, or -1.
// It costs what AllFinite costs when g is finite.
func FirstNonFinite(g []float32) int {
	if AllFinite(g) {
		return -1
	}
	for i, x := range g {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return i
		}
	}
	return -1 // unreachable
}

const (
	expBits = 0x7f800000
	expLow  = 0x00800000
	signBit = 0x80000000
)

// nonFiniteBits ORs (bits&expBits)+expLow over g: the sum reaches the sign
// bit exactly when the exponent is all ones, that is for NaN and ±Inf.
func nonFiniteBits(g []float32) uint32 {
	var a0, a1, a2, a3 uint32
	for len(g) >= 4 {
		a0 |= math.Float32bits(g[0])&expBits + expLow
		a1 |= math.Float32bits(g[1])&expBits + expLow
		a2 |= math.Float32bits(g[2])&expBits + expLow
		a3 |= math.Float32bits(g[3])&expBits + expLow
		g = g[4:]
	}
	for _, x := range g {
		a0 |= math.Float32bits(x)&expBits + expLow
	}
	return a0 | a1 | a2 | a3
}
