package source

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// budget is a memory.Allocator that forwards to another allocator but refuses, by panicking with
// errBudget, any allocation that would take the live bytes it handed out above limit. Arrow's Allocator
// interface cannot return errors, so the panic is the only way out of a decoder that trusts a lying size;
// ReadShard recovers it (arrow-go recovers some panics itself and returns them as errors, so ReadShard
// also asks exceeded() whatever the error looks like).
//
// Live bytes, not cumulative ones: records the receiver has released no longer count. A budget is made per
// ReadShard call and is safe for concurrent use (arrow-go may decode columns in parallel).
//
// A budget also remembers every allocation still live, so that reclaim can free what a failed decoder left
// behind: arrow-go does not release all its buffers on its error paths (nor, of course, after a panic).
type budget struct {
	mem   memory.Allocator
	limit int64
	live  atomic.Int64
	over  atomic.Bool

	mu     sync.Mutex
	allocs map[*byte]*allocation // live allocations by address
}

// allocation is one live allocation of a budget.
type allocation struct {
	p []byte
	// delivered marks an allocation that holds a buffer of a record handed to the receiver: reclaim
	// leaves it to the receiver. The mark goes with the allocation: once it is freed, a new allocation
	// at the same address starts unmarked.
	delivered bool
}

// span is a half-open address range [lo, hi).
type span struct{ lo, hi uintptr }

func spanOf(p []byte) span {
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	return span{lo, lo + uintptr(cap(p))}
}

// deliver marks the allocations holding the buffers of rec (children and dictionaries included) as owned
// by the receiver, so that reclaim never frees them. Cost: a map lookup per buffer that starts its
// allocation (Parquet's); a scan of the live allocations per buffer inside one (an IPC body's slices).
func (b *budget) deliver(rec arrow.RecordBatch) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range rec.Columns() {
		b.deliverData(c.Data())
	}
}

func (b *budget) deliverData(d arrow.ArrayData) {
	if d == nil {
		return
	}
	for _, buf := range d.Buffers() {
		if buf != nil && len(buf.Buf()) > 0 {
			b.markDelivered(buf.Buf())
		}
	}
	for _, c := range d.Children() {
		b.deliverData(c)
	}
	if d.DataType().ID() == arrow.DICTIONARY {
		b.deliverData(d.Dictionary())
	}
}

// markDelivered marks the allocation holding buf, if this budget made it.
func (b *budget) markDelivered(buf []byte) {
	if a, ok := b.allocs[&buf[0]]; ok {
		a.delivered = true
		return
	}
	s := spanOf(buf[:1])
	for _, a := range b.allocs {
		if as := spanOf(a.p); as.lo <= s.lo && s.lo < as.hi {
			a.delivered = true
			return
		}
	}
}

type budgetError struct{ asked, live, limit int64 }

func (e budgetError) Error() string {
	return "allocation refused: over the MaxBytes budget"
}

func newBudget(mem memory.Allocator, limit int64) *budget {
	return &budget{mem: mem, limit: limit, allocs: make(map[*byte]*allocation)}
}

func (b *budget) exceeded() bool { return b.over.Load() }

func (b *budget) charge(n int64) {
	if n <= 0 {
		b.live.Add(n)
		return
	}
	if v := b.live.Add(n); v > b.limit || v < 0 {
		b.live.Add(-n)
		b.over.Store(true)
		panic(budgetError{asked: n, live: v - n, limit: b.limit})
	}
}

// Allocate implements memory.Allocator.
func (b *budget) Allocate(size int) []byte {
	if size < 0 {
		b.over.Store(true)
		panic(budgetError{asked: int64(size), limit: b.limit})
	}
	b.charge(int64(size))
	p := b.mem.Allocate(size)
	b.track(nil, p)
	return p
}

// track records that old (if any) is no longer live and p is; a reallocation keeps the delivered mark.
func (b *budget) track(old, p []byte) {
	b.mu.Lock()
	delivered := false
	if len(old) > 0 {
		if a, ok := b.allocs[&old[0]]; ok {
			delivered = a.delivered
			delete(b.allocs, &old[0])
		}
	}
	if len(p) > 0 {
		b.allocs[&p[0]] = &allocation{p: p, delivered: delivered}
	}
	b.mu.Unlock()
}

// reclaim frees every live allocation that holds no buffer of a delivered record. It must only be called
// once the decoder is done: every object it built is then released or unreachable, except the delivered
// records. ReadShard calls it at the end of every call, Open after a failure. Cost: O(A) for A live
// allocations; nothing when the decoder released everything.
func (b *budget) reclaim() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, a := range b.allocs {
		if a.delivered {
			continue // the receiver's
		}
		b.live.Add(-int64(len(a.p)))
		b.mem.Free(a.p)
		delete(b.allocs, k)
	}
}

// Reallocate implements memory.Allocator.
func (b *budget) Reallocate(size int, p []byte) []byte {
	if size < 0 {
		b.over.Store(true)
		panic(budgetError{asked: int64(size), limit: b.limit})
	}
	b.charge(int64(size) - int64(len(p)))
	q := b.mem.Reallocate(size, p)
	b.track(p, q)
	return q
}

// Free implements memory.Allocator.
func (b *budget) Free(p []byte) {
	b.live.Add(-int64(len(p)))
	b.track(p, nil)
	b.mem.Free(p)
}
