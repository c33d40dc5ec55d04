package feature

import (
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// maxOutBytes bounds the x buffer of one Transform (16 GiB): larger records must be split.
const maxOutBytes = 1 << 34

// tally counts what one Transform did to one column, added to the Spec's counters on success.
type tally struct {
	imputed, nonFinite, unseen int64
}

// Transform maps rec to a new record owned by the caller, allocated from mem, with the columns
//
//	x     FixedSizeList<float32>[Dim], non-null, row-major: the features in Spec order
//	y     int32 class index (Classification, Binary) or float32 (Regression); only when rec has the target
//	__row int64, passed through; only when rec has it
//
// rec must hold exactly the columns Columns returns, in that order, optionally followed by an int64
// column named RowColumn ("__row", the global row index); Transform does not release rec. Numbers are
// normalized as Fit's Normalize says; nulls are imputed with the mean (numbers, tensor elements) or sent
// to the missing slot (strings) and counted in Counters; one-hot values not in the vocabulary go to the
// "other" slot. A NaN or infinity in a feature is an error (unless AllowNonFinite: then imputed and
// counted), as are a list row of another length than at Fit, a null or NaN target and a class label not
// seen at Fit; the error names the column and the row by its __row value, or its position in rec.
//
// Safe for concurrent use. It allocates the output buffers and about 15 small objects per call,
// nothing per row. On MNIST-shaped records (784 pixels, z-score) the transform runs at the speed of
// its arithmetic kernel: about 0.2 ns per value with the AVX2 kernels for uint8 and float32 rows
// (about 6M rows/s on one core), 0.7 with the Go loop (other types, other CPUs); allocating x from
// memory.DefaultAllocator (a fresh zeroed buffer for the garbage collector) can cost more than that
// for small records (see BenchmarkTransform).
func (s *Spec) Transform(rec arrow.RecordBatch, mem memory.Allocator) (arrow.RecordBatch, error) {
	if len(s.plan) != len(s.Features) || len(s.Features) == 0 {
		return nil, fmt.Errorf("feature: the spec is not initialised: get it from Fit or json.Unmarshal")
	}
	nf, ncol, rows := len(s.Features), int(rec.NumCols()), int(rec.NumRows())
	var rowArr *array.Int64
	hasRow := ncol > 0 && rec.ColumnName(ncol-1) == RowColumn
	if hasRow {
		a, ok := rec.Column(ncol - 1).(*array.Int64)
		if !ok || a.NullN() > 0 {
			return nil, fmt.Errorf("feature: column %q must be int64 row indices without nulls, got %s", RowColumn, rec.Column(ncol-1).DataType())
		}
		rowArr = a
	}
	hasTarget := s.Target != "" && ncol > nf && rec.ColumnName(nf) == s.Target
	if want := nf + b2i(hasTarget) + b2i(hasRow); ncol != want {
		return nil, s.columnsError(rec)
	}
	for i := range s.Features {
		if rec.ColumnName(i) != s.Features[i].Name {
			return nil, s.columnsError(rec)
		}
	}
	if rows > 0 && s.Dim > maxOutBytes/4/rows {
		return nil, fmt.Errorf("feature: a record of %d rows × %d features is too large for one Transform: use smaller batches", rows, s.Dim)
	}

	buf := memory.NewResizableBuffer(mem)
	defer buf.Release() // the array data below keeps its own reference
	buf.Resize(rows * s.Dim * 4)
	x := arrow.Float32Traits.CastFromBytes(buf.Bytes())
	if slices.ContainsFunc(s.Features, func(c Column) bool { return c.Encoding == OneHot || c.Encoding == Hash }) {
		clear(x)
	}
	tallies := make([]tally, nf)
	for i := range s.Features {
		w := where{col: s.Features[i].Name, rows: rowArr}
		if err := s.fill(x, i, rec.Column(i), w, &tallies[i]); err != nil {
			return nil, err
		}
	}
	var y arrow.Array
	if hasTarget {
		var err error
		if y, err = s.target(rec.Column(nf), mem, where{col: s.Target, rows: rowArr}); err != nil {
			return nil, err
		}
		defer y.Release()
	}

	k := b2i(hasTarget) | b2i(hasRow)<<1
	schema := s.schemas[k]
	xChild := array.NewData(arrow.PrimitiveTypes.Float32, rows*s.Dim, []*memory.Buffer{nil, buf}, nil, 0, 0)
	xData := array.NewData(schema.Field(0).Type, rows, []*memory.Buffer{nil}, []arrow.ArrayData{xChild}, 0, 0)
	xChild.Release()
	xArr := array.NewFixedSizeListData(xData)
	xData.Release()
	defer xArr.Release()
	cols := make([]arrow.Array, 1, 3)
	cols[0] = xArr
	if hasTarget {
		cols = append(cols, y)
	}
	if hasRow {
		cols = append(cols, rowArr)
	}
	out := array.NewRecordBatch(schema, cols, int64(rows))
	for i := range tallies {
		c := &s.counters[i]
		if t := tallies[i]; t != (tally{}) {
			c.imputed.Add(t.imputed)
			c.nonFinite.Add(t.nonFinite)
			c.unseen.Add(t.unseen)
		}
	}
	return out, nil
}

// columnsError explains which columns Transform expects.
func (s *Spec) columnsError(rec arrow.RecordBatch) error {
	want := make([]string, 0, len(s.Features)+2)
	for _, c := range s.Features {
		want = append(want, c.Name)
	}
	got := make([]string, rec.NumCols())
	for i := range got {
		got[i] = rec.ColumnName(i)
	}
	return fmt.Errorf("feature: record columns %q, want the features %q, then optionally the target %q and %q: project the data with Spec.Columns",
		got, want, s.Target, RowColumn)
}

// fill writes feature i of every row into x.
func (s *Spec) fill(x []float32, i int, arr arrow.Array, w where, t *tally) error {
	c, p := &s.Features[i], &s.plan[i]
	f, _, n := familyOf(arr.DataType())
	if !c.accepts(f, n) {
		return fmt.Errorf("feature: column %q has type %s, but the model was trained on %s (%s): featurize data with the training schema",
			c.Name, arr.DataType(), c.Type, c.Encoding)
	}
	out := outView{x: x, dim: s.Dim, off: c.Offset}
	switch c.Encoding {
	case Numeric:
		return fillNumeric(out, arr, p, s.AllowNonFinite, w, t)
	case Tensor:
		return fillTensor(out, arr, p, s.AllowNonFinite, w, t)
	case OneHot:
		return fillOneHot(out, arr, p, len(c.Vocab), w, t)
	case Hash:
		return fillHash(out, arr, c.Buckets, w, t)
	}
	return fmt.Errorf("feature: internal: encoding %q", c.Encoding)
}

// outView is where one column goes in x: slot off of each row of dim values.
type outView struct {
	x        []float32
	dim, off int
}

// fillNumeric writes a numeric or boolean column.
func fillNumeric(out outView, arr arrow.Array, p *colPlan, allow bool, w where, t *tally) error {
	switch a := arr.(type) {
	case *array.Int8:
		return scalarInto(out, a.Int8Values(), arr, p, allow, w, t)
	case *array.Int16:
		return scalarInto(out, a.Int16Values(), arr, p, allow, w, t)
	case *array.Int32:
		return scalarInto(out, a.Int32Values(), arr, p, allow, w, t)
	case *array.Int64:
		return scalarInto(out, a.Int64Values(), arr, p, allow, w, t)
	case *array.Uint8:
		return scalarInto(out, a.Uint8Values(), arr, p, allow, w, t)
	case *array.Uint16:
		return scalarInto(out, a.Uint16Values(), arr, p, allow, w, t)
	case *array.Uint32:
		return scalarInto(out, a.Uint32Values(), arr, p, allow, w, t)
	case *array.Uint64:
		return scalarInto(out, a.Uint64Values(), arr, p, allow, w, t)
	case *array.Float32:
		return scalarInto(out, a.Float32Values(), arr, p, allow, w, t)
	case *array.Float64:
		return scalarInto(out, a.Float64Values(), arr, p, allow, w, t)
	case *array.Boolean, *array.Float16:
		return scalarInto(out, asFloat64(arr, nil), arr, p, allow, w, t)
	}
	return fmt.Errorf("feature: column %q: unexpected array type %s", w.col, arr.DataType())
}

// scalarInto normalizes vals (the values of arr) into slot out.off of each row.
func scalarInto[T number](out outView, vals []T, arr arrow.Array, p *colPlan, allow bool, w where, t *tally) error {
	shift, scale, imp := p.shift[0], p.scale[0], p.impute[0]
	nulls := arr.NullN() > 0
	x := out.x
	k := out.off
	for i, v := range vals {
		if nulls && arr.IsNull(i) {
			x[k] = imp
			t.imputed++
		} else if o := float32((float64(v) - shift) * scale); o-o == 0 {
			x[k] = o
		} else if f := float64(v); isFinite(f) {
			return w.errorf(i, "value %v is out of float32 range once normalized", f)
		} else if !allow {
			return w.nonFiniteError(i, f)
		} else {
			x[k] = imp
			t.nonFinite++
		}
		k += out.dim
	}
	return nil
}

// fillTensor writes a list-like column of numbers.
func fillTensor(out outView, arr arrow.Array, p *colPlan, allow bool, w where, t *tally) error {
	ll, ok := arr.(array.ListLike)
	if !ok {
		return fmt.Errorf("feature: column %q: unexpected array type %s", w.col, arr.DataType())
	}
	child := ll.ListValues()
	switch c := child.(type) {
	case *array.Int8:
		return tensorInto(out, ll, c.Int8Values(), child, p, !p.intSafe, allow, w, t)
	case *array.Int16:
		return tensorInto(out, ll, c.Int16Values(), child, p, !p.intSafe, allow, w, t)
	case *array.Int32:
		return tensorInto(out, ll, c.Int32Values(), child, p, !p.intSafe, allow, w, t)
	case *array.Int64:
		return tensorInto(out, ll, c.Int64Values(), child, p, !p.intSafe, allow, w, t)
	case *array.Uint8:
		return tensorInto(out, ll, c.Uint8Values(), child, p, !p.intSafe, allow, w, t)
	case *array.Uint16:
		return tensorInto(out, ll, c.Uint16Values(), child, p, !p.intSafe, allow, w, t)
	case *array.Uint32:
		return tensorInto(out, ll, c.Uint32Values(), child, p, !p.intSafe, allow, w, t)
	case *array.Uint64:
		return tensorInto(out, ll, c.Uint64Values(), child, p, !p.intSafe, allow, w, t)
	case *array.Float32:
		return tensorInto(out, ll, c.Float32Values(), child, p, true, allow, w, t)
	case *array.Float64:
		return tensorInto(out, ll, c.Float64Values(), child, p, true, allow, w, t)
	case *array.Float16:
		return tensorInto(out, ll, asFloat64(child, nil), child, p, true, allow, w, t)
	}
	return fmt.Errorf("feature: column %q: unexpected element type %s", w.col, child.DataType())
}

// tensorInto normalizes each row of ll (elements vals, the values of child) into slots
// [out.off, out.off+width) of its row of x. check says whether a value may be non-finite once
// normalized (floats, or integers under an extreme scale).
func tensorInto[T number](out outView, ll array.ListLike, vals []T, child arrow.Array, p *colPlan, check, allow bool, w where, t *tally) error {
	n := len(p.shift)
	shift, scale, imp := p.shift[:n], p.scale[:n], p.impute[:n]
	rowNulls, elemNulls := ll.NullN() > 0, child.NullN() > 0
	k := out.off
	for i := range ll.Len() {
		dst := out.x[k : k+n]
		k += out.dim
		if rowNulls && ll.IsNull(i) {
			copy(dst, imp)
			t.imputed += int64(n)
			continue
		}
		s, e := ll.ValueOffsets(i)
		if int(e-s) != n {
			return w.errorf(i, "list of %d values, but the model was trained on %d: every row of a list feature needs the same length", e-s, n)
		}
		if s < 0 || e > int64(len(vals)) {
			return w.errorf(i, "list offsets [%d, %d) outside its %d values: the data is corrupt", s, e, len(vals))
		}
		src := vals[s:e]
		if !elemNulls {
			if !check {
				scaleRowFast(dst, src, shift, scale)
				continue
			}
			if scaleRowFiniteFast(dst, src, shift, scale) {
				continue
			}
		}
		for j, v := range src {
			if elemNulls && child.IsNull(int(s)+j) {
				dst[j] = imp[j]
				t.imputed++
				continue
			}
			f := float64(v)
			o := float32((f - shift[j]) * scale[j])
			switch {
			case o-o == 0:
				dst[j] = o
			case isFinite(f):
				return w.errorf(i, "element %d: value %v is out of float32 range once normalized", j, f)
			case !allow:
				return w.errorf(i, "element %d: value %v: set AllowNonFinite (--allow-non-finite) to impute NaN and infinities, or clean the data", j, f)
			default:
				dst[j] = imp[j]
				t.nonFinite++
			}
		}
	}
	return nil
}

// scaleRowFast is scaleRow through the AVX2 kernels of scale_amd64.s for uint8 and float32 sources
// (3-4x faster, bitwise the same results: see BenchmarkScaleRow and TestScaleRowMatchesGoLoop), and
// scaleRow itself for other element types, other CPUs and -tags noasm (float32 rows go through the
// finite-checking kernel, whose flag is dropped: Transform always checks float rows). It does not
// allocate.
func scaleRowFast[T number](dst []float32, src []T, shift, scale []float64) {
	if useAsm {
		switch s := any(src).(type) {
		case []uint8:
			scaleU8Asm(dst, s, shift, scale)
			return
		case []float32:
			scaleF32FiniteAsm(dst, s, shift, scale)
			return
		}
	}
	scaleRow(dst, src, shift, scale)
}

// scaleRowFiniteFast is scaleRowFinite through the AVX2 kernels, as scaleRowFast is scaleRow.
func scaleRowFiniteFast[T number](dst []float32, src []T, shift, scale []float64) bool {
	if useAsm {
		switch s := any(src).(type) {
		case []uint8:
			return scaleU8FiniteAsm(dst, s, shift, scale)
		case []float32:
			return scaleF32FiniteAsm(dst, s, shift, scale)
		}
	}
	return scaleRowFinite(dst, src, shift, scale)
}

// scaleRow is the hot loop: dst[j] = (src[j] - shift[j]) * scale[j], in float64, rounded to float32.
// It is the reference the assembly kernels match bitwise. It is kept out of line: inlined into
// tensorInto, the loop spills its counters to the stack.
//
//go:noinline
func scaleRow[T number](dst []float32, src []T, shift, scale []float64) {
	dst, shift, scale = dst[:len(src)], shift[:len(src)], scale[:len(src)]
	for j, v := range src {
		dst[j] = float32((float64(v) - shift[j]) * scale[j])
	}
}

// scaleRowFinite is scaleRow that also reports whether every result is finite. The test is
// branch-free: an exponent of all ones (NaN, ±Inf) plus one carries into bit 31, collected by OR.
//
//go:noinline
func scaleRowFinite[T number](dst []float32, src []T, shift, scale []float64) bool {
	dst, shift, scale = dst[:len(src)], shift[:len(src)], scale[:len(src)]
	var carry uint32
	for j, v := range src {
		o := float32((float64(v) - shift[j]) * scale[j])
		dst[j] = o
		carry |= math.Float32bits(o)&0x7f800000 + 0x00800000
	}
	return carry&0x80000000 == 0
}

// fillOneHot sets the vocabulary, "other" or "missing" slot of each row (x is zeroed).
func fillOneHot(out outView, arr arrow.Array, p *colPlan, nvocab int, w where, t *tally) error {
	other := int32(nvocab)
	lookup := func(s string) int32 {
		if k, ok := p.vocab[s]; ok {
			return k
		}
		return other
	}
	return categoricalInto(out, arr, other, other+1, lookup, w, t)
}

// fillHash sets the hash bucket or "missing" slot of each row (x is zeroed).
func fillHash(out outView, arr arrow.Array, buckets int, w where, t *tally) error {
	return categoricalInto(out, arr, -1, int32(buckets), func(s string) int32 { return int32(HashBucket(s, buckets)) }, w, t)
}

// categoricalInto sets, for each row, slot slot(value) of the column, or missing for nulls, counting
// the rows sent to other (-1: none). For dictionary arrays slot is called once per entry used.
func categoricalInto(out outView, arr arrow.Array, other, missing int32, slot func(string) int32, w where, t *tally) error {
	nulls := arr.NullN() > 0
	x, k := out.x, out.off
	if d, ok := arr.(*array.Dictionary); ok {
		dict, ok := newStrView(d.Dictionary())
		if !ok {
			return fmt.Errorf("feature: column %q: unexpected dictionary type %s", w.col, arr.DataType())
		}
		nd := d.Dictionary().Len()
		slots := make([]int32, nd) // -1: not looked up yet
		for j := range slots {
			slots[j] = -1
		}
		for i := range d.Len() {
			if nulls && d.IsNull(i) {
				x[k+int(missing)] = 1
				t.imputed++
			} else {
				j := d.GetValueIndex(i)
				if j < 0 || j >= nd {
					return w.errorf(i, "dictionary index %d out of range [0, %d): the data is corrupt", j, nd)
				}
				if slots[j] < 0 {
					slots[j] = slot(dict.at(j))
				}
				x[k+int(slots[j])] = 1
				if slots[j] == other {
					t.unseen++
				}
			}
			k += out.dim
		}
		return nil
	}
	v, ok := newStrView(arr)
	if !ok {
		return fmt.Errorf("feature: column %q: unexpected array type %s", w.col, arr.DataType())
	}
	for i := range arr.Len() {
		if nulls && arr.IsNull(i) {
			x[k+int(missing)] = 1
			t.imputed++
		} else {
			j := slot(v.at(i))
			x[k+int(j)] = 1
			if j == other {
				t.unseen++
			}
		}
		k += out.dim
	}
	return nil
}

// HashBucket returns the bucket in [0, buckets) of value under the hashing trick: FNV-1a (64 bit) of
// its bytes, modulo buckets. It is stable across runs, machines and versions. buckets must be > 0.
func HashBucket(value string, buckets int) int {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	h := uint64(offset64)
	for i := 0; i < len(value); i++ {
		h ^= uint64(value[i])
		h *= prime64
	}
	return int(h % uint64(buckets))
}

// target builds y from the target column arr.
func (s *Spec) target(arr arrow.Array, mem memory.Allocator, w where) (arrow.Array, error) {
	if !s.targetAccepts(targetFamily(arr.DataType())) {
		return nil, fmt.Errorf("feature: target column %q has type %s, but the model was trained on %s", s.Target, arr.DataType(), s.TargetType)
	}
	if arr.NullN() > 0 {
		for i := range arr.Len() {
			if arr.IsNull(i) {
				return nil, w.errorf(i, "the target is null: drop rows without a target")
			}
		}
	}
	n := arr.Len()
	buf := memory.NewResizableBuffer(mem)
	defer buf.Release()
	buf.Resize(n * 4)
	var err error
	var dt arrow.DataType
	if s.Task == Regression {
		dt = arrow.PrimitiveTypes.Float32
		err = s.regressionInto(arrow.Float32Traits.CastFromBytes(buf.Bytes()), arr, w)
	} else {
		dt = arrow.PrimitiveTypes.Int32
		err = s.classesInto(arrow.Int32Traits.CastFromBytes(buf.Bytes()), arr, w)
	}
	if err != nil {
		return nil, err
	}
	data := array.NewData(dt, n, []*memory.Buffer{nil, buf}, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data), nil
}

// regressionInto writes a numeric target as float32.
func (s *Spec) regressionInto(y []float32, arr arrow.Array, w where) error {
	for i := range y {
		f, ok := valueAt(arr, i)
		if !ok {
			return fmt.Errorf("feature: target column %q: unexpected array type %s", s.Target, arr.DataType())
		}
		o := float32(f)
		if o-o != 0 {
			return w.errorf(i, "the target is %v, not a finite float32: drop such rows", f)
		}
		y[i] = o
	}
	return nil
}

// classesInto writes the class index of each target value.
func (s *Spec) classesInto(y []int32, arr arrow.Array, w where) error {
	l := &s.labels
	switch a := arr.(type) {
	case *array.Int8:
		return intClasses(s, y, a.Int8Values(), w)
	case *array.Int16:
		return intClasses(s, y, a.Int16Values(), w)
	case *array.Int32:
		return intClasses(s, y, a.Int32Values(), w)
	case *array.Int64:
		return intClasses(s, y, a.Int64Values(), w)
	case *array.Uint8:
		return intClasses(s, y, a.Uint8Values(), w)
	case *array.Uint16:
		return intClasses(s, y, a.Uint16Values(), w)
	case *array.Uint32:
		return intClasses(s, y, a.Uint32Values(), w)
	case *array.Uint64:
		return intClasses(s, y, a.Uint64Values(), w)
	case *array.Boolean:
		for i := range y {
			k := l.bools[b2i(a.Value(i))]
			if k < 0 {
				return s.unseenClass(w, i, a.Value(i))
			}
			y[i] = k
		}
		return nil
	}
	if f, _, _ := familyOf(arr.DataType()); f == famNumber {
		for i := range y {
			f, _ := valueAt(arr, i)
			k, ok := l.floats[f+0]
			if !ok {
				return s.unseenClass(w, i, f)
			}
			y[i] = k
		}
		return nil
	}
	slot := func(v string) int32 {
		if k, ok := l.strs[v]; ok {
			return k
		}
		return -1
	}
	if d, ok := arr.(*array.Dictionary); ok {
		dict, ok := newStrView(d.Dictionary())
		if !ok {
			return fmt.Errorf("feature: target column %q: unexpected dictionary type %s", s.Target, arr.DataType())
		}
		nd := d.Dictionary().Len()
		for i := range y {
			j := d.GetValueIndex(i)
			if j < 0 || j >= nd {
				return w.errorf(i, "dictionary index %d out of range [0, %d): the data is corrupt", j, nd)
			}
			if y[i] = slot(dict.at(j)); y[i] < 0 {
				return s.unseenClass(w, i, dict.at(j))
			}
		}
		return nil
	}
	v, ok := newStrView(arr)
	if !ok {
		return fmt.Errorf("feature: target column %q: unexpected array type %s", s.Target, arr.DataType())
	}
	for i := range y {
		if y[i] = slot(v.at(i)); y[i] < 0 {
			return s.unseenClass(w, i, v.at(i))
		}
	}
	return nil
}

// intClasses looks up integer labels (or, for a spec with float classes, their float values).
func intClasses[T number](s *Spec, y []int32, vals []T, w where) error {
	l := &s.labels
	signed := isSigned[T]()
	for i, v := range vals {
		var k int32
		var ok bool
		switch {
		case l.floats != nil:
			k, ok = l.floats[float64(v)]
		case signed || uint64(v) <= math.MaxInt64:
			k, ok = l.ints[int64(v)]
		default:
			k, ok = l.uints[uint64(v)]
		}
		if !ok {
			return s.unseenClass(w, i, v)
		}
		y[i] = k
	}
	return nil
}

// unseenClass is the error for a label that was not a class at Fit.
func (s *Spec) unseenClass(w where, i int, v any) error {
	return w.errorf(i, "class label %q was not in the training data (classes: %s): a model cannot predict or learn an unknown class",
		fmt.Sprint(v), classList(s.Classes))
}

// classList lists class names for messages, eliding long lists.
func classList(classes []string) string {
	if len(classes) > 10 {
		return fmt.Sprintf("%q … and %d more", classes[:10], len(classes)-10)
	}
	return fmt.Sprintf("%q", classes)
}

// XMatrix returns the x column of a record made by Transform (or a slice of one) as a row-major
// matrix view: row r is data[r*cols : (r+1)*cols]. The view aliases the record's memory, so it is valid
// while the record is retained; it costs no copy and no allocation. It panics if rec has no
// FixedSizeList<float32> column named "x" (a programmer error).
func XMatrix(rec arrow.RecordBatch) (data []float32, rows, cols int) {
	idx := rec.Schema().FieldIndices("x")
	if len(idx) != 1 {
		panic("feature: XMatrix: record has no x column")
	}
	fsl, ok := rec.Column(idx[0]).(*array.FixedSizeList)
	if !ok {
		panic("feature: XMatrix: x is not a FixedSizeList<float32>")
	}
	child, ok := fsl.ListValues().(*array.Float32)
	if !ok {
		panic("feature: XMatrix: x is not a FixedSizeList<float32>")
	}
	cols = int(fsl.DataType().(*arrow.FixedSizeListType).Len())
	rows = fsl.Len()
	start := fsl.Offset() * cols
	return child.Float32Values()[start : start+rows*cols : start+rows*cols], rows, cols
}
