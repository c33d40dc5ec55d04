package sink_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	arrowcsv "github.com/apache/arrow-go/v18/arrow/csv"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/sgdpipe/sgdpipe/io/sink"
)

// writeRef writes recs with arrow's writer straight to a file: no validation,
// no temporary file, no fsync. It is the reference for BenchmarkPredictionWriter.
func writeRef(path string, format sink.Format, s *arrow.Schema, recs []arrow.RecordBatch) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 64<<10)
	if format == sink.CSV {
		w := arrowcsv.NewWriter(bw, s, arrowcsv.WithHeader(true), arrowcsv.WithNullWriter(""),
			arrowcsv.WithCustomTypeConverter(func(arrow.DataType, arrow.Array) ([]string, bool) { return nil, false }))
		for _, r := range recs {
			if err := w.Write(r); err != nil {
				return err
			}
		}
		return bw.Flush()
	}
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithMaxRowGroupLength(64<<10))
	w, err := pqarrow.NewFileWriter(s, bw, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := w.WriteBuffered(r); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// BenchmarkPredictionWriter writes 100 records of 1024 rows per op and reports
// the ratio to arrow's bare writer in the same run.
func BenchmarkPredictionWriter(b *testing.B) {
	mem := memory.DefaultAllocator
	// The reference cannot format dictionaries in CSV, so it uses plain keys.
	s, err := sink.PredictionSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}},
		arrow.BinaryTypes.String, []string{"cat", "dog"})
	if err != nil {
		b.Fatal(err)
	}
	const records, rowsPer = 100, 1024
	recs := make([]arrow.RecordBatch, records)
	for i := range recs {
		recs[i] = plainRecord(b, mem, s, i*rowsPer, rowsPer)
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	for _, format := range []sink.Format{sink.Parquet, sink.CSV} {
		b.Run(fmt.Sprintf("format=%v/rows=%d", format, records*rowsPer), func(b *testing.B) {
			dir := b.TempDir()
			ext := map[sink.Format]string{sink.Parquet: ".parquet", sink.CSV: ".csv"}[format]
			refStart := time.Now()
			const refReps = 3
			for range refReps {
				if err := writeRef(filepath.Join(dir, "ref"+ext), format, s, recs); err != nil {
					b.Fatal(err)
				}
			}
			ref := float64(time.Since(refStart).Nanoseconds()) / refReps
			path := filepath.Join(dir, "out"+ext)
			b.ReportAllocs()
			start, n := time.Now(), 0
			for b.Loop() {
				w, err := sink.NewPredictionWriter(path, s, mem, sink.PredictionOptions{})
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range recs {
					if err := w.Write(r); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				n++
			}
			per := float64(time.Since(start).Nanoseconds()) / float64(n)
			b.ReportMetric(records*rowsPer/(per/1e9), "rows/s")
			b.ReportMetric(per/ref, "x-vs-ref")
		})
	}
}

// BenchmarkMetricsWriter measures WriteStep alone (buffered rows, flushed every
// 4,096); the reference is appending the same row to a Go slice.
func BenchmarkMetricsWriter(b *testing.B) {
	w, err := sink.NewMetricsWriter(filepath.Join(b.TempDir(), "m.parquet"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Abort()
	row := sink.StepRow{Step: 1, Epoch: 1, Loss: 0.5, LR: 0.1, SamplesPerSec: 1e5}
	var sl []sink.StepRow
	const refN = 100000
	refStart := time.Now()
	for range refN {
		sl = append(sl, row)
	}
	ref := float64(time.Since(refStart).Nanoseconds()) / refN
	b.ReportAllocs()
	start, n := time.Now(), 0
	for b.Loop() {
		if err := w.WriteStep(row); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(n)/ref, "x-vs-ref")
	_ = sl
}

// BenchmarkPlotCurves draws 10,000 steps and 20 epochs.
func BenchmarkPlotCurves(b *testing.B) {
	m := sampleMetrics(10000, 20)
	path := filepath.Join(b.TempDir(), "c.png")
	b.ReportAllocs()
	for b.Loop() {
		if err := sink.PlotCurves(path, m); err != nil {
			b.Fatal(err)
		}
	}
}

// plainRecord builds rows [from, from+n) for a schema of id, prediction and
// two probabilities.
func plainRecord(t testing.TB, mem memory.Allocator, s *arrow.Schema, from, n int) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(mem, s)
	defer b.Release()
	for i := from; i < from+n; i++ {
		p := float32(i%100) / 100
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append([]string{"dog", "cat"}[i%2])
		b.Field(2).(*array.Float32Builder).Append(p)
		b.Field(3).(*array.Float32Builder).Append(1 - p)
	}
	return b.NewRecordBatch()
}
