// Copyright 2026 The sgdpipe Authors.

//go:build linux

package gemm

import (
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"unsafe"
)

// guarded copies s into memory that a PROT_NONE page follows (atEnd) or
// precedes (!atEnd), so that reading one element past either end of the
// slice faults instead of reading a neighbour's memory.
func guarded(t *testing.T, s []float32, atEnd bool) []float32 {
	t.Helper()
	if len(s) == 0 {
		return s
	}
	page := os.Getpagesize()
	size := (len(s)*4 + page - 1) / page * page
	mem, err := syscall.Mmap(-1, 0, size+2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[:page], syscall.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	if err := syscall.Mprotect(mem[page+size:], syscall.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	off := page
	if atEnd {
		off = page + size - len(s)*4
	}
	g := unsafe.Slice((*float32)(unsafe.Pointer(&mem[off])), len(s))
	copy(g, s)
	return g
}

// TestSgemmGuardPages runs products whose operands end (or start) at an
// unmapped page: a kernel that loads past a row end, as an unmasked vector
// load of a partial panel would, crashes the test.
func TestSgemmGuardPages(t *testing.T) {
	for _, cfg := range configs() {
		t.Run(cfg.String(), func(t *testing.T) {
			impl := cfg.use(t)
			rng := rand.New(rand.NewPCG(6, 6))
			for i := range 24 {
				tc := gemmCase{
					tA: transposes[i%2], tB: transposes[i/2%2],
					m: 1 + rng.IntN(40), n: 1 + rng.IntN(70), k: 1 + rng.IntN(40),
					alpha: 1, beta: scalars[rng.IntN(len(scalars))],
					padA: rng.IntN(3), padB: rng.IntN(3), padC: rng.IntN(3),
				}
				o := newOperands(tc, rng)
				want, mag := reference(tc, o)
				atEnd := i%3 != 0
				o.a, o.b, o.c = guarded(t, o.a, atEnd), guarded(t, o.b, atEnd), guarded(t, o.c, atEnd)
				impl.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, o.c, o.ldc)
				compare(t, tc, o, want, mag)
			}
		})
	}
}
