package feature

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// number is the element type of the numeric arrow arrays read without conversion.
type number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// isFinite reports whether f is neither NaN nor infinite (f-f is NaN exactly then).
func isFinite(f float64) bool { return f-f == 0 }

// where locates a record for error messages: the file, the column and the row of the record's first
// row (within the file for Fit; the batch position or __row for Transform).
type where struct {
	file string
	col  string
	base int64
	rows *array.Int64 // Transform: the __row column, naming rows by global index; nil otherwise
}

// rowOf names row i of the record.
func (w where) rowOf(i int) string {
	if w.rows != nil && i < w.rows.Len() && w.rows.IsValid(i) {
		return fmt.Sprintf("row %d", w.rows.Value(i))
	}
	if w.file == "" {
		return fmt.Sprintf("row %d of the batch", w.base+int64(i))
	}
	return fmt.Sprintf("row %d", w.base+int64(i))
}

// errorf returns an error naming the file, column and row i.
func (w where) errorf(i int, format string, args ...any) error {
	return fmt.Errorf("feature: %scolumn %q, %s: %s", inFile(w.file), w.col, w.rowOf(i), fmt.Sprintf(format, args...))
}

// nonFiniteError is the error for a NaN or infinity in a feature when AllowNonFinite is off.
func (w where) nonFiniteError(i int, v float64) error {
	return w.errorf(i, "value %v: set AllowNonFinite (--allow-non-finite) to impute NaN and infinities, or clean the data", v)
}

// asFloat64 converts a boolean or float16 array (which have no []T view) into dst, grown as needed;
// null positions hold 0. It returns nil for other arrays.
func asFloat64(arr arrow.Array, dst []float64) []float64 {
	switch a := arr.(type) {
	case *array.Boolean:
		dst = grow(dst, a.Len())
		for i := range dst {
			dst[i] = 0
			if a.Value(i) {
				dst[i] = 1
			}
		}
		return dst
	case *array.Float16:
		vals := a.Values()
		dst = grow(dst, len(vals))
		for i, v := range vals {
			dst[i] = float64(v.Float32())
		}
		return dst
	}
	return nil
}

// grow returns s resliced to n elements, reallocated if its capacity is smaller.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// strView reads string-like arrays (strings, binaries, views) as strings without copying. The
// strings alias Arrow memory: use them for lookups only, and clone them before keeping them.
type strView struct {
	s  interface{ Value(int) string }
	b  interface{ Value(int) []byte }
	sa arrow.Array
}

// newStrView returns a view of arr, or false if arr is not string-like.
func newStrView(arr arrow.Array) (strView, bool) {
	switch a := arr.(type) {
	case *array.String:
		return strView{s: a, sa: arr}, true
	case *array.LargeString:
		return strView{s: a, sa: arr}, true
	case *array.StringView:
		return strView{s: a, sa: arr}, true
	case *array.Binary:
		return strView{b: a, sa: arr}, true
	case *array.LargeBinary:
		return strView{b: a, sa: arr}, true
	case *array.BinaryView:
		return strView{b: a, sa: arr}, true
	}
	return strView{}, false
}

// at returns value i; it aliases Arrow memory.
func (v strView) at(i int) string {
	if v.s != nil {
		return v.s.Value(i)
	}
	b := v.b.Value(i)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// isSigned reports whether the number type T is signed (for unsigned T, 0-1 wraps around).
func isSigned[T number]() bool {
	var zero T
	return zero-1 < zero
}

// scalarScan summarises one record's worth of one numeric column.
type scalarScan struct {
	m         Moments
	nulls     int64
	nonFinite int64
	firstNull int // index of the first null, -1 if none
	firstBad  int // index of the first NaN/±Inf, -1 if none
}

// scanScalar computes the moments of the valid finite values of vals (the values of arr) by two passes
// (mean, then corrected sum of squared deviations), and counts nulls and non-finite values.
func scanScalar[T number](vals []T, arr arrow.Array) scalarScan {
	r := scalarScan{firstNull: -1, firstBad: -1}
	nulls := arr.NullN() > 0
	var n int64
	var sum float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, v := range vals {
		if nulls && arr.IsNull(i) {
			if r.nulls == 0 {
				r.firstNull = i
			}
			r.nulls++
			continue
		}
		f := float64(v)
		if !isFinite(f) {
			if r.nonFinite == 0 {
				r.firstBad = i
			}
			r.nonFinite++
			continue
		}
		n++
		sum += f
		lo = min(lo, f)
		hi = max(hi, f)
	}
	if n == 0 {
		return r
	}
	mean := sum / float64(n)
	var m2, comp float64
	for i, v := range vals {
		f := float64(v)
		if nulls && arr.IsNull(i) || !isFinite(f) {
			continue
		}
		d := f - mean
		m2 += d * d
		comp += d
	}
	r.m = chunkMoments(n, mean, m2, comp, lo, hi)
	return r
}

// chunkMoments assembles the Moments of a two-pass computation: comp is the sum of deviations from
// mean, which corrects both the mean and M2 for the rounding of the first pass.
func chunkMoments(n int64, mean, m2, comp, lo, hi float64) Moments {
	fn := float64(n)
	mean += comp / fn
	m2 -= comp * comp / fn
	return Moments{n: n, mean: min(max(mean, lo), hi), m2: max(m2, 0), min: lo, max: hi}
}
