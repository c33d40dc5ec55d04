package feature

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// targetAcc accumulates the target column over one shard: its distinct values (up to maxClasses+1, then
// it only notes the overflow) and the moments of numeric targets.
type targetAcc struct {
	name       string
	dt         arrow.DataType
	fam        family
	maxClasses int
	overflow   bool // more than maxClasses distinct values
	mom        Moments
	ints       map[int64]struct{}
	uints      map[uint64]struct{} // above math.MaxInt64
	floats     map[float64]struct{}
	strs       map[string]struct{}
	bools      [2]bool
	dictSeen   []bool    // scratch: dictionary indices used by one record
	conv       []float64 // scratch for float16
}

// newTargetAcc returns an empty accumulator for the target column name of type dt.
func newTargetAcc(name string, dt arrow.DataType, maxClasses int) *targetAcc {
	return &targetAcc{name: name, dt: dt, fam: targetFamily(dt), maxClasses: maxClasses,
		ints: map[int64]struct{}{}, uints: map[uint64]struct{}{}, floats: map[float64]struct{}{}, strs: map[string]struct{}{}}
}

// distinct is the number of distinct values kept.
func (t *targetAcc) distinct() int {
	return len(t.ints) + len(t.uints) + len(t.floats) + len(t.strs) + b2i(t.bools[0]) + b2i(t.bools[1])
}

// full reports whether one more distinct value would overflow (and notes it when so).
func (t *targetAcc) full() bool {
	if t.distinct() > t.maxClasses {
		t.overflow = true
	}
	return t.overflow
}

// add accumulates arr, the target's values in one record at w. Nulls and NaN are errors: a row
// without a label cannot be trained on.
func (t *targetAcc) add(arr arrow.Array, w where) error {
	if arr.NullN() > 0 {
		for i := range arr.Len() {
			if arr.IsNull(i) {
				return w.errorf(i, "the target is null: drop rows without a target, or choose another target column")
			}
		}
	}
	switch t.fam {
	case famInteger, famNumber:
		r, ok := scanNumeric(arr, &t.conv)
		if !ok {
			return typeError(w, arr, t.dt)
		}
		if r.nonFinite > 0 {
			f, _ := valueAt(arr, r.firstBad)
			return w.errorf(r.firstBad, "the target is %v: drop such rows, or choose another target column", f)
		}
		t.mom.Merge(r.m)
		return t.addNumbers(arr)
	case famBool:
		a, ok := arr.(*array.Boolean)
		if !ok {
			return typeError(w, arr, t.dt)
		}
		for i := range a.Len() {
			t.bools[b2i(a.Value(i))] = true
		}
		return nil
	case famString:
		return t.addStrings(arr, w)
	}
	return typeError(w, arr, t.dt)
}

// addNumbers collects distinct numeric labels.
func (t *targetAcc) addNumbers(arr arrow.Array) error {
	switch a := arr.(type) {
	case *array.Int8:
		addInts(t, a.Int8Values())
	case *array.Int16:
		addInts(t, a.Int16Values())
	case *array.Int32:
		addInts(t, a.Int32Values())
	case *array.Int64:
		addInts(t, a.Int64Values())
	case *array.Uint8:
		addInts(t, a.Uint8Values())
	case *array.Uint16:
		addInts(t, a.Uint16Values())
	case *array.Uint32:
		addInts(t, a.Uint32Values())
	case *array.Uint64:
		addInts(t, a.Uint64Values())
	case *array.Float32:
		addFloats(t, a.Float32Values())
	case *array.Float64:
		addFloats(t, a.Float64Values())
	case *array.Float16:
		addFloats(t, t.conv) // filled by scanNumeric
	default:
		return fmt.Errorf("feature: target %q: unexpected array type %s", t.name, arr.DataType())
	}
	return nil
}

// addInts collects distinct integer labels until there are too many.
func addInts[T number](t *targetAcc, vals []T) {
	signed := isSigned[T]()
	for _, v := range vals {
		if t.overflow {
			return
		}
		if signed || uint64(v) <= math.MaxInt64 {
			if _, ok := t.ints[int64(v)]; !ok {
				t.ints[int64(v)] = struct{}{}
				t.full()
			}
			continue
		}
		if _, ok := t.uints[uint64(v)]; !ok {
			t.uints[uint64(v)] = struct{}{}
			t.full()
		}
	}
}

// addFloats collects distinct float labels until there are too many; -0 counts as 0.
func addFloats[T float32 | float64](t *targetAcc, vals []T) {
	for _, v := range vals {
		if t.overflow {
			return
		}
		f := float64(v) + 0 // -0 + 0 = +0
		if _, ok := t.floats[f]; !ok {
			t.floats[f] = struct{}{}
			t.full()
		}
	}
}

// addStrings collects distinct string labels until there are too many.
func (t *targetAcc) addStrings(arr arrow.Array, w where) error {
	add := func(s string, i int) error {
		if _, ok := t.strs[s]; ok || t.overflow {
			return nil
		}
		if !utf8.ValidString(s) {
			return w.errorf(i, "target value %q is not valid UTF-8: class names must be text", s)
		}
		t.strs[strings.Clone(s)] = struct{}{}
		t.full()
		return nil
	}
	if d, ok := arr.(*array.Dictionary); ok {
		dict, ok := newStrView(d.Dictionary())
		if !ok {
			return typeError(w, arr, t.dt)
		}
		nd := d.Dictionary().Len()
		t.dictSeen = grow(t.dictSeen, nd)
		clear(t.dictSeen)
		for i := range d.Len() {
			k := d.GetValueIndex(i)
			if k < 0 || k >= nd {
				return w.errorf(i, "dictionary index %d out of range [0, %d): the file is corrupt", k, nd)
			}
			if !t.dictSeen[k] {
				t.dictSeen[k] = true
				if err := add(dict.at(k), i); err != nil {
					return err
				}
			}
		}
		return nil
	}
	v, ok := newStrView(arr)
	if !ok {
		return typeError(w, arr, t.dt)
	}
	for i := range arr.Len() {
		if err := add(v.at(i), i); err != nil {
			return err
		}
	}
	return nil
}

// merge adds b, the accumulator of a later shard, into t.
func (t *targetAcc) merge(b *targetAcc) {
	t.mom.Merge(b.mom)
	t.overflow = t.overflow || b.overflow
	t.bools[0] = t.bools[0] || b.bools[0]
	t.bools[1] = t.bools[1] || b.bools[1]
	for k := range b.ints {
		if t.full() {
			return
		}
		t.ints[k] = struct{}{}
	}
	for k := range b.uints {
		if t.full() {
			return
		}
		t.uints[k] = struct{}{}
	}
	for k := range b.floats {
		if t.full() {
			return
		}
		t.floats[k] = struct{}{}
	}
	for k := range b.strs {
		if t.full() {
			return
		}
		t.strs[k] = struct{}{}
	}
	t.full()
}

// finish decides the task (task is the configured one, "" to infer) and the sorted class names, and
// fills the target fields of s.
func (t *targetAcc) finish(s *Spec, task Task) error {
	s.Target, s.TargetType = t.name, t.dt.String()
	switch t.fam {
	case famInteger:
		s.TargetKind = KindInteger
	case famNumber:
		s.TargetKind = KindFloat
	case famString:
		s.TargetKind = KindString
	case famBool:
		s.TargetKind = KindBool
	}
	numeric := t.fam == famInteger || t.fam == famNumber
	if task == "" {
		switch {
		case t.fam == famNumber || t.fam == famInteger && t.overflow:
			task = Regression
		case t.distinct() == 2:
			task = Binary
		default:
			task = Classification
		}
	}
	if task == Regression {
		if !numeric {
			return fmt.Errorf("feature: target %q has type %s: regression needs a numeric target; use Task classification", t.name, t.dt)
		}
		s.Task = Regression
		m := t.mom
		if m.check() != nil {
			return fmt.Errorf("feature: target %q: values too large for float64 statistics (the variance overflows): rescale the target", t.name)
		}
		s.TargetStats = &m
		return nil
	}
	if t.overflow {
		return fmt.Errorf("feature: target %q has more than %d distinct values: raise MaxClasses (--max-classes), or use Task regression for a numeric target",
			t.name, t.maxClasses)
	}
	keys := t.keys(s.TargetKind)
	switch {
	case len(keys) < 2:
		return fmt.Errorf("feature: target %q has a single value in the data: a classifier needs at least 2 classes", t.name)
	case task == Binary && len(keys) != 2:
		return fmt.Errorf("feature: target %q has %d classes, but Task is binary: use Task classification", t.name, len(keys))
	}
	s.Task = task
	s.Classes = make([]string, len(keys))
	for i, k := range keys {
		s.Classes[i] = className(k)
	}
	return nil
}

// keys returns the distinct labels in sorted order.
func (t *targetAcc) keys(kind string) []labelKey {
	keys := make([]labelKey, 0, t.distinct())
	for v := range t.ints {
		keys = append(keys, labelKey{k: kind, neg: v < 0, i: uint64(v)})
	}
	for v := range t.uints {
		keys = append(keys, labelKey{k: kind, i: v})
	}
	for v := range t.floats {
		keys = append(keys, labelKey{k: kind, f: v})
	}
	for v := range t.strs {
		keys = append(keys, labelKey{k: kind, s: v})
	}
	for b, seen := range t.bools {
		if seen {
			keys = append(keys, labelKey{k: kind, b: b == 1})
		}
	}
	slices.SortFunc(keys, compareLabel)
	return keys
}
