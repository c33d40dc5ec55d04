package stages

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/sgdpipe/sgdpipe/pipeline"
	"github.com/sgdpipe/sgdpipe/stages/feature"
)

// BenchmarkDataPath measures the data path alone (read -> shuffle -> normalize ->
// batch into a sink that releases the batches) over testdata/mnist/train.parquet, one
// epoch per iteration, for R = 1 and 2 readers, against a reference measured in the
// same run: a plain pqarrow read of the same file (all row groups, one goroutine).
// It reports rows/s, MB/s of file bytes and x-vs-ref = reference time / path time
// (above 1: the whole path is faster than the plain read).
func BenchmarkDataPath(b *testing.B) {
	st, err := os.Stat(mnistTrain)
	if err != nil {
		b.Skip(err)
	}
	var ref float64 // seconds per plain read
	b.Run("ref=pqarrow", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			pf, err := file.OpenParquetFile(mnistTrain, false)
			if err != nil {
				b.Fatal(err)
			}
			fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 2048, Parallel: false}, memory.DefaultAllocator)
			if err != nil {
				b.Fatal(err)
			}
			rr, err := fr.GetRecordReader(context.Background(), nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			for rr.Next() {
			}
			if err := rr.Err(); err != nil {
				b.Fatal(err)
			}
			rr.Release()
			pf.Close()
		}
		ref = b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(60000/ref, "rows/s")
		b.ReportMetric(float64(st.Size())/1e6/ref, "MB/s")
	})
	base := DataConfig{Paths: []string{mnistTrain}, Seed: 1, Epochs: 1, Feature: feature.Config{Target: "label"}}
	d, err := OpenDataPath(context.Background(), base)
	if err != nil {
		b.Fatal(err)
	}
	base.Spec = d.Spec
	d.Close()
	for _, tc := range []struct {
		mode           string
		readers, reads int
	}{{"buffer", 1, 0}, {"buffer", 2, 0}, {"none", 1, 0}, {"none", 2, 0}, {"buffer", 2, 8192}} {
		name := fmt.Sprintf("shuffle=%s/R=%d/N=2/B=128", tc.mode, tc.readers)
		if tc.reads > 0 {
			name += fmt.Sprintf("/read-rows=%d", tc.reads)
		}
		{
			b.Run(name, func(b *testing.B) {
				cfg := base
				cfg.Shuffle, cfg.Readers, cfg.ReadRows = tc.mode, tc.readers, tc.reads
				b.ReportAllocs()
				for b.Loop() {
					if err := runOnce(cfg); err != nil {
						b.Fatal(err)
					}
				}
				per := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(60000/per, "rows/s")
				b.ReportMetric(float64(st.Size())/1e6/per, "MB/s")
				if ref > 0 {
					b.ReportMetric(ref/per, "x-vs-ref")
				}
			})
		}
	}
}

// runOnce runs the data path of cfg into a sink that releases every batch.
func runOnce(cfg DataConfig) error {
	d, err := OpenDataPath(context.Background(), cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	g := pipeline.New(pipeline.Config{})
	batches, err := d.Add(g, Position{})
	if err != nil {
		return err
	}
	pipeline.AddSink(g, "drop", batches, pipeline.SinkFunc[Batch](func(ctx context.Context, b Batch) error {
		b.Release()
		return nil
	}))
	return g.Run(context.Background())
}
