package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// writeWideParquet writes rows rows of (pixels: fixed_size_list<uint8>[width], label: int64) in row
// groups of rgRows, MNIST-shaped.
func writeWideParquet(t testing.TB, path string, rows, rgRows, width int) {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "pixels", Type: arrow.FixedSizeListOf(int32(width), arrow.PrimitiveTypes.Uint8)},
		{Name: "label", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithMaxRowGroupLength(int64(rgRows)))
	w, err := pqarrow.NewFileWriter(sc, f, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	lb := b.Field(0).(*array.FixedSizeListBuilder)
	vb := lb.ValueBuilder().(*array.Uint8Builder)
	for start := 0; start < rows; start += rgRows {
		for r := start; r < min(start+rgRows, rows); r++ {
			lb.Append(true)
			for k := range width {
				vb.Append(uint8(r + k))
			}
			b.Field(1).(*array.Int64Builder).Append(int64(r))
		}
		rec := b.NewRecordBatch()
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

// leafValues counts the leaf values of a column (list elements), as pqarrow decodes them.
func leafValues(a arrow.Array) int {
	switch a := a.(type) {
	case *array.FixedSizeList:
		n := int(a.DataType().(*arrow.FixedSizeListType).Len())
		return a.Len() * n
	}
	return a.Len()
}

// TestRecordRows checks how many rows the records of ReadShard have: with Options.BatchRows left at 0,
// records of wide rows (a Parquet list of 1000 values, a CSV of 300 columns) hold at most
// DefaultBatchValues values, narrow ones DefaultBatchRows rows; an explicit BatchRows is honoured
// whatever the width.
func TestRecordRows(t *testing.T) {
	dir := t.TempDir()
	const width = 1000
	wide := filepath.Join(dir, "wide.parquet")
	writeWideParquet(t, wide, 3000, 2000, width)
	narrow := filepath.Join(dir, "narrow.parquet")
	writeWideParquet(t, narrow, 20000, 20000, 4) // 5 values per row
	var csv strings.Builder
	const csvCols, csvRows = 300, 2500
	for c := range csvCols {
		fmt.Fprintf(&csv, "c%d,", c)
	}
	csv.WriteString("y\n")
	for r := range csvRows {
		for c := range csvCols {
			fmt.Fprintf(&csv, "%d,", (r+c)%10)
		}
		fmt.Fprintf(&csv, "%d\n", r)
	}
	wideCSV := writeFile(t, filepath.Join(dir, "wide.csv"), csv.String())

	perAll := DefaultBatchValues / (width + 1) // rows per record of the wide file: 1000 list values and a label
	perList := DefaultBatchValues / width
	perCSV := DefaultBatchValues / (csvCols + 1)
	cut := func(per int, shards ...int) []int { // rows of the records of shards of the given rows, per rows each
		var out []int
		for _, n := range shards {
			for ; n > 0; n -= min(n, per) {
				out = append(out, min(n, per))
			}
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		path      string
		batchRows int
		columns   []int
		want      []int // rows of each record, in order
	}{
		{"wide list, default", wide, 0, nil, cut(perAll, 2000, 1000)},
		{"wide list, the list only", wide, 0, []int{0}, cut(perList, 2000, 1000)},
		{"wide list, narrow column only", wide, 0, []int{1}, []int{2000, 1000}},
		{"wide list, BatchRows 1500", wide, 1500, nil, []int{1500, 500, 1000}},
		{"wide list, BatchRows 8192", wide, DefaultBatchRows, nil, []int{2000, 1000}},
		{"narrow, default", narrow, 0, nil, []int{8192, 8192, 3616}},
		{"wide CSV, default", wideCSV, 0, nil, cut(perCSV, csvRows)},
		{"wide CSV, BatchRows 2000", wideCSV, 2000, nil, []int{2000, 500}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			d, err := Open([]string{tc.path}, Options{Mem: mem, BatchRows: tc.batchRows})
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for i := range d.Shards {
				err := d.ReadShard(context.Background(), i, tc.columns, func(rec arrow.RecordBatch) error {
					defer rec.Release()
					got = append(got, int(rec.NumRows()))
					if tc.batchRows != 0 {
						return nil
					}
					values := 0
					for _, c := range rec.Columns() {
						values += leafValues(c)
					}
					if values > DefaultBatchValues && rec.NumRows() > 1 {
						t.Errorf("record of %d rows holds %d values, more than DefaultBatchValues (%d)", rec.NumRows(), values, DefaultBatchValues)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("records of %v rows, want %v", got, tc.want)
			}
		})
	}
}

// TestRecordRowsMemory checks that bounding the values per record bounds what decoding a wide row group
// holds at once through Options.Mem: levels, values and builders of one record (about 9 bytes per value
// here), under 32 bytes per value of a record, where 4000-row records of the same file need several
// times more.
func TestRecordRowsMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wide.parquet")
	const width = 1000
	writeWideParquet(t, path, 4000, 4000, width)
	peak := func(batchRows int) int64 {
		mem := &peakAlloc{}
		d, err := Open([]string{path}, Options{Mem: mem, BatchRows: batchRows})
		if err != nil {
			t.Fatal(err)
		}
		err = d.ReadShard(context.Background(), 0, nil, func(rec arrow.RecordBatch) error { rec.Release(); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if mem.live.Load() != 0 {
			t.Fatalf("%d bytes still allocated", mem.live.Load())
		}
		return mem.peak.Load()
	}
	auto, big := peak(0), peak(4000)
	t.Logf("peak bytes held through Options.Mem: %d by default (%d rows per record), %d with records of 4000 rows", auto, DefaultBatchValues/width, big)
	if limit := int64(32 * DefaultBatchValues); auto > limit {
		t.Errorf("default records: decoding held %d bytes at once, more than %d (32 bytes per value)", auto, limit)
	}
	if auto*3 > big {
		t.Errorf("default records: decoding held %d bytes at once, records of 4000 rows %d: want a third or less", auto, big)
	}
}
