package stages

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// mnistSchema is the shape of testdata/mnist/*.parquet plus the reader's row column.
var mnistSchema = arrow.NewSchema([]arrow.Field{
	{Name: "pixels", Type: arrow.FixedSizeListOf(784, arrow.PrimitiveTypes.Uint8)},
	{Name: "label", Type: arrow.PrimitiveTypes.Uint8},
	{Name: RowColumn, Type: arrow.PrimitiveTypes.Int64},
}, nil)

// mnistLike builds rows first..first+n-1 of MNIST-shaped data.
func mnistLike(mem memory.Allocator, first int64, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, mnistSchema)
	defer b.Release()
	px := b.Field(0).(*array.FixedSizeListBuilder)
	pv := px.ValueBuilder().(*array.Uint8Builder)
	row := make([]uint8, 784)
	for i := range n {
		id := first + int64(i)
		for k := range row {
			row[k] = uint8(id + int64(k))
		}
		px.Append(true)
		pv.AppendValues(row, nil)
		b.Field(1).(*array.Uint8Builder).Append(uint8(id % 10))
		b.Field(2).(*array.Int64Builder).Append(id)
	}
	return b.NewRecordBatch()
}

// BenchmarkShuffler measures the row-buffer shuffler alone on MNIST-shaped records
// (input records of 8192 rows, made once and retained per use) against a reference
// measured in the same run: a sequential copy of the same records (one
// array.Concatenate per column and shard), the cheapest way to move the bytes once.
func BenchmarkShuffler(b *testing.B) {
	const rows, recRows = 60_000, 8192
	mem := memory.DefaultAllocator
	shards := shardSizes(rows, 10_000)
	var recs []Chunk
	for s, n := range shards {
		first := int64(s) * 10_000
		for off := int64(0); off < n; off += recRows {
			recs = append(recs, Chunk{Rec: mnistLike(mem, first+off, int(min(recRows, n-off)))})
		}
	}
	defer func() {
		for _, c := range recs {
			c.Release()
		}
	}()
	run := func(b *testing.B, mode ShuffleMode, buffer int) float64 {
		p := mustPlan(b, 1, mode, buffer, shards)
		// Chunks in plan order: records are per shard, in file order.
		byShard := map[int][]Chunk{}
		for _, c := range recs {
			ids, _ := rowIDs(c.Rec)
			s := p.shardOf(ids[0])
			byShard[s] = append(byShard[s], c)
		}
		b.ReportAllocs()
		ctx := context.Background()
		emit := func(c Chunk) error { c.Release(); return nil }
		epoch := 0
		for b.Loop() {
			s := NewShuffler(p, ShufflerConfig{Mem: mem, Rows: 4096})
			for _, sh := range p.ShardOrder(epoch) {
				for _, c := range byShard[sh] {
					c.Rec.Retain()
					if err := s.Process(ctx, Chunk{Epoch: epoch, Rec: c.Rec}, emit); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := s.Process(ctx, Chunk{Epoch: epoch, End: true}, emit); err != nil {
				b.Fatal(err)
			}
			s.Close()
			epoch++
		}
		rps := float64(rows) * float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(rps, "rows/s")
		return rps
	}
	var ref float64
	b.Run("ref=sequential-copy", func(b *testing.B) {
		b.ReportAllocs()
		cols := make([]arrow.Array, len(recs))
		for b.Loop() {
			for c := range mnistSchema.NumFields() {
				for i, r := range recs {
					cols[i] = r.Rec.Column(c)
				}
				out, err := array.Concatenate(cols, mem)
				if err != nil {
					b.Fatal(err)
				}
				out.Release()
			}
		}
		ref = float64(rows) * float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(ref, "rows/s")
	})
	ratio := func(b *testing.B, rps float64) {
		if ref > 0 {
			b.ReportMetric(ref/rps, "x-vs-ref")
		}
	}
	for _, k := range []int{8192, 65536} {
		b.Run(fmt.Sprintf("mode=buffer/buffer=%d", k), func(b *testing.B) { ratio(b, run(b, ShuffleBuffer, k)) })
	}
	b.Run("mode=full", func(b *testing.B) { ratio(b, run(b, ShuffleFull, 0)) })
}
