package safetensors_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sgdpipe/sgdpipe/io/safetensors"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// raw builds a file from a header string and a byte buffer, without padding.
func raw(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// f32bytes returns the little-endian bytes of v.
func f32bytes(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func encode(t testing.TB, tensors []safetensors.Tensor, meta map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, tensors, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decode(t testing.TB, b []byte) *safetensors.File {
	t.Helper()
	f, err := safetensors.Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestGoldenReference checks byte-exact output against files produced by the
// reference implementation (the format's own test vectors).
func TestGoldenReference(t *testing.T) {
	tests := []struct {
		name    string
		tensors []safetensors.Tensor
		meta    map[string]string
		want    []byte
	}{
		{
			name:    "one F32, header needs no padding",
			tensors: []safetensors.Tensor{safetensors.FromFloat32("attn.0", []int{1, 2, 3}, []float32{0, 1, 2, 3, 4, 5})},
			want:    raw(`{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`, f32bytes(0, 1, 2, 3, 4, 5)),
		},
		{
			name:    "one F32, header padded with 7 spaces",
			tensors: []safetensors.Tensor{safetensors.FromFloat32("attn0", []int{1, 1, 2, 3}, []float32{0, 1, 2, 3, 4, 5})},
			want:    raw(`{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       `, f32bytes(0, 1, 2, 3, 4, 5)),
		},
		{
			name: "empty",
			want: raw(`{}      `, nil),
		},
		{
			name: "metadata only",
			meta: map[string]string{"framework": "pt"},
			want: raw(`{"__metadata__":{"framework":"pt"}}     `, nil),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := encode(t, tt.tensors, tt.meta)
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("Write output differs from the reference:\n got %q\nwant %q", got, tt.want)
			}
			decode(t, got)
		})
	}
}

// allDTypes returns one tensor of every dtype, with distinct contents.
func allDTypes() []safetensors.Tensor {
	var ts []safetensors.Tensor
	for i, d := range []safetensors.DType{safetensors.Bool, safetensors.U8, safetensors.I8, safetensors.F8E5M2,
		safetensors.F8E4M3, safetensors.I16, safetensors.U16, safetensors.F16, safetensors.BF16, safetensors.I32,
		safetensors.U32, safetensors.F32, safetensors.F64, safetensors.I64, safetensors.U64} {
		shape := []int{i%3 + 1, 3}
		data := make([]byte, shape[0]*shape[1]*d.Size())
		for j := range data {
			data[j] = byte(i*31 + j)
		}
		if d == safetensors.Bool {
			for j := range data {
				data[j] &= 1
			}
		}
		ts = append(ts, safetensors.Tensor{Name: "t_" + string(d), DType: d, Shape: shape, Data: data})
	}
	return ts
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		tensors []safetensors.Tensor
		meta    map[string]string
	}{
		{"mlp", []safetensors.Tensor{
			safetensors.FromFloat32("layers.0.weight", []int{2, 3}, []float32{1, -2, 3.5, float32(math.Inf(1)), 0, -0}),
			safetensors.FromFloat32("layers.0.bias", []int{2}, []float32{0.25, math.MaxFloat32}),
			safetensors.FromInt64("step", nil, []int64{123456789012}),
			safetensors.FromFloat64("lr", []int{1}, []float64{1e-3}),
			safetensors.FromInt32("classes", []int{3}, []int32{-1, 0, math.MaxInt32}),
			safetensors.FromUint8("mask", []int{5}, []uint8{1, 0, 1, 1, 255}),
		}, map[string]string{"arch": `{"layers":[784,10]}`, "format": "pt"}},
		{"every dtype", allDTypes(), nil},
		{"empty tensors", []safetensors.Tensor{
			safetensors.FromFloat32("zero_rows", []int{0, 4}, nil),
			safetensors.FromFloat32("a", []int{1}, []float32{7}),
			safetensors.FromInt64("none", []int{0}, nil),
		}, map[string]string{}},
		{"odd names and metadata", []safetensors.Tensor{
			safetensors.FromUint8("odd \"quoted\" \\ name\t\n\x01 ünï ☃ <&>", []int{3}, []uint8{1, 2, 3}),
			safetensors.FromFloat32("b", []int{1}, []float32{1}),
		}, map[string]string{"": "empty key", "k\x00": "v\x1f\u2028", "note": "line1\nline2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := encode(t, tt.tensors, tt.meta)
			f := decode(t, b)
			wantNames := make([]string, len(tt.tensors))
			for i, ts := range tt.tensors {
				wantNames[i] = ts.Name
			}
			slices.Sort(wantNames)
			if got := f.Names(); !slices.Equal(got, wantNames) {
				t.Fatalf("Names() = %q, want %q", got, wantNames)
			}
			for _, want := range tt.tensors {
				got, err := f.Tensor(want.Name)
				if err != nil {
					t.Fatal(err)
				}
				if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) && !(len(got.Shape) == 0 && len(want.Shape) == 0) ||
					!bytes.Equal(got.Data, want.Data) {
					t.Errorf("tensor %q: got %s %v %x, want %s %v %x", want.Name, got.DType, got.Shape, got.Data, want.DType, want.Shape, want.Data)
				}
			}
			wantMeta := tt.meta
			if wantMeta == nil {
				wantMeta = map[string]string{}
			}
			if got := f.Metadata(); !reflect.DeepEqual(got, wantMeta) {
				t.Errorf("Metadata() = %q, want %q", got, wantMeta)
			}
			// Writing what was read gives the same bytes.
			var again []safetensors.Tensor
			for _, n := range f.Names() {
				ts, _ := f.Tensor(n)
				again = append(again, ts)
			}
			if b2 := encode(t, again, f.Metadata()); !bytes.Equal(b, b2) {
				t.Errorf("re-encoding what was read changed the bytes")
			}
		})
	}
}

// TestIndependentReader parses our output by hand, with nothing from the
// package: header length, padding, alignment, JSON fields, data at the offsets.
func TestIndependentReader(t *testing.T) {
	w := []float32{0.5, -1.5, 2, 3, 4, 5}
	steps := []int64{-7, 1 << 40}
	tensors := []safetensors.Tensor{
		safetensors.FromUint8("u", []int{3}, []uint8{9, 8, 7}), // odd length: alignment must still hold
		safetensors.FromFloat32("w", []int{2, 3}, w),
		safetensors.FromInt64("steps", []int{2, 1}, steps),
	}
	b := encode(t, tensors, map[string]string{"arch": "linear"})

	n := binary.LittleEndian.Uint64(b[:8])
	if n%8 != 0 {
		t.Fatalf("header length %d is not a multiple of 8", n)
	}
	hdr := b[8 : 8+n]
	if trimmed := bytes.TrimRight(hdr, " "); !bytes.HasSuffix(trimmed, []byte("}")) || len(hdr)-len(trimmed) >= 8 {
		t.Fatalf("header padding wrong: %q", hdr)
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &h); err != nil {
		t.Fatalf("header is not JSON: %v", err)
	}
	var meta map[string]string
	if err := json.Unmarshal(h["__metadata__"], &meta); err != nil || meta["arch"] != "linear" {
		t.Fatalf("__metadata__ = %s (%v)", h["__metadata__"], err)
	}
	type entry struct {
		DType       string   `json:"dtype"`
		Shape       []int    `json:"shape"`
		DataOffsets [2]int64 `json:"data_offsets"`
	}
	data := b[8+n:]
	get := func(name string) (entry, []byte) {
		var e entry
		if err := json.Unmarshal(h[name], &e); err != nil {
			t.Fatalf("tensor %q: %v", name, err)
		}
		return e, data[e.DataOffsets[0]:e.DataOffsets[1]]
	}
	ew, bw := get("w")
	if ew.DType != "F32" || !slices.Equal(ew.Shape, []int{2, 3}) || ew.DataOffsets[0]%4 != 0 {
		t.Fatalf("w: %+v", ew)
	}
	for i, x := range w {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(bw[4*i:])); got != x {
			t.Fatalf("w[%d] = %v, want %v", i, got, x)
		}
	}
	es, bs := get("steps")
	if es.DType != "I64" || !slices.Equal(es.Shape, []int{2, 1}) || es.DataOffsets[0]%8 != 0 {
		t.Fatalf("steps: %+v", es)
	}
	for i, x := range steps {
		if got := int64(binary.LittleEndian.Uint64(bs[8*i:])); got != x {
			t.Fatalf("steps[%d] = %v, want %v", i, got, x)
		}
	}
	eu, bu := get("u")
	if eu.DType != "U8" || !slices.Equal(eu.Shape, []int{3}) || !bytes.Equal(bu, []byte{9, 8, 7}) {
		t.Fatalf("u: %+v %v", eu, bu)
	}
	if eu.DataOffsets[1] != int64(len(data)) {
		t.Fatalf("U8 tensor should come last (smallest element), ends at %d of %d", eu.DataOffsets[1], len(data))
	}
}

func TestDeterministic(t *testing.T) {
	base := allDTypes()
	base = append(base, safetensors.FromFloat32("b", []int{1}, []float32{1}), safetensors.FromFloat32("a", []int{1}, []float32{2}))
	meta := map[string]string{"z": "1", "a": "2", "m": "3", "b": "4"}
	want := encode(t, base, meta)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		shuffled := slices.Clone(base)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		m := map[string]string{}
		for k, v := range meta {
			m[k] = v
		}
		if got := encode(t, shuffled, m); !bytes.Equal(got, want) {
			t.Fatal("output depends on the order of the tensors or of the metadata map")
		}
	}
}

func TestWriteErrors(t *testing.T) {
	ok := safetensors.FromFloat32("ok", []int{1}, []float32{1})
	tests := []struct {
		name    string
		tensors []safetensors.Tensor
		meta    map[string]string
		says    string
	}{
		{"empty name", []safetensors.Tensor{{DType: safetensors.F32, Shape: []int{0}}}, nil, "empty name"},
		{"reserved name", []safetensors.Tensor{{Name: "__metadata__", DType: safetensors.U8, Shape: []int{0}}}, nil, "reserved"},
		{"duplicate", []safetensors.Tensor{ok, ok}, nil, `"ok" appears twice`},
		{"unknown dtype", []safetensors.Tensor{{Name: "x", DType: "F128", Shape: []int{1}, Data: make([]byte, 16)}}, nil, `unknown dtype "F128"`},
		{"zero dtype", []safetensors.Tensor{{Name: "x", Shape: []int{1}}}, nil, `unknown dtype ""`},
		{"short data", []safetensors.Tensor{safetensors.FromFloat32("w", []int{2, 3}, []float32{1, 2})}, nil, `"w": F32 [2 3] needs 24 bytes of data, got 8`},
		{"long data", []safetensors.Tensor{safetensors.FromInt64("s", nil, []int64{1, 2})}, nil, `"s": I64 [] needs 8 bytes of data, got 16`},
		{"negative dim", []safetensors.Tensor{{Name: "n", DType: safetensors.U8, Shape: []int{-1}}}, nil, "negative dimension"},
		{"overflow", []safetensors.Tensor{{Name: "big", DType: safetensors.F64, Shape: []int{1 << 31, 1 << 31, 1 << 31}}}, nil, "overflows"},
		{"bad utf8 name", []safetensors.Tensor{{Name: "\xff", DType: safetensors.U8, Shape: []int{0}}}, nil, "not valid UTF-8"},
		{"bad utf8 metadata", []safetensors.Tensor{ok}, map[string]string{"k": "\xfe"}, "valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := safetensors.Write(&buf, tt.tensors, tt.meta)
			if err == nil {
				t.Fatal("Write succeeded")
			}
			if msg := err.Error(); !strings.Contains(msg, tt.says) || !strings.HasPrefix(msg, "safetensors: ") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q: want one line starting %q and containing %q", msg, "safetensors: ", tt.says)
			}
			if buf.Len() != 0 {
				t.Fatalf("Write wrote %d bytes before failing validation", buf.Len())
			}
		})
	}
}

// failWriter fails after n bytes.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errors.New("device on fire")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteIOError(t *testing.T) {
	ts := []safetensors.Tensor{safetensors.FromFloat32("w", []int{100}, make([]float32, 100))}
	for _, n := range []int{0, 8, 100} {
		err := safetensors.Write(&failWriter{n}, ts, nil)
		if err == nil || !strings.Contains(err.Error(), "device on fire") {
			t.Errorf("writer failing after %d bytes: Write = %v", n, err)
		}
	}
}

func TestReadCorrupt(t *testing.T) {
	valid := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[2],"data_offsets":[8,10]}}`
	data10 := make([]byte, 10)
	big := func(n uint64) []byte { return binary.LittleEndian.AppendUint64(nil, n) }
	tests := []struct {
		name string
		file []byte
		says string
	}{
		{"empty file", nil, "too short"},
		{"7 bytes", make([]byte, 7), "too short"},
		{"header too large", append(big(100_000_001), '{', '}'), "exceeds the 100000000-byte limit"},
		{"header length near 2^64", append(big(math.MaxUint64), '{', '}'), "exceeds"},
		{"header past the end", append(big(50), `{}`...), "runs past the end"},
		{"empty header", raw("", nil), "does not start with '{'"},
		{"not utf8", raw("{\"\xff\":1}", nil), "not valid UTF-8"},
		{"leading space", raw(" {}", nil), "does not start with '{'"},
		{"not an object", raw("[1,2]", nil), "does not start with '{'"},
		{"malformed json", raw(`{"a":}`, nil), "malformed JSON"},
		{"unterminated", raw(`{"a":{"dtype":"F32"`, nil), "JSON ends early"},
		{"trailing garbage", raw(`{}x`, nil), "after the JSON object"},
		{"second object", raw(`{} {}`, nil), "after the JSON object"},
		{"tensor not an object", raw(`{"a":[1]}`, nil), `tensor "a": want '{'`},
		{"tensor is a string", raw(`{"a":"x"}`, nil), `tensor "a": want '{', got string "x"`},
		{"unknown dtype", raw(`{"a":{"dtype":"F4","shape":[1],"data_offsets":[0,1]}}`, data10[:1]), `unsupported dtype "F4"`},
		{"dtype not a string", raw(`{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, data10[:4]), "dtype must be a string"},
		{"unknown field", raw(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"offsets":[0,1]}}`, data10[:1]), `unknown field "offsets"`},
		{"duplicate field", raw(`{"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, data10[:1]), `field "dtype" appears twice`},
		{"missing dtype", raw(`{"a":{"shape":[1],"data_offsets":[0,1]}}`, data10[:1]), "missing dtype"},
		{"missing shape", raw(`{"a":{"dtype":"U8","data_offsets":[0,1]}}`, data10[:1]), "missing shape"},
		{"missing offsets", raw(`{"a":{"dtype":"U8","shape":[1]}}`, data10[:1]), "missing data_offsets"},
		{"negative dim", raw(`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}`, data10[:1]), "-1 is not a non-negative integer"},
		{"fractional dim", raw(`{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}`, data10[:1]), "1.5 is not"},
		{"exponent dim", raw(`{"a":{"dtype":"U8","shape":[1e0],"data_offsets":[0,1]}}`, data10[:1]), "1e0 is not"},
		{"dim too big", raw(`{"a":{"dtype":"U8","shape":[99999999999999999999],"data_offsets":[0,1]}}`, data10[:1]), "is not a non-negative integer"},
		{"dim not a number", raw(`{"a":{"dtype":"U8","shape":["1"],"data_offsets":[0,1]}}`, data10[:1]), "want integers"},
		{"shape not an array", raw(`{"a":{"dtype":"U8","shape":1,"data_offsets":[0,1]}}`, data10[:1]), "shape: want '['"},
		{"three offsets", raw(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}`, data10[:1]), "got 3 numbers"},
		{"size overflow", raw(`{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, data10[:8]), "overflows"},
		{"size mismatch", raw(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, data10[:8]), "hold 8 bytes, but F32 [3] needs 12"},
		{"end before begin", raw(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[1,0]}}`, data10[:1]), "end before they begin"},
		{"gap", raw(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}`, data10[:4]), "gap at bytes [0, 2)"},
		{"overlap", raw(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}`, data10[:4]), "overlap"},
		{"past the data", raw(`{"a":{"dtype":"U8","shape":[12],"data_offsets":[0,12]}}`, data10), "run past the 10-byte data buffer"},
		{"trailing data", raw(valid, append(data10, 0, 0)), "2 trailing bytes"},
		{"no tensors but data", raw(`{}`, data10), "10 trailing bytes"},
		{"duplicate tensor", raw(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}`, nil), `tensor "a" appears twice`},
		{"metadata not an object", raw(`{"__metadata__":["x"]}`, nil), "__metadata__: want '{'"},
		{"metadata null", raw(`{"__metadata__":null}`, nil), "__metadata__: want '{', got null"},
		{"metadata value not a string", raw(`{"__metadata__":{"k":1}}`, nil), `value of "k" must be a string, got number 1`},
		{"metadata duplicate key", raw(`{"__metadata__":{"k":"1","k":"2"}}`, nil), `key "k" appears twice`},
		{"empty name", raw(`{"":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}`, nil), "empty name"},
		{"metadata twice", raw(`{"__metadata__":{},"__metadata__":{}}`, nil), `"__metadata__" appears twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := safetensors.Read(bytes.NewReader(tt.file), int64(len(tt.file)))
			if err == nil {
				t.Fatalf("Read accepted a corrupt file: names %v", f.Names())
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "safetensors: ") || !strings.Contains(msg, tt.says) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q: want one line starting %q and containing %q", msg, "safetensors: ", tt.says)
			}
		})
	}
	// The valid header used above is accepted, so the table tests what it claims.
	if _, err := safetensors.Read(bytes.NewReader(raw(valid, data10)), int64(len(raw(valid, data10)))); err != nil {
		t.Fatalf("valid file rejected: %v", err)
	}
}

// shortReader claims more bytes than it has, as a file truncated after Stat.
func TestReadTruncatedReader(t *testing.T) {
	b := encode(t, []safetensors.Tensor{safetensors.FromFloat32("w", []int{4}, []float32{1, 2, 3, 4})}, nil)
	for _, cut := range []int{4, 12, len(b) - 1} {
		_, err := safetensors.Read(bytes.NewReader(b[:cut]), int64(len(b)))
		if err == nil || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("cut at %d of %d: Read = %v, want a truncation error", cut, len(b), err)
		}
	}
}

func TestConversions(t *testing.T) {
	f16 := []uint16{0x3c00, 0xc000, 0x0001, 0x8000, 0x7c00, 0xfc00, 0x7bff, 0x0400, 0x3555}
	f16want := []float32{1, -2, 5.9604645e-08, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), 65504, 6.1035156e-05, 0.33325195}
	bf16 := []uint16{0x3f80, 0xc040, 0x7f80, 0x0000}
	bf16want := []float32{1, -3, float32(math.Inf(1)), 0}
	u16 := func(v []uint16) []byte {
		var b []byte
		for _, x := range v {
			b = binary.LittleEndian.AppendUint16(b, x)
		}
		return b
	}
	u64 := func(v ...uint64) []byte {
		var b []byte
		for _, x := range v {
			b = binary.LittleEndian.AppendUint64(b, x)
		}
		return b
	}
	tensors := []safetensors.Tensor{
		{Name: "h", DType: safetensors.F16, Shape: []int{len(f16)}, Data: u16(f16)},
		{Name: "bf", DType: safetensors.BF16, Shape: []int{len(bf16)}, Data: u16(bf16)},
		{Name: "nan16", DType: safetensors.F16, Shape: []int{1}, Data: u16([]uint16{0x7e00})},
		safetensors.FromFloat32("f", []int{2}, []float32{1.5, -0.125}),
		safetensors.FromFloat64("d", []int{2}, []float64{math.Pi, -1e300}),
		{Name: "i8", DType: safetensors.I8, Shape: []int{2}, Data: []byte{0xff, 0x7f}},
		{Name: "i16", DType: safetensors.I16, Shape: []int{1}, Data: u16([]uint16{0x8000})},
		{Name: "u16", DType: safetensors.U16, Shape: []int{1}, Data: u16([]uint16{0xffff})},
		safetensors.FromInt32("i32", []int{2}, []int32{math.MinInt32, 5}),
		{Name: "u32", DType: safetensors.U32, Shape: []int{1}, Data: []byte{0xff, 0xff, 0xff, 0xff}},
		safetensors.FromInt64("i64", []int{1}, []int64{math.MinInt64}),
		{Name: "u64", DType: safetensors.U64, Shape: []int{1}, Data: u64(math.MaxInt64)},
		{Name: "u64big", DType: safetensors.U64, Shape: []int{2}, Data: u64(1, math.MaxUint64)},
		{Name: "bool", DType: safetensors.Bool, Shape: []int{2}, Data: []byte{1, 0}},
		safetensors.FromUint8("u8", []int{1}, []uint8{200}),
		{Name: "f8", DType: safetensors.F8E4M3, Shape: []int{1}, Data: []byte{0x38}},
		safetensors.FromFloat32("empty", []int{0}, nil),
	}
	path := filepath.Join(t.TempDir(), "conv.safetensors")
	if err := safetensors.WriteFile(path, tensors, nil); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f32 := func(name string) []float32 {
		v, err := f.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	bitsEqual := func(a, b []float32) bool {
		return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
	}
	if got := f32("h"); !bitsEqual(got, f16want) {
		t.Errorf("F16 -> %v, want %v", got, f16want)
	}
	if got := f32("bf"); !bitsEqual(got, bf16want) {
		t.Errorf("BF16 -> %v, want %v", got, bf16want)
	}
	if got := f32("nan16"); !math.IsNaN(float64(got[0])) {
		t.Errorf("F16 NaN -> %v", got)
	}
	if got := f32("f"); !slices.Equal(got, []float32{1.5, -0.125}) {
		t.Errorf("F32 -> %v", got)
	}
	if got := f32("empty"); len(got) != 0 {
		t.Errorf("empty -> %v", got)
	}
	if got, err := f.Float64("d"); err != nil || !slices.Equal(got, []float64{math.Pi, -1e300}) {
		t.Errorf("F64 -> %v, %v", got, err)
	}
	if got, err := f.Float64("f"); err != nil || !slices.Equal(got, []float64{1.5, -0.125}) {
		t.Errorf("F32 as float64 -> %v, %v", got, err)
	}
	intWant := map[string][]int64{
		"i8": {-1, 127}, "i16": {math.MinInt16}, "u16": {65535}, "i32": {math.MinInt32, 5},
		"u32": {math.MaxUint32}, "i64": {math.MinInt64}, "u64": {math.MaxInt64}, "bool": {1, 0}, "u8": {200},
	}
	for name, want := range intWant {
		if got, err := f.Int64(name); err != nil || !slices.Equal(got, want) {
			t.Errorf("Int64(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	// Errors name the file, the tensor and what to do.
	errTests := []struct {
		call func() error
		says []string
	}{
		{func() error { _, err := f.Float32("i64"); return err }, []string{path, `"i64" is I64`, "Int64"}},
		{func() error { _, err := f.Float32("d"); return err }, []string{`"d" is F64`, "Float64"}},
		{func() error { _, err := f.Float64("u8"); return err }, []string{`"u8" is U8`}},
		{func() error { _, err := f.Int64("f"); return err }, []string{`"f" is F32`, "Float32"}},
		{func() error { _, err := f.Int64("empty"); return err }, []string{`"empty" is F32`}},
		{func() error { _, err := f.Int64("f8"); return err }, []string{`"f8" is F8_E4M3`, "raw bytes"}},
		{func() error { _, err := f.Int64("u64big"); return err }, []string{"element 1", "does not fit"}},
		{func() error { _, err := f.Float32("missing"); return err }, []string{path, `no tensor "missing"`, "the file has 17"}},
		{func() error { _, err := f.Tensor("missing"); return err }, []string{`no tensor "missing"`}},
	}
	for i, tt := range errTests {
		err := tt.call()
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		for _, s := range tt.says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("case %d: error %q does not contain %q", i, err, s)
			}
		}
	}
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := safetensors.ReadFile(filepath.Join(dir, "missing.safetensors")); !errors.Is(err, fs.ErrNotExist) ||
		!strings.Contains(err.Error(), "missing.safetensors") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := safetensors.ReadFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: %v", err)
	}
	bad := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(bad, raw(`{"a":1}`, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := safetensors.ReadFile(bad); err == nil || !strings.Contains(err.Error(), bad+": header: tensor \"a\"") {
		t.Errorf("corrupt file: %v", err)
	}
	// Validation errors of WriteFile name the path and leave no file behind.
	out := filepath.Join(dir, "out.safetensors")
	err := safetensors.WriteFile(out, []safetensors.Tensor{safetensors.FromFloat32("w", []int{3}, nil)}, nil)
	if err == nil || !strings.Contains(err.Error(), out) {
		t.Errorf("WriteFile of an invalid tensor: %v", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("invalid WriteFile left %s behind", out)
	}
	err = safetensors.WriteFile(filepath.Join(dir, "no", "such", "dir.safetensors"), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("WriteFile into a missing directory: %v", err)
	}
}

func ExampleWrite() {
	var buf bytes.Buffer
	err := safetensors.Write(&buf, []safetensors.Tensor{
		safetensors.FromFloat32("linear.weight", []int{2, 2}, []float32{1, 2, 3, 4}),
		safetensors.FromFloat32("linear.bias", []int{2}, []float32{0.5, -0.5}),
		safetensors.FromInt64("step", nil, []int64{1000}),
	}, map[string]string{"arch": "linear 2->2"})
	if err != nil {
		panic(err)
	}
	b := buf.Bytes()
	n := binary.LittleEndian.Uint64(b)
	fmt.Printf("%d bytes of header, %d bytes of data\n", n, len(b)-8-int(n))
	fmt.Println(strings.TrimRight(string(b[8:8+n]), " "))
	// Output:
	// 232 bytes of header, 32 bytes of data
	// {"__metadata__":{"arch":"linear 2->2"},"step":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"linear.bias":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"linear.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]}}
}

func ExampleReadFile() {
	dir, err := os.MkdirTemp("", "safetensors-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")
	err = safetensors.WriteFile(path, []safetensors.Tensor{
		safetensors.FromFloat32("w", []int{3}, []float32{0.1, 0.2, 0.3}),
	}, map[string]string{"classes": `["cat","dog"]`})
	if err != nil {
		panic(err)
	}

	f, err := safetensors.ReadFile(path)
	if err != nil {
		panic(err)
	}
	w, err := f.Float32("w")
	fmt.Println(f.Names(), w, err)
	fmt.Println(f.Metadata()["classes"])
	_, err = f.Int64("w")
	fmt.Println(strings.ReplaceAll(err.Error(), path, "model.safetensors"))
	// Output:
	// [w] [0.1 0.2 0.3] <nil>
	// ["cat","dog"]
	// safetensors: model.safetensors: tensor "w" is F32, not an integer type: read it with Float32
}
