package feature

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// Encoding is how a feature column becomes slots of x.
type Encoding string

// The encodings.
const (
	// Numeric: one slot holding the normalized value (integers, floats, booleans as 0/1).
	Numeric Encoding = "numeric"
	// Tensor: Width slots, each element normalized with its own statistics (FixedSizeList, or List
	// whose rows all have Width elements, of a numeric type: images).
	Tensor Encoding = "tensor"
	// OneHot: one slot per vocabulary value, then "other" (values outside the vocabulary) and
	// "missing" (null): Width = len(Vocab)+2.
	OneHot Encoding = "onehot"
	// Hash: Buckets slots chosen by FNV-1a of the value, then "missing": Width = Buckets+1.
	Hash Encoding = "hash"
)

// family groups arrow types that featurize the same way. Columns accepts a column whose family is the
// one seen at Fit even if the width differs (int32 at Fit, int64 now): CSV and Parquet writers often
// pick different widths for the same data.
type family int

const (
	famNone    family = iota
	famNumber         // integers, floats, float16
	famBool           // boolean
	famString         // string, binary (all sizes and views) and dictionaries of them
	famTensor         // list-likes of numbers
	famInteger        // refinement of famNumber used for targets: signed and unsigned integers
)

// isNumberID reports whether id is an integer or floating-point type.
func isNumberID(id arrow.Type) bool {
	switch id {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
		return true
	}
	return false
}

// isIntegerID reports whether id is a signed or unsigned integer type.
func isIntegerID(id arrow.Type) bool {
	switch id {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return true
	}
	return false
}

// isStringID reports whether id is a string or binary type.
func isStringID(id arrow.Type) bool {
	switch id {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW,
		arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW:
		return true
	}
	return false
}

// familyOf classifies dt; for list-likes it also returns the element type and, for fixed-size lists,
// the length (0 when the type does not fix it).
func familyOf(dt arrow.DataType) (f family, elem arrow.DataType, n int) {
	switch {
	case isNumberID(dt.ID()):
		return famNumber, nil, 0
	case dt.ID() == arrow.BOOL:
		return famBool, nil, 0
	case isStringID(dt.ID()):
		return famString, nil, 0
	}
	switch t := dt.(type) {
	case *arrow.DictionaryType:
		if isStringID(t.ValueType.ID()) {
			return famString, nil, 0
		}
	case *arrow.FixedSizeListType:
		if isNumberID(t.Elem().ID()) {
			return famTensor, t.Elem(), int(t.Len())
		}
	case *arrow.ListType, *arrow.LargeListType, *arrow.ListViewType, *arrow.LargeListViewType:
		elem := t.(arrow.ListLikeType).Elem()
		if isNumberID(elem.ID()) {
			return famTensor, elem, 0
		}
	}
	return famNone, nil, 0
}

// targetFamily classifies a target type: integers are told apart from floats because they classify.
func targetFamily(dt arrow.DataType) family {
	f, _, _ := familyOf(dt)
	if f == famNumber && isIntegerID(dt.ID()) {
		return famInteger
	}
	if f == famTensor {
		return famNone
	}
	return f
}

// describeFamily names a family for error messages.
func (f family) String() string {
	switch f {
	case famNumber:
		return "numeric"
	case famBool:
		return "boolean"
	case famString:
		return "string"
	case famTensor:
		return "list of numbers"
	case famInteger:
		return "integer"
	}
	return "unsupported"
}

// encodingFamilies reports whether a column of family f (and fixed list length n, 0 if unknown) can be
// featurized by a Column encoded as c was at Fit.
func (c *Column) accepts(f family, n int) bool {
	switch c.Encoding {
	case Numeric:
		return f == famNumber || f == famBool
	case Tensor:
		return f == famTensor && (n == 0 || n == c.Width)
	case OneHot, Hash:
		return f == famString
	}
	return false
}

// noEncoding is the error for a feature column no encoding applies to.
func noEncoding(file, col string, dt arrow.DataType) error {
	return fmt.Errorf("feature: %scolumn %q has type %s, which no encoding handles (numbers, booleans, strings, dictionaries of strings, lists of numbers): exclude it or convert it",
		inFile(file), col, dt)
}

// inFile prefixes a file name for messages, or nothing when there is none.
func inFile(file string) string {
	if file == "" {
		return ""
	}
	return fmt.Sprintf("file %q, ", file)
}
