package safetensors_test

import (
	"bytes"
	"reflect"
	"slices"
	"testing"

	"github.com/sgdpipe/sgdpipe/io/safetensors"
)

// FuzzRead feeds arbitrary bytes to Read. Read must not panic; whatever it
// accepts must convert without panicking, re-encode with Write, and read back
// identical; Write's output must be a fixed point.
func FuzzRead(f *testing.F) {
	seeds := [][]safetensors.Tensor{
		nil,
		{safetensors.FromFloat32("w", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})},
		allDTypes(),
		{safetensors.FromFloat32("e", []int{0, 3}, nil), safetensors.FromInt64("s", nil, []int64{42})},
	}
	for _, ts := range seeds {
		f.Add(encode(f, ts, map[string]string{"arch": "mlp", "esc": "a\"\\\n\x01"}))
		f.Add(encode(f, ts, nil))
	}
	f.Add(raw(`{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"__metadata__":{}}`, []byte{0, 0x3c, 0xff, 0x7b}))
	f.Add(raw(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}`, make([]byte, 4)))
	f.Add(raw(`{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := safetensors.Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		var tensors []safetensors.Tensor
		for _, name := range file.Names() {
			ts, err := file.Tensor(name)
			if err != nil {
				t.Fatalf("Tensor(%q) of a listed name: %v", name, err)
			}
			tensors = append(tensors, ts)
			file.Float32(name)
			file.Float64(name)
			file.Int64(name)
		}
		var out bytes.Buffer
		if err := safetensors.Write(&out, tensors, file.Metadata()); err != nil {
			t.Fatalf("Write rejects what Read accepted: %v", err)
		}
		again, err := safetensors.Read(bytes.NewReader(out.Bytes()), int64(out.Len()))
		if err != nil {
			t.Fatalf("Read rejects Write's output: %v", err)
		}
		if !slices.Equal(again.Names(), file.Names()) || !reflect.DeepEqual(again.Metadata(), file.Metadata()) {
			t.Fatalf("round trip changed names or metadata")
		}
		for _, want := range tensors {
			got, _ := again.Tensor(want.Name)
			if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) || !bytes.Equal(got.Data, want.Data) {
				t.Fatalf("round trip changed tensor %q", want.Name)
			}
		}
		var fixed bytes.Buffer
		if err := safetensors.Write(&fixed, tensors, again.Metadata()); err != nil || !bytes.Equal(fixed.Bytes(), out.Bytes()) {
			t.Fatalf("Write is not deterministic (err %v)", err)
		}
	})
}
