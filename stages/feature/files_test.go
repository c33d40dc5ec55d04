package feature

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/sgdpipe/sgdpipe/io/source"
)

// repo data shared by the packages' tests (copies of the fixtures, see testdata/*/MANIFEST.md).
const (
	sharedData = "../../testdata/shared"
	mnistData  = "../../testdata/mnist"
)

// openData opens paths with allocator mem (and small batches, so that records are slices).
func openData(t testing.TB, mem memory.Allocator, chunkRows int, paths ...string) *source.Dataset {
	t.Helper()
	ds, err := source.Open(paths, source.Options{Mem: mem, BatchRows: 1000, CSV: source.CSVOptions{ChunkRows: chunkRows}})
	if err != nil {
		t.Fatalf("open %v: %v", paths, err)
	}
	t.Cleanup(func() { ds.Close() })
	return ds
}

// transformDataset transforms every shard of ds with s (adding __row) and returns x, y and the __row
// values in order.
func transformDataset(t testing.TB, mem memory.Allocator, s *Spec, ds *source.Dataset) (x [][]float32, y []int32, rows []int64) {
	t.Helper()
	cols, hasTarget, err := s.Columns(ds.Schema)
	if err != nil {
		t.Fatalf("Columns: %v", err)
	}
	for i, sh := range ds.Shards {
		first := sh.First
		err := ds.ReadShard(context.Background(), i, cols, func(rec arrow.RecordBatch) error {
			in := withRows(mem, rec, first)
			first += rec.NumRows()
			out, err := s.Transform(in, mem)
			in.Release()
			if err != nil {
				return err // ReadShard releases rec
			}
			rec.Release()
			defer out.Release()
			data, n, d := XMatrix(out)
			for r := range n {
				x = append(x, append([]float32(nil), data[r*d:(r+1)*d]...))
			}
			if hasTarget {
				y = append(y, out.Column(1).(interface{ Int32Values() []int32 }).Int32Values()...)
			}
			rows = append(rows, out.Column(out.Schema().NumFields()-1).(interface{ Int64Values() []int64 }).Int64Values()...)
			return nil
		})
		if err != nil {
			t.Fatalf("shard %d: %v", i, err)
		}
	}
	return x, y, rows
}

// TestMNISTLayouts fits the MNIST test set in its three layouts: FixedSizeList<uint8>[784] (arrow-go),
// List<float32> (DuckDB's fixed arrays) and 784 uint8 columns (DuckDB wide). All featurize to Dim 784
// with the same per-pixel statistics, and the same z-scored x.
func TestMNISTLayouts(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 3 × 10000 MNIST rows")
	}
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	var specs []*Spec
	for _, p := range []string{
		filepath.Join(mnistData, "test.parquet"),
		filepath.Join(sharedData, "mnist_test_tensor.parquet"),
		filepath.Join(sharedData, "mnist_test_wide.parquet"),
	} {
		ds := openData(t, mem, 0, p)
		s, err := Fit(context.Background(), ds, Config{Target: "label"}, 2)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if s.Dim != 784 || s.Task != Classification || fmt.Sprint(s.Classes) != "[0 1 2 3 4 5 6 7 8 9]" || s.Rows != 10000 {
			t.Fatalf("%s: dim %d, task %q, classes %v, rows %d", p, s.Dim, s.Task, s.Classes, s.Rows)
		}
		specs = append(specs, s)
		if len(specs) == 1 {
			x, y, rows := transformDataset(t, mem, s, ds)
			if len(x) != 10000 || len(y) != 10000 || rows[9999] != 9999 {
				t.Fatalf("%d rows transformed", len(x))
			}
			for _, j := range []int{0, 300, 400, 783} {
				mean, v, _, _ := slotStats(x, j)
				if s.Features[0].Stats[j].Variance() > 0 && (mean > 1e-5 || mean < -1e-5 || v-1 > 1e-5 || 1-v > 1e-5) {
					t.Errorf("pixel %d: mean %g variance %g after z-score", j, mean, v)
				}
			}
		}
	}
	pixel := func(s *Spec, j int) Moments {
		if len(s.Features) == 1 {
			return s.Features[0].Stats[j]
		}
		return s.Features[j].Stats[0]
	}
	for j := range 784 {
		a := pixel(specs[0], j)
		for k, s := range specs[1:] {
			b := pixel(s, j)
			if a.Count() != b.Count() || a.Min() != b.Min() || a.Max() != b.Max() ||
				!relClose(a.Mean(), b.Mean(), 1e-9, a.Mean()) || !relClose(a.Variance(), b.Variance(), 1e-9, a.Variance()) {
				t.Fatalf("pixel %d: layout %d has %v, fixed-size list has %v", j, k+1, b, a)
			}
		}
	}
}

// TestIrisFormats fits iris from CSV, Parquet, Arrow IPC file and stream. The specs are bitwise equal
// across worker counts; across formats (which cut the rows into different shards) the statistics agree
// to 1e-12 and the rest exactly, up to the label's integer width, which the writers chose differently.
func TestIrisFormats(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	var ref *Spec
	for _, name := range []string{"iris.csv", "iris.parquet", "iris.arrow", "iris.arrows"} {
		ds := openData(t, mem, 40, filepath.Join(sharedData, name))
		var first []byte
		for _, workers := range []int{1, 3} {
			s, err := Fit(context.Background(), ds, Config{Target: "label"}, workers)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			b, _ := json.Marshal(s)
			if first == nil {
				first = b
			} else if string(b) != string(first) {
				t.Errorf("%s: spec with %d workers differs from 1 worker's", name, workers)
			}
			if ref == nil {
				ref = s
				continue
			}
			if s.Dim != 4 || fmt.Sprint(s.Classes) != "[0 1 2]" || s.Task != Classification || s.Rows != 150 {
				t.Errorf("%s: dim %d classes %v task %q rows %d", name, s.Dim, s.Classes, s.Task, s.Rows)
			}
			for i, c := range s.Features {
				p, q := ref.Features[i].Stats[0], c.Stats[0]
				if c.Name != ref.Features[i].Name || p.Count() != q.Count() || p.Min() != q.Min() || p.Max() != q.Max() ||
					!relClose(p.Mean(), q.Mean(), 1e-12, p.Mean()) || !relClose(p.M2(), q.M2(), 1e-12, p.M2()) {
					t.Errorf("%s: column %q: %v, iris.csv gives %v", name, c.Name, q, p)
				}
			}
		}
	}
}

func TestBreastCancerBinary(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	ds := openData(t, mem, 100, filepath.Join(sharedData, "breast_cancer.csv"))
	s, err := Fit(context.Background(), ds, Config{Target: "label", Normalize: NormMinMax}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if s.Task != Binary || s.Dim != 30 || len(ds.Shards) != 6 {
		t.Fatalf("task %q dim %d shards %d", s.Task, s.Dim, len(ds.Shards))
	}
	x, y, _ := transformDataset(t, mem, s, ds)
	for j := range s.Dim {
		if _, _, lo, hi := slotStats(x, j); lo != 0 || hi != 1 {
			t.Errorf("feature %d: range [%g, %g]", j, lo, hi)
		}
	}
	if len(y) != 569 {
		t.Errorf("%d labels", len(y))
	}
}

// TestFileErrors checks errors over real files name the file path, the column and the row within the
// file, across CSV chunks.
func TestFileErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var b strings.Builder
	b.WriteString("a,label\n")
	for i := range 120 {
		if i == 103 {
			b.WriteString("NaN,1\n")
			continue
		}
		fmt.Fprintf(&b, "%d,%d\n", i, i%2)
	}
	nan := write("nan.csv", b.String())
	other := write("other.csv", "a,label\n1.5,0\n2.5,1\n")

	ds := openData(t, mem, 25, other, nan)
	_, err := Fit(context.Background(), ds, Config{Target: "label"}, 2)
	checkError(t, err, fmt.Sprintf("file %q", nan), `column "a"`, "row 103", "NaN")

	_, err = Fit(context.Background(), ds, Config{Target: "class"}, 2)
	checkError(t, err, `target column "class" is not in`, other, "and 1 other files")

	s, err := Fit(context.Background(), ds, Config{Target: "label", AllowNonFinite: true}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if s.Features[0].NonFinite != 1 || s.Rows != 122 {
		t.Errorf("non-finite %d, rows %d", s.Features[0].NonFinite, s.Rows)
	}
}

// ExampleFit fits the iris data set and turns its first record into x and y.
func ExampleFit() {
	ds, err := source.Open([]string{"../../testdata/shared/iris.csv"}, source.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ds.Close()
	spec, err := Fit(context.Background(), ds, Config{Target: "label"}, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("dim:", spec.Dim, "task:", spec.Task, "classes:", spec.Classes)
	f := spec.Features[0]
	fmt.Printf("%s: mean %.3f std %.3f\n", f.Name, f.Stats[0].Mean(), f.Stats[0].Std())

	cols, _, err := spec.Columns(ds.Schema)
	if err != nil {
		fmt.Println(err)
		return
	}
	err = ds.ReadShard(context.Background(), 0, cols, func(rec arrow.RecordBatch) error {
		out, err := spec.Transform(rec, memory.DefaultAllocator)
		if err != nil {
			return err // not delivered: ReadShard releases rec
		}
		rec.Release()
		defer out.Release()
		x, rows, d := XMatrix(out)
		fmt.Printf("%d rows; first row x = %.2f, y = %d\n", rows, x[:d], out.Column(1).(interface{ Value(int) int32 }).Value(0))
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// dim: 4 task: classification classes: [0 1 2]
	// sepal_length_cm: mean 5.843 std 0.825
	// 150 rows; first row x = [-0.90 1.02 -1.34 -1.32], y = 0
}
