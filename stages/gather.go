package stages

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// held is a record the shuffle buffer retains while some of its rows are buffered or
// waiting to be gathered.
type held struct {
	rec   arrow.RecordBatch
	ids   []int64   // rec's RowColumn
	flat  []flatCol // per column: direct access for the fast gather
	live  int       // rows of rec in buffer slots or pending output
	bytes int64     // rec's buffer bytes
	at    int       // index in the shuffler's held list
	grp   int       // group index during a gather; -1 otherwise
	// compact marks the record during a compaction.
	compact bool
}

// newHeld wraps rec, whose RowColumn is ids, for the buffer.
func newHeld(rec arrow.RecordBatch, ids []int64) *held {
	h := &held{rec: rec, ids: ids, bytes: recordBytes(rec), grp: -1, flat: make([]flatCol, rec.NumCols())}
	for c, col := range rec.Columns() {
		h.flat[c] = flatten(col.Data())
	}
	return h
}

// rowRef names one row of a held record.
type rowRef struct {
	h   *held
	row int32
}

// flatCol gives direct access to a column whose rows are fixed-width byte strings:
// byte-aligned primitives, booleans, and fixed-size lists of those (nested too) whose
// children have no nulls.
type flatCol struct {
	ok    bool
	bits  bool   // boolean values: row r is bit off+r of data
	data  []byte // row r is data[r*width:(r+1)*width] (bits: the bitmap)
	width int
	off   int
	valid []byte // validity bitmap, nil when the column has no nulls
	voff  int    // bit of row 0 in valid
}

// flatten returns the direct access to d, or a flatCol with ok false.
func flatten(d arrow.ArrayData) flatCol {
	var f flatCol
	if d.NullN() > 0 {
		if d.Buffers()[0] == nil {
			return f
		}
		f.valid, f.voff = d.Buffers()[0].Bytes(), d.Offset()
	}
	if d.DataType().ID() == arrow.BOOL {
		if b := d.Buffers()[1]; b != nil {
			f.ok, f.bits, f.data, f.off = true, true, b.Bytes(), d.Offset()
		}
		return f
	}
	f.data, f.width, f.ok = flatValues(d)
	return f
}

// flatValues returns the values of d from its row 0 on and the bytes per row, for
// byte-aligned fixed-width types and fixed-size lists of them without child nulls.
func flatValues(d arrow.ArrayData) ([]byte, int, bool) {
	switch id := d.DataType().ID(); {
	case id == arrow.FIXED_SIZE_LIST:
		child := d.Children()[0]
		if child.NullN() > 0 || child.DataType().ID() == arrow.BOOL {
			return nil, 0, false
		}
		cb, cw, ok := flatValues(child)
		if !ok {
			return nil, 0, false
		}
		w := int(d.DataType().(*arrow.FixedSizeListType).Len()) * cw
		if w == 0 {
			return nil, 0, false
		}
		return cb[min(d.Offset()*w, len(cb)):], w, true
	case id != arrow.BOOL && (arrow.IsPrimitive(id) || id == arrow.FIXED_SIZE_BINARY || arrow.IsDecimal(id)):
		bw := d.DataType().(arrow.FixedWidthDataType).BitWidth()
		b := d.Buffers()[1]
		if bw%8 != 0 || bw == 0 || b == nil {
			return nil, 0, false
		}
		w := bw / 8
		return b.Bytes()[min(d.Offset()*w, b.Len()):], w, true
	}
	return nil, 0, false
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
		col, err := g.column(cctx, mem, c, refs)
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
func (g *gatherer) column(ctx context.Context, mem memory.Allocator, c int, refs []rowRef) (arrow.Array, error) {
	if direct(refs, c) {
		return gatherFlat(mem, g.groups[0].rec.Column(c).DataType(), refs, c), nil
	}
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

// direct reports whether column c of every record refs name allows the direct gather.
func direct(refs []rowRef, c int) bool {
	for _, r := range refs {
		if !r.h.flat[c].ok {
			return false
		}
	}
	return true
}

// gatherFlat copies column c of the rows refs name (all with flat access) into a new
// array of type dt allocated from mem: one copy per row, no per-element work.
func gatherFlat(mem memory.Allocator, dt arrow.DataType, refs []rowRef, c int) arrow.Array {
	n := len(refs)
	var validity *memory.Buffer
	nulls := 0
	for _, r := range refs {
		if r.h.flat[c].valid != nil {
			validity = memory.NewResizableBuffer(mem)
			validity.Resize(int(bitutil.BytesForBits(int64(n))))
			vb := validity.Bytes()
			clear(vb)
			for i, r := range refs {
				f := &r.h.flat[c]
				if f.valid == nil || bitutil.BitIsSet(f.valid, f.voff+int(r.row)) {
					bitutil.SetBit(vb, i)
				} else {
					nulls++
				}
			}
			break
		}
	}
	values := memory.NewResizableBuffer(mem)
	if refs[0].h.flat[c].bits {
		values.Resize(int(bitutil.BytesForBits(int64(n))))
		vb := values.Bytes()
		clear(vb)
		for i, r := range refs {
			f := &r.h.flat[c]
			if bitutil.BitIsSet(f.data, f.off+int(r.row)) {
				bitutil.SetBit(vb, i)
			}
		}
	} else {
		w := refs[0].h.flat[c].width
		values.Resize(n * w)
		dst := values.Bytes()
		switch w {
		case 8:
			d64 := arrow.Uint64Traits.CastFromBytes(dst)
			for i, r := range refs {
				d64[i] = arrow.Uint64Traits.CastFromBytes(r.h.flat[c].data)[r.row]
			}
		case 1:
			for i, r := range refs {
				dst[i] = r.h.flat[c].data[r.row]
			}
		default:
			for i, r := range refs {
				at := int(r.row) * w
				copy(dst[i*w:(i+1)*w], r.h.flat[c].data[at:at+w])
			}
		}
	}
	data := fixedData(dt, n, values, validity, nulls)
	values.Release()
	if validity != nil {
		validity.Release()
	}
	defer data.Release()
	return array.MakeFromData(data)
}

// fixedData builds the array data of a fixed-width layout over values (shared by
// nested fixed-size lists, whose children have no nulls).
func fixedData(dt arrow.DataType, n int, values, validity *memory.Buffer, nulls int) arrow.ArrayData {
	if fsl, ok := dt.(*arrow.FixedSizeListType); ok {
		child := fixedData(fsl.Elem(), n*int(fsl.Len()), values, nil, 0)
		defer child.Release()
		return array.NewData(dt, n, []*memory.Buffer{validity}, []arrow.ArrayData{child}, nulls, 0)
	}
	return array.NewData(dt, n, []*memory.Buffer{validity, values}, nil, nulls, 0)
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
