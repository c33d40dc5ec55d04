package feature

import (
	"fmt"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// fitColumn is a feature column chosen by Fit, before statistics.
type fitColumn struct {
	name  string
	index int // in the dataset schema
	dt    arrow.DataType
	enc   Encoding
	width int // Tensor of a FixedSizeList: its length; List: 0 until rows are seen
}

// colAcc accumulates one feature column over the records of one shard (and, merged, of the dataset).
type colAcc struct {
	col       *fitColumn
	allow     bool  // AllowNonFinite
	nulls     int64 // null values (null tensor elements included, null tensor rows not)
	nullRows  int64 // Tensor: null rows, each counting width nulls once the width is known
	nonFinite int64
	mom       []Moments // Numeric: 1; Tensor: width

	// Tensor: width (-1 until a non-null row is seen) and where it was first seen, for messages.
	width     int
	widthFile string
	widthRow  int64
	// Tensor scratch for one record, reused: per-element sum, min, max, mean, sum of deviations, count.
	sum, lo, hi, mean, comp []float64
	cnt                     []int64

	counts     map[string]*int64 // OneHot: value -> count (keys are owned copies)
	dictCounts []int64           // OneHot scratch: counts per dictionary index of one record
	conv       []float64         // scratch for booleans and float16
}

// newColAcc returns an empty accumulator for c.
func newColAcc(c *fitColumn, allow bool) *colAcc {
	a := &colAcc{col: c, allow: allow, width: -1}
	switch c.enc {
	case Numeric:
		a.mom = make([]Moments, 1)
	case Tensor:
		if c.width > 0 {
			a.setWidth(c.width)
		}
	case OneHot:
		a.counts = make(map[string]*int64)
	}
	return a
}

// setWidth fixes the tensor width and sizes the statistics.
func (a *colAcc) setWidth(n int) {
	a.width = n
	a.mom = make([]Moments, n)
}

// add accumulates arr, the column's values in one record at w.
func (a *colAcc) add(arr arrow.Array, w where) error {
	switch a.col.enc {
	case Numeric:
		return a.addNumeric(arr, w)
	case Tensor:
		return a.addTensor(arr, w)
	case OneHot:
		return a.addStrings(arr, w)
	case Hash:
		a.nulls += int64(arr.NullN())
		return nil
	}
	return fmt.Errorf("feature: internal: encoding %q", a.col.enc)
}

// typeError is the error for a record whose column does not have the dataset's type.
func typeError(w where, arr arrow.Array, want arrow.DataType) error {
	return fmt.Errorf("feature: %scolumn %q has type %s, but the dataset's schema says %s: give files with one schema",
		inFile(w.file), w.col, arr.DataType(), want)
}

// scanNumeric dispatches scanScalar on the concrete array type.
func scanNumeric(arr arrow.Array, conv *[]float64) (scalarScan, bool) {
	switch a := arr.(type) {
	case *array.Int8:
		return scanScalar(a.Int8Values(), arr), true
	case *array.Int16:
		return scanScalar(a.Int16Values(), arr), true
	case *array.Int32:
		return scanScalar(a.Int32Values(), arr), true
	case *array.Int64:
		return scanScalar(a.Int64Values(), arr), true
	case *array.Uint8:
		return scanScalar(a.Uint8Values(), arr), true
	case *array.Uint16:
		return scanScalar(a.Uint16Values(), arr), true
	case *array.Uint32:
		return scanScalar(a.Uint32Values(), arr), true
	case *array.Uint64:
		return scanScalar(a.Uint64Values(), arr), true
	case *array.Float32:
		return scanScalar(a.Float32Values(), arr), true
	case *array.Float64:
		return scanScalar(a.Float64Values(), arr), true
	case *array.Boolean, *array.Float16:
		*conv = asFloat64(arr, *conv)
		return scanScalar(*conv, arr), true
	}
	return scalarScan{}, false
}

// addNumeric accumulates a numeric or boolean column.
func (a *colAcc) addNumeric(arr arrow.Array, w where) error {
	r, ok := scanNumeric(arr, &a.conv)
	if !ok {
		return typeError(w, arr, a.col.dt)
	}
	if r.nonFinite > 0 && !a.allow {
		f, _ := valueAt(arr, r.firstBad)
		return w.nonFiniteError(r.firstBad, f)
	}
	a.nulls += r.nulls
	a.nonFinite += r.nonFinite
	a.mom[0].Merge(r.m)
	return nil
}

// valueAt returns value i of a numeric array as a float64.
func valueAt(arr arrow.Array, i int) (float64, bool) {
	switch a := arr.(type) {
	case *array.Int8:
		return float64(a.Value(i)), true
	case *array.Int16:
		return float64(a.Value(i)), true
	case *array.Int32:
		return float64(a.Value(i)), true
	case *array.Int64:
		return float64(a.Value(i)), true
	case *array.Uint8:
		return float64(a.Value(i)), true
	case *array.Uint16:
		return float64(a.Value(i)), true
	case *array.Uint32:
		return float64(a.Value(i)), true
	case *array.Uint64:
		return float64(a.Value(i)), true
	case *array.Float32:
		return float64(a.Value(i)), true
	case *array.Float64:
		return a.Value(i), true
	case *array.Float16:
		return float64(a.Value(i).Float32()), true
	case *array.Boolean:
		if a.Value(i) {
			return 1, true
		}
		return 0, true
	}
	return math.NaN(), false
}

// addTensor accumulates a list-like column of numbers, element by element.
func (a *colAcc) addTensor(arr arrow.Array, w where) error {
	ll, ok := arr.(array.ListLike)
	if !ok {
		return typeError(w, arr, a.col.dt)
	}
	if f, _, _ := familyOf(arr.DataType()); f != famTensor {
		return typeError(w, arr, a.col.dt)
	}
	rowNulls := ll.NullN() > 0
	nvals := int64(ll.ListValues().Len())
	for i := range ll.Len() {
		if rowNulls && ll.IsNull(i) {
			a.nullRows++
			continue
		}
		s, e := ll.ValueOffsets(i)
		if s < 0 || e < s || e > nvals {
			return w.errorf(i, "list offsets [%d, %d) outside its %d values: the file is corrupt", s, e, nvals)
		}
		if err := a.checkWidth(int(e-s), w, i); err != nil {
			return err
		}
	}
	if a.width < 0 {
		return nil // only null rows so far
	}
	child := ll.ListValues()
	switch c := child.(type) {
	case *array.Int8:
		return scanTensor(a, ll, c.Int8Values(), child, w)
	case *array.Int16:
		return scanTensor(a, ll, c.Int16Values(), child, w)
	case *array.Int32:
		return scanTensor(a, ll, c.Int32Values(), child, w)
	case *array.Int64:
		return scanTensor(a, ll, c.Int64Values(), child, w)
	case *array.Uint8:
		return scanTensor(a, ll, c.Uint8Values(), child, w)
	case *array.Uint16:
		return scanTensor(a, ll, c.Uint16Values(), child, w)
	case *array.Uint32:
		return scanTensor(a, ll, c.Uint32Values(), child, w)
	case *array.Uint64:
		return scanTensor(a, ll, c.Uint64Values(), child, w)
	case *array.Float32:
		return scanTensor(a, ll, c.Float32Values(), child, w)
	case *array.Float64:
		return scanTensor(a, ll, c.Float64Values(), child, w)
	case *array.Float16:
		a.conv = asFloat64(child, a.conv)
		return scanTensor(a, ll, a.conv, child, w)
	}
	return typeError(w, arr, a.col.dt)
}

// checkWidth checks that row i holds n elements, the width of the rows before it.
func (a *colAcc) checkWidth(n int, w where, i int) error {
	switch {
	case n == a.width:
		return nil
	case a.width >= 0:
		return w.errorf(i, "list of %d values, but earlier rows have %d (%s%s): every row of a list feature needs the same length",
			n, a.width, inFile(a.widthFile), fmt.Sprintf("first at row %d", a.widthRow))
	case n == 0:
		return w.errorf(i, "empty list: a list feature needs at least one value per row")
	case n > MaxDim:
		return w.errorf(i, "list of %d values, more than the %d a row of x can hold", n, MaxDim)
	}
	a.setWidth(n)
	a.widthFile, a.widthRow = w.file, w.base+int64(i)
	return nil
}

// scanTensor accumulates the rows of ll, whose elements are vals (the values of child): per element,
// a first pass for count, sum, min and max, a second for the deviations, merged into a.mom.
func scanTensor[T number](a *colAcc, ll array.ListLike, vals []T, child arrow.Array, w where) error {
	n := a.width
	a.sum, a.lo, a.hi, a.mean = grow(a.sum, n), grow(a.lo, n), grow(a.hi, n), grow(a.mean, n)
	a.comp, a.cnt = grow(a.comp, n), grow(a.cnt, n)
	sum, lo, hi, mean, comp, cnt := a.sum, a.lo[:n], a.hi[:n], a.mean[:n], a.comp[:n], a.cnt[:n]
	for j := range sum {
		sum[j], lo[j], hi[j], cnt[j] = 0, math.Inf(1), math.Inf(-1), 0
	}
	rowNulls, elemNulls := ll.NullN() > 0, child.NullN() > 0
	for i := range ll.Len() {
		if rowNulls && ll.IsNull(i) {
			continue
		}
		s, _ := ll.ValueOffsets(i)
		row := vals[s : int(s)+n]
		if !elemNulls {
			for j := 0; j < n; {
				k := sumRow(row[j:], sum[j:], lo[j:], hi[j:], cnt[j:])
				if k < 0 {
					break
				}
				if !a.allow {
					return w.errorf(i, "element %d: value %v: set AllowNonFinite (--allow-non-finite) to impute NaN and infinities, or clean the data", j+k, row[j+k])
				}
				a.nonFinite++
				j += k + 1
			}
			continue
		}
		for j, v := range row {
			f := float64(v)
			if child.IsNull(int(s) + j) {
				a.nulls++
				continue
			}
			if !isFinite(f) {
				if !a.allow {
					return w.errorf(i, "element %d: value %v: set AllowNonFinite (--allow-non-finite) to impute NaN and infinities, or clean the data", j, f)
				}
				a.nonFinite++
				continue
			}
			sumRow(row[j:j+1], sum[j:], lo[j:], hi[j:], cnt[j:])
		}
	}
	for j := range mean {
		if cnt[j] > 0 {
			mean[j] = sum[j] / float64(cnt[j])
		}
		sum[j], comp[j] = 0, 0 // sum now collects squared deviations, comp the deviations
	}
	m2 := sum
	for i := range ll.Len() {
		if rowNulls && ll.IsNull(i) {
			continue
		}
		s, _ := ll.ValueOffsets(i)
		row := vals[s : int(s)+n]
		if !elemNulls {
			devRow(row, mean, m2, comp)
			continue
		}
		for j := range row {
			if !child.IsNull(int(s) + j) {
				devRow(row[j:j+1], mean[j:], m2[j:], comp[j:])
			}
		}
	}
	for j := range m2 {
		if cnt[j] > 0 {
			a.mom[j].Merge(chunkMoments(cnt[j], mean[j], m2[j], comp[j], lo[j], hi[j]))
		}
	}
	return nil
}

// addStrings counts the values of a string, binary or dictionary column.
func (a *colAcc) addStrings(arr arrow.Array, w where) error {
	a.nulls += int64(arr.NullN())
	nulls := arr.NullN() > 0
	if d, ok := arr.(*array.Dictionary); ok {
		dict, ok := newStrView(d.Dictionary())
		if !ok {
			return typeError(w, arr, a.col.dt)
		}
		nd := d.Dictionary().Len()
		a.dictCounts = grow(a.dictCounts, nd)
		clear(a.dictCounts)
		for i := range d.Len() {
			if nulls && d.IsNull(i) {
				continue
			}
			k := d.GetValueIndex(i)
			if k < 0 || k >= nd {
				return w.errorf(i, "dictionary index %d out of range [0, %d): the file is corrupt", k, nd)
			}
			a.dictCounts[k]++
		}
		for k, n := range a.dictCounts {
			if n > 0 {
				if err := a.count(dict.at(k), n, w); err != nil {
					return err
				}
			}
		}
		return nil
	}
	v, ok := newStrView(arr)
	if !ok {
		return typeError(w, arr, a.col.dt)
	}
	for i := range arr.Len() {
		if nulls && arr.IsNull(i) {
			continue
		}
		if err := a.count(v.at(i), 1, w); err != nil {
			return err
		}
	}
	return nil
}

// count adds n occurrences of s (which may alias Arrow memory: it is cloned when first kept).
func (a *colAcc) count(s string, n int64, w where) error {
	if p := a.counts[s]; p != nil {
		*p += n
		return nil
	}
	if len(a.counts) >= MaxDistinct {
		return tooManyValues(w.file, w.col)
	}
	a.counts[strings.Clone(s)] = &n
	return nil
}

// tooManyValues is the error for a one-hot column with more than MaxDistinct values.
func tooManyValues(file, col string) error {
	return fmt.Errorf("feature: %scolumn %q has more than %d distinct values: hash it (HashBuckets, --hash-buckets) or exclude it",
		inFile(file), col, MaxDistinct)
}

// merge adds b, the accumulator of a later shard, into a.
func (a *colAcc) merge(b *colAcc) error {
	a.nulls += b.nulls
	a.nullRows += b.nullRows
	a.nonFinite += b.nonFinite
	switch a.col.enc {
	case Numeric:
		a.mom[0].Merge(b.mom[0])
	case Tensor:
		switch {
		case b.width < 0:
		case a.width < 0:
			a.setWidth(b.width)
			copy(a.mom, b.mom)
			a.widthFile, a.widthRow = b.widthFile, b.widthRow
		case a.width != b.width:
			return fmt.Errorf("feature: %scolumn %q, row %d: list of %d values, but earlier rows have %d (%sfirst at row %d): every row of a list feature needs the same length",
				inFile(b.widthFile), a.col.name, b.widthRow, b.width, a.width, inFile(a.widthFile), a.widthRow)
		default:
			for j := range a.mom {
				a.mom[j].Merge(b.mom[j])
			}
		}
	case OneHot:
		for s, p := range b.counts {
			if q := a.counts[s]; q != nil {
				*q += *p
				continue
			}
			if len(a.counts) >= MaxDistinct {
				return tooManyValues("", a.col.name)
			}
			a.counts[s] = p
		}
	}
	return nil
}

// sumRow adds the values of row to the per-element count, sum, min and max, up to the first
// non-finite value, whose index it returns (-1 when there is none). Kept out of line, like scaleRow.
//
//go:noinline
func sumRow[T number](row []T, sum, lo, hi []float64, cnt []int64) int {
	sum, lo, hi, cnt = sum[:len(row)], lo[:len(row)], hi[:len(row)], cnt[:len(row)]
	for j, v := range row {
		f := float64(v)
		if f-f != 0 {
			return j
		}
		sum[j] += f
		cnt[j]++
		if f < lo[j] {
			lo[j] = f
		}
		if f > hi[j] {
			hi[j] = f
		}
	}
	return -1
}

// devRow adds the squared deviations of the finite values of row from mean to m2, and the deviations
// to comp. Kept out of line, like scaleRow.
//
//go:noinline
func devRow[T number](row []T, mean, m2, comp []float64) {
	mean, m2, comp = mean[:len(row)], m2[:len(row)], comp[:len(row)]
	for j, v := range row {
		d := float64(v) - mean[j]
		if d-d != 0 {
			continue
		}
		m2[j] += d * d
		comp[j] += d
	}
}
