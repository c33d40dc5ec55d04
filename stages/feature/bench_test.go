package feature

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkTransform measures Transform on MNIST-shaped records (784 pixels -> float32 z-scores plus an
// int32 label) and reports rows/s. The reference, timed in the same run for as many iterations, is
// the bare arithmetic: a hand-written loop from a []uint8 (or []float32) into a preallocated []float32
// with the same per-pixel shift and scale, no Arrow, no checks. x-vs-ref = reference time / our time
// (1 would mean Transform costs nothing beyond the arithmetic).
func BenchmarkTransform(b *testing.B) {
	for _, rows := range []int{256, 4096} {
		b.Run(fmt.Sprintf("B=%d/d=784/fixed-uint8", rows), func(b *testing.B) {
			benchTransform(b, mnistRecord(memory.DefaultAllocator, rows, 7))
		})
		b.Run(fmt.Sprintf("B=%d/d=784/list-float32", rows), func(b *testing.B) {
			u8 := mnistRecord(memory.DefaultAllocator, rows, 7)
			defer u8.Release()
			benchTransform(b, asListFloat32(u8))
		})
	}
}

// benchTransform times Transform of rec (pixels, label), which it releases, against the bare loop.
func benchTransform(b *testing.B, rec arrow.RecordBatch) {
	defer rec.Release()
	src := shardsOf(rec, "bench.parquet", int(rec.NumRows()))
	defer src.release()
	s, err := fit(b.Context(), src, Config{Target: "label"}, 1)
	if err != nil {
		b.Fatal(err)
	}
	mem := memory.DefaultAllocator
	rows := int(rec.NumRows())
	p := &s.plan[0]
	dst := make([]float32, rows*784)
	child := rec.Column(0).(array.ListLike).ListValues()
	ref := func() {
		switch c := child.(type) {
		case *array.Uint8:
			bareLoop(dst, c.Uint8Values(), p.shift, p.scale)
		case *array.Float32:
			bareLoop(dst, c.Float32Values(), p.shift, p.scale)
		}
	}
	ours := func() {
		out, err := s.Transform(rec, mem)
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
	}
	b.ReportAllocs()
	ours()
	ref()
	n := 0
	for b.Loop() {
		ours()
		n++
	}
	per := b.Elapsed().Seconds() / float64(n)
	t0 := time.Now()
	for range n {
		ref()
	}
	refPer := time.Since(t0).Seconds() / float64(n)
	b.ReportMetric(float64(rows)/per, "rows/s")
	b.ReportMetric(refPer/per, "x-vs-ref")
}

// bareLoop is the reference: the z-score arithmetic alone over rows of 784 values.
func bareLoop[T uint8 | float32](dst []float32, src []T, shift, scale []float64) {
	const d = 784
	for r := 0; r+d <= len(src); r += d {
		row, out := src[r:r+d], dst[r:r+d]
		for j, v := range row {
			out[j] = float32((float64(v) - shift[j]) * scale[j])
		}
	}
}

// asListFloat32 converts a (pixels fixed_size_list<uint8>, label) record to the DuckDB layout:
// pixels list<float32>.
func asListFloat32(rec arrow.RecordBatch) arrow.RecordBatch {
	mem := memory.DefaultAllocator
	lb := array.NewListBuilder(mem, arrow.PrimitiveTypes.Float32)
	defer lb.Release()
	vb := lb.ValueBuilder().(*array.Float32Builder)
	px := rec.Column(0).(*array.FixedSizeList)
	vals := px.ListValues().(*array.Uint8).Uint8Values()
	for i := range px.Len() {
		lb.Append(true)
		for _, v := range vals[i*784 : (i+1)*784] {
			vb.Append(float32(v))
		}
	}
	label := rec.Column(1)
	label.Retain()
	return recordOf([]string{"pixels", "label"}, lb.NewArray(), label)
}
