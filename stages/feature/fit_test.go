package feature

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// mixedRecord builds rows of every numeric kind Fit handles, without nulls:
// i8 int8, u16 uint16, i64 int64, f32 float32, f64 float64, flag bool, img fixed_size_list<uint8>[4]
// (element 3 constant), vec list<float32> (3 per row), label int32 in {0,1,2}.
func mixedRecord(mem memory.Allocator, rows int, seed uint64) arrow.RecordBatch {
	r := rand.New(rand.NewPCG(seed, 99))
	i8 := array.NewInt8Builder(mem)
	u16 := array.NewUint16Builder(mem)
	i64 := array.NewInt64Builder(mem)
	f32 := array.NewFloat32Builder(mem)
	f64 := array.NewFloat64Builder(mem)
	flag := array.NewBooleanBuilder(mem)
	img := array.NewFixedSizeListBuilder(mem, 4, arrow.PrimitiveTypes.Uint8)
	imgv := img.ValueBuilder().(*array.Uint8Builder)
	vec := array.NewListBuilder(mem, arrow.PrimitiveTypes.Float32)
	vecv := vec.ValueBuilder().(*array.Float32Builder)
	label := array.NewInt32Builder(mem)
	for range rows {
		i8.Append(int8(r.IntN(201) - 100))
		u16.Append(uint16(r.IntN(65536)))
		i64.Append(r.Int64N(2_000_001) - 1_000_000)
		f32.Append(float32(r.NormFloat64()*2 + 5))
		f64.Append(r.NormFloat64()*0.5 - 3)
		flag.Append(r.IntN(3) == 0)
		img.Append(true)
		imgv.AppendValues([]uint8{uint8(r.IntN(256)), uint8(r.IntN(10)), uint8(200 + r.IntN(56)), 7}, nil)
		vec.Append(true)
		vecv.AppendValues([]float32{float32(r.Float64()), float32(r.NormFloat64() * 100), float32(r.IntN(2))}, nil)
		label.Append(int32(r.IntN(3)))
	}
	names := []string{"i8", "u16", "i64", "f32", "f64", "flag", "img", "vec", "label"}
	arrs := []arrow.Array{i8.NewArray(), u16.NewArray(), i64.NewArray(), f32.NewArray(), f64.NewArray(),
		flag.NewArray(), img.NewArray(), vec.NewArray(), label.NewArray()}
	for _, b := range []array.Builder{i8, u16, i64, f32, f64, flag, img, vec, label} {
		b.Release()
	}
	return recordOf(names, arrs...)
}

// slotStats returns the mean, population variance, min and max of column j of x, in float64.
func slotStats(x [][]float32, j int) (mean, variance, lo, hi float64) {
	xs := make([]float64, len(x))
	for i := range x {
		xs[i] = float64(x[i][j])
	}
	return naiveMoments(xs)
}

func TestFitZScore(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rec := mixedRecord(mem, 1000, 1)
	defer rec.Release()
	src := shardsOf(rec, "mixed.parquet", 100, 1, 399, 250, 250)
	defer src.release()

	s := fitMem(t, src, Config{Target: "label"}, 3)
	if s.Dim != 6+4+3 || s.Task != Classification || len(s.Classes) != 3 {
		t.Fatalf("dim %d task %q classes %q, want 13, classification, 3 classes", s.Dim, s.Task, s.Classes)
	}
	x, y := transformAll(t, mem, s, src)
	if len(x) != 1000 || len(y) != 1000 {
		t.Fatalf("%d rows of x, %d of y, want 1000", len(x), len(y))
	}
	for j := range s.Dim {
		mean, v, _, _ := slotStats(x, j)
		if j == 6+3 { // img element 3 is constant: std 0 counts as 1, so it maps to 0
			if mean != 0 || v != 0 {
				t.Errorf("constant slot %d: mean %g variance %g, want 0 and 0", j, mean, v)
			}
			continue
		}
		if math.Abs(mean) > 1e-5 || math.Abs(v-1) > 1e-5 {
			t.Errorf("slot %d: mean %g variance %g, want 0 and 1 to 1e-5", j, mean, v)
		}
	}
}

func TestFitMinMaxAndNone(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rec := mixedRecord(mem, 500, 2)
	defer rec.Release()
	src := shardsOf(rec, "mixed.parquet", 200, 300)
	defer src.release()

	s := fitMem(t, src, Config{Target: "label", Normalize: NormMinMax}, 2)
	x, _ := transformAll(t, mem, s, src)
	for j := range s.Dim {
		_, _, lo, hi := slotStats(x, j)
		if j == 6+3 {
			if lo != 0 || hi != 0 {
				t.Errorf("constant slot %d: range [%g, %g], want [0, 0]", j, lo, hi)
			}
			continue
		}
		if lo != 0 || hi != 1 {
			t.Errorf("slot %d: range [%g, %g], want [0, 1]", j, lo, hi)
		}
	}

	s = fitMem(t, src, Config{Target: "label", Normalize: NormNone}, 2)
	x, _ = transformAll(t, mem, s, src)
	f64 := rec.Column(4).(*array.Float64).Float64Values()
	img := rec.Column(6).(*array.FixedSizeList).ListValues().(*array.Uint8).Uint8Values()
	for i := range x {
		if x[i][4] != float32(f64[i]) || x[i][6] != float32(img[4*i]) || x[i][9] != 7 {
			t.Fatalf("row %d: none gives %v, want the raw values f64 %g, img[0] %d, img[3] 7", i, x[i], f64[i], img[4*i])
		}
	}
}

// TestFitIndependentOfWorkers checks that the Spec (as JSON, bit for bit) does not depend on the
// number of workers.
func TestFitIndependentOfWorkers(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rec := mixedRecord(mem, 3000, 3)
	defer rec.Release()
	sizes := []int{}
	for n := 0; n < 3000; n += 137 {
		sizes = append(sizes, min(137, 3000-n))
	}
	src := shardsOf(rec, "mixed.parquet", sizes...)
	defer src.release()
	var want []byte
	for _, workers := range []int{1, 2, 3, 8, 64, 0} {
		b, err := json.Marshal(fitMem(t, src, Config{Target: "label"}, workers))
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = b
		} else if !bytes.Equal(b, want) {
			t.Errorf("workers=%d: spec differs from workers=1", workers)
		}
	}
}

// TestFitShardsEqualWhole checks that statistics merged from many shards equal those of one shard to
// 1e-9 (relative, float64).
func TestFitShardsEqualWhole(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rec := mixedRecord(mem, 2000, 4)
	defer rec.Release()
	whole := shardsOf(rec, "mixed.parquet", 2000)
	defer whole.release()
	parts := shardsOf(rec, "mixed.parquet", 1, 999, 500, 7, 493)
	defer parts.release()
	a := fitMem(t, whole, Config{Target: "label"}, 1)
	b := fitMem(t, parts, Config{Target: "label"}, 2)
	for i := range a.Features {
		for j := range a.Features[i].Stats {
			p, q := a.Features[i].Stats[j], b.Features[i].Stats[j]
			if p.Count() != q.Count() || p.Min() != q.Min() || p.Max() != q.Max() ||
				!relClose(p.Mean(), q.Mean(), 1e-9, p.Mean()) || !relClose(p.Variance(), q.Variance(), 1e-9, p.Variance()) {
				t.Errorf("column %q element %d: whole %v, shards %v", a.Features[i].Name, j, p, q)
			}
		}
	}
	// and both equal Welford over the raw values
	f64 := rec.Column(4).(*array.Float64).Float64Values()
	var m Moments
	for _, v := range f64 {
		m.Add(v)
	}
	got := b.Features[4].Stats[0]
	if !relClose(got.Mean(), m.Mean(), 1e-9, m.Mean()) || !relClose(got.Variance(), m.Variance(), 1e-9, m.Variance()) {
		t.Errorf("f64: Fit %v, Welford %v", got, m)
	}
}

func TestTaskInference(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	many := "["
	for i := range 150 {
		if i > 0 {
			many += ","
		}
		many += fmt.Sprint(i)
	}
	many += "]"
	for _, tc := range []struct {
		name    string
		dt      arrow.DataType
		values  string
		task    Task
		cfg     Config
		classes []string
		err     string
	}{
		{"strings classify", arrow.BinaryTypes.String, `["b","a","c","a"]`, Classification, Config{}, []string{"a", "b", "c"}, ""},
		{"two strings are binary", arrow.BinaryTypes.String, `["yes","no","no"]`, Binary, Config{}, []string{"no", "yes"}, ""},
		{"booleans are binary", arrow.FixedWidthTypes.Boolean, `[true,false,true]`, Binary, Config{}, []string{"false", "true"}, ""},
		{"few integers classify", arrow.PrimitiveTypes.Int64, `[10,2,-1,2]`, Classification, Config{}, []string{"-1", "2", "10"}, ""},
		{"two integers are binary", arrow.PrimitiveTypes.Uint8, `[1,0,1]`, Binary, Config{}, []string{"0", "1"}, ""},
		{"many integers regress", arrow.PrimitiveTypes.Int32, many, Regression, Config{}, nil, ""},
		{"MaxClasses moves the limit", arrow.PrimitiveTypes.Int32, many, Classification, Config{MaxClasses: 150}, nil, ""},
		{"floats regress", arrow.PrimitiveTypes.Float64, `[0.5,1,0.5]`, Regression, Config{}, nil, ""},
		{"explicit regression on integers", arrow.PrimitiveTypes.Int16, `[1,2,1]`, Regression, Config{Task: Regression}, nil, ""},
		{"explicit classification on floats", arrow.PrimitiveTypes.Float32, `[0.5,-1,0.5,2]`, Classification, Config{Task: Classification}, []string{"-1", "0.5", "2"}, ""},
		{"explicit classification of 2 stays multiclass", arrow.BinaryTypes.String, `["a","b"]`, Classification, Config{Task: Classification}, []string{"a", "b"}, ""},
		{"uint64 beyond int64 sort by value", arrow.PrimitiveTypes.Uint64, `[18446744073709551615,1,9223372036854775808]`, Classification, Config{}, []string{"1", "9223372036854775808", "18446744073709551615"}, ""},
		{"dictionary strings classify", &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}, `["z","y","z"]`, Binary, Config{}, []string{"y", "z"}, ""},
		{"regression on strings", arrow.BinaryTypes.String, `["a","b"]`, "", Config{Task: Regression}, nil, "regression needs a numeric target"},
		{"binary with three classes", arrow.PrimitiveTypes.Int8, `[1,2,3]`, "", Config{Task: Binary}, nil, "3 classes, but Task is binary"},
		{"a single class", arrow.BinaryTypes.String, `["a","a"]`, "", Config{}, nil, "single value"},
		{"too many string classes", arrow.BinaryTypes.String, `["a","b","c"]`, "", Config{MaxClasses: 2}, nil, "more than 2 distinct values"},
		{"too many explicit integer classes", arrow.PrimitiveTypes.Int32, many, "", Config{Task: Classification}, nil, "more than 100 distinct values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := arrayJSON(t, mem, tc.dt, tc.values)
			x := arrayJSON(t, mem, arrow.PrimitiveTypes.Float64, fmt.Sprintf("[%s]", repeat("1", y.Len())))
			rec := recordOf([]string{"x", "y"}, x, y)
			defer rec.Release()
			src := shardsOf(rec, "t.csv", int(rec.NumRows()))
			defer src.release()
			cfg := tc.cfg
			cfg.Target = "y"
			s, err := fit(context.Background(), src, cfg, 1)
			if tc.err != "" {
				checkError(t, err, tc.err, `"y"`)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Task != tc.task {
				t.Errorf("task %q, want %q", s.Task, tc.task)
			}
			if tc.classes != nil && fmt.Sprint(s.Classes) != fmt.Sprint(tc.classes) {
				t.Errorf("classes %q, want %q", s.Classes, tc.classes)
			}
			if s.Task == Regression && (s.Classes != nil || s.TargetStats == nil || s.TargetStats.Count() != int64(y.Len())) {
				t.Errorf("regression: classes %q, target stats %v", s.Classes, s.TargetStats)
			}
		})
	}
}

func repeat(s string, n int) string {
	var b bytes.Buffer
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(s)
	}
	return b.String()
}

// TestClassIndicesSorted checks that labels of int and string types map to indices in sorted order.
func TestClassIndicesSorted(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	for _, tc := range []struct {
		dt     arrow.DataType
		values string
		want   []float64
	}{
		{arrow.PrimitiveTypes.Int64, `[10,2,-1,2,10,-5]`, []float64{3, 2, 1, 2, 3, 0}},
		{arrow.PrimitiveTypes.Uint8, `[9,0,3]`, []float64{2, 0, 1}},
		{arrow.BinaryTypes.String, `["pear","apple","fig","apple"]`, []float64{2, 0, 1, 0}},
		{arrow.BinaryTypes.LargeString, `["b","B","a"]`, []float64{2, 0, 1}},
		{arrow.FixedWidthTypes.Boolean, `[true,false]`, []float64{1, 0}},
	} {
		y := arrayJSON(t, mem, tc.dt, tc.values)
		x := arrayJSON(t, mem, arrow.PrimitiveTypes.Float64, fmt.Sprintf("[%s]", repeat("0", y.Len())))
		rec := recordOf([]string{"x", "y"}, x, y)
		src := shardsOf(rec, "t.parquet", int(rec.NumRows()))
		s := fitMem(t, src, Config{Target: "y", Task: Classification}, 1)
		_, got := transformAll(t, mem, s, src)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s %s: y = %v, want %v (classes %q)", tc.dt, tc.values, got, tc.want, s.Classes)
		}
		src.release()
		rec.Release()
	}
}

// TestFitErrors checks that bad input gives one line naming the file, column and row at fault.
func TestFitErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	f64 := arrow.PrimitiveTypes.Float64
	listF := arrow.ListOf(arrow.PrimitiveTypes.Float32)
	ts := &arrow.TimestampType{Unit: arrow.Millisecond}
	for _, tc := range []struct {
		name   string
		schema *arrow.Schema
		rows   string
		sizes  []int
		cfg    Config
		want   []string
	}{
		{"missing target", schemaOf("a", f64), `[{"a":1}]`, nil, Config{Target: "label"},
			[]string{`target column "label" is not in data.parquet`, `"a"`}},
		{"missing feature", schemaOf("a", f64), `[{"a":1}]`, nil, Config{Features: []string{"a", "b"}},
			[]string{`feature column "b" is not in data.parquet`}},
		{"missing excluded column", schemaOf("a", f64), `[{"a":1}]`, nil, Config{Exclude: []string{"zz"}},
			[]string{`excluded column "zz"`}},
		{"feature with no encoding", schemaOf("a", f64, "when", ts), `[{"a":1,"when":5}]`, nil, Config{},
			[]string{`column "when" has type timestamp[ms`, "exclude it"}},
		{"list of strings", schemaOf("a", arrow.ListOf(arrow.BinaryTypes.String)), `[{"a":["x"]}]`, nil, Config{},
			[]string{`column "a" has type list<item: utf8`}},
		{"NaN in a feature", schemaOf("a", f64), `[{"a":1},{"a":2},{"a":"NaN"}]`, []int{1, 2}, Config{},
			[]string{`file "data.parquet"`, `column "a"`, "row 2", "NaN", "AllowNonFinite"}},
		{"Inf in a tensor", schemaOf("v", listF), `[{"v":[1,2]},{"v":[1,"Inf"]}]`, nil, Config{},
			[]string{`column "v"`, "row 1", "element 1", "+Inf"}},
		{"list rows differ in a shard", schemaOf("v", listF), `[{"v":[1,2]},{"v":[1,2]},{"v":[1,2,3]}]`, nil, Config{},
			[]string{`file "data.parquet"`, `column "v"`, "row 2", "list of 3 values", "earlier rows have 2"}},
		{"list rows differ across shards", schemaOf("v", listF), `[{"v":[1,2]},{"v":[1,2]},{"v":[1]}]`, []int{2, 1}, Config{},
			[]string{`column "v"`, "row 2", "list of 1 values", "earlier rows have 2"}},
		{"empty list", schemaOf("v", listF), `[{"v":[]}]`, nil, Config{},
			[]string{`column "v"`, "row 0", "empty list"}},
		{"only null list rows", schemaOf("v", listF, "a", f64), `[{"v":null,"a":1}]`, nil, Config{},
			[]string{`column "v" has only null rows`}},
		{"null target", schemaOf("a", f64, "y", f64), `[{"a":1,"y":1},{"a":1,"y":null}]`, nil, Config{Target: "y"},
			[]string{`column "y"`, "row 1", "target is null"}},
		{"NaN target", schemaOf("a", f64, "y", f64), `[{"a":1,"y":"NaN"}]`, nil, Config{Target: "y"},
			[]string{`column "y"`, "row 0", "target is NaN"}},
		{"target of another type", schemaOf("a", f64, "y", listF), `[{"a":1,"y":[1]}]`, nil, Config{Target: "y"},
			[]string{`target column "y"`, "list"}},
		{"empty dataset", schemaOf("a", f64), `[]`, []int{0}, Config{},
			[]string{"data.parquet has no rows"}},
		{"only the target", schemaOf("y", f64), `[{"y":1}]`, nil, Config{Target: "y"},
			[]string{"no feature columns"}},
		{"bad normalize", schemaOf("a", f64), `[{"a":1}]`, nil, Config{Normalize: "l2"},
			[]string{"Normalize", `"l2"`}},
		{"task without target", schemaOf("a", f64), `[{"a":1}]`, nil, Config{Task: Binary},
			[]string{"Task", "Target is empty"}},
		{"feature twice", schemaOf("a", f64), `[{"a":1}]`, nil, Config{Features: []string{"a", "a"}},
			[]string{`"a" listed twice`}},
		{"target as feature", schemaOf("a", f64, "y", f64), `[{"a":1,"y":1}]`, nil, Config{Target: "y", Features: []string{"a", "y"}},
			[]string{`"y" is the target`}},
		{"row column as feature", schemaOf("a", f64, RowColumn, arrow.PrimitiveTypes.Int64), `[{"a":1,"__row":0}]`, nil, Config{Features: []string{RowColumn}},
			[]string{`"__row" holds row indices`}},
		{"negative hash buckets", schemaOf("a", f64), `[{"a":1}]`, nil, Config{HashBuckets: -1},
			[]string{"HashBuckets"}},
		{"max classes 1", schemaOf("a", f64), `[{"a":1}]`, nil, Config{MaxClasses: 1},
			[]string{"MaxClasses"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := recordJSON(t, mem, tc.schema, tc.rows)
			defer rec.Release()
			sizes := tc.sizes
			if sizes == nil {
				sizes = []int{int(rec.NumRows())}
			}
			src := shardsOf(rec, "data.parquet", sizes...)
			defer src.release()
			_, err := fit(context.Background(), src, tc.cfg, 2)
			checkError(t, err, tc.want...)
		})
	}
}

// schemaOf builds a schema of nullable fields from name, type pairs.
func schemaOf(pairs ...any) *arrow.Schema {
	var fields []arrow.Field
	for i := 0; i < len(pairs); i += 2 {
		fields = append(fields, arrow.Field{Name: pairs[i].(string), Type: pairs[i+1].(arrow.DataType), Nullable: true})
	}
	return arrow.NewSchema(fields, nil)
}

func TestFitAllowNonFinite(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rec := recordJSON(t, mem, schemaOf("a", arrow.PrimitiveTypes.Float64, "v", arrow.ListOf(arrow.PrimitiveTypes.Float32)),
		`[{"a":1,"v":[1,"NaN"]},{"a":"Inf","v":[3,4]},{"a":3,"v":[5,6]},{"a":null,"v":null}]`)
	defer rec.Release()
	src := shardsOf(rec, "d.parquet", 2, 2)
	defer src.release()
	s := fitMem(t, src, Config{AllowNonFinite: true}, 2)
	a, v := s.Features[0], s.Features[1]
	if a.NonFinite != 1 || a.Nulls != 1 || a.Stats[0].Count() != 2 || a.Stats[0].Mean() != 2 {
		t.Errorf("a: %+v", a)
	}
	if v.NonFinite != 1 || v.Nulls != 2 || v.Stats[0].Count() != 3 || v.Stats[1].Count() != 2 || v.Stats[1].Mean() != 5 {
		t.Errorf("v: %+v", v)
	}
	x, _ := transformAll(t, mem, s, src)
	// z-scores: a has mean 2, std 1; v[1] has mean 5, std 1: imputed values are 0
	if x[1][0] != 0 || x[3][0] != 0 || x[0][2] != 0 || x[3][1] != 0 || x[3][2] != 0 || x[0][0] != -1 || x[2][0] != 1 {
		t.Errorf("x = %v", x)
	}
	c := s.Counters()
	if c["nonfinite/a"] != 1 || c["imputed/a"] != 1 || c["nonfinite/v"] != 1 || c["imputed/v"] != 2 {
		t.Errorf("counters %v", c)
	}
}

func TestFitCancelAndReaderErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rec := mixedRecord(mem, 400, 5)
	defer rec.Release()
	sizes := []int{}
	for range 40 {
		sizes = append(sizes, 10)
	}

	t.Run("cancelled", func(t *testing.T) {
		src := shardsOf(rec, "m.parquet", sizes...)
		defer src.release()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		src.hook = func(shard, _ int) error {
			if shard == 5 {
				cancel()
			}
			return nil
		}
		_, err := fit(ctx, src, Config{Target: "label"}, 3)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		checkError(t, err, "m.parquet", "stopped")
	})
	t.Run("reader error in the lowest shard wins", func(t *testing.T) {
		src := shardsOf(rec, "m.parquet", sizes...)
		defer src.release()
		src.hook = func(shard, _ int) error {
			if shard == 7 || shard == 30 {
				return fmt.Errorf("m.parquet shard %d: corrupt page", shard)
			}
			return nil
		}
		for range 3 {
			_, err := fit(context.Background(), src, Config{Target: "label"}, 4)
			checkError(t, err, "shard 7: corrupt page")
		}
	})
	t.Run("panic in a reader", func(t *testing.T) {
		src := shardsOf(rec, "m.parquet", sizes...)
		defer src.release()
		src.hook = func(shard, _ int) error {
			if shard == 3 {
				panic("boom")
			}
			return nil
		}
		_, err := fit(context.Background(), src, Config{}, 2)
		checkError(t, err, `file "m.parquet"`, "shard 3", "panic: boom")
	})
	t.Run("feature error stops the others", func(t *testing.T) {
		bad := recordJSON(t, mem, schemaOf("a", arrow.PrimitiveTypes.Float64), `[{"a":1},{"a":"NaN"},{"a":3},{"a":4}]`)
		defer bad.Release()
		src := shardsOf(bad, "bad.csv", 1, 1, 1, 1)
		defer src.release()
		_, err := fit(context.Background(), src, Config{}, 4)
		checkError(t, err, `file "bad.csv", column "a", row 1: value NaN`)
	})
}

// TestOneHotByHand checks one-hot slots against a hand computation: MaxVocab 2 keeps the two most
// frequent values in byte order, then "other", then "missing".
func TestOneHotByHand(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	for _, dt := range []arrow.DataType{
		arrow.BinaryTypes.String, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.Binary,
		&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Uint16, ValueType: arrow.BinaryTypes.String},
	} {
		t.Run(dt.String(), func(t *testing.T) {
			vals := `["red","blue","red","green",null,"blue","red","green"]` // red 3, blue 2, green 2: tie broken by bytes
			if dt.ID() == arrow.BINARY {
				vals = `["cmVk","Ymx1ZQ==","cmVk","Z3JlZW4=",null,"Ymx1ZQ==","cmVk","Z3JlZW4="]` // base64, as arrow's JSON wants
			}
			col := arrayJSON(t, mem, dt, vals)
			num := arrayJSON(t, mem, arrow.PrimitiveTypes.Int8, `[1,1,1,1,1,1,1,1]`)
			rec := recordOf([]string{"n", "color"}, num, col)
			defer rec.Release()
			src := shardsOf(rec, "c.arrow", 3, 5)
			defer src.release()
			s := fitMem(t, src, Config{MaxVocab: 2}, 2)
			c := s.Features[1]
			if fmt.Sprint(c.Vocab) != "[blue red]" || c.Width != 4 || c.Offset != 1 || c.Nulls != 1 || c.Distinct != 3 || s.Dim != 5 {
				t.Fatalf("column %+v, dim %d", c, s.Dim)
			}
			x, _ := transformAll(t, mem, s, src)
			want := [][]float32{
				{0, 1, 0, 0}, // red
				{1, 0, 0, 0}, // blue
				{0, 1, 0, 0}, // red
				{0, 0, 1, 0}, // green: other
				{0, 0, 0, 1}, // null: missing
				{1, 0, 0, 0}, // blue
				{0, 1, 0, 0}, // red
				{0, 0, 1, 0}, // green
			}
			for i := range want {
				if fmt.Sprint(x[i][1:]) != fmt.Sprint(want[i]) || x[i][0] != 0 {
					t.Errorf("row %d: x = %v, want [0 %v]", i, x[i], want[i])
				}
			}
			cnt := s.Counters()
			if cnt["imputed/color"] != 1 || cnt["unseen/color"] != 2 || cnt["imputed/n"] != 0 {
				t.Errorf("counters %v", cnt)
			}
		})
	}
}
