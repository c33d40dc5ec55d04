package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// Tensor is one named tensor: its element type, its shape (row-major, as in
// PyTorch and NumPy) and its little-endian data.
//
// A Tensor is a plain value. [Write] only reads it; a Tensor returned by
// [File.Tensor] aliases the File's buffer and must not be modified. The zero
// value has no name and is rejected by Write.
type Tensor struct {
	Name  string
	DType DType
	Shape []int  // one entry per dimension; empty for a scalar
	Data  []byte // product(Shape) * DType.Size() bytes, little-endian
}

// FromFloat32 returns an F32 tensor holding a little-endian copy of v; it
// allocates 4*len(v) bytes. Write reports an error if len(v) does not match
// shape.
func FromFloat32(name string, shape []int, v []float32) Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return Tensor{Name: name, DType: F32, Shape: cloneInts(shape), Data: b}
}

// FromFloat64 returns an F64 tensor holding a little-endian copy of v; it
// allocates 8*len(v) bytes.
func FromFloat64(name string, shape []int, v []float64) Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return Tensor{Name: name, DType: F64, Shape: cloneInts(shape), Data: b}
}

// FromInt32 returns an I32 tensor holding a little-endian copy of v; it
// allocates 4*len(v) bytes.
func FromInt32(name string, shape []int, v []int32) Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return Tensor{Name: name, DType: I32, Shape: cloneInts(shape), Data: b}
}

// FromInt64 returns an I64 tensor holding a little-endian copy of v; it
// allocates 8*len(v) bytes.
func FromInt64(name string, shape []int, v []int64) Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	return Tensor{Name: name, DType: I64, Shape: cloneInts(shape), Data: b}
}

// FromUint8 returns a U8 tensor holding a copy of v.
func FromUint8(name string, shape []int, v []uint8) Tensor {
	return Tensor{Name: name, DType: U8, Shape: cloneInts(shape), Data: append([]byte(nil), v...)}
}

// cloneInts returns a copy of s (nil stays nil).
func cloneInts(s []int) []int {
	if s == nil {
		return nil
	}
	return append([]int{}, s...)
}

// byteSize returns the number of data bytes of a tensor of type d and the
// given shape, or an error if a dimension is negative or the size overflows
// int64. d must be valid.
func byteSize(d DType, shape []int64) (int64, error) {
	n := uint64(d.Size())
	for _, dim := range shape {
		if dim < 0 {
			return 0, fmt.Errorf("shape %v has a negative dimension", shape)
		}
		hi, lo := bits.Mul64(n, uint64(dim))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("shape %v of %s overflows a 64-bit byte count", shape, d)
		}
		n = lo
	}
	return int64(n), nil
}

// f16ToF32 widens an IEEE 754 half-precision value exactly.
func f16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0: // zero or subnormal: mant * 2^-24
		f := float32(mant) / (1 << 24)
		return math.Float32frombits(sign | math.Float32bits(f))
	case 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// bf16ToF32 widens a bfloat16 value exactly.
func bf16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }
