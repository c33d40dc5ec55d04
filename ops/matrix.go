package ops

import (
	"gonum.org/v1/gonum/blas/blas32"
)

// Panic messages for programmer errors: fixed strings, as gonum's mat.ErrShape.
const (
	errShape      = "ops: shape mismatch"
	errBadMatrix  = "ops: matrix data shorter than rows and stride need"
	errBadStride  = "ops: matrix stride smaller than columns"
	errNegative   = "ops: negative dimension"
	errParamsLen  = "ops: parameter vector length differs from the layout size"
	errGradsLen   = "ops: gradient vector length differs from the layout size"
	errBatch      = "ops: batch larger than the workspace's max batch"
	errWorkspace  = "ops: workspace belongs to another net"
	errNoForward  = "ops: Backward without a preceding Forward on this workspace"
	errIndex      = "ops: index out of range"
	errMaxBatch   = "ops: max batch must be > 0"
	errLabelsLen  = "ops: labels length differs from the number of rows"
	errAliasedOut = "ops: dst aliases the output"
)

// float is the set of element types the kernels are written for. The public API is
// float32 only; the float64 instantiation exists so that gradient checks can compare
// analytic gradients with finite differences computed in double precision.
type float interface{ float32 | float64 }

// Matrix is a row-major float32 matrix view: element (i, j) is Data[i*Stride+j].
//
// A Matrix never owns its memory: it is a view over a flat slice, so a batch's
// FixedSizeList<float32>[d] values, a tensor inside a flat parameter vector and a
// workspace buffer are all matrices without a copy. Copying a Matrix copies the view,
// not the data. The zero value is an empty 0×0 matrix. A Matrix is as safe for
// concurrent use as the slice it views: concurrent reads are fine, writes need the
// caller's synchronization.
type Matrix struct {
	Rows, Cols int       // shape
	Stride     int       // distance in elements between the starts of two rows; >= Cols
	Data       []float32 // len >= (Rows-1)*Stride + Cols when Rows > 0
}

// mat is the generic twin of Matrix; mat[float32] converts to and from Matrix for free.
type mat[T float] struct {
	Rows, Cols int
	Stride     int
	Data       []T
}

// NewMatrix allocates a zeroed rows×cols matrix with Stride == cols. It is the only
// function of this file that allocates (rows*cols*4 bytes).
func NewMatrix(rows, cols int) Matrix {
	if rows < 0 || cols < 0 {
		panic(errNegative)
	}
	return Matrix{Rows: rows, Cols: cols, Stride: cols, Data: make([]float32, rows*cols)}
}

// MatrixOf returns the rows×cols view of data with Stride == cols, without copying.
// data may be longer than rows*cols; it panics if it is shorter. This is how a batch's
// x column (the Float32 child of a FixedSizeList<float32>[cols], resliced to the
// batch's offset) becomes a matrix.
func MatrixOf(data []float32, rows, cols int) Matrix {
	m := Matrix{Rows: rows, Cols: cols, Stride: cols, Data: data}
	m.check()
	return m
}

// FromGeneral returns the view of a blas32.General as a Matrix, without copying.
func FromGeneral(g blas32.General) Matrix {
	m := Matrix{Rows: g.Rows, Cols: g.Cols, Stride: g.Stride, Data: g.Data}
	m.check()
	return m
}

// General returns m as a blas32.General sharing m's data.
func (m Matrix) General() blas32.General {
	return blas32.General{Rows: m.Rows, Cols: m.Cols, Stride: m.Stride, Data: m.Data}
}

// At returns element (i, j). It panics if i or j is out of range.
func (m Matrix) At(i, j int) float32 { return mat[float32](m).at(i, j) }

// Set sets element (i, j) to v. It panics if i or j is out of range.
func (m Matrix) Set(i, j int, v float32) { mat[float32](m).set(i, j, v) }

// Row returns row i as a slice of length Cols sharing m's data.
func (m Matrix) Row(i int) []float32 { return mat[float32](m).row(i) }

// SliceRows returns the view of rows [i, j) of m, without copying; a trainer uses it to
// cut a batch into micro-batches.
func (m Matrix) SliceRows(i, j int) Matrix { return Matrix(mat[float32](m).sliceRows(i, j)) }

// CopyFrom copies src into m. The shapes must match; strides may differ.
func (m Matrix) CopyFrom(src Matrix) { mat[float32](m).copyFrom(mat[float32](src)) }

func (m Matrix) check() { mat[float32](m).check() }

// check panics if m is not a valid view.
func (m mat[T]) check() {
	if m.Rows < 0 || m.Cols < 0 {
		panic(errNegative)
	}
	if m.Rows == 0 || m.Cols == 0 {
		return
	}
	if m.Stride < m.Cols {
		panic(errBadStride)
	}
	if len(m.Data) < (m.Rows-1)*m.Stride+m.Cols {
		panic(errBadMatrix)
	}
}

func (m mat[T]) at(i, j int) T {
	if uint(i) >= uint(m.Rows) || uint(j) >= uint(m.Cols) {
		panic(errIndex)
	}
	return m.Data[i*m.Stride+j]
}

func (m mat[T]) set(i, j int, v T) {
	if uint(i) >= uint(m.Rows) || uint(j) >= uint(m.Cols) {
		panic(errIndex)
	}
	m.Data[i*m.Stride+j] = v
}

func (m mat[T]) row(i int) []T {
	if uint(i) >= uint(m.Rows) {
		panic(errIndex)
	}
	return m.Data[i*m.Stride : i*m.Stride+m.Cols : i*m.Stride+m.Cols]
}

func (m mat[T]) sliceRows(i, j int) mat[T] {
	if i < 0 || j < i || j > m.Rows {
		panic(errIndex)
	}
	if i == j {
		return mat[T]{Cols: m.Cols, Stride: m.Stride}
	}
	return mat[T]{Rows: j - i, Cols: m.Cols, Stride: m.Stride, Data: m.Data[i*m.Stride : (j-1)*m.Stride+m.Cols]}
}

// dense reports whether the rows are contiguous, so the matrix is one flat slice.
func (m mat[T]) dense() bool { return m.Stride == m.Cols || m.Rows <= 1 }

// flat returns the Rows*Cols elements of a dense matrix.
func (m mat[T]) flat() []T { return m.Data[:m.Rows*m.Cols] }

func (m mat[T]) copyFrom(src mat[T]) {
	if m.Rows != src.Rows || m.Cols != src.Cols {
		panic(errShape)
	}
	if m.dense() && src.dense() {
		copy(m.flat(), src.flat())
		return
	}
	for i := range m.Rows {
		copy(m.row(i), src.row(i))
	}
}
