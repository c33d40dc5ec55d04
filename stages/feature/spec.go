package feature

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
)

// SpecVersion is the version of the Spec JSON layout this package writes and reads.
const SpecVersion = 1

// The kinds of target values a Spec records (Spec.TargetKind): they decide how class labels are read
// back from their names.
const (
	KindInteger = "integer" // signed or unsigned integers; class names in decimal
	KindFloat   = "float"   // floating point; class names in Go's shortest 'g' format
	KindString  = "string"  // strings, binaries and dictionaries of them; class names as they are
	KindBool    = "bool"    // booleans; class names "false" and "true"
)

// Spec is everything needed to turn source records into model inputs exactly as in training: the
// feature columns in x order with their encodings and statistics (count, mean and M2 by Welford, min,
// max, null and non-finite counts), one-hot vocabularies, the target with its task and class names
// (labels of any type mapped to indices in sorted order, so runs are stable), and Dim, the width of x.
//
// A Spec comes from Fit or from json.Unmarshal (which validates it and rejects inconsistent ones). It
// is immutable after that: do not modify the exported fields of a Spec in use. Its methods are safe
// for concurrent use; only the Counters change, atomically. The zero value is not usable: Transform
// and Columns report an error. JSON round-trips exactly (float64 values are written in shortest form).
type Spec struct {
	Version        int      `json:"version"`                // SpecVersion
	Target         string   `json:"target,omitempty"`       // target column; "" when there is none
	TargetType     string   `json:"target_type,omitempty"`  // the target's arrow type at Fit, for people
	TargetKind     string   `json:"target_kind,omitempty"`  // KindInteger, KindFloat, KindString or KindBool
	Task           Task     `json:"task,omitempty"`         // "" exactly when Target is ""
	Classes        []string `json:"classes,omitempty"`      // class names; y is the index into Classes
	TargetStats    *Moments `json:"target_stats,omitempty"` // statistics of a regression target
	Normalize      string   `json:"normalize"`              // NormZScore, NormMinMax or NormNone
	AllowNonFinite bool     `json:"allow_non_finite"`       // NaN/±Inf in features are imputed, not errors
	Dim            int      `json:"dim"`                    // width of x: sum of the features' Width
	Rows           int64    `json:"rows"`                   // rows seen by Fit
	Features       []Column `json:"features"`               // in x order

	plan     []colPlan     // per feature, derived by compile
	labels   labelLookup   // class name -> index, derived by compile
	counters []colCounters // per feature, shared by copies of the Spec
	schemas  [4]*arrow.Schema
}

// Column is one feature column of a Spec: its place in x, its encoding and the statistics Fit saw.
// It is plain data, owned by its Spec and read-only once the Spec is in use. Its zero value is not a
// valid column (a Spec holding one fails validation).
type Column struct {
	Name      string    `json:"name"`
	Type      string    `json:"type"` // the arrow type at Fit, for people; Encoding decides compatibility
	Encoding  Encoding  `json:"encoding"`
	Offset    int       `json:"offset"` // first slot in x
	Width     int       `json:"width"`  // number of slots
	Nulls     int64     `json:"nulls"`  // null values at Fit (a null tensor row counts Width)
	NonFinite int64     `json:"non_finite,omitempty"`
	Stats     []Moments `json:"stats,omitempty"`    // Numeric: 1; Tensor: Width, per element
	Vocab     []string  `json:"vocab,omitempty"`    // OneHot: slot values in byte order
	Distinct  int64     `json:"distinct,omitempty"` // OneHot: distinct values seen at Fit
	Buckets   int       `json:"buckets,omitempty"`  // Hash: number of hash buckets
}

// columnJSON is Column's wire form: vocabularies holding bytes that are not UTF-8 travel as base64.
type columnJSON struct {
	Name        string    `json:"name"`
	Type        string    `json:"type"`
	Encoding    Encoding  `json:"encoding"`
	Offset      int       `json:"offset"`
	Width       int       `json:"width"`
	Nulls       int64     `json:"nulls"`
	NonFinite   int64     `json:"non_finite,omitempty"`
	Stats       []Moments `json:"stats,omitempty"`
	Vocab       []string  `json:"vocab,omitempty"`
	VocabBase64 bool      `json:"vocab_base64,omitempty"`
	Distinct    int64     `json:"distinct,omitempty"`
	Buckets     int       `json:"buckets,omitempty"`
}

// MarshalJSON writes the column; a vocabulary with a value that is not valid UTF-8 is written in base64.
func (c Column) MarshalJSON() ([]byte, error) {
	j := columnJSON(c.wire())
	if !slices.ContainsFunc(c.Vocab, func(s string) bool { return !utf8.ValidString(s) }) {
		return json.Marshal(j)
	}
	j.VocabBase64 = true
	j.Vocab = make([]string, len(c.Vocab))
	for i, v := range c.Vocab {
		j.Vocab[i] = base64.StdEncoding.EncodeToString([]byte(v))
	}
	return json.Marshal(j)
}

// wire converts c field by field to its wire form.
func (c Column) wire() columnJSON {
	return columnJSON{Name: c.Name, Type: c.Type, Encoding: c.Encoding, Offset: c.Offset, Width: c.Width,
		Nulls: c.Nulls, NonFinite: c.NonFinite, Stats: c.Stats, Vocab: c.Vocab, Distinct: c.Distinct, Buckets: c.Buckets}
}

// UnmarshalJSON reads a column written by MarshalJSON. Consistency is checked by Spec's UnmarshalJSON.
func (c *Column) UnmarshalJSON(b []byte) error {
	var j columnJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.VocabBase64 {
		for i, v := range j.Vocab {
			raw, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return fmt.Errorf("column %q: vocabulary entry %d: %v", j.Name, i, err)
			}
			j.Vocab[i] = string(raw)
		}
	}
	*c = Column{Name: j.Name, Type: j.Type, Encoding: j.Encoding, Offset: j.Offset, Width: j.Width,
		Nulls: j.Nulls, NonFinite: j.NonFinite, Stats: j.Stats, Vocab: j.Vocab, Distinct: j.Distinct, Buckets: j.Buckets}
	return nil
}

// specJSON has Spec's fields without its methods, so that UnmarshalJSON can decode then validate.
type specJSON struct {
	Version        int      `json:"version"`
	Target         string   `json:"target,omitempty"`
	TargetType     string   `json:"target_type,omitempty"`
	TargetKind     string   `json:"target_kind,omitempty"`
	Task           Task     `json:"task,omitempty"`
	Classes        []string `json:"classes,omitempty"`
	TargetStats    *Moments `json:"target_stats,omitempty"`
	Normalize      string   `json:"normalize"`
	AllowNonFinite bool     `json:"allow_non_finite"`
	Dim            int      `json:"dim"`
	Rows           int64    `json:"rows"`
	Features       []Column `json:"features"`
}

// MarshalJSON writes the Spec (the exported fields only).
func (s *Spec) MarshalJSON() ([]byte, error) {
	return json.Marshal(specJSON{Version: s.Version, Target: s.Target, TargetType: s.TargetType,
		TargetKind: s.TargetKind, Task: s.Task, Classes: s.Classes, TargetStats: s.TargetStats,
		Normalize: s.Normalize, AllowNonFinite: s.AllowNonFinite, Dim: s.Dim, Rows: s.Rows, Features: s.Features})
}

// UnmarshalJSON reads a Spec written by MarshalJSON (as stored in a model file), checks that it is
// consistent (offsets, widths, Dim, statistics, vocabularies, classes sorted and unique, task and
// target agree) and prepares it for Transform. Counters start at zero.
func (s *Spec) UnmarshalJSON(b []byte) error {
	var j specJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("feature spec: %w", err)
	}
	v := Spec{Version: j.Version, Target: j.Target, TargetType: j.TargetType, TargetKind: j.TargetKind,
		Task: j.Task, Classes: j.Classes, TargetStats: j.TargetStats, Normalize: j.Normalize,
		AllowNonFinite: j.AllowNonFinite, Dim: j.Dim, Rows: j.Rows, Features: j.Features}
	if err := v.compile(); err != nil {
		return err
	}
	*s = v
	return nil
}

// validate reports the first inconsistency of the exported fields.
func (s *Spec) validate() error {
	if s.Version != SpecVersion {
		return fmt.Errorf("feature spec: version %d, this program reads version %d", s.Version, SpecVersion)
	}
	switch s.Normalize {
	case NormZScore, NormMinMax, NormNone:
	default:
		return fmt.Errorf("feature spec: unknown normalization %q", s.Normalize)
	}
	if s.Rows < 0 {
		return fmt.Errorf("feature spec: negative row count %d", s.Rows)
	}
	if err := s.validateTarget(); err != nil {
		return err
	}
	if len(s.Features) == 0 {
		return fmt.Errorf("feature spec: no feature columns")
	}
	off := 0
	seen := make(map[string]bool, len(s.Features))
	for i := range s.Features {
		c := &s.Features[i]
		switch {
		case c.Name == "" || c.Name == RowColumn || c.Name == s.Target || seen[c.Name]:
			return fmt.Errorf("feature spec: feature %d: bad or repeated name %q", i, c.Name)
		case c.Offset != off:
			return fmt.Errorf("feature spec: column %q: offset %d, want %d (the sum of the widths before it)", c.Name, c.Offset, off)
		case c.Width < 1 || c.Width > MaxDim-off:
			return fmt.Errorf("feature spec: column %q: width %d out of range", c.Name, c.Width)
		case c.Nulls < 0 || c.NonFinite < 0 || c.Distinct < 0:
			return fmt.Errorf("feature spec: column %q: negative count", c.Name)
		}
		seen[c.Name] = true
		off += c.Width
		if err := c.validate(s.Rows); err != nil {
			return fmt.Errorf("feature spec: column %q: %w", c.Name, err)
		}
	}
	if s.Dim != off {
		return fmt.Errorf("feature spec: dim %d, but the feature widths add up to %d", s.Dim, off)
	}
	return nil
}

// validate checks one column's encoding-specific fields.
func (c *Column) validate(rows int64) error {
	for j := range c.Stats {
		if c.Stats[j].n > rows {
			return fmt.Errorf("statistics count %d values but the spec saw %d rows", c.Stats[j].n, rows)
		}
	}
	switch c.Encoding {
	case Numeric, Tensor:
		if len(c.Stats) != c.Width || c.Encoding == Numeric && c.Width != 1 {
			return fmt.Errorf("%s column with width %d and %d statistics", c.Encoding, c.Width, len(c.Stats))
		}
		if len(c.Vocab) != 0 || c.Buckets != 0 || c.Distinct != 0 {
			return fmt.Errorf("%s column with a vocabulary or buckets", c.Encoding)
		}
	case OneHot:
		if c.Width != len(c.Vocab)+2 || len(c.Stats) != 0 || c.Buckets != 0 {
			return fmt.Errorf("one-hot column: width %d, want %d vocabulary slots + other + missing", c.Width, len(c.Vocab))
		}
		for k := 1; k < len(c.Vocab); k++ {
			if c.Vocab[k-1] >= c.Vocab[k] {
				return fmt.Errorf("one-hot vocabulary not sorted or repeated at %q", c.Vocab[k])
			}
		}
		if c.Distinct < int64(len(c.Vocab)) {
			return fmt.Errorf("one-hot column: %d distinct values but %d in the vocabulary", c.Distinct, len(c.Vocab))
		}
	case Hash:
		if c.Buckets < 1 || c.Width != c.Buckets+1 || len(c.Stats) != 0 || len(c.Vocab) != 0 || c.Distinct != 0 {
			return fmt.Errorf("hash column: width %d, want %d buckets + missing", c.Width, c.Buckets)
		}
	default:
		return fmt.Errorf("unknown encoding %q", c.Encoding)
	}
	return nil
}

// validateTarget checks Target, TargetKind, Task, Classes and TargetStats against each other.
func (s *Spec) validateTarget() error {
	if s.Target == "" {
		if s.Task != "" || s.TargetKind != "" || s.TargetType != "" || len(s.Classes) != 0 || s.TargetStats != nil {
			return fmt.Errorf("feature spec: task, target kind, classes or target statistics without a target")
		}
		return nil
	}
	if s.Target == RowColumn {
		return fmt.Errorf("feature spec: target %q is reserved for row indices", RowColumn)
	}
	switch s.TargetKind {
	case KindInteger, KindFloat, KindString, KindBool:
	default:
		return fmt.Errorf("feature spec: target %q: unknown kind %q", s.Target, s.TargetKind)
	}
	if s.TargetStats != nil && s.TargetStats.n > s.Rows {
		return fmt.Errorf("feature spec: target %q: statistics count more rows than the spec saw", s.Target)
	}
	switch s.Task {
	case Regression:
		if len(s.Classes) != 0 {
			return fmt.Errorf("feature spec: target %q: regression with class names", s.Target)
		}
		if s.TargetKind != KindInteger && s.TargetKind != KindFloat {
			return fmt.Errorf("feature spec: target %q: regression on a %s target", s.Target, s.TargetKind)
		}
		return nil
	}
	if s.TargetStats != nil {
		return fmt.Errorf("feature spec: target %q: target statistics belong to regression only", s.Target)
	}
	switch s.Task {
	case Binary:
		if len(s.Classes) != 2 {
			return fmt.Errorf("feature spec: target %q: binary task with %d classes", s.Target, len(s.Classes))
		}
	case Classification:
		if len(s.Classes) < 2 || len(s.Classes) > MaxDistinct {
			return fmt.Errorf("feature spec: target %q: classification with %d classes", s.Target, len(s.Classes))
		}
	default:
		return fmt.Errorf("feature spec: target %q: unknown task %q", s.Target, s.Task)
	}
	keys, err := classKeys(s.TargetKind, s.Classes)
	if err != nil {
		return fmt.Errorf("feature spec: target %q: %w", s.Target, err)
	}
	for i := 1; i < len(keys); i++ {
		if compareLabel(keys[i-1], keys[i]) >= 0 {
			return fmt.Errorf("feature spec: target %q: classes not in sorted order or repeated at %q", s.Target, s.Classes[i])
		}
	}
	return nil
}

// compile validates s and derives what Transform needs: per-element shift and scale, imputed values,
// vocabulary and label lookups, output schemas and zeroed counters.
func (s *Spec) compile() error {
	if err := s.validate(); err != nil {
		return err
	}
	s.plan = make([]colPlan, len(s.Features))
	for i := range s.Features {
		s.plan[i] = newColPlan(&s.Features[i], s.Normalize)
		for j, v := range s.plan[i].impute {
			if !isFinite(float64(v)) {
				return fmt.Errorf("feature spec: column %q: mean %g of element %d is out of float32 range once normalized: rescale the column",
					s.Features[i].Name, s.Features[i].Stats[j].Mean(), j)
			}
		}
	}
	labels, err := newLabelLookup(s.TargetKind, s.Classes)
	if err != nil {
		return err
	}
	s.labels = labels
	s.counters = make([]colCounters, len(s.Features))
	for k := range s.schemas {
		s.schemas[k] = s.outSchema(k&1 != 0, k&2 != 0)
	}
	return nil
}

// outSchema is the schema of Transform's output.
func (s *Spec) outSchema(hasTarget, hasRow bool) *arrow.Schema {
	fields := []arrow.Field{{Name: "x", Type: arrow.FixedSizeListOfNonNullable(int32(s.Dim), arrow.PrimitiveTypes.Float32)}}
	if hasTarget {
		yt := arrow.DataType(arrow.PrimitiveTypes.Int32)
		if s.Task == Regression {
			yt = arrow.PrimitiveTypes.Float32
		}
		fields = append(fields, arrow.Field{Name: "y", Type: yt})
	}
	if hasRow {
		fields = append(fields, arrow.Field{Name: RowColumn, Type: arrow.PrimitiveTypes.Int64})
	}
	return arrow.NewSchema(fields, nil)
}

// colPlan is what Transform precomputes for one feature column.
type colPlan struct {
	shift, scale []float64 // Numeric/Tensor: out = (v - shift[j]) * scale[j]; len Width
	impute       []float32 // Numeric/Tensor: the normalized mean, written for nulls; len Width
	intSafe      bool      // no integer (|v| <= 2^64) can leave the float32 range once normalized
	vocab        map[string]int32
}

// newColPlan derives the transform constants of c under the normalization norm.
func newColPlan(c *Column, norm string) colPlan {
	var p colPlan
	switch c.Encoding {
	case Numeric, Tensor:
		p.shift = make([]float64, c.Width)
		p.scale = make([]float64, c.Width)
		p.impute = make([]float32, c.Width)
		for j, m := range c.Stats {
			shift, scale := 0.0, 1.0
			switch norm {
			case NormZScore:
				shift = m.Mean()
				if sd := m.Std(); sd > 0 && !math.IsInf(1/sd, 0) {
					scale = 1 / sd
				}
			case NormMinMax:
				shift = m.Min()
				if r := m.Max() - m.Min(); r > 0 && !math.IsInf(1/r, 0) {
					scale = 1 / r
				}
			}
			p.shift[j], p.scale[j] = shift, scale
			p.impute[j] = float32((m.Mean() - shift) * scale)
		}
		p.intSafe = true
		for j := range p.shift {
			if (0x1p64+math.Abs(p.shift[j]))*p.scale[j] >= math.MaxFloat32 {
				p.intSafe = false
			}
		}
	case OneHot:
		p.vocab = make(map[string]int32, len(c.Vocab))
		for k, v := range c.Vocab {
			p.vocab[v] = int32(k)
		}
	}
	return p
}

// colCounters counts what Transform did to one column; shared by every copy of a Spec.
type colCounters struct {
	imputed   atomic.Int64 // null values replaced by the mean or sent to "missing"
	nonFinite atomic.Int64 // NaN/±Inf replaced (AllowNonFinite)
	unseen    atomic.Int64 // one-hot values outside the vocabulary, sent to "other"
}

// Counters returns what Transform has done so far, per feature column, under the keys
// "imputed/<column>" (nulls replaced by the mean or sent to the missing slot), "nonfinite/<column>"
// (NaN/±Inf replaced, with AllowNonFinite) and, for one-hot columns, "unseen/<column>" (values outside
// the vocabulary, sent to "other"). Every key is present, zero or not. It is safe to call while Transforms run (each counter is read
// atomically; the set is not a snapshot across columns). It allocates a new map on each call.
func (s *Spec) Counters() map[string]int64 {
	m := make(map[string]int64, 3*len(s.counters))
	for i := range s.counters {
		name := s.Features[i].Name
		m["imputed/"+name] = s.counters[i].imputed.Load()
		m["nonfinite/"+name] = s.counters[i].nonFinite.Load()
		if s.Features[i].Encoding == OneHot {
			m["unseen/"+name] = s.counters[i].unseen.Load()
		}
	}
	return m
}

// labelKey is one class label in comparable form.
type labelKey struct {
	neg bool    // integer: negative (i holds it as int64)
	i   uint64  // integer magnitude bits: int64 when neg, else uint64
	f   float64 // float
	s   string  // string
	b   bool    // bool
	k   string  // kind
}

// compareLabel orders labels of one kind: numbers by value, strings by bytes, false before true.
func compareLabel(a, b labelKey) int {
	switch a.k {
	case KindInteger:
		switch {
		case a.neg && !b.neg:
			return -1
		case !a.neg && b.neg:
			return 1
		case a.neg:
			return cmp.Compare(int64(a.i), int64(b.i))
		}
		return cmp.Compare(a.i, b.i)
	case KindFloat:
		return cmp.Compare(a.f, b.f)
	case KindBool:
		switch {
		case a.b == b.b:
			return 0
		case !a.b:
			return -1
		}
		return 1
	}
	return strings.Compare(a.s, b.s)
}

// classKeys parses class names of the given kind; names must be in the canonical form className writes.
func classKeys(kind string, classes []string) ([]labelKey, error) {
	keys := make([]labelKey, len(classes))
	for i, c := range classes {
		k := labelKey{k: kind}
		switch kind {
		case KindInteger:
			if v, err := strconv.ParseInt(c, 10, 64); err == nil && v < 0 {
				k.neg, k.i = true, uint64(v)
			} else if u, err := strconv.ParseUint(c, 10, 64); err == nil {
				k.i = u
			} else {
				return nil, fmt.Errorf("class %q is not an integer", c)
			}
		case KindFloat:
			v, err := strconv.ParseFloat(c, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("class %q is not a finite number", c)
			}
			k.f = v
		case KindBool:
			switch c {
			case "false":
			case "true":
				k.b = true
			default:
				return nil, fmt.Errorf("class %q is not false or true", c)
			}
		case KindString:
			if !utf8.ValidString(c) {
				return nil, fmt.Errorf("class %q is not valid UTF-8", c)
			}
			k.s = c
		}
		if className(k) != c {
			return nil, fmt.Errorf("class %q is not written in canonical form (%q)", c, className(k))
		}
		keys[i] = k
	}
	return keys, nil
}

// className is the canonical name of a label.
func className(k labelKey) string {
	switch k.k {
	case KindInteger:
		if k.neg {
			return strconv.FormatInt(int64(k.i), 10)
		}
		return strconv.FormatUint(k.i, 10)
	case KindFloat:
		return strconv.FormatFloat(k.f, 'g', -1, 64)
	case KindBool:
		return strconv.FormatBool(k.b)
	}
	return k.s
}

// labelLookup maps target values to class indices without allocating.
type labelLookup struct {
	ints   map[int64]int32  // integer classes that fit an int64
	uints  map[uint64]int32 // integer classes above math.MaxInt64
	floats map[float64]int32
	strs   map[string]int32
	bools  [2]int32 // index of false and true, -1 when absent
}

// newLabelLookup builds the lookup for classes of kind (already validated).
func newLabelLookup(kind string, classes []string) (labelLookup, error) {
	l := labelLookup{bools: [2]int32{-1, -1}}
	if len(classes) == 0 {
		return l, nil
	}
	keys, err := classKeys(kind, classes)
	if err != nil {
		return l, err
	}
	switch kind {
	case KindInteger:
		l.ints = make(map[int64]int32, len(keys))
		for i, k := range keys {
			if k.neg || k.i <= math.MaxInt64 {
				l.ints[int64(k.i)] = int32(i)
			} else {
				if l.uints == nil {
					l.uints = make(map[uint64]int32)
				}
				l.uints[k.i] = int32(i)
			}
		}
	case KindFloat:
		l.floats = make(map[float64]int32, len(keys))
		for i, k := range keys {
			l.floats[k.f] = int32(i)
		}
	case KindString:
		l.strs = make(map[string]int32, len(keys))
		for i, k := range keys {
			l.strs[k.s] = int32(i)
		}
	case KindBool:
		for i, k := range keys {
			l.bools[b2i(k.b)] = int32(i)
		}
	}
	return l, nil
}

// b2i is 1 for true and 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Columns returns the indices in schema of the columns Transform needs, in the order it needs them:
// the features, then the target when schema has it (hasTarget). It fails, naming the column, when a
// feature is missing, when a column's type cannot be featurized as at Fit (a string where the model saw
// numbers, a list of another fixed length: a model trained on another feature schema), or when the
// target is present with a type its classes cannot be read from. Integer and float widths may differ
// from Fit's. Safe for concurrent use; it allocates the result.
func (s *Spec) Columns(schema *arrow.Schema) (cols []int, hasTarget bool, err error) {
	if len(s.plan) != len(s.Features) || len(s.Features) == 0 {
		return nil, false, fmt.Errorf("feature: the spec is not initialised: get it from Fit or json.Unmarshal")
	}
	cols = make([]int, 0, len(s.Features)+1)
	for i := range s.Features {
		c := &s.Features[i]
		idx := schema.FieldIndices(c.Name)
		if len(idx) == 0 {
			return nil, false, fmt.Errorf("feature: column %q, used by the model, is missing from the data: featurize data with the training columns", c.Name)
		}
		if len(idx) > 1 {
			return nil, false, fmt.Errorf("feature: column %q appears %d times in the data", c.Name, len(idx))
		}
		dt := schema.Field(idx[0]).Type
		if f, _, n := familyOf(dt); !c.accepts(f, n) {
			return nil, false, fmt.Errorf("feature: column %q has type %s in the data but was %s (%s, width %d) when the model was trained: featurize data with the training schema",
				c.Name, dt, c.Type, c.Encoding, c.Width)
		}
		cols = append(cols, idx[0])
	}
	if s.Target == "" {
		return cols, false, nil
	}
	idx := schema.FieldIndices(s.Target)
	switch len(idx) {
	case 0:
		return cols, false, nil
	case 1:
	default:
		return nil, false, fmt.Errorf("feature: target column %q appears %d times in the data", s.Target, len(idx))
	}
	dt := schema.Field(idx[0]).Type
	if !s.targetAccepts(targetFamily(dt)) {
		return nil, false, fmt.Errorf("feature: target column %q has type %s in the data but was %s when the model was trained", s.Target, dt, s.TargetType)
	}
	return append(cols, idx[0]), true, nil
}

// targetAccepts reports whether target values of family f can be mapped to y.
func (s *Spec) targetAccepts(f family) bool {
	if s.Task == Regression {
		return f == famNumber || f == famInteger
	}
	switch s.TargetKind {
	case KindInteger:
		return f == famInteger
	case KindFloat:
		return f == famNumber || f == famInteger
	case KindString:
		return f == famString
	case KindBool:
		return f == famBool
	}
	return false
}
