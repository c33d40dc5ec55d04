package source

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

var mnistTrain = filepath.Join("..", "..", "testdata", "mnist", "train.parquet")

// BenchmarkMNISTTrain reads testdata/mnist/train.parquet (60000 rows, 6 row groups) through ReadShard,
// shard by shard on one goroutine, and reports rows/s, MB/s of file read and the speed relative to a plain
// pqarrow ReadTable of the same file measured in the same run (x-vs-ref > 1: faster than the reference).
func BenchmarkMNISTTrain(b *testing.B) {
	st, err := os.Stat(mnistTrain)
	if err != nil {
		b.Skip(err)
	}
	ref := func() {
		tbl, err := pqarrow.ReadTable(context.Background(), mustOpen(b, mnistTrain), nil, pqarrow.ArrowReadProperties{BatchSize: DefaultBatchRows}, memory.DefaultAllocator)
		if err != nil {
			b.Fatal(err)
		}
		tbl.Release()
	}
	d, err := Open([]string{mnistTrain}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	read := func() {
		for i := range d.Shards {
			err := d.ReadShard(context.Background(), i, nil, func(rec arrow.RecordBatch) error { rec.Release(); return nil })
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	// Reference in the same run: a few ReadTable passes, timed.
	const refRuns = 3
	start := time.Now()
	for range refRuns {
		ref()
	}
	refPer := time.Since(start) / refRuns
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		read()
	}
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(d.Rows)/per.Seconds(), "rows/s")
	b.ReportMetric(float64(st.Size())/1e6/per.Seconds(), "MB/s")
	b.ReportMetric(refPer.Seconds()/per.Seconds(), "x-vs-ref")
}

// mustOpen opens a Parquet file for the reference reader.
func mustOpen(b *testing.B, path string) *os.File {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}
