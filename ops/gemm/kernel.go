// Copyright 2026 The sgdpipe Authors.

package gemm

// kernelFunc computes one register tile of C in place:
//
//	C[0:mr, 0:nr] = alpha * A[0:mr, 0:k] · B[0:k, 0:nr] + beta * C[0:mr, 0:nr]
//
// Element (r, p) of A is a[r*rsa + p*csa], element (p, j) of B is
// b[p*csb + j] and element (r, j) of C is c[r*ldc + j]. With beta == 0, C is
// written without being read, so NaNs in it do not propagate. It requires
// 1 <= mr <= kernel.mr, 1 <= nr <= kernel.nr and k >= 1. Unless the kernel's
// maskedB is set, every row of B must hold kernel.nr readable columns.
type kernelFunc func(mr, nr, k int, a []float32, rsa, csa int, b []float32, csb int, c []float32, ldc int, alpha, beta float32)

// kernel describes one micro-kernel and the cache blocking that suits it.
type kernel struct {
	name string
	fn   kernelFunc
	mr   int // rows of the register tile
	nr   int // columns of the register tile
	// maskedB is set when the kernel reads only the first nr columns of B,
	// so a partial panel of an unpacked B may be read in place.
	maskedB bool
	kc      int // depth of a packed block: an mr×kc panel of A lives in L1
	nc      int // columns of a packed kc×nc block of B, which lives in L2
	mc      int // rows of a packed mc×kc block of A, which lives in L3
	pack    packOps
}

// kernels lists the kernels this CPU and build can run, fastest first; the
// generic kernel is always last. It is set once by init.
var kernels []*kernel

// active is the kernel Sgemm uses: kernels[0] unless a test forces another.
var active *kernel

func init() {
	kernels = append(archKernels(), &genericKernel)
	active = kernels[0]
}

// genericKernel is the pure-Go kernel used on other CPUs and with -tags noasm.
var genericKernel = kernel{
	name:    "generic",
	fn:      kernGeneric,
	mr:      4,
	nr:      4,
	maskedB: true,
	kc:      256,
	nc:      512,
	mc:      512,
	pack:    goPackOps,
}

// kernGeneric is the pure-Go kernelFunc for 4×4 tiles: sixteen scalar
// accumulators for a full tile, a plain loop nest for edge tiles.
func kernGeneric(mr, nr, k int, a []float32, rsa, csa int, b []float32, csb int, c []float32, ldc int, alpha, beta float32) {
	if mr == 4 && nr == 4 {
		kernGeneric4x4(k, a, rsa, csa, b, csb, c, ldc, alpha, beta)
		return
	}
	var acc [4][4]float32
	for p := range k {
		bp := b[p*csb : p*csb+nr]
		for r := range mr {
			ar := a[r*rsa+p*csa]
			for j, bv := range bp {
				acc[r][j] += ar * bv
			}
		}
	}
	for r := range mr {
		cr := c[r*ldc : r*ldc+nr]
		for j := range cr {
			if beta == 0 {
				cr[j] = alpha * acc[r][j]
			} else {
				cr[j] = alpha*acc[r][j] + beta*cr[j]
			}
		}
	}
}

func kernGeneric4x4(k int, a []float32, rsa, csa int, b []float32, csb int, c []float32, ldc int, alpha, beta float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	ia, ib := 0, 0
	for range k {
		bp := b[ib : ib+4 : ib+4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		a0 := a[ia]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := a[ia+rsa]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := a[ia+2*rsa]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := a[ia+3*rsa]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		ia += csa
		ib += csb
	}
	rows := [4][4]float32{
		{c00, c01, c02, c03},
		{c10, c11, c12, c13},
		{c20, c21, c22, c23},
		{c30, c31, c32, c33},
	}
	for r := range 4 {
		cr := c[r*ldc : r*ldc+4 : r*ldc+4]
		if beta == 0 {
			for j := range cr {
				cr[j] = alpha * rows[r][j]
			}
		} else {
			for j := range cr {
				cr[j] = alpha*rows[r][j] + beta*cr[j]
			}
		}
	}
}
