package ops

import (
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
)

// Gemm computes dst = alpha·op(a)·op(b) + beta·dst, where op(a) is a, or aᵀ when transA
// is set, and likewise for b. It calls blas32.Gemm, so whatever implementation was
// installed with blas32.Use does the work.
//
// Shapes must agree (op(a) is m×k, op(b) is k×n, dst is m×n) or Gemm panics with
// "ops: shape mismatch". dst must not overlap a or b. When beta is 0, dst is
// overwritten without being read, so NaNs already in dst do not propagate.
// Gemm does not allocate with gonum's native implementation (see the package doc for
// how it keeps that implementation serial); it is safe for concurrent use on disjoint
// destinations. Cost: 2·m·n·k flops at the speed of the installed BLAS.
func Gemm(dst Matrix, alpha float32, a Matrix, transA bool, b Matrix, transB bool, beta float32) {
	gemm(mat[float32](dst), alpha, mat[float32](a), transA, mat[float32](b), transB, beta)
}

// Mul computes dst = a·b; see Gemm.
func Mul(dst, a, b Matrix) { Gemm(dst, 1, a, false, b, false, 0) }

// Tile sizes that keep gonum's native Sgemm on its serial path: gonum splits C into
// 64×64 blocks and goes parallel (one goroutine and a closure per block, plus a
// channel: it allocates) from 4 blocks on. A 64×192 tile is 3 blocks.
const (
	serialTileRows = 64
	serialTileCols = 192
)

// gemm is the generic kernel behind Gemm: float32 goes through blas32, float64 (used by
// the gradient checks) through blas64.
func gemm[T float](dst mat[T], alpha T, a mat[T], transA bool, b mat[T], transB bool, beta T) {
	dst.check()
	a.check()
	b.check()
	m, k := a.Rows, a.Cols
	if transA {
		m, k = k, m
	}
	kb, n := b.Rows, b.Cols
	if transB {
		kb, n = n, kb
	}
	if k != kb || dst.Rows != m || dst.Cols != n {
		panic(errShape)
	}
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		// BLAS would reject the zero leading dimension of an empty operand.
		scaleMat(dst, beta)
		return
	}
	var z T
	if unsafe.Sizeof(z) == 4 {
		sgemm(transA, transB, float32(alpha), general32(a), general32(b), float32(beta), general32(dst))
		return
	}
	blas64.Gemm(trans(transA), trans(transB), float64(alpha), general64(a), general64(b), float64(beta), general64(dst))
}

func scaleMat[T float](dst mat[T], beta T) {
	for i := range dst.Rows {
		r := dst.row(i)
		if beta == 0 {
			clear(r)
			continue
		}
		for j := range r {
			r[j] *= beta
		}
	}
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// general32 reinterprets a mat[T] whose T is float32 as a blas32.General. It is only
// called after the size check in gemm, which the compiler resolves per instantiation.
func general32[T float](m mat[T]) blas32.General {
	d := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(m.Data))), len(m.Data))
	return blas32.General{Rows: m.Rows, Cols: m.Cols, Stride: max(m.Stride, 1), Data: d}
}

func general64[T float](m mat[T]) blas64.General {
	d := unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(m.Data))), len(m.Data))
	return blas64.General{Rows: m.Rows, Cols: m.Cols, Stride: max(m.Stride, 1), Data: d}
}

// sgemm calls blas32.Gemm once, except with gonum's native implementation, where it
// tiles C so that every call stays on gonum's serial path. Data-parallel workers
// already keep every core busy, and the parallel path allocates on every call.
func sgemm(transA, transB bool, alpha float32, a, b blas32.General, beta float32, c blas32.General) {
	tA, tB := trans(transA), trans(transB)
	if _, native := blas32.Implementation().(gonum.Implementation); !native ||
		(c.Rows <= serialTileRows && c.Cols <= serialTileCols) {
		blas32.Gemm(tA, tB, alpha, a, b, beta, c)
		return
	}
	for i := 0; i < c.Rows; i += serialTileRows {
		ib := min(serialTileRows, c.Rows-i)
		var as blas32.General
		if transA { // a is k×m: take columns [i, i+ib)
			as = sub32(a, 0, i, a.Rows, ib)
		} else {
			as = sub32(a, i, 0, ib, a.Cols)
		}
		for j := 0; j < c.Cols; j += serialTileCols {
			jb := min(serialTileCols, c.Cols-j)
			var bs blas32.General
			if transB { // b is n×k: take rows [j, j+jb)
				bs = sub32(b, j, 0, jb, b.Cols)
			} else {
				bs = sub32(b, 0, j, b.Rows, jb)
			}
			blas32.Gemm(tA, tB, alpha, as, bs, beta, sub32(c, i, j, ib, jb))
		}
	}
}

// sub32 returns the r×c block of g whose top-left element is (i, j).
func sub32(g blas32.General, i, j, r, c int) blas32.General {
	start := i*g.Stride + j
	return blas32.General{Rows: r, Cols: c, Stride: g.Stride, Data: g.Data[start : start+(r-1)*g.Stride+c]}
}
