package sink_test

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"go.uber.org/goleak"

	"github.com/sgdpipe/sgdpipe/io/sink"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// predSchema has two key columns (one dictionary-encoded), a string
// prediction and two class probabilities.
func predSchema(t testing.TB) *arrow.Schema {
	t.Helper()
	s, err := sink.PredictionSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "city", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, Nullable: true},
	}, arrow.BinaryTypes.String, []string{"cat", "dog"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var cities = []string{"Oslo", "Lima", "Pune, \"MH\""}

// predRecord builds rows [from, from+n) of a deterministic prediction table.
func predRecord(t testing.TB, mem memory.Allocator, s *arrow.Schema, from, n int) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(mem, s)
	defer b.Release()
	ids := b.Field(0).(*array.Int64Builder)
	city := b.Field(1).(*array.BinaryDictionaryBuilder)
	pred := b.Field(2).(*array.StringBuilder)
	pcat := b.Field(3).(*array.Float32Builder)
	pdog := b.Field(4).(*array.Float32Builder)
	for i := from; i < from+n; i++ {
		ids.Append(int64(i))
		if i%7 == 3 {
			city.AppendNull()
		} else if err := city.AppendString(cities[i%len(cities)]); err != nil {
			t.Fatal(err)
		}
		p := float32(i%100) / 100
		pcat.Append(p)
		pdog.Append(1 - p)
		if p >= 0.5 {
			pred.Append("cat")
		} else {
			pred.Append("dog")
		}
	}
	return b.NewRecordBatch()
}

// rows renders a record as strings, nulls as "".
func rows(rec arrow.RecordBatch) [][]string {
	out := make([][]string, rec.NumRows())
	for i := range out {
		out[i] = make([]string, rec.NumCols())
		for j, col := range rec.Columns() {
			if col.IsValid(i) {
				out[i][j] = col.ValueStr(i)
			}
		}
	}
	return out
}

// readBack returns the header and rows of a Parquet or CSV file.
func readBack(t *testing.T, mem memory.Allocator, path string, format sink.Format) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if format == sink.CSV {
		all, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return all[0], all[1:]
	}
	tbl, err := pqarrow.ReadTable(context.Background(), f, nil, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	var header []string
	for _, fld := range tbl.Schema().Fields() {
		header = append(header, fld.Name)
	}
	tr := array.NewTableReader(tbl, 1000)
	defer tr.Release()
	var out [][]string
	for tr.Next() {
		out = append(out, rows(tr.RecordBatch())...)
	}
	return header, out
}

// parquetRowGroups returns the number of row groups and the Arrow schema of a
// Parquet file.
func parquetRowGroups(t *testing.T, mem memory.Allocator, path string) (int, *arrow.Schema) {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false, file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fr.Schema()
	if err != nil {
		t.Fatal(err)
	}
	return rdr.NumRowGroups(), s
}

// sameFields reports whether a and b have the same field names, types and
// nullability (Parquet adds field-id metadata, which is ignored).
func sameFields(a, b *arrow.Schema) bool {
	return slices.EqualFunc(a.Fields(), b.Fields(), func(x, y arrow.Field) bool {
		return x.Name == y.Name && arrow.TypeEqual(x.Type, y.Type) && x.Nullable == y.Nullable
	})
}

// noTemps fails if dir holds anything but want.
func noTemps(t *testing.T, dir string, want ...string) {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, de := range des {
		got = append(got, de.Name())
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("directory holds %v, want %v", got, want)
	}
}

func oneLine(t *testing.T, err error, says ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one containing %q", says)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans lines: %q", msg)
	}
	for _, s := range says {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q does not contain %q", msg, s)
		}
	}
}

func TestPredictionWriterRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		opts    sink.PredictionOptions
		batches []int // rows per record
		groups  int   // Parquet row groups expected; 0: don't check
	}{
		{"parquet", "p.parquet", sink.PredictionOptions{}, []int{10, 0, 25, 1}, 1},
		{"parquet .pq, small row groups", "p.pq", sink.PredictionOptions{RowGroupRows: 16}, []int{10, 25, 30}, 5},
		{"parquet by option", "p.out", sink.PredictionOptions{Format: sink.Parquet}, []int{3}, 1},
		{"parquet, no rows", "empty.parquet", sink.PredictionOptions{}, nil, 0},
		{"csv", "p.csv", sink.PredictionOptions{}, []int{10, 0, 25, 1}, 0},
		{"csv upper-case extension", "P.CSV", sink.PredictionOptions{}, []int{4}, 0},
		{"csv by option", "p.txt", sink.PredictionOptions{Format: sink.CSV}, []int{2, 2}, 0},
		{"csv, no rows", "empty.csv", sink.PredictionOptions{}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			schema := predSchema(t)
			dir := t.TempDir()
			path := filepath.Join(dir, tt.file)
			w, err := sink.NewPredictionWriter(path, schema, mem, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort()
			var want [][]string
			from := 0
			for _, n := range tt.batches {
				rec := predRecord(t, mem, schema, from, n)
				want = append(want, rows(rec)...)
				if err := w.Write(rec); err != nil {
					t.Fatal(err)
				}
				rec.Release()
				from += n
				if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("file visible before Close: %v", err)
				}
			}
			if w.Rows() != int64(from) {
				t.Fatalf("Rows() = %d, want %d", w.Rows(), from)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			noTemps(t, dir, tt.file)
			header, got := readBack(t, mem, path, w.Format())
			if want := []string{"id", "city", "prediction", "prob_cat", "prob_dog"}; !slices.Equal(header, want) {
				t.Fatalf("header %q, want %q", header, want)
			}
			if len(got) != len(want) {
				t.Fatalf("%d rows read back, want %d", len(got), len(want))
			}
			for i := range want {
				if !slices.Equal(got[i], want[i]) {
					t.Fatalf("row %d = %q, want %q (order or values changed)", i, got[i], want[i])
				}
			}
			if w.Format() == sink.Parquet {
				groups, s := parquetRowGroups(t, mem, path)
				if tt.groups != 0 && groups != tt.groups {
					t.Errorf("%d row groups, want %d", groups, tt.groups)
				}
				if !sameFields(s, schema) {
					t.Errorf("schema read back %v, want %v (stored Arrow schema)", s, schema)
				}
			}
		})
	}
}

func TestPredictionSchemaErrors(t *testing.T) {
	tests := []struct {
		name    string
		keys    []arrow.Field
		pred    arrow.DataType
		classes []string
		says    string
	}{
		{"nil prediction type", nil, nil, nil, "nil prediction type"},
		{"key named prediction", []arrow.Field{{Name: "prediction", Type: arrow.PrimitiveTypes.Int64}}, arrow.PrimitiveTypes.Int64, nil, `"prediction" appears twice`},
		{"key clashes with a class", []arrow.Field{{Name: "prob_cat", Type: arrow.PrimitiveTypes.Float32}}, arrow.PrimitiveTypes.Int64, []string{"cat"}, `"prob_cat" appears twice`},
		{"duplicate class", nil, arrow.PrimitiveTypes.Int64, []string{"a", "a"}, `"prob_a" appears twice`},
		{"empty class", nil, arrow.PrimitiveTypes.Int64, []string{""}, "empty class name"},
		{"key with prob_ prefix, wrong type", []arrow.Field{{Name: "prob_x", Type: arrow.BinaryTypes.String}}, arrow.PrimitiveTypes.Int64, nil, `"prob_x" has type utf8`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sink.PredictionSchema(tt.keys, tt.pred, tt.classes)
			oneLine(t, err, "prediction schema", tt.says)
		})
	}
	s, err := sink.PredictionSchema(nil, arrow.PrimitiveTypes.Float64, nil)
	if err != nil || s.NumFields() != 1 || s.Field(0).Name != sink.PredictionColumn {
		t.Fatalf("regression schema = %v, %v", s, err)
	}
}

func TestNewPredictionWriterErrors(t *testing.T) {
	dir := t.TempDir()
	good := predSchema(t)
	structType := arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32})
	withStruct := arrow.NewSchema(append(slices.Clone(good.Fields()), arrow.Field{Name: "nested", Type: structType}), nil)
	withMap := arrow.NewSchema(append(slices.Clone(good.Fields()), arrow.Field{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32)}), nil)
	withUnion := arrow.NewSchema(append(slices.Clone(good.Fields()), arrow.Field{Name: "u",
		Type: arrow.DenseUnionOf([]arrow.Field{{Name: "i", Type: arrow.PrimitiveTypes.Int32}}, []arrow.UnionTypeCode{0})}), nil)
	noPred := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	dup := arrow.NewSchema([]arrow.Field{{Name: "prediction", Type: arrow.PrimitiveTypes.Int64}, {Name: "prediction", Type: arrow.PrimitiveTypes.Int64}}, nil)
	badProb := arrow.NewSchema([]arrow.Field{{Name: "prediction", Type: arrow.PrimitiveTypes.Int64}, {Name: "prob_a", Type: arrow.PrimitiveTypes.Int64}}, nil)
	regular := filepath.Join(dir, "file")
	if err := os.WriteFile(regular, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		path   string
		schema *arrow.Schema
		opts   sink.PredictionOptions
		says   []string
	}{
		{"nil schema", "a.parquet", nil, sink.PredictionOptions{}, []string{"a.parquet", "nil schema"}},
		{"no prediction column", "a.parquet", noPred, sink.PredictionOptions{}, []string{`no "prediction" column (columns: id)`}},
		{"duplicate column", "a.parquet", dup, sink.PredictionOptions{}, []string{`"prediction" appears twice`}},
		{"integer probability", "a.csv", badProb, sink.PredictionOptions{}, []string{`"prob_a" has type int64`}},
		{"unknown extension", "a.json", good, sink.PredictionOptions{}, []string{"a.json", `unknown extension ".json"`, ".parquet or .csv"}},
		{"no extension", "predictions", good, sink.PredictionOptions{}, []string{"predictions", `unknown extension ""`}},
		{"bad format value", "a.csv", good, sink.PredictionOptions{Format: sink.Format(9)}, []string{"invalid format Format(9)"}},
		{"row groups for CSV", "a.csv", good, sink.PredictionOptions{RowGroupRows: 10}, []string{"RowGroupRows applies to Parquet only"}},
		{"negative row groups", "a.parquet", good, sink.PredictionOptions{RowGroupRows: -1}, []string{"RowGroupRows must be >= 0, got -1"}},
		{"struct in CSV", "a.csv", withStruct, sink.PredictionOptions{}, []string{`column "nested" has type struct`, "write Parquet instead"}},
		{"map in CSV", "a.csv", withMap, sink.PredictionOptions{}, []string{`column "m"`, "CSV cannot hold"}},
		{"union in Parquet", "a.parquet", withUnion, sink.PredictionOptions{}, []string{"a.parquet", "cannot write this schema as Parquet"}},
		{"missing directory", filepath.Join(dir, "nope", "p.parquet"), good, sink.PredictionOptions{}, []string{filepath.Join(dir, "nope", "p.parquet"), "does not exist"}},
		{"parent is a file", filepath.Join(regular, "p.csv"), good, sink.PredictionOptions{}, []string{filepath.Join(regular, "p.csv"), "not a directory"}},
		{"path is a directory", dir + "/.csv", good, sink.PredictionOptions{}, nil},
	}
	if err := os.Mkdir(dir+"/.csv", 0o700); err != nil {
		t.Fatal(err)
	}
	tests[len(tests)-1].says = []string{dir + "/.csv", "is a directory"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			path := tt.path
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, path)
			}
			w, err := sink.NewPredictionWriter(path, tt.schema, mem, tt.opts)
			if err == nil {
				w.Abort()
				t.Fatal("NewPredictionWriter succeeded")
			}
			oneLine(t, err, tt.says...)
		})
	}
	noTemps(t, dir, ".csv", "file")
}

// TestUnwritableDirectory needs a directory it cannot write: a chmod when not
// root, a read-only tmpfs when root.
func TestUnwritableDirectory(t *testing.T) {
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		if err := exec.Command("mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", dir).Run(); err != nil {
			t.Skipf("root but cannot mount a read-only tmpfs: %v", err)
		}
		t.Cleanup(func() { exec.Command("umount", dir).Run() })
	} else {
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
	}
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	for _, name := range []string{"p.parquet", "p.csv"} {
		path := filepath.Join(dir, name)
		_, err := sink.NewPredictionWriter(path, predSchema(t), mem, sink.PredictionOptions{})
		oneLine(t, err, path, "directory "+dir+" is")
		_, err = sink.NewMetricsWriter(path, mem)
		oneLine(t, err, path)
	}
	err := sink.PlotCurves(filepath.Join(dir, "curves.png"), sampleMetrics(50, 3))
	oneLine(t, err, filepath.Join(dir, "curves.png"), "directory "+dir+" is")
	t.Log(err)
}

func TestPredictionWriterErrorPaths(t *testing.T) {
	for _, ext := range []string{".parquet", ".csv"} {
		t.Run(ext, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			schema := predSchema(t)
			dir := t.TempDir()
			path := filepath.Join(dir, "pred"+ext)
			if err := os.WriteFile(path, []byte("previous run"), 0o644); err != nil {
				t.Fatal(err)
			}
			keep := func() {
				t.Helper()
				if b, err := os.ReadFile(path); err != nil || string(b) != "previous run" {
					t.Fatalf("previous file changed: %q, %v", b, err)
				}
				noTemps(t, dir, "pred"+ext)
			}

			t.Run("abort", func(t *testing.T) {
				w, err := sink.NewPredictionWriter(path, schema, mem, sink.PredictionOptions{})
				if err != nil {
					t.Fatal(err)
				}
				rec := predRecord(t, mem, schema, 0, 100)
				defer rec.Release()
				if err := w.Write(rec); err != nil {
					t.Fatal(err)
				}
				if err := w.Abort(); err != nil {
					t.Fatal(err)
				}
				keep()
				oneLine(t, w.Write(rec), path, "after Close or Abort")
				oneLine(t, w.Close(), path, "Close after Abort")
				if err := w.Abort(); err != nil {
					t.Fatalf("second Abort: %v", err)
				}
			})

			t.Run("schema mismatch", func(t *testing.T) {
				w, err := sink.NewPredictionWriter(path, schema, mem, sink.PredictionOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer w.Abort()
				good := predRecord(t, mem, schema, 0, 5)
				defer good.Release()
				if err := w.Write(good); err != nil {
					t.Fatal(err)
				}
				other, err := sink.PredictionSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int32}}, arrow.BinaryTypes.String, []string{"cat", "dog"})
				if err != nil {
					t.Fatal(err)
				}
				b := array.NewRecordBuilder(mem, other)
				defer b.Release()
				bad := b.NewRecordBatch()
				defer bad.Release()
				err = w.Write(bad)
				oneLine(t, err, path, "record has 4 columns, the file has 5")
				// The writer is now dead: later calls repeat the error and nothing is committed.
				if err2 := w.Write(good); err2 == nil || err2.Error() != err.Error() {
					t.Fatalf("Write after an error = %v, want %v", err2, err)
				}
				if err2 := w.Close(); err2 == nil || err2.Error() != err.Error() {
					t.Fatalf("Close after an error = %v, want %v", err2, err)
				}
				keep()
			})

			t.Run("column type mismatch", func(t *testing.T) {
				w, err := sink.NewPredictionWriter(path, schema, mem, sink.PredictionOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer w.Abort()
				fields := slices.Clone(schema.Fields())
				fields[3].Type = arrow.PrimitiveTypes.Float64
				b := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
				defer b.Release()
				bad := b.NewRecordBatch()
				defer bad.Release()
				oneLine(t, w.Write(bad), path, `record column 3 is "prob_cat" float64`, `the file's is "prob_cat" float32`)
				keep()
			})

			t.Run("consume", func(t *testing.T) {
				w, err := sink.NewPredictionWriter(path, schema, mem, sink.PredictionOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer w.Abort()
				ctx, cancel := context.WithCancel(context.Background())
				if err := w.Consume(ctx, predRecord(t, mem, schema, 0, 7)); err != nil {
					t.Fatal(err)
				}
				cancel()
				if err := w.Consume(ctx, predRecord(t, mem, schema, 7, 7)); !errors.Is(err, context.Canceled) {
					t.Fatalf("Consume after cancel = %v", err)
				}
				if w.Rows() != 7 {
					t.Fatalf("Rows() = %d, want 7", w.Rows())
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				_, got := readBack(t, mem, path, w.Format())
				if len(got) != 7 {
					t.Fatalf("%d rows, want 7", len(got))
				}
			})
		})
	}
}

// TestDiskFull writes predictions to a 256 KiB tmpfs; it needs permission to
// mount.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", dir).Run(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v", err)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	for _, ext := range []string{".parquet", ".csv"} {
		t.Run(ext, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			schema := predSchema(t)
			path := filepath.Join(dir, "pred"+ext)
			w, err := sink.NewPredictionWriter(path, schema, mem, sink.PredictionOptions{Format: sink.Auto})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort()
			var werr error
			for i := 0; i < 100 && werr == nil; i++ {
				rec := predRecord(t, mem, schema, i*20000, 20000)
				werr = w.Write(rec)
				rec.Release()
			}
			if werr == nil {
				werr = w.Close()
			}
			oneLine(t, werr, path, "disk full")
			if !strings.Contains(werr.Error(), "no space left on device") {
				t.Errorf("error %q does not carry the system's reason", werr)
			}
			t.Log(werr)
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("partial file left at %s", path)
			}
			noTemps(t, dir)
		})
	}
}

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		path string
		want sink.Format
		ok   bool
	}{
		{"a.parquet", sink.Parquet, true}, {"dir.x/a.PQ", sink.Parquet, true}, {"a.Csv", sink.CSV, true},
		{"a.csv.gz", sink.Auto, false}, {"a", sink.Auto, false}, {"a.parquet/", sink.Auto, false},
	} {
		got, err := sink.FormatOf(tt.path)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("FormatOf(%q) = %v, %v; want %v, ok %t", tt.path, got, err, tt.want, tt.ok)
		}
	}
	for f, s := range map[sink.Format]string{sink.Auto: "auto", sink.Parquet: "parquet", sink.CSV: "csv", 7: "Format(7)"} {
		if f.String() != s {
			t.Errorf("%d.String() = %q, want %q", int(f), f.String(), s)
		}
	}
}

// sampleMetrics returns a plausible run: a decaying noisy loss over steps and
// improving epoch losses and accuracies.
func sampleMetrics(steps, epochs int) sink.Metrics {
	var m sink.Metrics
	per := max(steps/max(epochs, 1), 1)
	for s := 1; s <= steps; s++ {
		noise := 0.3 * math.Sin(float64(s)*12.9898) * math.Exp(-float64(s)/float64(steps))
		m.Steps = append(m.Steps, sink.StepRow{Step: int64(s), Epoch: (s-1)/per + 1,
			Loss: 2.3*math.Exp(-4*float64(s)/float64(steps)) + 0.1 + noise, LR: 0.05, SamplesPerSec: 50000 + float64(s%10)})
	}
	for e := 1; e <= epochs; e++ {
		x := float64(e) / float64(epochs)
		m.Epochs = append(m.Epochs, sink.EpochRow{Epoch: e, Step: int64(e * per), TrainLoss: 0.2 + 0.8*math.Exp(-3*x),
			TrainAcc: 0.99 - 0.3*math.Exp(-3*x), ValLoss: 0.25 + 0.8*math.Exp(-3*x), ValAcc: 0.97 - 0.3*math.Exp(-3*x), Seconds: 1.5})
	}
	return m
}

func ExamplePredictionWriter() {
	dir, err := os.MkdirTemp("", "sink-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "predictions.csv")

	mem := memory.DefaultAllocator
	schema, err := sink.PredictionSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}},
		arrow.BinaryTypes.String, []string{"ham", "spam"})
	if err != nil {
		panic(err)
	}
	w, err := sink.NewPredictionWriter(path, schema, mem, sink.PredictionOptions{})
	if err != nil {
		panic(err)
	}
	defer w.Abort() // no-op after a successful Close

	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{17, 42}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"ham", "spam"}, nil)
	b.Field(2).(*array.Float32Builder).AppendValues([]float32{0.875, 0.25}, nil)
	b.Field(3).(*array.Float32Builder).AppendValues([]float32{0.125, 0.75}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	if err := w.Write(rec); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	out, _ := os.ReadFile(path)
	fmt.Print(string(out))
	// Output:
	// id,prediction,prob_ham,prob_spam
	// 17,ham,0.875,0.125
	// 42,spam,0.25,0.75
}

// TestAllNullColumn writes a nullable key column that is null in every row:
// the Parquet writer must not emit an empty dictionary page (which arrow's
// -tags assert build rejects) and both formats must read back nulls.
func TestAllNullColumn(t *testing.T) {
	for _, ext := range []string{".parquet", ".csv"} {
		t.Run(ext, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			s, err := sink.PredictionSchema([]arrow.Field{{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true}},
				arrow.PrimitiveTypes.Float64, nil)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "p"+ext)
			w, err := sink.NewPredictionWriter(path, s, mem, sink.PredictionOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort()
			b := array.NewRecordBuilder(mem, s)
			defer b.Release()
			b.Field(0).AppendNulls(3)
			b.Field(1).(*array.Float64Builder).AppendValues([]float64{1.5, math.NaN(), -2}, nil)
			rec := b.NewRecordBatch()
			defer rec.Release()
			if err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			_, got := readBack(t, mem, path, w.Format())
			want := [][]string{{"", "1.5"}, {"", "NaN"}, {"", "-2"}}
			if !slices.EqualFunc(got, want, slices.Equal[[]string]) {
				t.Fatalf("rows %q, want %q", got, want)
			}
		})
	}
}
