package source

import (
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// reuseAlloc hands the last freed backing array that fits out again, as pooling allocators do, so that a new allocation can sit where a delivered (and since released) buffer was.
type reuseAlloc struct{ free [][]byte }

func (a *reuseAlloc) Allocate(n int) []byte {
	for i := len(a.free) - 1; i >= 0; i-- { // the last freed first
		if p := a.free[i]; cap(p) >= n {
			a.free = append(a.free[:i], a.free[i+1:]...)
			return p[:n]
		}
	}
	return make([]byte, n, max(n, 64))
}

func (a *reuseAlloc) Reallocate(n int, p []byte) []byte {
	q := a.Allocate(n)
	copy(q, p)
	a.Free(p)
	return q
}

func (a *reuseAlloc) Free(p []byte) { a.free = append(a.free, p[:cap(p)]) }

var int64Schema = arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)

// budgetRecord builds a one-column record whose buffers come from b.
func budgetRecord(b memory.Allocator) arrow.RecordBatch {
	bld := array.NewInt64Builder(b)
	bld.AppendValues([]int64{1, 2, 3, 4, 5, 6, 7}, nil)
	arr := bld.NewInt64Array()
	bld.Release()
	rec := array.NewRecordBatch(int64Schema, []arrow.Array{arr}, int64(arr.Len()))
	arr.Release()
	return rec
}

// TestBudgetReclaim checks what reclaim frees: what the decoder left behind, even at the address of a
// delivered buffer the receiver has released since; never a buffer of a record the receiver holds,
// whether the buffer starts its allocation or lies inside one (an IPC body's slices).
func TestBudgetReclaim(t *testing.T) {
	t.Run("leak at the address of a released delivered buffer", func(t *testing.T) {
		ra := &reuseAlloc{}
		b := newBudget(ra, 1<<20)
		rec := budgetRecord(b)
		addr := unsafe.SliceData(rec.Column(0).Data().Buffers()[1].Buf())
		b.deliver(rec)
		rec.Release() // the receiver is done with it
		leaked := b.Allocate(64)
		if unsafe.SliceData(leaked) != addr {
			t.Fatal("the test allocator did not reuse the released buffer's memory")
		}
		b.reclaim()
		if n := b.live.Load(); n != 0 {
			t.Errorf("%d bytes live after reclaim: the decoder's leftover was taken for the delivered buffer", n)
		}
	})
	t.Run("held record kept, leftovers freed", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		defer mem.AssertSize(t, 0)
		b := newBudget(mem, 1<<20)
		rec := budgetRecord(b)
		b.deliver(rec)
		b.Allocate(100) // left behind by a failed decoder
		b.reclaim()
		if got := rec.Column(0).(*array.Int64).Int64Values(); len(got) != 7 || got[6] != 7 {
			t.Fatalf("the held record changed: %v", got)
		}
		rec.Release()
		if n := b.live.Load(); n != 0 {
			t.Errorf("%d bytes live after the receiver released its record", n)
		}
	})
	t.Run("buffer inside an allocation", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		defer mem.AssertSize(t, 0)
		b := newBudget(mem, 1<<20)
		body := memory.NewResizableBuffer(b) // one body, sliced into the column's buffers
		body.Resize(128)
		data := memory.SliceBuffer(body, 64, 56)
		body.Release()
		arrData := array.NewData(arrow.PrimitiveTypes.Int64, 7, []*memory.Buffer{nil, data}, nil, 0, 0)
		data.Release()
		arr := array.MakeFromData(arrData)
		arrData.Release()
		rec := array.NewRecordBatch(int64Schema, []arrow.Array{arr}, 7)
		arr.Release()
		b.deliver(rec)
		b.reclaim()
		if n := b.live.Load(); n != 128 {
			t.Errorf("%d bytes live after reclaim, want the 128-byte body the record holds", n)
		}
		rec.Release()
	})
}
