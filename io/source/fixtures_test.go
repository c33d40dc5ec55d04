package source

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// sharedDir holds copies of the fixtures written by DuckDB and Arrow JS (see its MANIFEST.md).
var sharedDir = filepath.Join("..", "..", "testdata", "shared")

// fixtureSchema is the schema of the generated fixtures: an id, a nullable float, a nullable
// dictionary-encoded string and a fixed-size list, which covers every reader path.
var fixtureSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "tag", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, Nullable: true},
	{Name: "v", Type: arrow.FixedSizeListOf(3, arrow.PrimitiveTypes.Float32)},
}, nil)

// fixtureRecord builds rows [first, first+n) of the fixture: x is null every 7th row, tag every 5th.
func fixtureRecord(mem memory.Allocator, first, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, fixtureSchema)
	defer b.Release()
	tags := []string{"cat", "dog", "emu"}
	// The same dictionary in every batch: the IPC file format allows no dictionary replacement.
	dict := array.NewStringBuilder(mem)
	dict.AppendValues(tags, nil)
	dv := dict.NewStringArray()
	dict.Release()
	defer dv.Release()
	if err := b.Field(2).(*array.BinaryDictionaryBuilder).InsertStringDictValues(dv); err != nil {
		panic(err)
	}
	for i := first; i < first+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if i%7 == 3 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Float64Builder).Append(float64(i) / 2)
		}
		if i%5 == 4 {
			b.Field(2).AppendNull()
		} else if err := b.Field(2).(*array.BinaryDictionaryBuilder).AppendString(tags[i%3]); err != nil {
			panic(err)
		}
		lb := b.Field(3).(*array.FixedSizeListBuilder)
		lb.Append(true)
		vb := lb.ValueBuilder().(*array.Float32Builder)
		vb.AppendValues([]float32{float32(i), float32(-i), 0.5}, nil)
	}
	return b.NewRecordBatch()
}

// writeParquetFixture writes rows [0, rows) in row groups of rgRows with the given codec.
func writeParquetFixture(t testing.TB, path string, rows, rgRows int, codec compress.Compression) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	props := parquet.NewWriterProperties(parquet.WithCompression(codec), parquet.WithMaxRowGroupLength(int64(rgRows)),
		parquet.WithDictionaryDefault(true))
	w, err := pqarrow.NewFileWriter(fixtureSchema, f, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	for start := 0; start < rows; start += rgRows {
		rec := fixtureRecord(memory.DefaultAllocator, start, min(rgRows, rows-start))
		err := w.Write(rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeIPCFixture writes rows [0, rows) in batches of batchRows as an IPC file or stream.
func writeIPCFixture(t testing.TB, path string, rows, batchRows int, stream bool) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type writer interface {
		Write(arrow.RecordBatch) error
		Close() error
	}
	var w writer
	if stream {
		w = ipc.NewWriter(f, ipc.WithSchema(fixtureSchema))
	} else if w, err = ipc.NewFileWriter(f, ipc.WithSchema(fixtureSchema)); err != nil {
		t.Fatal(err)
	}
	for start := 0; start < rows; start += batchRows {
		rec := fixtureRecord(memory.DefaultAllocator, start, min(batchRows, rows-start))
		err := w.Write(rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t testing.TB, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// fixtureCSV has quoted fields with commas, quotes and newlines, empty (null) fields, CRLF line ends, a
// blank line and no final newline.
const fixtureCSV = "id,name,score,ok\r\n" +
	"1,\"Smith, J\",1.5,true\r\n" +
	"2,\"say \"\"hi\"\"\",,false\r\n" +
	"\r\n" +
	"3,\"two\nlines\",-2,\r\n" +
	"4,,7,TRUE\r\n" +
	"5,plain,1e3,false"

// collect reads every shard of d over columns and returns the records' rows per column as strings.
func collect(t testing.TB, d *Dataset, columns []int) (rows int64, cols [][]string) {
	t.Helper()
	for i := range d.Shards {
		err := d.ReadShard(t.Context(), i, columns, func(rec arrow.RecordBatch) error {
			defer rec.Release()
			if cols == nil {
				cols = make([][]string, rec.NumCols())
			}
			for c := range cols {
				a := rec.Column(c)
				for r := 0; r < a.Len(); r++ {
					cols[c] = append(cols[c], a.ValueStr(r))
				}
			}
			rows += rec.NumRows()
			return nil
		})
		if err != nil {
			t.Fatalf("ReadShard(%d): %v", i, err)
		}
	}
	return rows, cols
}

func fmtRow(cols [][]string, r int) string {
	s := ""
	for c := range cols {
		s += fmt.Sprintf("%s|", cols[c][r])
	}
	return s
}
