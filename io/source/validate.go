package source

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// validateArray checks what arrow-go's IPC reader does not: that buffers are long enough for the array's
// length and offset, that offsets stay inside their values (arrow-go's own Validate methods) and that
// dictionary indices are in range, recursively. A record that passes can be read by any stage without an
// out-of-range panic. Cost: O(buffers) plus O(rows) for offsets and dictionary indices.
func validateArray(a arrow.Array) error {
	d := a.Data()
	if d.Len() < 0 || d.Offset() < 0 {
		return fmt.Errorf("negative length %d or offset %d", d.Len(), d.Offset())
	}
	end := int64(d.Offset()) + int64(d.Len())
	bufs := d.Buffers()
	if a.NullN() > 0 && len(bufs) > 0 && bufs[0] != nil && int64(bufs[0].Len()) < bitutil.BytesForBits(end) {
		return fmt.Errorf("validity bitmap of %d bytes is too short for %d rows", bufs[0].Len(), end)
	}
	if fw, ok := a.DataType().(arrow.FixedWidthDataType); ok && a.DataType().ID() != arrow.DICTIONARY && len(bufs) > 1 {
		need := bitutil.BytesForBits(end * int64(fw.BitWidth()))
		if bufs[1] == nil && d.Len() > 0 {
			return fmt.Errorf("missing data buffer for %d rows", d.Len())
		}
		if bufs[1] != nil && int64(bufs[1].Len()) < need {
			return fmt.Errorf("data buffer of %d bytes is too short for %d %s values", bufs[1].Len(), end, a.DataType())
		}
	}
	if v, ok := a.(interface{ ValidateFull() error }); ok {
		if err := v.ValidateFull(); err != nil {
			return err
		}
	}
	switch arr := a.(type) {
	case *array.Struct:
		for i := 0; i < arr.NumField(); i++ {
			f := arr.Field(i)
			if int64(f.Len()) < end-int64(d.Offset()) {
				return fmt.Errorf("struct field %d has %d rows, want %d", i, f.Len(), d.Len())
			}
			if err := validateArray(f); err != nil {
				return fmt.Errorf("struct field %d: %w", i, err)
			}
		}
	case *array.FixedSizeList:
		n := int64(arr.DataType().(*arrow.FixedSizeListType).Len())
		if int64(arr.ListValues().Len()) < end*n {
			return fmt.Errorf("fixed-size list values have %d elements, want %d", arr.ListValues().Len(), end*n)
		}
		return validateArray(arr.ListValues())
	case array.ListLike:
		return validateArray(arr.ListValues())
	case *array.Dictionary:
		dict := arr.Dictionary()
		if err := validateArray(dict); err != nil {
			return fmt.Errorf("dictionary: %w", err)
		}
		if err := validateArray(arr.Indices()); err != nil {
			return fmt.Errorf("dictionary indices: %w", err)
		}
		n := dict.Len()
		for i := 0; i < arr.Len(); i++ {
			if arr.IsValid(i) {
				if k := arr.GetValueIndex(i); k < 0 || k >= n {
					return fmt.Errorf("dictionary index %d out of range (dictionary of %d values)", k, n)
				}
			}
		}
	}
	return nil
}
