package feature

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

var update = flag.Bool("update", false, "rewrite testdata/specs from the fixtures")

// seedSpecs fits the fixtures whose specs seed FuzzSpecJSON and serve as format examples.
func seedSpecs(t *testing.T, mem memory.Allocator) map[string]*Spec {
	specs := map[string]*Spec{}
	for name, cfg := range map[string]Config{
		"mixed_onehot": {},
		"mixed_hash":   {HashBuckets: 4, Normalize: NormMinMax},
	} {
		s, _, done := specFixture(t, mem, cfg)
		done()
		specs[name] = s
	}
	rec := mixedRecord(mem, 50, 9)
	src := shardsOf(rec, "m.parquet", 50)
	specs["numeric_multiclass"] = fitMem(t, src, Config{Target: "label"}, 1)
	specs["numeric_regression"] = fitMem(t, src, Config{Target: "f64", Normalize: NormNone}, 1)
	src.release()
	rec.Release()
	for name, pairs := range map[string]string{
		"bool_binary":      `[{"a":1,"y":true},{"a":2,"y":false}]`,
		"float_classes":    `[{"a":1,"y":0.5},{"a":2,"y":-2},{"a":3,"y":1e300}]`,
		"uint_big_classes": `[{"a":1,"y":18446744073709551615},{"a":2,"y":3}]`,
	} {
		var dt arrow.DataType
		switch name {
		case "bool_binary":
			dt = arrow.FixedWidthTypes.Boolean
		case "float_classes":
			dt = arrow.PrimitiveTypes.Float64
		default:
			dt = arrow.PrimitiveTypes.Uint64
		}
		r := recordJSON(t, mem, schemaOf("a", arrow.PrimitiveTypes.Int16, "y", dt), pairs)
		src := shardsOf(r, "t.csv", int(r.NumRows()))
		specs[name] = fitMem(t, src, Config{Target: "y", Task: Classification}, 1)
		if name == "bool_binary" {
			specs[name] = fitMem(t, src, Config{Target: "y"}, 1)
		}
		src.release()
		r.Release()
	}
	return specs
}

// TestSeedSpecs checks that testdata/specs holds exactly what the fixtures fit today (run with
// -update to rewrite them after a deliberate format change).
func TestSeedSpecs(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	for name, s := range seedSpecs(t, mem) {
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join("testdata", "specs", name+".json")
		if *update {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (run go test -run TestSeedSpecs -update)", err)
		}
		if string(want) != string(b)+"\n" {
			t.Errorf("%s differs from what the fixture fits now (run with -update if the change is deliberate)", p)
		}
		var back Spec
		if err := json.Unmarshal(want, &back); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}
