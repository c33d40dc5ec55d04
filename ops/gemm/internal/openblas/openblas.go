// Copyright 2026 The sgdpipe Authors.

//go:build openblas && cgo

package openblas

/*
#cgo pkg-config: openblas
#include <cblas.h>
*/
import "C"

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Implementation is gonum's native BLAS with OpenBLAS's Sgemm. The zero
// value is ready to use. Sgemm does not check its arguments beyond what
// cblas_sgemm does: pass valid ones.
type Implementation struct {
	gonum.Implementation
}

var _ blas.Float32Level3 = Implementation{}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C with cblas_sgemm, row-major.
func (Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	C.cblas_sgemm(C.CblasRowMajor, trans(tA), trans(tB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(&a[0]), C.blasint(lda), (*C.float)(&b[0]), C.blasint(ldb),
		C.float(beta), (*C.float)(&c[0]), C.blasint(ldc))
}

func trans(t blas.Transpose) C.enum_CBLAS_TRANSPOSE {
	if t == blas.NoTrans {
		return C.CblasNoTrans
	}
	return C.CblasTrans
}

// SetThreads sets the number of threads OpenBLAS uses for every later call.
func SetThreads(n int) { C.openblas_set_num_threads(C.int(n)) }

// Config returns OpenBLAS's build and core description, such as
// "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64".
func Config() string { return C.GoString(C.openblas_get_config()) }
