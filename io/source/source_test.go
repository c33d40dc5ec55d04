package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
)

func schemaString(sc *arrow.Schema) string {
	var parts []string
	for _, f := range sc.Fields() {
		parts = append(parts, f.Name+": "+f.Type.String())
	}
	return strings.Join(parts, ", ")
}

// TestSharedFixtures reads every fixture of testdata/shared with the rows, shards and schema its MANIFEST
// states ("as arrow-go sees it").
func TestSharedFixtures(t *testing.T) {
	breast := "mean_radius: float64, mean_texture: float64, mean_perimeter: float64, mean_area: float64, mean_smoothness: float64, mean_compactness: float64, mean_concavity: float64, mean_concave_points: float64, mean_symmetry: float64, mean_fractal_dimension: float64, radius_error: float64, texture_error: float64, perimeter_error: float64, area_error: float64, smoothness_error: float64, compactness_error: float64, concavity_error: float64, concave_points_error: float64, symmetry_error: float64, fractal_dimension_error: float64, worst_radius: float64, worst_texture: float64, worst_perimeter: float64, worst_area: float64, worst_smoothness: float64, worst_compactness: float64, worst_concavity: float64, worst_concave_points: float64, worst_symmetry: float64, worst_fractal_dimension: float64, label: int64"
	iris64 := "sepal_length_cm: float64, sepal_width_cm: float64, petal_length_cm: float64, petal_width_cm: float64, label: int64"
	iris32 := "sepal_length_cm: float64, sepal_width_cm: float64, petal_length_cm: float64, petal_width_cm: float64, label: int32"
	var wide []string
	for i := range 784 {
		wide = append(wide, fmt.Sprintf("p%d: uint8", i))
	}
	tests := []struct {
		file       string
		format     Format
		rows       int64
		shardRows  []int64
		schema     string
		classNames string
	}{
		{"breast_cancer.csv", CSV, 569, []int64{569}, breast, ""},
		{"breast_cancer.parquet", Parquet, 569, []int64{569}, breast, "malignant,benign"},
		{"iris.arrow", IPCFile, 150, []int64{64, 64, 22}, iris32, "setosa,versicolor,virginica"},
		{"iris.arrows", IPCStream, 150, []int64{150}, iris32, "setosa,versicolor,virginica"},
		{"iris.csv", CSV, 150, []int64{150}, iris64, ""},
		{"iris.parquet", Parquet, 150, []int64{150}, iris64, "setosa,versicolor,virginica"},
		{"mnist_test_tensor.parquet", Parquet, 10000, []int64{10000}, "pixels: list<element: float32, nullable>, label: int32", ""},
		{"mnist_test_wide.parquet", Parquet, 10000, []int64{10000}, strings.Join(wide, ", ") + ", label: uint8", ""},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			d, err := Open([]string{filepath.Join(sharedDir, tc.file)}, Options{Mem: mem})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if got := schemaString(d.Schema); got != tc.schema {
				t.Errorf("schema:\n got %s\nwant %s", clip(got, 300), clip(tc.schema, 300))
			}
			f := d.Files[0]
			if f.Format != tc.format || f.Rows != tc.rows || d.Rows != tc.rows {
				t.Errorf("format %v rows %d/%d, want %v %d", f.Format, f.Rows, d.Rows, tc.format, tc.rows)
			}
			var got []int64
			for _, s := range d.Shards {
				got = append(got, s.Rows)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.shardRows) {
				t.Errorf("shard rows %v, want %v", got, tc.shardRows)
			}
			if tc.classNames != "" && f.Meta["class_names"] != tc.classNames {
				t.Errorf("class_names = %q, want %q", f.Meta["class_names"], tc.classNames)
			}
			label, err := d.ColumnIndex("label")
			if err != nil {
				t.Fatal(err)
			}
			rows, cols := collect(t, d, []int{label})
			if rows != tc.rows {
				t.Errorf("read %d rows, want %d", rows, tc.rows)
			}
			seen := map[string]bool{}
			for _, v := range cols[0] {
				seen[v] = true
			}
			if want := map[int64]int{569: 2, 150: 3, 10000: 10}[tc.rows]; len(seen) != want {
				t.Errorf("%d distinct labels, want %d", len(seen), want)
			}
		})
	}
}

// TestFormats writes the same rows in every format and compression and checks the values read back,
// with projection in a chosen order, repeated columns and batches smaller than the shards.
func TestFormats(t *testing.T) {
	const rows = 250
	dir := t.TempDir()
	type tcase struct {
		name   string
		path   string
		shards int
	}
	var tests []tcase
	for _, c := range []struct {
		name  string
		codec compress.Compression
	}{{"none", compress.Codecs.Uncompressed}, {"snappy", compress.Codecs.Snappy}, {"zstd", compress.Codecs.Zstd}, {"gzip", compress.Codecs.Gzip}, {"lz4raw", compress.Codecs.Lz4Raw}, {"brotli", compress.Codecs.Brotli}} {
		p := filepath.Join(dir, c.name+".parquet")
		writeParquetFixture(t, p, rows, 100, c.codec)
		tests = append(tests, tcase{"parquet-" + c.name, p, 3})
	}
	p := filepath.Join(dir, "f.arrow")
	writeIPCFixture(t, p, rows, 64, false)
	tests = append(tests, tcase{"ipc-file", p, 4})
	p = filepath.Join(dir, "s.arrows")
	writeIPCFixture(t, p, rows, 64, true)
	tests = append(tests, tcase{"ipc-stream", p, 1})

	want := fixtureRecord(memory.DefaultAllocator, 0, rows)
	defer want.Release()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			d, err := Open([]string{tc.path}, Options{Mem: mem, BatchRows: 30})
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Shards) != tc.shards || d.Rows != rows {
				t.Fatalf("%d shards, %d rows; want %d, %d", len(d.Shards), d.Rows, tc.shards, rows)
			}
			if d.Schema.Field(2).Type.ID() != arrow.DICTIONARY && !strings.HasPrefix(tc.name, "parquet") {
				t.Errorf("tag type %v", d.Schema.Field(2).Type)
			}
			var first int64
			for i, s := range d.Shards {
				if s.First != first || s.Index != i {
					t.Errorf("shard %d: First %d Index %d, want %d %d", i, s.First, s.Index, first, i)
				}
				first += s.Rows
			}
			columns := []int{3, 0, 1, 1, 2}
			n, cols := collect(t, d, columns)
			if n != rows {
				t.Fatalf("read %d rows", n)
			}
			for r := 0; r < rows; r++ {
				for j, c := range columns {
					wv := want.Column(c).ValueStr(r)
					if cols[j][r] != wv {
						t.Fatalf("row %d column %d: got %q want %q", r, c, cols[j][r], wv)
					}
				}
			}
			// Every record carries the dataset schema projected on the columns.
			err = d.ReadShard(t.Context(), 0, []int{1, 0}, func(rec arrow.RecordBatch) error {
				defer rec.Release()
				if rec.NumRows() > 30 || rec.Schema().Field(0).Name != "x" || rec.Schema().Field(1).Name != "id" {
					t.Errorf("record of %d rows, schema %v", rec.NumRows(), rec.Schema())
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCSV checks type inference, quoted fields (commas, quotes, newlines), nulls, CRLF, blank lines,
// chunking, overrides and TSV.
func TestCSV(t *testing.T) {
	dir := t.TempDir()
	csvPath := writeFile(t, filepath.Join(dir, "q.csv"), fixtureCSV)
	tsvPath := writeFile(t, filepath.Join(dir, "t.tsv"), "a\tb\n1\tx y\n2\t\n")
	tests := []struct {
		name   string
		path   string
		opts   Options
		schema string
		shards []int64
		rows   []string
	}{
		{"inferred", csvPath, Options{}, "id: int64, name: utf8, score: float64, ok: bool", []int64{5},
			[]string{"1|Smith, J|1.5|true|", `2|say "hi"|(null)|false|`, "3|two\nlines|-2|(null)|", "4|(null)|7|true|", "5|plain|1000|false|"}},
		{"chunks of 2", csvPath, Options{CSV: CSVOptions{ChunkRows: 2}, BatchRows: 1}, "id: int64, name: utf8, score: float64, ok: bool", []int64{2, 2, 1},
			[]string{"1|Smith, J|1.5|true|", `2|say "hi"|(null)|false|`, "3|two\nlines|-2|(null)|", "4|(null)|7|true|", "5|plain|1000|false|"}},
		{"override", csvPath, Options{CSV: CSVOptions{Types: map[string]arrow.DataType{"id": arrow.PrimitiveTypes.Float32, "score": arrow.BinaryTypes.String}}},
			"id: float32, name: utf8, score: utf8, ok: bool", []int64{5},
			[]string{"1|Smith, J|1.5|true|", `2|say "hi"|(null)|false|`, "3|two\nlines|-2|(null)|", "4|(null)|7|true|", "5|plain|1e3|false|"}},
		{"infer from 1 row", csvPath, Options{CSV: CSVOptions{InferRows: 1}}, "id: int64, name: utf8, score: float64, ok: bool", []int64{5}, nil},
		{"tsv", tsvPath, Options{}, "a: int64, b: utf8", []int64{2}, []string{"1|x y|", "2|(null)|"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			tc.opts.Mem = mem
			d, err := Open([]string{tc.path}, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := schemaString(d.Schema); got != tc.schema {
				t.Errorf("schema %s, want %s", got, tc.schema)
			}
			var shards []int64
			for _, s := range d.Shards {
				shards = append(shards, s.Rows)
			}
			if fmt.Sprint(shards) != fmt.Sprint(tc.shards) {
				t.Errorf("shards %v, want %v", shards, tc.shards)
			}
			n, cols := collect(t, d, nil)
			if int(n) != len(tc.rows) && tc.rows != nil {
				t.Fatalf("read %d rows, want %d", n, len(tc.rows))
			}
			for r, want := range tc.rows {
				if got := fmtRow(cols, r); got != want {
					t.Errorf("row %d: %q, want %q", r, got, want)
				}
			}
		})
	}
}

// TestOpenErrors checks that each bad input gives one line naming the file (and column where relevant).
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "mixed", "a.parquet")
	os.MkdirAll(filepath.Dir(good), 0o755)
	writeParquetFixture(t, good, 10, 10, compress.Codecs.Snappy)
	data, _ := os.ReadFile(good)
	trunc := writeFile(t, filepath.Join(dir, "trunc.parquet"), string(data[:len(data)/2]))
	garbage := writeFile(t, filepath.Join(dir, "garbage.parquet"), "id,x\n1,2\n3,4\n5,6\n")
	badTail := writeFile(t, filepath.Join(dir, "badtail.parquet"), string(data[:len(data)-8])+"\xff\xff\xff\x7fPAR1")
	writeFile(t, filepath.Join(dir, "mixed", "b.csv"), "id,x,tag,v\n1,2,3,4\n")
	empty := writeFile(t, filepath.Join(dir, "empty.arrow"), "")
	notArrow := writeFile(t, filepath.Join(dir, "x.arrow"), "definitely not arrow, definitely not arrow")
	unknown := writeFile(t, filepath.Join(dir, "notes.bin"), "hello")
	os.MkdirAll(filepath.Join(dir, "nodata"), 0o755)
	writeFile(t, filepath.Join(dir, "nodata", "README.md"), "nothing here")
	unclosed := writeFile(t, filepath.Join(dir, "unclosed.csv"), "a,b\n1,\"oops\n2,3\n")
	ragged := writeFile(t, filepath.Join(dir, "ragged.csv"), "a,b\n1,2\n3\n")
	blank := writeFile(t, filepath.Join(dir, "blank.csv"), "\n\n")
	csvOK := writeFile(t, filepath.Join(dir, "ok.csv"), "a,b\n1,2\n")
	tests := []struct {
		name  string
		paths []string
		opts  Options
		want  []string // substrings of the error
	}{
		{"no paths", nil, Options{}, []string{"no data files given"}},
		{"missing", []string{filepath.Join(dir, "nope.parquet")}, Options{}, []string{"nope.parquet", "no such file"}},
		{"empty file", []string{empty}, Options{}, []string{empty, "empty file"}},
		{"truncated parquet", []string{trunc}, Options{}, []string{trunc, "PAR1"}},
		{"csv named parquet", []string{garbage}, Options{}, []string{garbage, "not a Parquet file"}},
		{"footer length lies", []string{badTail}, Options{}, []string{badTail, "footer"}},
		{"wrong magic arrow", []string{notArrow}, Options{}, []string{notArrow, "not a readable Arrow IPC file"}},
		{"unknown extension", []string{unknown}, Options{}, []string{unknown, "unknown data format"}},
		{"mixed schemas", []string{filepath.Join(dir, "mixed")}, Options{}, []string{"a.parquet", "b.csv", `column "x"`, "float64", "int64"}},
		{"no data in dir", []string{filepath.Join(dir, "nodata")}, Options{}, []string{"nodata", "no data files"}},
		{"glob matches nothing", []string{filepath.Join(dir, "*.xyz")}, Options{}, []string{"*.xyz", "no file matches"}},
		{"unclosed quote", []string{unclosed}, Options{}, []string{unclosed, "line 2", "never closed"}},
		{"ragged csv", []string{ragged}, Options{}, []string{ragged, "line 3", "wrong number of fields"}},
		{"blank csv", []string{blank}, Options{}, []string{blank, "no header"}},
		{"override unknown column", []string{csvOK}, Options{CSV: CSVOptions{Types: map[string]arrow.DataType{"zz": arrow.PrimitiveTypes.Int8}}}, []string{csvOK, `"zz"`, "columns: a, b"}},
		{"bad batch rows", []string{csvOK}, Options{BatchRows: -1}, []string{"BatchRows"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			tc.opts.Mem = mem
			_, err := Open(tc.paths, tc.opts)
			if err == nil {
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			if strings.ContainsAny(msg, "\n\r") {
				t.Errorf("error is not one line: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

// TestReadShardErrors covers a failing emit, cancellation mid-read, bad indices, a value that does not
// fit the inferred type and a shard above MaxBytes, all without leaking a record.
func TestReadShardErrors(t *testing.T) {
	dir := t.TempDir()
	pq := filepath.Join(dir, "d.parquet")
	writeParquetFixture(t, pq, 1000, 500, compress.Codecs.Zstd)
	var late strings.Builder
	late.WriteString("n,label\n")
	for i := range 50 {
		fmt.Fprintf(&late, "%d,%d\n", i, i%2)
	}
	late.WriteString("oops,1\n")
	lateCSV := writeFile(t, filepath.Join(dir, "late.csv"), late.String())
	errStop := errors.New("receiver full")
	tests := []struct {
		name    string
		path    string
		opts    Options
		shard   int
		columns []int
		emit    func(n int, rec arrow.RecordBatch) error // n = records seen so far
		ctx     func() (context.Context, context.CancelFunc)
		want    []string
		is      error
	}{
		{name: "emit fails", path: pq, opts: Options{BatchRows: 100}, emit: func(n int, rec arrow.RecordBatch) error {
			if n == 2 {
				return errStop // not taken: ReadShard releases it
			}
			rec.Release()
			return nil
		}, is: errStop},
		{name: "cancel mid-read", path: pq, opts: Options{BatchRows: 100}, emit: func(n int, rec arrow.RecordBatch) error {
			rec.Release()
			return nil
		}, ctx: func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			return ctx, cancel
		}, is: context.Canceled},
		{name: "shard out of range", path: pq, shard: 9, want: []string{"shard 9 out of range", "2 shards"}},
		{name: "column out of range", path: pq, columns: []int{0, 4}, want: []string{"column index 4 out of range"}},
		{name: "bad value after the sample", path: lateCSV, opts: Options{CSV: CSVOptions{InferRows: 10}},
			want: []string{lateCSV, "data row 51", `column "n"`, `"oops" is not a valid int64`, "CSVOptions.Types"}},
		{name: "over MaxBytes", path: pq, opts: Options{MaxBytes: 4096}, want: []string{pq, "MaxBytes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			tc.opts.Mem = mem
			d, err := Open([]string{tc.path}, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			if tc.ctx != nil {
				ctx, cancel = tc.ctx()
			}
			defer cancel()
			n := 0
			emit := tc.emit
			if emit == nil {
				emit = func(_ int, rec arrow.RecordBatch) error { rec.Release(); return nil }
			}
			err = d.ReadShard(ctx, tc.shard, tc.columns, func(rec arrow.RecordBatch) error {
				n++
				if tc.ctx != nil && n == 2 {
					cancel()
				}
				return emit(n, rec)
			})
			if err == nil {
				t.Fatal("ReadShard succeeded")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

// TestConcurrentReads reads every shard from several goroutines at once (run with -race).
func TestConcurrentReads(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	writeParquetFixture(t, filepath.Join(dir, "a.parquet"), 600, 100, compress.Codecs.Snappy)
	writeParquetFixture(t, filepath.Join(dir, "b.parquet"), 300, 100, compress.Codecs.Zstd)
	d, err := Open([]string{dir}, Options{Mem: mem, BatchRows: 64})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Files) != 2 || len(d.Shards) != 9 || d.Rows != 900 || d.Shards[6].First != 600 {
		t.Fatalf("files %d shards %d rows %d", len(d.Files), len(d.Shards), d.Rows)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := int64(0)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range d.Shards {
				err := d.ReadShard(context.Background(), (i+g)%len(d.Shards), []int{0, 3}, func(rec arrow.RecordBatch) error {
					mu.Lock()
					total += rec.NumRows()
					mu.Unlock()
					rec.Release()
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if total != 4*900 {
		t.Errorf("read %d rows, want %d", total, 4*900)
	}
	d.Close()
	if err := d.ReadShard(context.Background(), 0, nil, func(r arrow.RecordBatch) error { r.Release(); return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestColumnIndex(t *testing.T) {
	d, err := Open([]string{filepath.Join(sharedDir, "iris.parquet")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if i, err := d.ColumnIndex("label"); err != nil || i != 4 {
		t.Errorf("ColumnIndex(label) = %d, %v", i, err)
	}
	_, err = d.ColumnIndex("foo")
	want := `column "foo" not found in ` + filepath.Join(sharedDir, "iris.parquet") + ` (columns: sepal_length_cm, sepal_width_cm, petal_length_cm, petal_width_cm, label)`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

func TestInspect(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	pq := filepath.Join(dir, "d.parquet")
	writeParquetFixture(t, pq, 100, 40, compress.Codecs.Snappy)
	csvPath := writeFile(t, filepath.Join(dir, "q.csv"), fixtureCSV)
	tests := []struct {
		path string
		want []string // name type nulls min max from
	}{
		{pq, []string{"id int64 0 0 99 statistics", "x float64 14 0 49.5 statistics", "tag dictionary<values=utf8, indices=int32, ordered=false> 20 - - scan", "v fixed_size_list<element: float32, nullable>[3] 0 -99 99 scan"}},
		{csvPath, []string{"id int64 0 1 5 scan", "name utf8 1 - - scan", "score float64 1 -2 1000 scan", "ok bool 1 0 1 scan"}},
	}
	for _, tc := range tests {
		d, err := Open([]string{tc.path}, Options{Mem: mem})
		if err != nil {
			t.Fatal(err)
		}
		s, err := Inspect(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range s.Schema {
			f := func(p *float64) string {
				if p == nil {
					return "-"
				}
				return fmt.Sprint(*p)
			}
			got := fmt.Sprintf("%s %s %d %s %s %s", c.Name, c.Type, c.Nulls, f(c.Min), f(c.Max), c.StatsFrom)
			if got != tc.want[i] {
				t.Errorf("%s column %d: %q, want %q", filepath.Base(tc.path), i, got, tc.want[i])
			}
		}
		if s.Rows != d.Rows || s.Shards != len(d.Shards) || len(s.Files) != 1 {
			t.Errorf("summary %+v", s)
		}
	}
}
