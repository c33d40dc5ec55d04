package stages

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// writeParquet writes recs to path, one row group per record (zstd, Arrow schema
// stored so fixed-size lists read back as such).
func writeParquet(t testing.TB, path string, recs []arrow.RecordBatch) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithMaxRowGroupLength(1<<30))
	w, err := pqarrow.NewFileWriter(recs[0].Schema(), f, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// tableSchema is the schema of the synthetic tables: every value derives from the
// row's global index id.
var tableSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "x", Type: arrow.PrimitiveTypes.Float64},
	{Name: "label", Type: arrow.PrimitiveTypes.Int64},
}, nil)

// tableRecord builds rows [first, first+n) of the synthetic table: x = id/10,
// label = labelOf(id).
func tableRecord(mem memory.Allocator, first, n int64, labelOf func(int64) int64) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, tableSchema)
	defer b.Release()
	for id := first; id < first+n; id++ {
		b.Field(0).(*array.Int64Builder).Append(id)
		b.Field(1).(*array.Float64Builder).Append(float64(id) / 10)
		b.Field(2).(*array.Int64Builder).Append(labelOf(id))
	}
	return b.NewRecordBatch()
}

func mod3(id int64) int64 { return id % 3 }

// writeTable writes rows [0, rows) of the synthetic table into files of fileRows rows
// each, in row groups of groupRows, and returns the file paths in order.
func writeTable(t testing.TB, dir string, rows, fileRows, groupRows int64, labelOf func(int64) int64) []string {
	t.Helper()
	var paths []string
	for first := int64(0); first < rows; first += fileRows {
		var recs []arrow.RecordBatch
		for g := first; g < min(first+fileRows, rows); g += groupRows {
			recs = append(recs, tableRecord(memory.DefaultAllocator, g, min(groupRows, first+fileRows-g, rows-g), labelOf))
		}
		p := filepath.Join(dir, "part-"+string(rune('a'+len(paths)))+".parquet")
		writeParquet(t, p, recs)
		for _, r := range recs {
			r.Release()
		}
		paths = append(paths, p)
	}
	return paths
}

// copyFile copies src to dst.
func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
