package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
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

// peakAlloc is a memory.Allocator that forwards to memory.DefaultAllocator and records the high-water
// mark of the bytes it has handed out and not got back.
type peakAlloc struct {
	live, peak atomic.Int64
}

func (a *peakAlloc) add(n int64) {
	v := a.live.Add(n)
	for p := a.peak.Load(); v > p && !a.peak.CompareAndSwap(p, v); p = a.peak.Load() {
	}
}

func (a *peakAlloc) Allocate(n int) []byte {
	a.add(int64(n))
	return memory.DefaultAllocator.Allocate(n)
}

func (a *peakAlloc) Reallocate(n int, p []byte) []byte {
	a.add(int64(n - len(p)))
	return memory.DefaultAllocator.Reallocate(n, p)
}

func (a *peakAlloc) Free(p []byte) {
	a.add(-int64(len(p)))
	memory.DefaultAllocator.Free(p)
}

// heapPeak samples the Go heap (bytes in live and not yet swept objects) every millisecond until stop is
// called, which returns the highest sample.
func heapPeak() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	done, result := make(chan struct{}), make(chan uint64)
	go func() {
		var peak uint64
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-done:
				result <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); return <-result }
}

// BenchmarkMNISTReadRows reads testdata/mnist/train.parquet (pixels: 784 uint8 per row, stored as a
// Parquet list) through ReadShard, shard by shard on one goroutine, with records of several sizes
// (benchReadRows), and reports the read speed (MB/s of file, rows/s), the peak of the bytes the decoder
// held through Options.Mem (mem-peak-MB) and the peak of the Go heap sampled every millisecond
// (heap-peak-MB, garbage included: what the process needs).
func BenchmarkMNISTReadRows(b *testing.B) {
	st, err := os.Stat(mnistTrain)
	if err != nil {
		b.Skip(err)
	}
	for _, rows := range benchReadRows {
		name := fmt.Sprintf("rows=%d", rows)
		if rows == 0 {
			name = "rows=default"
		}
		b.Run(name, func(b *testing.B) {
			mem := &peakAlloc{}
			d, err := Open([]string{mnistTrain}, Options{Mem: mem, BatchRows: rows})
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			stop := heapPeak()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				for i := range d.Shards {
					err := d.ReadShard(context.Background(), i, nil, func(rec arrow.RecordBatch) error { rec.Release(); return nil })
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			per := b.Elapsed() / time.Duration(b.N)
			heap := stop()
			b.ReportMetric(float64(d.Rows)/per.Seconds(), "rows/s")
			b.ReportMetric(float64(st.Size())/1e6/per.Seconds(), "MB/s")
			b.ReportMetric(float64(mem.peak.Load())/(1<<20), "mem-peak-MB")
			b.ReportMetric(float64(heap)/(1<<20), "heap-peak-MB")
		})
	}
}

// benchReadRows are the Options.BatchRows of BenchmarkMNISTReadRows: the default (0: 667 rows of MNIST),
// the fixed 8192 rows the default was before it bounded values, and two sizes between.
var benchReadRows = []int{0, 8192, 2048, 512}
