package safetensors

// DType names the element type of a tensor, spelled as in the file header
// ("F32", "I64", ...). The zero value is not a valid DType.
type DType string

// The element types of the safetensors format that have a whole number of bytes
// per element. Any of them can be written and read back as bytes; conversions
// to Go slices are offered by [File.Float32], [File.Float64] and [File.Int64].
const (
	Bool   DType = "BOOL"    // 1 byte, 0 or 1
	U8     DType = "U8"      // unsigned 8-bit integer
	I8     DType = "I8"      // signed 8-bit integer
	F8E5M2 DType = "F8_E5M2" // 8-bit float, 5 exponent bits (bytes only)
	F8E4M3 DType = "F8_E4M3" // 8-bit float, 4 exponent bits (bytes only)
	I16    DType = "I16"     // signed 16-bit integer
	U16    DType = "U16"     // unsigned 16-bit integer
	F16    DType = "F16"     // IEEE 754 half precision
	BF16   DType = "BF16"    // bfloat16: the top half of a float32
	I32    DType = "I32"     // signed 32-bit integer
	U32    DType = "U32"     // unsigned 32-bit integer
	F32    DType = "F32"     // IEEE 754 single precision
	F64    DType = "F64"     // IEEE 754 double precision
	I64    DType = "I64"     // signed 64-bit integer
	U64    DType = "U64"     // unsigned 64-bit integer
)

// dtypes lists the known DTypes in the reference implementation's order of
// increasing alignment. The writer lays tensors out in the reverse of this
// order (then by name), as the reference does, so every tensor's data is
// aligned to its element size and the output matches the reference byte for
// byte.
var dtypes = [...]DType{Bool, U8, I8, F8E5M2, F8E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64}

// rank returns the position of d in dtypes, or -1 if d is unknown.
func (d DType) rank() int {
	for i, x := range dtypes {
		if x == d {
			return i
		}
	}
	return -1
}

// Size returns the number of bytes of one element of d, or 0 if d is not a
// known DType.
func (d DType) Size() int {
	switch d {
	case Bool, U8, I8, F8E5M2, F8E4M3:
		return 1
	case I16, U16, F16, BF16:
		return 2
	case I32, U32, F32:
		return 4
	case F64, I64, U64:
		return 8
	}
	return 0
}

// Valid reports whether d is one of the DTypes this package knows.
func (d DType) Valid() bool { return d.Size() != 0 }
