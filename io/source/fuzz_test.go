package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
)

// fuzzOne writes data to a temporary file, opens it as format and reads every shard. It must neither
// panic nor leak; errors must be one line naming the file.
func fuzzOne(t *testing.T, data []byte, format Format, name string) {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	d, err := Open([]string{path}, Options{Mem: mem, Format: format, MaxBytes: 64 << 20, BatchRows: 100, CSV: CSVOptions{ChunkRows: 50}})
	if err != nil {
		checkErr(t, err, path)
		return
	}
	for i := range d.Shards {
		err := d.ReadShard(context.Background(), i, nil, func(rec arrow.RecordBatch) error {
			for _, c := range rec.Columns() { // touch every value
				for r := 0; r < c.Len(); r++ {
					_ = c.ValueStr(r)
				}
			}
			rec.Release()
			return nil
		})
		if err != nil {
			checkErr(t, err, path)
		}
	}
	if _, err := Inspect(context.Background(), d); err != nil {
		checkErr(t, err, path)
	}
}

func checkErr(t *testing.T, err error, path string) {
	msg := err.Error()
	if strings.ContainsAny(msg, "\n\r") || !strings.Contains(msg, path) || len(msg) > maxErrLen+len(path) {
		t.Fatalf("bad error: %q", msg)
	}
}

// addSeeds adds the files of dir (non-recursive) and extra generated files as seeds.
func addSeeds(f *testing.F, paths ...string) {
	for _, p := range paths {
		matches, _ := filepath.Glob(p)
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil && !st.IsDir() && st.Size() < 1<<20 {
				if b, err := os.ReadFile(m); err == nil {
					f.Add(b)
				}
			}
		}
	}
}

func FuzzParquet(f *testing.F) {
	dir := f.TempDir()
	for _, c := range []compress.Compression{compress.Codecs.Snappy, compress.Codecs.Zstd, compress.Codecs.Gzip, compress.Codecs.Uncompressed} {
		writeParquetFixture(f, filepath.Join(dir, c.String()+".parquet"), 30, 10, c)
	}
	addSeeds(f, filepath.Join(dir, "*.parquet"), filepath.Join(sharedDir, "iris.parquet"),
		filepath.Join(robustnessDir, "parquet-testing", "*.parquet"), filepath.Join(robustnessDir, "arrow-testing", "parquet-fuzz", "*"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzOne(t, data, Parquet, "f.parquet") })
}

func FuzzIPCFile(f *testing.F) {
	dir := f.TempDir()
	writeIPCFixture(f, filepath.Join(dir, "a.arrow"), 50, 16, false)
	addSeeds(f, filepath.Join(dir, "a.arrow"), filepath.Join(sharedDir, "iris.arrow"),
		filepath.Join(robustnessDir, "arrow-testing", "integration", "*", "*.arrow_file"), filepath.Join(robustnessDir, "arrow-testing", "ipc-file-fuzz", "*"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzOne(t, data, IPCFile, "f.arrow") })
}

func FuzzIPCStream(f *testing.F) {
	dir := f.TempDir()
	writeIPCFixture(f, filepath.Join(dir, "a.arrows"), 50, 16, true)
	addSeeds(f, filepath.Join(dir, "a.arrows"), filepath.Join(sharedDir, "iris.arrows"),
		filepath.Join(robustnessDir, "arrow-testing", "integration", "*", "*.stream"), filepath.Join(robustnessDir, "arrow-testing", "ipc-stream-fuzz", "*"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzOne(t, data, IPCStream, "f.arrows") })
}

func FuzzCSV(f *testing.F) {
	f.Add([]byte(fixtureCSV))
	f.Add([]byte("a,b\n1,2\n\"x\ny\",3\n,\n"))
	addSeeds(f, filepath.Join(sharedDir, "iris.csv"), filepath.Join(robustnessDir, "arrow-testing", "csv", "*.csv"),
		filepath.Join(robustnessDir, "arrow-testing", "csv-fuzz", "*"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzOne(t, data, CSV, "f.csv") })
}
