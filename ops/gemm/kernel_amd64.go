// Copyright 2026 The sgdpipe Authors.

//go:build amd64 && !noasm

package gemm

import "golang.org/x/sys/cpu"

//go:generate go run asmgen.go -out kernel_amd64.s -decl kernel_decl_amd64.go

// asmKernel is the ABI of the generated kernels in kernel_amd64.s; see
// asmgen.go. Strides are in float32 elements. For AVX-512 kernels mask holds
// the column mask of the first 16 columns in its low half and of the next 16
// in its high half; for AVX2 kernels it is nr.
type asmKernel func(k int, a *float32, rsa, csa int, b *float32, csb int, c *float32, ldc int, alpha, beta float32, mask uint32)

// avx512Kernel: 12×32 tiles (24 zmm accumulators), B read through column
// masks. A 12×kc panel of A (12 KiB at kc = 256) stays in L1 while kc×32
// panels of B stream from a kc×nc block in L2 (256 KiB). The block sizes
// were picked by measuring 512³ to 2048³ products; within ±5% of each
// other, kc 128-384 and nc 128-512 all do about as well.
var avx512Kernel = kernel{
	name:    "avx512",
	fn:      kernAVX512,
	mr:      12,
	nr:      32,
	maskedB: true,
	kc:      256,
	nc:      256,
	mc:      1536,
	pack:    avx2PackOps,
}

// avx2Kernel: 6×16 tiles (12 ymm accumulators). Its loads of B are not
// masked, so B is always packed into zero-padded 16-column panels; C's edge
// columns are masked (VMASKMOVPS).
var avx2Kernel = kernel{
	name: "avx2",
	fn:   kernAVX2,
	mr:   6,
	nr:   16,
	kc:   256,
	nc:   512,
	mc:   1536,
	pack: avx2PackOps,
}

// checkTile panics unless the memory a kernel call touches lies in a, b and
// c: the assembly trusts its arguments. It reads bn columns of B and writes
// nr columns of C.
func checkTile(mr, bn, nr, k int, a []float32, rsa, csa int, b []float32, csb int, c []float32, ldc int) {
	_, _, _ = a[(mr-1)*rsa+(k-1)*csa], b[(k-1)*csb+bn-1], c[(mr-1)*ldc+nr-1]
}

func kernAVX512(mr, nr, k int, a []float32, rsa, csa int, b []float32, csb int, c []float32, ldc int, alpha, beta float32) {
	checkTile(mr, nr, nr, k, a, rsa, csa, b, csb, c, ldc)
	mask := uint32(1)<<nr - 1
	if nr >= 32 {
		mask = 0xffffffff
	}
	if nr <= 16 {
		avx512Rows16[mr](k, &a[0], rsa, csa, &b[0], csb, &c[0], ldc, alpha, beta, mask)
		return
	}
	avx512Rows[mr](k, &a[0], rsa, csa, &b[0], csb, &c[0], ldc, alpha, beta, mask)
}

func kernAVX2(mr, nr, k int, a []float32, rsa, csa int, b []float32, csb int, c []float32, ldc int, alpha, beta float32) {
	checkTile(mr, 16, nr, k, a, rsa, csa, b, csb, c, ldc)
	avx2Rows[mr](k, &a[0], rsa, csa, &b[0], csb, &c[0], ldc, alpha, beta, uint32(nr))
}

// avx2PackOps are the packing loops in pack_amd64.s. The wrappers check the
// bounds of the memory the assembly touches.
var avx2PackOps = packOps{
	transpose4: func(dst []float32, ds int, src []float32, ss, n int) {
		_, _ = dst[(n-1)*ds+3], src[3*ss+n-1]
		transpose4AVX2(&dst[0], ds, &src[0], ss, n)
	},
	copyRows: func(dst []float32, ds int, src []float32, ss, rows, w int) {
		if rows == 0 || w == 0 {
			return
		}
		_, _ = dst[(rows-1)*ds+w-1], src[(rows-1)*ss+w-1]
		copyRowsAVX2(&dst[0], ds, &src[0], ss, rows, w)
	},
}

//go:noescape
func transpose4AVX2(dst *float32, dstStride int, src *float32, srcStride int, n int)

//go:noescape
func copyRowsAVX2(dst *float32, dstStride int, src *float32, srcStride int, rows, w int)

// archKernels returns the assembly kernels this CPU and OS support, fastest
// first. cpu.X86.HasAVX512F and HasAVX2 include the OS's XSAVE support for
// the registers; FMA3 comes with AVX2 on every CPU but is checked anyway.
func archKernels() []*kernel {
	var ks []*kernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, &avx512Kernel)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, &avx2Kernel)
	}
	return ks
}
