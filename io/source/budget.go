package source

import (
	"sort"
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

	mu        sync.Mutex
	allocs    map[*byte][]byte // live allocations by address
	delivered []span           // address ranges of the buffers of records handed to the receiver
}

// span is a half-open address range [lo, hi).
type span struct{ lo, hi uintptr }

func spanOf(p []byte) span {
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	return span{lo, lo + uintptr(cap(p))}
}

// deliver records the buffers of rec (children and dictionaries included) as owned by the receiver, so
// that reclaim never frees them.
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
			b.delivered = append(b.delivered, spanOf(buf.Buf()))
		}
	}
	for _, c := range d.Children() {
		b.deliverData(c)
	}
	if d.DataType().ID() == arrow.DICTIONARY {
		b.deliverData(d.Dictionary())
	}
}

type budgetError struct{ asked, live, limit int64 }

func (e budgetError) Error() string {
	return "allocation refused: over the MaxBytes budget"
}

func newBudget(mem memory.Allocator, limit int64) *budget {
	return &budget{mem: mem, limit: limit, allocs: make(map[*byte][]byte)}
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

// track records that old (if any) is no longer live and p is.
func (b *budget) track(old, p []byte) {
	b.mu.Lock()
	if len(old) > 0 {
		delete(b.allocs, &old[0])
	}
	if len(p) > 0 {
		b.allocs[&p[0]] = p
	}
	b.mu.Unlock()
}

// reclaim frees every live allocation that no delivered buffer overlaps. It must only be called once the
// decoder is done: every object it built is then released or unreachable, except the delivered records.
// ReadShard calls it at the end of every call, Open after a failure. Cost: O(A log D) for A live
// allocations and D delivered buffers; nothing when the decoder released everything.
func (b *budget) reclaim() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.allocs) == 0 {
		return
	}
	d := b.delivered
	sort.Slice(d, func(i, j int) bool { return d[i].lo < d[j].lo })
	// maxHi[i] is the largest hi among d[:i+1], so an overlap search needs one binary search.
	maxHi := make([]uintptr, len(d))
	for i, s := range d {
		maxHi[i] = s.hi
		if i > 0 && maxHi[i-1] > s.hi {
			maxHi[i] = maxHi[i-1]
		}
	}
	for k, p := range b.allocs {
		a := spanOf(p)
		// Spans starting before a.hi: the last of them is at index i-1; one overlaps a if its hi > a.lo.
		i := sort.Search(len(d), func(i int) bool { return d[i].lo >= a.hi })
		if i > 0 && maxHi[i-1] > a.lo {
			continue // part of a delivered record
		}
		b.live.Add(-int64(len(p)))
		b.mem.Free(p)
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
