package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxHeaderSize is the largest header, in bytes, that [Read] accepts: the
// reference implementation's limit of 100 MB.
const MaxHeaderSize = 100_000_000

// File is a safetensors file read into memory: its metadata, and its tensors'
// descriptions and data.
//
// A File is immutable and safe for concurrent use. It owns one buffer with all
// the tensor data; [File.Tensor] returns views into it, the conversion methods
// return fresh slices. The zero value holds no tensors and no metadata.
type File struct {
	name  string            // path for error messages; "" when read with Read
	meta  map[string]string // __metadata__
	infos map[string]info   // by tensor name
	data  []byte            // the byte buffer after the header
}

// info describes one tensor in the byte buffer.
type info struct {
	name       string
	dtype      DType
	shape      []int64
	begin, end int64 // data_offsets, relative to the byte buffer
}

// Read reads and validates a safetensors file of size bytes from r.
//
// Validation is strict: the header length is at most [MaxHeaderSize] and lies
// within size; the header is UTF-8 JSON starting with '{', with no duplicate
// keys, unknown fields or trailing bytes other than whitespace; every tensor
// has a known dtype, non-negative dimensions and a byte count that does not
// overflow and equals end-begin; sorted by offset, the tensors cover the byte
// buffer exactly, with no gap, overlap or trailing byte. Each error is one line
// starting "safetensors: ".
//
// Read reads the header, validates it, and only then reads the byte buffer
// (size - 8 - header length bytes) into memory, so a corrupt file costs no
// more than its header. r is not retained.
func Read(r io.ReaderAt, size int64) (*File, error) {
	f, err := read(r, size)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	return f, nil
}

// ReadFile reads and validates the safetensors file at path; see [Read]. Errors
// name path. The file is closed before ReadFile returns.
func ReadFile(path string) (*File, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer osf.Close()
	fi, err := osf.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("safetensors: %s is not a regular file", path)
	}
	f, err := read(osf, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("safetensors: %s: %w", path, err)
	}
	f.name = path
	return f, nil
}

// read does Read's work; its errors carry no prefix.
func read(r io.ReaderAt, size int64) (*File, error) {
	if size < 8 {
		return nil, fmt.Errorf("file is %d bytes, too short for the 8-byte header length: not a safetensors file", size)
	}
	var nb [8]byte
	if err := readFull(r, nb[:], 0); err != nil {
		return nil, fmt.Errorf("reading the header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(nb[:])
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("header length %d exceeds the %d-byte limit: not a safetensors file, or a corrupt one", n, MaxHeaderSize)
	}
	if int64(n) > size-8 {
		return nil, fmt.Errorf("header length %d runs past the end of the %d-byte file: truncated or not a safetensors file", n, size)
	}
	hdr := make([]byte, n)
	if err := readFull(r, hdr, 8); err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	f, err := parseHeader(hdr)
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	dataLen := size - 8 - int64(n)
	if err := f.checkLayout(dataLen); err != nil {
		return nil, err
	}
	f.data = make([]byte, dataLen)
	if err := readFull(r, f.data, 8+int64(n)); err != nil {
		return nil, fmt.Errorf("reading %d bytes of tensor data: %w", dataLen, err)
	}
	return f, nil
}

// readFull fills p from r at off; a short read is an error.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return fmt.Errorf("file ends after %d of %d bytes: truncated", off+int64(n), off+int64(len(p)))
	}
	return err
}

// checkLayout verifies that the tensors, sorted by offset, tile the byte
// buffer of dataLen bytes exactly and that each holds the bytes its dtype and
// shape need.
func (f *File) checkLayout(dataLen int64) error {
	infos := slices.SortedFunc(maps.Values(f.infos), func(a, b info) int {
		if c := cmp.Compare(a.begin, b.begin); c != 0 {
			return c
		}
		if c := cmp.Compare(a.end, b.end); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	})
	var pos int64
	for _, t := range infos {
		switch {
		case t.end < t.begin:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] end before they begin", t.name, t.begin, t.end)
		case t.begin > pos:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] leave a gap at bytes [%d, %d)", t.name, t.begin, t.end, pos, t.begin)
		case t.begin < pos:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap the previous tensor, which ends at %d", t.name, t.begin, t.end, pos)
		case t.end > dataLen:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] run past the %d-byte data buffer: truncated file", t.name, t.begin, t.end, dataLen)
		}
		want, err := byteSize(t.dtype, t.shape)
		if err != nil {
			return fmt.Errorf("tensor %q: %w", t.name, err)
		}
		if got := t.end - t.begin; got != want {
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] hold %d bytes, but %s %v needs %d", t.name, t.begin, t.end, got, t.dtype, t.shape, want)
		}
		pos = t.end
	}
	if pos != dataLen {
		return fmt.Errorf("tensors cover %d bytes of the %d-byte data buffer: %d trailing bytes belong to no tensor", pos, dataLen, dataLen-pos)
	}
	return nil
}

// parseHeader parses the JSON header strictly (duplicate keys and unknown
// fields are errors) into a File without data.
func parseHeader(hdr []byte) (*File, error) {
	if !utf8.Valid(hdr) {
		return nil, errors.New("not valid UTF-8")
	}
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, errors.New("does not start with '{': not a safetensors file")
	}
	d := &decoder{dec: json.NewDecoder(bytes.NewReader(hdr))}
	d.dec.UseNumber()
	f := &File{meta: map[string]string{}, infos: map[string]info{}}
	if err := d.delim('{', "the header"); err != nil {
		return nil, err
	}
	sawMeta := false
	for d.dec.More() {
		key, err := d.key()
		if err != nil {
			return nil, err
		}
		if key == metadataKey {
			if sawMeta {
				return nil, fmt.Errorf("key %q appears twice", metadataKey)
			}
			sawMeta = true
			if err := d.metadata(f.meta); err != nil {
				return nil, err
			}
			continue
		}
		if key == "" {
			return nil, errors.New("a tensor has an empty name")
		}
		if _, dup := f.infos[key]; dup {
			return nil, fmt.Errorf("tensor %q appears twice", key)
		}
		t, err := d.tensor(key)
		if err != nil {
			return nil, err
		}
		f.infos[key] = t
	}
	if err := d.delim('}', "the header"); err != nil {
		return nil, err
	}
	if tok, err := d.dec.Token(); err != io.EOF {
		if err != nil {
			return nil, fmt.Errorf("after the JSON object: %v", err)
		}
		return nil, fmt.Errorf("unexpected %v after the JSON object (only space padding may follow)", tok)
	}
	return f, nil
}

// decoder reads the header's JSON token by token, so that duplicate keys and
// unexpected types are caught and named.
type decoder struct{ dec *json.Decoder }

// token returns the next token; a syntax error names its byte offset.
func (d *decoder) token() (json.Token, error) {
	tok, err := d.dec.Token()
	if err == io.EOF {
		return nil, fmt.Errorf("JSON ends early at byte %d", d.dec.InputOffset())
	}
	if err != nil {
		return nil, fmt.Errorf("malformed JSON near byte %d: %v", d.dec.InputOffset(), err)
	}
	return tok, nil
}

// delim consumes the delimiter want; what names the value for the error.
func (d *decoder) delim(want json.Delim, what string) error {
	tok, err := d.token()
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("%s: want %s, got %s", what, describeToken(want), describeToken(tok))
	}
	return nil
}

// key reads an object key (the decoder guarantees a string after More).
func (d *decoder) key() (string, error) {
	tok, err := d.token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("want an object key, got %s", describeToken(tok))
	}
	return s, nil
}

// metadata reads the __metadata__ object: string keys to string values.
func (d *decoder) metadata(m map[string]string) error {
	what := metadataKey
	if err := d.delim('{', what); err != nil {
		return err
	}
	for d.dec.More() {
		k, err := d.key()
		if err != nil {
			return err
		}
		if _, dup := m[k]; dup {
			return fmt.Errorf("%s: key %q appears twice", what, k)
		}
		tok, err := d.token()
		if err != nil {
			return err
		}
		v, ok := tok.(string)
		if !ok {
			return fmt.Errorf("%s: value of %q must be a string, got %s", what, k, describeToken(tok))
		}
		m[k] = v
	}
	return d.delim('}', what)
}

// tensor reads one tensor description {dtype, shape, data_offsets}.
func (d *decoder) tensor(name string) (info, error) {
	t := info{name: name}
	what := fmt.Sprintf("tensor %q", name)
	if err := d.delim('{', what); err != nil {
		return t, err
	}
	var sawDType, sawShape, sawOffsets bool
	for d.dec.More() {
		field, err := d.key()
		if err != nil {
			return t, err
		}
		switch field {
		case "dtype":
			if sawDType {
				return t, fmt.Errorf("%s: field %q appears twice", what, field)
			}
			sawDType = true
			tok, err := d.token()
			if err != nil {
				return t, err
			}
			s, ok := tok.(string)
			if !ok {
				return t, fmt.Errorf("%s: dtype must be a string, got %s", what, describeToken(tok))
			}
			t.dtype = DType(s)
			if !t.dtype.Valid() {
				return t, fmt.Errorf("%s: unsupported dtype %q (supported: %v)", what, s, dtypes)
			}
		case "shape":
			if sawShape {
				return t, fmt.Errorf("%s: field %q appears twice", what, field)
			}
			sawShape = true
			if t.shape, err = d.ints(what + " shape"); err != nil {
				return t, err
			}
			if t.shape == nil {
				t.shape = []int64{}
			}
		case "data_offsets":
			if sawOffsets {
				return t, fmt.Errorf("%s: field %q appears twice", what, field)
			}
			sawOffsets = true
			offs, err := d.ints(what + " data_offsets")
			if err != nil {
				return t, err
			}
			if len(offs) != 2 {
				return t, fmt.Errorf("%s: data_offsets must be [begin, end], got %d numbers", what, len(offs))
			}
			t.begin, t.end = offs[0], offs[1]
		default:
			return t, fmt.Errorf("%s: unknown field %q (want dtype, shape, data_offsets)", what, field)
		}
	}
	if err := d.delim('}', what); err != nil {
		return t, err
	}
	switch {
	case !sawDType:
		return t, fmt.Errorf("%s: missing dtype", what)
	case !sawShape:
		return t, fmt.Errorf("%s: missing shape", what)
	case !sawOffsets:
		return t, fmt.Errorf("%s: missing data_offsets", what)
	}
	return t, nil
}

// ints reads an array of non-negative integers that fit in an int.
func (d *decoder) ints(what string) ([]int64, error) {
	if err := d.delim('[', what); err != nil {
		return nil, err
	}
	var out []int64
	for d.dec.More() {
		tok, err := d.token()
		if err != nil {
			return nil, err
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, fmt.Errorf("%s: want integers, got %s", what, describeToken(tok))
		}
		v, err := strconv.ParseInt(string(num), 10, 64)
		if err != nil || v < 0 || int64(int(v)) != v {
			return nil, fmt.Errorf("%s: %s is not a non-negative integer that fits in an int", what, num)
		}
		out = append(out, v)
	}
	return out, d.delim(']', what)
}

// describeToken renders a JSON token for an error message.
func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		return strconv.QuoteRune(rune(v))
	case string:
		return "string " + strconv.Quote(v)
	case json.Number:
		return "number " + string(v)
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return "null"
	}
	return fmt.Sprint(tok)
}

// Names returns the tensor names, sorted; the slice is new on every call.
func (f *File) Names() []string {
	return slices.Sorted(maps.Keys(f.infos))
}

// Metadata returns a copy of the header's __metadata__ map (empty, not nil,
// when the file has none).
func (f *File) Metadata() map[string]string {
	m := make(map[string]string, len(f.meta))
	maps.Copy(m, f.meta)
	return m
}

// Tensor returns the tensor called name. Its Data aliases the File's buffer and
// must not be modified; its Shape is a copy.
func (f *File) Tensor(name string) (Tensor, error) {
	t, err := f.lookup(name)
	if err != nil {
		return Tensor{}, err
	}
	shape := make([]int, len(t.shape))
	for i, d := range t.shape {
		shape[i] = int(d)
	}
	return Tensor{Name: name, DType: t.dtype, Shape: shape, Data: f.data[t.begin:t.end:t.end]}, nil
}

// Float32 returns a new slice with the elements of the tensor called name. F32
// is copied; F16 and BF16 are widened exactly. Other dtypes are an error that
// names the tensor and its dtype.
func (f *File) Float32(name string) ([]float32, error) {
	t, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	b := f.data[t.begin:t.end]
	switch t.dtype {
	case F32:
		out := make([]float32, len(b)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return out, nil
	case F16, BF16:
		widen := f16ToF32
		if t.dtype == BF16 {
			widen = bf16ToF32
		}
		out := make([]float32, len(b)/2)
		for i := range out {
			out[i] = widen(binary.LittleEndian.Uint16(b[2*i:]))
		}
		return out, nil
	}
	return nil, f.errorf("tensor %q is %s, not F32, F16 or BF16: read it with %s", name, t.dtype, readerFor(t.dtype))
}

// Float64 returns a new slice with the elements of the tensor called name. F64
// is copied; F32, F16 and BF16 are widened exactly. Other dtypes are an error.
func (f *File) Float64(name string) ([]float64, error) {
	t, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	if t.dtype == F64 {
		b := f.data[t.begin:t.end]
		out := make([]float64, len(b)/8)
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
		return out, nil
	}
	if t.dtype != F32 && t.dtype != F16 && t.dtype != BF16 {
		return nil, f.errorf("tensor %q is %s, not a float type: read it with %s", name, t.dtype, readerFor(t.dtype))
	}
	v, err := f.Float32(name)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out, nil
}

// Int64 returns a new slice with the elements of the tensor called name. I64
// is copied; BOOL, U8, I8, I16, U16, I32 and U32 are widened; U64 is converted
// when every element fits in an int64. Float dtypes are an error.
func (f *File) Int64(name string) ([]int64, error) {
	t, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	switch t.dtype {
	case F32, F64, F16, BF16, F8E4M3, F8E5M2:
		return nil, f.errorf("tensor %q is %s, not an integer type: read it with %s", name, t.dtype, readerFor(t.dtype))
	}
	b := f.data[t.begin:t.end]
	out := make([]int64, len(b)/t.dtype.Size())
	le := binary.LittleEndian
	switch t.dtype {
	case Bool, U8:
		for i := range out {
			out[i] = int64(b[i])
		}
	case I8:
		for i := range out {
			out[i] = int64(int8(b[i]))
		}
	case I16:
		for i := range out {
			out[i] = int64(int16(le.Uint16(b[2*i:])))
		}
	case U16:
		for i := range out {
			out[i] = int64(le.Uint16(b[2*i:]))
		}
	case I32:
		for i := range out {
			out[i] = int64(int32(le.Uint32(b[4*i:])))
		}
	case U32:
		for i := range out {
			out[i] = int64(le.Uint32(b[4*i:]))
		}
	case I64:
		for i := range out {
			out[i] = int64(le.Uint64(b[8*i:]))
		}
	case U64:
		for i := range out {
			u := le.Uint64(b[8*i:])
			if u > math.MaxInt64 {
				return nil, f.errorf("tensor %q: element %d is %d, which does not fit in an int64", name, i, u)
			}
			out[i] = int64(u)
		}
	}
	return out, nil
}

// readerFor names the method that converts dtype d.
func readerFor(d DType) string {
	switch d {
	case F32, F16, BF16:
		return "Float32"
	case F64:
		return "Float64"
	case F8E4M3, F8E5M2:
		return "Tensor (raw bytes)"
	}
	return "Int64"
}

// lookup returns the description of the tensor called name.
func (f *File) lookup(name string) (info, error) {
	t, ok := f.infos[name]
	if !ok {
		names := f.Names()
		if len(names) > 5 {
			names = append(names[:5], "...")
		}
		return info{}, f.errorf("no tensor %q (the file has %d: %s)", name, len(f.infos), strings.Join(names, ", "))
	}
	return t, nil
}

// errorf formats an error that names the file when it is known.
func (f *File) errorf(format string, args ...any) error {
	if f.name != "" {
		return fmt.Errorf("safetensors: %s: "+format, append([]any{f.name}, args...)...)
	}
	return fmt.Errorf("safetensors: "+format, args...)
}
