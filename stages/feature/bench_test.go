package feature

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/sgdpipe/sgdpipe/io/source"
)

// BenchmarkTransform measures Transform on MNIST-shaped records (784 pixels -> float32 z-scores plus an
// int32 label) and reports rows/s. The reference, timed in the same run for as many iterations, is
// the bare arithmetic: a hand-written loop from a []uint8 (or []float32) into a preallocated []float32
// with the same per-pixel shift and scale, no Arrow, no checks. x-vs-ref = reference time / our time
// (1 would mean Transform costs nothing beyond the arithmetic). The reference stays the pure-Go loop:
// on CPUs with the AVX2 kernels (BenchmarkScaleRow) Transform runs 3-4x faster than it.
//
// The output buffer is allocated from the allocator on every call: with memory.DefaultAllocator
// (alloc=go) that is a fresh zeroed slice for the garbage collector; alloc=recycle uses an allocator
// that reuses freed buffers, which shows the cost of the transform itself.
func BenchmarkTransform(b *testing.B) {
	for _, rows := range []int{256, 4096} {
		for _, alloc := range []string{"go", "recycle"} {
			mem := memory.Allocator(memory.DefaultAllocator)
			if alloc == "recycle" {
				mem = &recycler{free: map[int][][]byte{}}
			}
			b.Run(fmt.Sprintf("B=%d/d=784/fixed-uint8/alloc=%s", rows, alloc), func(b *testing.B) {
				benchTransform(b, mnistRecord(memory.DefaultAllocator, rows, 7), mem)
			})
			b.Run(fmt.Sprintf("B=%d/d=784/list-float32/alloc=%s", rows, alloc), func(b *testing.B) {
				u8 := mnistRecord(memory.DefaultAllocator, rows, 7)
				defer u8.Release()
				benchTransform(b, asListFloat32(u8), mem)
			})
		}
	}
}

// recycler is a memory.Allocator that keeps freed buffers by size for reuse (benchmarks only).
type recycler struct {
	mu   sync.Mutex
	free map[int][][]byte
}

func (r *recycler) Allocate(n int) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if l := r.free[n]; len(l) > 0 {
		r.free[n] = l[:len(l)-1]
		return l[len(l)-1]
	}
	return make([]byte, n)
}

func (r *recycler) Reallocate(n int, b []byte) []byte {
	nb := r.Allocate(n)
	copy(nb, b)
	r.Free(b)
	return nb
}

func (r *recycler) Free(b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.free[len(b)] = append(r.free[len(b)], b)
}

// benchTransform times Transform of rec (pixels, label), which it releases, against the bare loop.
func benchTransform(b *testing.B, rec arrow.RecordBatch, mem memory.Allocator) {
	defer rec.Release()
	src := shardsOf(rec, "bench.parquet", int(rec.NumRows()))
	defer src.release()
	s, err := fit(b.Context(), src, Config{Target: "label"}, 1)
	if err != nil {
		b.Fatal(err)
	}
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

// BenchmarkFit measures the statistics pre-pass over in-memory MNIST-shaped shards (784 uint8 pixels
// per row, 6 shards) with 1 and 2 workers, and reports rows/s. The reference, timed in the same run,
// is one goroutine calling Moments.Add for every pixel of every row (plain Welford, a division per
// value). x-vs-ref = reference time / our time.
func BenchmarkFit(b *testing.B) {
	const rows, shards = 12000, 6
	rec := mnistRecord(memory.DefaultAllocator, rows, 11)
	defer rec.Release()
	sizes := make([]int, shards)
	for i := range sizes {
		sizes[i] = rows / shards
	}
	src := shardsOf(rec, "bench.parquet", sizes...)
	defer src.release()
	px := rec.Column(0).(*array.FixedSizeList).ListValues().(*array.Uint8).Uint8Values()
	mom := make([]Moments, 784)
	ref := func() {
		clear(mom)
		for r := 0; r < rows; r++ {
			row := px[r*784 : (r+1)*784]
			for j, v := range row {
				mom[j].Add(float64(v))
			}
		}
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("rows=%d/d=784/workers=%d", rows, workers), func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if _, err := fit(b.Context(), src, Config{Target: "label"}, workers); err != nil {
					b.Fatal(err)
				}
				n++
			}
			per := b.Elapsed().Seconds() / float64(n)
			t0 := time.Now()
			for range n {
				ref()
			}
			refPer := time.Since(t0).Seconds() / float64(n)
			b.ReportMetric(rows/per, "rows/s")
			b.ReportMetric(refPer/per, "x-vs-ref")
		})
	}
}

// BenchmarkFitFile measures Fit over the MNIST training file (60000 rows, 6 row groups, pixels
// fixed_size_list<uint8>[784]) with 2 workers, decoding included. The reference, timed in the same
// run, reads the same shards and columns with 2 goroutines and releases the records: x-vs-ref =
// reference time / Fit time, the share of Fit's time that is decoding.
func BenchmarkFitFile(b *testing.B) {
	ds, err := source.Open([]string{mnistData + "/train.parquet"}, source.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer ds.Close()
	ref := func() {
		var wg sync.WaitGroup
		for w := range 2 {
			wg.Go(func() {
				for i := w; i < len(ds.Shards); i += 2 {
					err := ds.ReadShard(b.Context(), i, []int{0, 1}, func(rec arrow.RecordBatch) error {
						rec.Release()
						return nil
					})
					if err != nil {
						b.Error(err)
					}
				}
			})
		}
		wg.Wait()
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := Fit(b.Context(), ds, Config{Target: "label"}, 2); err != nil {
			b.Fatal(err)
		}
		n++
	}
	per := b.Elapsed().Seconds() / float64(n)
	t0 := time.Now()
	for range n {
		ref()
	}
	refPer := time.Since(t0).Seconds() / float64(n)
	b.ReportMetric(float64(ds.Rows)/per, "rows/s")
	b.ReportMetric(refPer/per, "x-vs-ref")
}

// BenchmarkScaleRow measures the normalization kernels over one MNIST-shaped record (256 rows of 784
// values, the shift and scale of every column fitted on it) for the source types that have assembly
// kernels: uint8 through scaleRowFast (Transform's path for integers whose normalized values cannot
// overflow) and float32 through scaleRowFiniteFast (its path for floats), with the kernels (asm) and
// without (go). It reports ns per element; the reference, timed in the same run for as many
// iterations, is the generic Go loop Transform used before the kernels (scaleRow, scaleRowFinite), and
// x-vs-go = reference time / our time.
func BenchmarkScaleRow(b *testing.B) {
	const rows, d = 256, 784
	rec := mnistRecord(memory.DefaultAllocator, rows, 3)
	defer rec.Release()
	src := shardsOf(rec, "bench.parquet", rows)
	defer src.release()
	s, err := fit(b.Context(), src, Config{Target: "label"}, 1)
	if err != nil {
		b.Fatal(err)
	}
	p := &s.plan[0]
	px := rec.Column(0).(*array.FixedSizeList).ListValues().(*array.Uint8).Uint8Values()
	f32 := make([]float32, len(px))
	for i, v := range px {
		f32[i] = float32(v)
	}
	for _, asm := range []bool{true, false} {
		mode := map[bool]string{true: "asm", false: "go"}[asm]
		b.Run(fmt.Sprintf("B=%d/d=%d/uint8/%s", rows, d, mode), func(b *testing.B) {
			benchScaleRow(b, px, d, p.shift, p.scale, false, asm)
		})
		b.Run(fmt.Sprintf("B=%d/d=%d/float32/%s", rows, d, mode), func(b *testing.B) {
			benchScaleRow(b, f32, d, p.shift, p.scale, true, asm)
		})
	}
}

// benchScaleRow times scaleRowFast (or scaleRowFiniteFast if finite) over the rows of d values of src
// with the assembly kernels on or off, then the reference loop for as many iterations.
func benchScaleRow[T uint8 | float32](b *testing.B, src []T, d int, shift, scale []float64, finite, asm bool) {
	if asm && !haveAsm {
		b.Skip("no assembly kernels in this build or on this CPU")
	}
	saved := useAsm
	useAsm = asm
	defer func() { useAsm = saved }()
	dst := make([]float32, len(src))
	pass := func(fast bool) {
		for r := 0; r+d <= len(src); r += d {
			row, out := src[r:r+d], dst[r:r+d]
			switch {
			case fast && finite:
				if !scaleRowFiniteFast(out, row, shift, scale) {
					b.Fatal("non-finite output")
				}
			case fast:
				scaleRowFast(out, row, shift, scale)
			case finite:
				if !scaleRowFinite(out, row, shift, scale) {
					b.Fatal("non-finite output")
				}
			default:
				scaleRow(out, row, shift, scale)
			}
		}
	}
	b.ReportAllocs()
	pass(true)
	pass(false)
	n := 0
	for b.Loop() {
		pass(true)
		n++
	}
	per := b.Elapsed().Seconds() / float64(n)
	t0 := time.Now()
	for range n {
		pass(false)
	}
	refPer := time.Since(t0).Seconds() / float64(n)
	b.ReportMetric(per*1e9/float64(len(src)), "ns/elem")
	b.ReportMetric(refPer/per, "x-vs-go")
}
