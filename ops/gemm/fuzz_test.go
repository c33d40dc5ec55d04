// Copyright 2026 The sgdpipe Authors.

package gemm

import (
	"math/rand/v2"
	"testing"
)

// FuzzSgemm checks random shapes, transposes, scalars, paddings, kernels,
// packing policies and thread counts against the float64 reference.
//
// flags: bit 0 tA, bit 1 tB, bits 2-3 alpha, bits 4-5 beta, bits 6-8 the
// packing policy, bit 9 split over two goroutines; kern picks the kernel.
func FuzzSgemm(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint8(1), uint16(0), uint8(0), uint8(0), uint64(1))
	f.Add(uint8(13), uint8(33), uint8(7), uint16(0x0f3), uint8(0), uint8(3), uint64(2))
	f.Add(uint8(128), uint8(10), uint8(128), uint16(0x002), uint8(1), uint8(0), uint64(3))
	f.Add(uint8(10), uint8(128), uint8(128), uint16(0x001), uint8(2), uint8(1), uint64(4))
	f.Add(uint8(128), uint8(128), uint8(10), uint16(0x2c0), uint8(0), uint8(5), uint64(5))
	f.Add(uint8(24), uint8(64), uint8(255), uint16(0x11f), uint8(0), uint8(19), uint64(6))
	f.Add(uint8(0), uint8(5), uint8(0), uint16(0x030), uint8(0), uint8(2), uint64(7))
	f.Fuzz(func(t *testing.T, m, n, k uint8, flags uint16, kern, pad uint8, seed uint64) {
		tc := gemmCase{
			tA: transposes[flags&1], tB: transposes[flags>>1&1],
			m: int(m), n: int(n), k: int(k),
			alpha: scalars[flags>>2&3], beta: scalars[flags>>4&3],
			padA: int(pad & 7), padB: int(pad >> 3 & 7), padC: int(pad >> 6),
		}
		cfg := config{
			kern:    kernels[int(kern)%len(kernels)],
			packing: packing(int(flags>>6&7) % 5),
			threads: 1 + int(flags>>9&1),
		}
		impl := cfg.use(t)
		rng := rand.New(rand.NewPCG(seed, 0))
		o := newOperands(tc, rng)
		want, mag := reference(tc, o)
		c0 := append([]float32(nil), o.c...)
		impl.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, o.c, o.ldc)
		if tc.m == 0 || tc.n == 0 {
			for i := range c0 {
				if o.c[i] != c0[i] && !(c0[i] != c0[i] && o.c[i] != o.c[i]) {
					t.Fatalf("%v: empty product wrote C[%d]", tc, i)
				}
			}
			return
		}
		compare(t, tc, o, want, mag)
	})
}
