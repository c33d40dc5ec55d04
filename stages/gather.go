package stages

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// held is a record the shuffle buffer retains while some of its rows are buffered or
// waiting to be gathered.
type held struct {
	rec   arrow.RecordBatch
	ids   []int64 // rec's RowColumn
	live  int     // rows of rec in buffer slots or pending output
	bytes int64   // rec's buffer bytes
	at    int     // index in the shuffler's held list
	grp   int     // group index during a gather; -1 otherwise
}

// rowRef names one row of a held record.
type rowRef struct {
	h   *held
	row int32
}

// gatherer copies rows scattered over several records into a new record. It keeps
// its scratch space between calls, so it is not safe for concurrent use; the zero
// value is ready to use.
//
// Any Arrow type works: for each column it takes the rows of each source record with
// compute.Take, concatenates the pieces, and takes them once more into output order
// (a single Take when all rows come from one record).
type gatherer struct {
	groups []*held
	starts []int   // first index in idx of each group's rows, then the total
	fill   []int   // rows placed per group
	idx    []int32 // row indices grouped by source record
	perm   []int32 // position in idx of each output row
	pieces []arrow.Array
	cols   []arrow.Array
}

// gather returns a new record, allocated from mem and owned by the caller, holding
// the rows refs name, in that order, with schema.
func (g *gatherer) gather(ctx context.Context, mem memory.Allocator, schema *arrow.Schema, refs []rowRef) (arrow.RecordBatch, error) {
	g.groups, g.starts = g.groups[:0], g.starts[:0]
	for _, r := range refs {
		if r.h.grp < 0 {
			r.h.grp = len(g.groups)
			g.groups = append(g.groups, r.h)
			g.starts = append(g.starts, 0)
		}
		g.starts[r.h.grp]++
	}
	total := 0
	for i, n := range g.starts {
		g.starts[i] = total
		total += n
	}
	g.starts = append(g.starts, total)
	g.fill = append(g.fill[:0], make([]int, len(g.groups))...)
	g.idx = grow(g.idx, len(refs))
	g.perm = grow(g.perm, len(refs))
	for i, r := range refs {
		p := g.starts[r.h.grp] + g.fill[r.h.grp]
		g.fill[r.h.grp]++
		g.idx[p] = r.row
		g.perm[i] = int32(p)
	}
	for _, h := range g.groups {
		h.grp = -1
	}

	cctx := compute.WithAllocator(ctx, mem)
	g.cols = g.cols[:0]
	fail := func(err error) (arrow.RecordBatch, error) {
		for _, c := range g.cols {
			c.Release()
		}
		g.cols = g.cols[:0]
		return nil, fmt.Errorf("stages: gather %d rows: %w", len(refs), err)
	}
	for c := range schema.NumFields() {
		col, err := g.column(cctx, mem, c)
		if err != nil {
			return fail(err)
		}
		g.cols = append(g.cols, col)
	}
	rec := array.NewRecordBatch(schema, g.cols, int64(len(refs)))
	for _, c := range g.cols {
		c.Release()
	}
	g.cols = g.cols[:0]
	return rec, nil
}

// column gathers column c of the current groups.
func (g *gatherer) column(ctx context.Context, mem memory.Allocator, c int) (arrow.Array, error) {
	if len(g.groups) == 1 {
		// One source: idx is already in output order.
		return takeInt32(ctx, g.groups[0].rec.Column(c), g.idx)
	}
	g.pieces = g.pieces[:0]
	defer func() {
		for _, p := range g.pieces {
			p.Release()
		}
		g.pieces = g.pieces[:0]
	}()
	for i, h := range g.groups {
		p, err := takeInt32(ctx, h.rec.Column(c), g.idx[g.starts[i]:g.starts[i+1]])
		if err != nil {
			return nil, err
		}
		g.pieces = append(g.pieces, p)
	}
	cat, err := array.Concatenate(g.pieces, mem)
	if err != nil {
		return nil, err
	}
	defer cat.Release()
	return takeInt32(ctx, cat, g.perm)
}

// takeInt32 takes values[idx] with compute.Take, idx wrapped without a copy.
func takeInt32(ctx context.Context, values arrow.Array, idx []int32) (arrow.Array, error) {
	data := array.NewData(arrow.PrimitiveTypes.Int32, len(idx),
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(idx))}, nil, 0, 0)
	defer data.Release()
	indices := array.NewInt32Data(data)
	defer indices.Release()
	return compute.TakeArrayOpts(ctx, values, indices, compute.TakeOptions{BoundsCheck: false})
}

// grow returns s resized to n, reusing its storage when it can.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// recordBytes returns the bytes of the buffers rec references (a slice counts its
// whole buffers: they stay alive while it does).
func recordBytes(rec arrow.RecordBatch) int64 {
	var n int64
	for _, c := range rec.Columns() {
		n += int64(c.Data().SizeInBytes())
	}
	return n
}
