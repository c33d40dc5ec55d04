package feature

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FuzzSpecJSON feeds arbitrary bytes to Spec's JSON decoding (a model file carries a Spec). It must
// never panic; a Spec it accepts must be consistent: it re-encodes to the same bytes, and transforms a
// record built to match it without error and without leaking memory.
func FuzzSpecJSON(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "specs", "*.json"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seed specs in testdata/specs: %v", err)
	}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"version":1,"normalize":"zscore","dim":1,"rows":0,"features":[{"name":"a","type":"int8","encoding":"numeric","offset":0,"width":1,"nulls":0,"stats":[{"n":0,"mean":0,"m2":0,"min":0,"max":0}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Spec
		if err := json.Unmarshal(b, &s); err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error: %q", err)
			}
			return
		}
		enc, err := json.Marshal(&s)
		if err != nil {
			t.Fatalf("accepted spec does not marshal: %v", err)
		}
		var back Spec
		if err := json.Unmarshal(enc, &back); err != nil {
			t.Fatalf("re-encoded spec rejected: %v\n%s", err, enc)
		}
		if enc2, _ := json.Marshal(&back); string(enc2) != string(enc) {
			t.Fatalf("re-encoding not stable:\n%s\n%s", enc, enc2)
		}
		if s.Dim > 1<<12 {
			return
		}
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		defer mem.AssertSize(t, 0)
		rec := recordFor(t, mem, &s)
		defer rec.Release()
		cols, hasTarget, err := s.Columns(rec.Schema())
		if err != nil || hasTarget != (s.Target != "") {
			t.Fatalf("Columns of a matching record: %v, %v", hasTarget, err)
		}
		in := project(rec, cols)
		defer in.Release()
		out, err := s.Transform(in, mem)
		if err != nil {
			t.Fatalf("Transform of a matching record: %v", err)
		}
		if x, rows, d := XMatrix(out); rows != 2 || d != s.Dim || len(x) != 2*s.Dim {
			t.Errorf("XMatrix: %d rows × %d", rows, d)
		}
		out.Release()
	})
}

// recordFor builds two rows that s can transform: each feature once at its mean (or a vocabulary
// value) and once null; the target (if any) at its first class, or its mean.
func recordFor(t *testing.T, mem memory.Allocator, s *Spec) arrow.RecordBatch {
	var names []string
	var arrs []arrow.Array
	for _, c := range s.Features {
		names = append(names, c.Name)
		switch c.Encoding {
		case Numeric:
			b := array.NewFloat64Builder(mem)
			b.Append(c.Stats[0].Mean())
			b.AppendNull()
			arrs = append(arrs, b.NewArray())
			b.Release()
		case Tensor:
			b := array.NewFixedSizeListBuilder(mem, int32(c.Width), arrow.PrimitiveTypes.Float64)
			v := b.ValueBuilder().(*array.Float64Builder)
			b.Append(true)
			for _, m := range c.Stats {
				v.Append(m.Mean())
			}
			b.AppendNull() // appends Width null elements
			arrs = append(arrs, b.NewArray())
			b.Release()
		default:
			b := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
			if len(c.Vocab) > 0 {
				b.AppendString(c.Vocab[0])
			} else {
				b.AppendString("x")
			}
			b.AppendNull()
			arrs = append(arrs, b.NewArray())
			b.Release()
		}
	}
	if s.Target != "" {
		names = append(names, s.Target)
		var arr arrow.Array
		switch {
		case s.Task == Regression:
			b := array.NewFloat64Builder(mem)
			b.AppendValues([]float64{0, 1}, nil)
			arr = b.NewArray()
			b.Release()
		case s.TargetKind == KindInteger:
			c := s.Classes[0]
			if v, err := strconv.ParseInt(c, 10, 64); err == nil {
				b := array.NewInt64Builder(mem)
				b.AppendValues([]int64{v, v}, nil)
				arr = b.NewArray()
				b.Release()
			} else {
				u, _ := strconv.ParseUint(c, 10, 64)
				b := array.NewUint64Builder(mem)
				b.AppendValues([]uint64{u, u}, nil)
				arr = b.NewArray()
				b.Release()
			}
		case s.TargetKind == KindFloat:
			v, _ := strconv.ParseFloat(s.Classes[0], 64)
			b := array.NewFloat64Builder(mem)
			b.AppendValues([]float64{v, v}, nil)
			arr = b.NewArray()
			b.Release()
		case s.TargetKind == KindBool:
			b := array.NewBooleanBuilder(mem)
			v := s.Classes[0] == "true"
			b.AppendValues([]bool{v, v}, nil)
			arr = b.NewArray()
			b.Release()
		default:
			b := array.NewStringBuilder(mem)
			b.AppendValues([]string{s.Classes[0], s.Classes[0]}, nil)
			arr = b.NewArray()
			b.Release()
		}
		arrs = append(arrs, arr)
	}
	return recordOf(names, arrs...)
}
