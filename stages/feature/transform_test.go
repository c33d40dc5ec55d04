package feature

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// withRows appends a __row column (first, first+1, ...) to rec; it does not take rec's reference.
func withRows(mem memory.Allocator, rec arrow.RecordBatch, first int64) arrow.RecordBatch {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	for i := range rec.NumRows() {
		b.Append(first + i)
	}
	rows := b.NewArray()
	defer rows.Release()
	fields := append(append([]arrow.Field(nil), rec.Schema().Fields()...), arrow.Field{Name: RowColumn, Type: arrow.PrimitiveTypes.Int64})
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), append(append([]arrow.Array(nil), rec.Columns()...), rows), rec.NumRows())
}

func TestTransformSchemaRowsAndSlices(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rec := mixedRecord(mem, 64, 6)
	defer rec.Release()
	src := shardsOf(rec, "m.parquet", 64)
	defer src.release()
	s := fitMem(t, src, Config{Target: "label"}, 1)
	cols, hasTarget, err := s.Columns(rec.Schema())
	if err != nil || !hasTarget || fmt.Sprint(cols) != "[0 1 2 3 4 5 6 7 8]" {
		t.Fatalf("Columns: %v %v %v", cols, hasTarget, err)
	}
	in := project(rec, cols)
	defer in.Release()
	full, err := s.Transform(in, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Release()
	if got := full.Schema().String(); got != s.outSchema(true, false).String() || full.NumCols() != 2 || full.NumRows() != 64 {
		t.Fatalf("schema %s", got)
	}
	if full.Column(0).NullN() != 0 || full.Column(1).DataType().ID() != arrow.INT32 {
		t.Errorf("x nulls %d, y type %s", full.Column(0).NullN(), full.Column(1).DataType())
	}
	fx, _, d := XMatrix(full)

	// A slice with __row, as the reader and shuffler hand them over: same rows, same values.
	rowsRec := withRows(mem, in, 1000)
	defer rowsRec.Release()
	slice := rowsRec.NewSlice(10, 30)
	defer slice.Release()
	part, err := s.Transform(slice, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer part.Release()
	if part.NumCols() != 3 || part.ColumnName(2) != RowColumn || part.Column(2).(*array.Int64).Value(0) != 1010 {
		t.Fatalf("schema %s", part.Schema())
	}
	px, rows, pd := XMatrix(part)
	if rows != 20 || pd != d || len(px) != 20*d {
		t.Fatalf("XMatrix: %d rows × %d, len %d", rows, pd, len(px))
	}
	for i := range px {
		if px[i] != fx[10*d+i] {
			t.Fatalf("slice value %d = %g, full record has %g", i, px[i], fx[10*d+i])
		}
	}
	// XMatrix of a slice of the output
	sub := full.NewSlice(5, 7)
	defer sub.Release()
	sx, srows, _ := XMatrix(sub)
	if srows != 2 || sx[0] != fx[5*d] || sx[len(sx)-1] != fx[7*d-1] {
		t.Errorf("XMatrix of a sliced output is misplaced")
	}
	// Without the target: x only.
	noY := project(rec, cols[:len(cols)-1])
	defer noY.Release()
	out, err := s.Transform(noY, mem)
	if err != nil {
		t.Fatal(err)
	}
	if out.NumCols() != 1 {
		t.Errorf("without target: %s", out.Schema())
	}
	out.Release()
}

func TestXMatrixPanicsOnOtherRecords(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rec := recordJSON(t, mem, schemaOf("x", arrow.PrimitiveTypes.Float32), `[{"x":1}]`)
	defer rec.Release()
	defer func() {
		if r := recover(); r != "feature: XMatrix: x is not a FixedSizeList<float32>" {
			t.Errorf("recovered %v", r)
		}
	}()
	XMatrix(rec)
}

func TestHashingDeterministic(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	values := []string{"alpha", "beta", "gamma", "", "δέλτα", "alpha"}
	b := array.NewStringBuilder(mem)
	for _, v := range values {
		b.Append(v)
	}
	b.AppendNull()
	col := b.NewArray()
	b.Release()
	rec := recordOf([]string{"word"}, col)
	defer rec.Release()
	src := shardsOf(rec, "w.csv", 3, 4)
	defer src.release()
	const buckets = 7
	s1 := fitMem(t, src, Config{HashBuckets: buckets}, 1)
	s2 := fitMem(t, src, Config{HashBuckets: buckets}, 2)
	x1, _ := transformAll(t, mem, s1, src)
	x2, _ := transformAll(t, mem, s2, src)
	if s1.Dim != buckets+1 || s1.Features[0].Encoding != Hash {
		t.Fatalf("dim %d, encoding %q", s1.Dim, s1.Features[0].Encoding)
	}
	for i, v := range append(values, "") {
		h := fnv.New64a()
		h.Write([]byte(v))
		want := int(h.Sum64() % buckets)
		if i == len(values) {
			want = buckets // null: missing slot
		}
		if HashBucket(v, buckets) != want && i < len(values) {
			t.Errorf("HashBucket(%q) = %d, FNV-1a says %d", v, HashBucket(v, buckets), want)
		}
		for j := range x1[i] {
			hot := float32(0)
			if j == want {
				hot = 1
			}
			if x1[i][j] != hot || x2[i][j] != hot {
				t.Fatalf("row %d (%q): x = %v and %v, want slot %d set", i, v, x1[i], x2[i], want)
			}
		}
	}
	if c := s1.Counters(); c["imputed/word"] != 1 {
		t.Errorf("counters %v", c)
	}
}

// TestNullsImputed checks each normalization's imputed value (the normalized mean) and the counters.
func TestNullsImputed(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	schema := schemaOf("a", arrow.PrimitiveTypes.Int32, "img", arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Float64))
	rec := recordJSON(t, mem, schema, `[{"a":1,"img":[0,10]},{"a":null,"img":[2,null]},{"a":5,"img":null},{"a":3,"img":[4,20]}]`)
	defer rec.Release()
	src := shardsOf(rec, "n.parquet", 4)
	defer src.release()
	for _, tc := range []struct {
		norm string
		want [][]float32
	}{
		// a: mean 3, std sqrt(8/3), min 1, max 5; img[0]: 0,2,4 mean 2; img[1]: 10,20 mean 15
		{NormNone, [][]float32{{1, 0, 10}, {3, 2, 15}, {5, 2, 15}, {3, 4, 20}}},
		{NormMinMax, [][]float32{{0, 0, 0}, {0.5, 0.5, 0.5}, {1, 0.5, 0.5}, {0.5, 1, 1}}},
		{NormZScore, [][]float32{{float32(-2 / math.Sqrt(8.0/3)), float32(-2 / math.Sqrt(8.0/3)), -1}, {0, 0, 0},
			{float32(2 / math.Sqrt(8.0/3)), 0, 0}, {0, float32(2 / math.Sqrt(8.0/3)), 1}}},
	} {
		s := fitMem(t, src, Config{Normalize: tc.norm}, 1)
		if s.Features[0].Nulls != 1 || s.Features[1].Nulls != 3 {
			t.Errorf("%s: fit null counts %d, %d, want 1 and 3", tc.norm, s.Features[0].Nulls, s.Features[1].Nulls)
		}
		x, _ := transformAll(t, mem, s, src)
		if fmt.Sprint(x) != fmt.Sprint(tc.want) {
			t.Errorf("%s: x = %v, want %v", tc.norm, x, tc.want)
		}
		if c := s.Counters(); c["imputed/a"] != 1 || c["imputed/img"] != 3 || c["nonfinite/a"] != 0 {
			t.Errorf("%s: counters %v", tc.norm, c)
		}
	}
}

func TestTransformTypes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	hb := array.NewFloat16Builder(mem)
	hb.AppendValues([]float16.Num{float16.New(1), float16.New(2), float16.New(3)}, nil)
	half := hb.NewArray()
	hb.Release()
	flag := arrayJSON(t, mem, arrow.FixedWidthTypes.Boolean, `[true,false,true]`)
	lv := arrayJSON(t, mem, arrow.LargeListOf(arrow.PrimitiveTypes.Int16), `[[1,2],[3,4],[5,6]]`)
	y := arrayJSON(t, mem, arrow.PrimitiveTypes.Float32, `[0.5,1.5,2.5]`)
	rec := recordOf([]string{"half", "flag", "lv", "y"}, half, flag, lv, y)
	defer rec.Release()
	src := shardsOf(rec, "t.arrow", 3)
	defer src.release()
	s := fitMem(t, src, Config{Target: "y", Normalize: NormNone}, 1)
	x, yy := transformAll(t, mem, s, src)
	want := "[[1 1 1 2] [2 0 3 4] [3 1 5 6]]"
	if fmt.Sprint(x) != want || fmt.Sprint(yy) != "[0.5 1.5 2.5]" || s.Task != Regression {
		t.Errorf("x = %v (want %s), y = %v, task %q", x, want, yy, s.Task)
	}
}

// TestTransformErrors checks one-line errors naming the column and the row (__row when present).
func TestTransformErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	f64, listF := arrow.PrimitiveTypes.Float64, arrow.ListOf(arrow.PrimitiveTypes.Float32)
	train := recordJSON(t, mem, schemaOf("a", f64, "v", listF, "s", arrow.BinaryTypes.String, "y", arrow.PrimitiveTypes.Int64),
		`[{"a":1,"v":[1,2],"s":"p","y":3},{"a":2,"v":[3,4],"s":"q","y":5}]`)
	defer train.Release()
	src := shardsOf(train, "train.parquet", 2)
	defer src.release()
	s := fitMem(t, src, Config{Target: "y"}, 1)
	for _, tc := range []struct {
		name    string
		schema  *arrow.Schema
		rows    string
		rowBase int64 // >= 0: add __row starting there
		want    []string
	}{
		{"NaN with __row", schemaOf("a", f64, "v", listF, "s", arrow.BinaryTypes.String), `[{"a":1,"v":[1,2],"s":"p"},{"a":"NaN","v":[1,2],"s":"p"}]`, 1233,
			[]string{`column "a", row 1234: value NaN`, "AllowNonFinite"}},
		{"NaN without __row", schemaOf("a", f64, "v", listF, "s", arrow.BinaryTypes.String), `[{"a":"-Inf","v":[1,2],"s":"p"}]`, -1,
			[]string{`column "a", row 0 of the batch: value -Inf`}},
		{"list row of another length", schemaOf("a", f64, "v", listF, "s", arrow.BinaryTypes.String), `[{"a":1,"v":[1,2],"s":"p"},{"a":1,"v":[1,2,3],"s":"p"}]`, 40,
			[]string{`column "v", row 41: list of 3 values, but the model was trained on 2`}},
		{"NaN in a tensor", schemaOf("a", f64, "v", listF, "s", arrow.BinaryTypes.String), `[{"a":1,"v":[1,"NaN"],"s":"p"}]`, 7,
			[]string{`column "v", row 7: element 1: value NaN`}},
		{"unseen class", schemaOf("a", f64, "v", listF, "s", arrow.BinaryTypes.String, "y", arrow.PrimitiveTypes.Int64), `[{"a":1,"v":[1,2],"s":"p","y":3},{"a":1,"v":[1,2],"s":"p","y":4}]`, 10,
			[]string{`column "y", row 11: class label "4" was not in the training data`, `["3" "5"]`}},
		{"null target", schemaOf("a", f64, "v", listF, "s", arrow.BinaryTypes.String, "y", arrow.PrimitiveTypes.Int64), `[{"a":1,"v":[1,2],"s":"p","y":null}]`, -1,
			[]string{`column "y", row 0 of the batch: the target is null`}},
		{"columns out of order", schemaOf("v", listF, "a", f64, "s", arrow.BinaryTypes.String), `[{"a":1,"v":[1,2],"s":"p"}]`, -1,
			[]string{`record columns ["v" "a" "s"]`, `want the features ["a" "v" "s"]`, "Spec.Columns"}},
		{"missing column", schemaOf("a", f64, "v", listF), `[{"a":1,"v":[1,2]}]`, -1,
			[]string{`record columns ["a" "v"]`}},
		{"type changed", schemaOf("a", arrow.BinaryTypes.String, "v", listF, "s", arrow.BinaryTypes.String), `[{"a":"1","v":[1,2],"s":"p"}]`, -1,
			[]string{`column "a" has type utf8, but the model was trained on float64`}},
		{"target type changed", schemaOf("a", f64, "v", listF, "s", arrow.BinaryTypes.String, "y", arrow.BinaryTypes.String), `[{"a":1,"v":[1,2],"s":"p","y":"3"}]`, -1,
			[]string{`target column "y" has type utf8, but the model was trained on int64`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := recordJSON(t, mem, tc.schema, tc.rows)
			defer rec.Release()
			if tc.rowBase >= 0 {
				r := withRows(mem, rec, tc.rowBase)
				defer r.Release()
				rec = r
			}
			out, err := s.Transform(rec, mem)
			if out != nil {
				out.Release()
			}
			checkError(t, err, tc.want...)
		})
	}
	bad := recordJSON(t, mem, schemaOf("a", f64, "v", listF, "s", arrow.BinaryTypes.String, RowColumn, arrow.PrimitiveTypes.Int32),
		`[{"a":1,"v":[1,2],"s":"p","__row":1}]`)
	defer bad.Release()
	_, err := s.Transform(bad, mem)
	checkError(t, err, `"__row" must be int64`)
	if _, err := new(Spec).Transform(bad, mem); err == nil {
		t.Error("zero Spec transformed a record")
	}
}

func TestColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	train := recordJSON(t, mem, schemaOf("a", arrow.PrimitiveTypes.Int32, "img", arrow.FixedSizeListOf(3, arrow.PrimitiveTypes.Uint8),
		"s", arrow.BinaryTypes.String, "y", arrow.BinaryTypes.String), `[{"a":1,"img":[1,2,3],"s":"p","y":"cat"},{"a":2,"img":[1,2,3],"s":"q","y":"dog"}]`)
	defer train.Release()
	src := shardsOf(train, "train.parquet", 2)
	defer src.release()
	s := fitMem(t, src, Config{Target: "y"}, 1)
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.LargeString}
	for _, tc := range []struct {
		name   string
		schema *arrow.Schema
		cols   string
		target bool
		err    []string
	}{
		{"same schema", train.Schema(), "[0 1 2 3]", true, nil},
		{"reordered, wider ints, lists of any kind, dictionary strings, no target",
			schemaOf("s", dict, "extra", arrow.PrimitiveTypes.Int8, "img", arrow.ListOf(arrow.PrimitiveTypes.Float32), "a", arrow.PrimitiveTypes.Int64),
			"[3 2 0]", false, nil},
		{"missing feature", schemaOf("a", arrow.PrimitiveTypes.Int32, "s", arrow.BinaryTypes.String), "", false,
			[]string{`column "img", used by the model, is missing from the data`}},
		{"numbers became strings", schemaOf("a", arrow.BinaryTypes.String, "img", arrow.FixedSizeListOf(3, arrow.PrimitiveTypes.Uint8), "s", arrow.BinaryTypes.String), "", false,
			[]string{`column "a" has type utf8 in the data but was int32 (numeric, width 1)`}},
		{"image of another size", schemaOf("a", arrow.PrimitiveTypes.Int32, "img", arrow.FixedSizeListOf(4, arrow.PrimitiveTypes.Uint8), "s", arrow.BinaryTypes.String), "", false,
			[]string{`column "img" has type fixed_size_list<item: uint8, nullable>[4] in the data`, "(tensor, width 3)"}},
		{"target of another kind", schemaOf("a", arrow.PrimitiveTypes.Int32, "img", arrow.FixedSizeListOf(3, arrow.PrimitiveTypes.Uint8), "s", arrow.BinaryTypes.String, "y", arrow.PrimitiveTypes.Int8), "", false,
			[]string{`target column "y" has type int8 in the data but was utf8`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cols, hasTarget, err := s.Columns(tc.schema)
			if tc.err != nil {
				checkError(t, err, tc.err...)
				return
			}
			if err != nil || fmt.Sprint(cols) != tc.cols || hasTarget != tc.target {
				t.Errorf("Columns = %v, %v, %v; want %s, %v", cols, hasTarget, err, tc.cols, tc.target)
			}
		})
	}
}

// TestTransformConcurrent runs Transforms from several goroutines on one Spec: same results, counters
// add up (run with -race).
func TestTransformConcurrent(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rec := recordJSON(t, mem, schemaOf("a", arrow.PrimitiveTypes.Float64, "s", arrow.BinaryTypes.String),
		`[{"a":1,"s":"x"},{"a":null,"s":"y"},{"a":3,"s":null}]`)
	defer rec.Release()
	src := shardsOf(rec, "c.csv", 3)
	defer src.release()
	s := fitMem(t, src, Config{}, 1)
	want, _ := transformAll(t, mem, s, src)
	const goroutines, rounds = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Go(func() {
			for range rounds {
				out, err := s.Transform(rec, mem)
				if err != nil {
					errs <- err
					return
				}
				x, _, _ := XMatrix(out)
				if fmt.Sprint(x) != fmt.Sprint(append(append(append([]float32(nil), want[0]...), want[1]...), want[2]...)) {
					errs <- fmt.Errorf("x = %v", x)
				}
				out.Release()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if c := s.Counters(); c["imputed/a"] != goroutines*rounds+1 || c["imputed/s"] != goroutines*rounds+1 {
		t.Errorf("counters %v", c)
	}
}

// TestTransformAllocations checks that Transform's allocations do not grow with the number of rows.
func TestTransformAllocations(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	small, big := mnistRecord(mem, 16, 1), mnistRecord(mem, 1024, 1)
	defer small.Release()
	defer big.Release()
	src := shardsOf(big, "mnist.parquet", 1024)
	defer src.release()
	s := fitMem(t, src, Config{Target: "label"}, 1)
	allocs := func(rec arrow.RecordBatch) float64 {
		return testing.AllocsPerRun(20, func() {
			out, err := s.Transform(rec, mem)
			if err != nil {
				t.Fatal(err)
			}
			out.Release()
		})
	}
	a, b := allocs(small), allocs(big)
	if a != b {
		t.Errorf("allocations per Transform: %v for 16 rows, %v for 1024 rows: they must not depend on rows", a, b)
	}
	t.Logf("%v allocations per Transform", a)
}

// mnistRecord builds MNIST-shaped rows: pixels fixed_size_list<uint8>[784], label uint8.
func mnistRecord(mem memory.Allocator, rows int, seed uint64) arrow.RecordBatch {
	_ = context.Background
	px := array.NewFixedSizeListBuilder(mem, 784, arrow.PrimitiveTypes.Uint8)
	defer px.Release()
	pv := px.ValueBuilder().(*array.Uint8Builder)
	lb := array.NewUint8Builder(mem)
	defer lb.Release()
	buf := make([]uint8, 784)
	state := seed
	for r := range rows {
		for j := range buf {
			state = state*6364136223846793005 + 1442695040888963407
			buf[j] = 0
			if j%28 > 4 && j%28 < 24 && state>>60 < 6 {
				buf[j] = uint8(state >> 32)
			}
		}
		px.Append(true)
		pv.AppendValues(buf, nil)
		lb.Append(uint8(r % 10))
	}
	return recordOf([]string{"pixels", "label"}, px.NewArray(), lb.NewArray())
}
