package feature

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// specFixture fits a spec with every encoding and a target of the given kind.
func specFixture(t testing.TB, mem memory.Allocator, cfg Config) (*Spec, *memShards, func()) {
	t.Helper()
	rec := recordJSON(t, mem, schemaOf(
		"n", arrow.PrimitiveTypes.Float64,
		"img", arrow.FixedSizeListOf(3, arrow.PrimitiveTypes.Uint8),
		"s", arrow.BinaryTypes.String,
		"b", arrow.BinaryTypes.Binary,
		"y", arrow.BinaryTypes.String),
		`[{"n":0.1,"img":[1,2,3],"s":"p","b":"/w==","y":"cat"},
		  {"n":0.7,"img":[4,5,6],"s":"q","b":"AA==","y":"dog"},
		  {"n":null,"img":[7,8,9],"s":null,"b":"gA==","y":"cat"},
		  {"n":1e-300,"img":[0,0,1],"s":"r","b":null,"y":"emu"}]`)
	src := shardsOf(rec, "f.parquet", 1, 3)
	cfg.Target = "y"
	s := fitMem(t, src, cfg, 2)
	return s, src, func() { src.release(); rec.Release() }
}

func TestSpecJSONRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	for _, cfg := range []Config{{}, {HashBuckets: 5, Normalize: NormMinMax}, {MaxVocab: 1, Normalize: NormNone, AllowNonFinite: true}} {
		s, src, done := specFixture(t, mem, cfg)
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Spec
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", b, err)
		}
		b2, err := json.Marshal(&back)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, b2) {
			t.Errorf("round trip changed the spec:\n%s\n%s", b, b2)
		}
		// bitwise-identical transforms
		x1, y1 := transformAll(t, mem, s, src)
		x2, y2 := transformAll(t, mem, &back, src)
		if fmt.Sprint(x1, y1) != fmt.Sprint(x2, y2) {
			t.Errorf("transforms differ after the round trip")
		}
		done()
	}
}

func TestSpecVocabBase64(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	s, _, done := specFixture(t, mem, Config{})
	defer done()
	b := s.Features[3]
	if b.Name != "b" || fmt.Sprintf("%q", b.Vocab) != `["\x00" "\x80" "\xff"]` {
		t.Fatalf("binary column %+v", b)
	}
	j, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(j), `"vocab":["AA==","gA==","/w=="],"vocab_base64":true`) {
		t.Errorf("binary vocabulary written as %s", j)
	}
	if j, _ := json.Marshal(s.Features[2]); strings.Contains(string(j), "base64") {
		t.Errorf("text vocabulary written as base64: %s", j)
	}
}

// TestSpecRejectsInconsistent edits a valid spec's JSON and checks each edit is rejected.
func TestSpecRejectsInconsistent(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	s, _, done := specFixture(t, mem, Config{})
	defer done()
	for _, tc := range []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"version", func(m map[string]any) { m["version"] = 2 }, "version 2"},
		{"dim", func(m map[string]any) { m["dim"] = 99.0 }, "dim 99"},
		{"offset", func(m map[string]any) { feat(m, 1)["offset"] = 2.0 }, `column "img": offset 2, want 1`},
		{"width", func(m map[string]any) { feat(m, 1)["width"] = 2.0 }, `column "img": tensor column with width 2 and 3 statistics`},
		{"numeric width", func(m map[string]any) { feat(m, 0)["width"] = 0.0 }, `width 0 out of range`},
		{"encoding", func(m map[string]any) { feat(m, 0)["encoding"] = "embed" }, `unknown encoding "embed"`},
		{"vocab order", func(m map[string]any) { feat(m, 2)["vocab"] = []any{"q", "p", "r"} }, "not sorted or repeated"},
		{"vocab width", func(m map[string]any) { feat(m, 2)["vocab"] = []any{"p", "q"} }, "one-hot column: width 5"},
		{"bad base64", func(m map[string]any) { feat(m, 3)["vocab"] = []any{"!!"} }, "vocabulary entry 0"},
		{"repeated name", func(m map[string]any) { feat(m, 1)["name"] = "n" }, `bad or repeated name "n"`},
		{"feature named as target", func(m map[string]any) { feat(m, 0)["name"] = "y" }, `bad or repeated name "y"`},
		{"no features", func(m map[string]any) { m["features"] = []any{} }, "no feature columns"},
		{"stats count", func(m map[string]any) { stat(m, 0)["n"] = 100.0 }, "statistics count 100 values"},
		{"stats mean", func(m map[string]any) { stat(m, 0)["mean"] = 5.0 }, "mean 5 outside"},
		{"negative rows", func(m map[string]any) { m["rows"] = -1.0 }, "negative row count"},
		{"normalize", func(m map[string]any) { m["normalize"] = "l1" }, `unknown normalization "l1"`},
		{"classes unsorted", func(m map[string]any) { m["classes"] = []any{"dog", "cat", "emu"} }, "not in sorted order"},
		{"classes repeated", func(m map[string]any) { m["classes"] = []any{"cat", "cat", "emu"} }, "not in sorted order or repeated"},
		{"binary with 3 classes", func(m map[string]any) { m["task"] = "binary" }, "binary task with 3 classes"},
		{"one class", func(m map[string]any) { m["classes"] = []any{"cat"} }, "classification with 1 classes"},
		{"regression on strings", func(m map[string]any) { m["task"] = "regression"; delete(m, "classes") }, "regression on a string target"},
		{"integer classes", func(m map[string]any) { m["target_kind"] = "integer" }, `class "cat" is not an integer`},
		{"non-canonical integer", func(m map[string]any) { m["target_kind"] = "integer"; m["classes"] = []any{"01", "2"} }, "canonical"},
		{"float classes", func(m map[string]any) { m["target_kind"] = "float"; m["classes"] = []any{"1", "NaN"} }, "not a finite number"},
		{"bool classes", func(m map[string]any) { m["target_kind"] = "bool"; m["classes"] = []any{"false", "yes"} }, "not false or true"},
		{"unknown kind", func(m map[string]any) { m["target_kind"] = "date" }, `unknown kind "date"`},
		{"task without target", func(m map[string]any) { delete(m, "target") }, "without a target"},
		{"unknown task", func(m map[string]any) { m["task"] = "ranking" }, `unknown task "ranking"`},
		{"hash buckets", func(m map[string]any) { feat(m, 2)["encoding"] = "hash"; feat(m, 2)["buckets"] = 3.0 }, "hash column"},
		{"huge width", func(m map[string]any) { feat(m, 3)["width"] = float64(MaxDim) }, "out of range"},
		{"not an object", func(m map[string]any) { m["features"] = "x" }, "cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := json.Marshal(s)
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			tc.edit(m)
			b, _ = json.Marshal(m)
			var back Spec
			err := json.Unmarshal(b, &back)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func feat(m map[string]any, i int) map[string]any { return m["features"].([]any)[i].(map[string]any) }
func stat(m map[string]any, i int) map[string]any {
	return feat(m, i)["stats"].([]any)[0].(map[string]any)
}

func TestZeroSpec(t *testing.T) {
	var s Spec
	if _, _, err := s.Columns(arrow.NewSchema(nil, nil)); err == nil {
		t.Error("Columns on a zero Spec succeeded")
	}
	if len(s.Counters()) != 0 {
		t.Error("Counters of a zero Spec not empty")
	}
}
