// Package bufpool is an arrow memory.Allocator that reuses freed buffers.
//
// # Overview
//
// A training run's data path builds the same records over and over: a shuffled batch,
// its normalized float32 copy, the row-index column, the evaluator's feature matrix.
// With arrow's GoAllocator every one of them is fresh garbage (a 10-epoch MNIST run
// allocates gigabytes), so the garbage collector keeps running and the heap swings to
// twice its live size between collections. Allocator keeps the buffers that records
// give back (Free) in free lists by power-of-two size class and hands them out again,
// so that in steady state the data path allocates (almost) nothing.
//
// # Ownership
//
// A buffer from Allocate or Reallocate belongs to the caller until it passes it to
// Free, after which it must not be touched: it may be handed out again at once. Buffers
// are zeroed when handed out by Allocate (as GoAllocator's are). Free accepts any
// buffer; one of a pooled size class goes to its free list (while the pool holds less
// than its cap), others are left to the garbage collector.
//
// # Concurrency
//
// An Allocator is safe for concurrent use. Its zero value is not usable: call New.
package bufpool

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

const (
	alignment = 64 // arrow's buffer alignment
	minClass  = 12 // 4 KiB: smaller buffers are left to the Go allocator
	maxClass  = 22 // 4 MiB: larger ones too (a decoder's whole-batch buffers: costly to keep)
	nClasses  = maxClass - minClass + 1
	// DefaultMaxHeld is the default cap on the bytes the free lists may hold.
	DefaultMaxHeld = 32 << 20
)

// Allocator is a memory.Allocator with free lists; see the package doc.
type Allocator struct {
	// Poison, set before the first use, fills every freed buffer with 0xff bytes (a
	// float32 NaN, an int -1) before it goes to a free list, so that a use after Free
	// shows up as garbage in tests instead of passing unseen.
	Poison bool

	maxHeld int64
	held    atomic.Int64
	classes [nClasses]class

	reused, made atomic.Int64
}

type class struct {
	mu   sync.Mutex
	free [][]byte
}

var _ memory.Allocator = (*Allocator)(nil)

// New returns an Allocator whose free lists hold at most maxHeld bytes (<= 0:
// DefaultMaxHeld).
func New(maxHeld int64) *Allocator {
	if maxHeld <= 0 {
		maxHeld = DefaultMaxHeld
	}
	return &Allocator{maxHeld: maxHeld}
}

// classOf returns the size class of a request of size bytes (its capacity is 1<<c),
// or -1 when the size is not pooled.
func classOf(size int) int {
	if size <= 1<<(minClass-1) || size > 1<<maxClass {
		return -1
	}
	c := bits.Len(uint(size - 1))
	return max(c, minClass)
}

// Allocate returns a zeroed, 64-byte aligned buffer of size bytes.
func (a *Allocator) Allocate(size int) []byte {
	c := classOf(size)
	if c < 0 {
		return fresh(size, size)
	}
	k := &a.classes[c-minClass]
	k.mu.Lock()
	if n := len(k.free); n > 0 {
		b := k.free[n-1]
		k.free[n-1] = nil
		k.free = k.free[:n-1]
		k.mu.Unlock()
		a.held.Add(-int64(cap(b)))
		a.reused.Add(1)
		b = b[:size]
		clear(b)
		return b
	}
	k.mu.Unlock()
	a.made.Add(1)
	return fresh(size, 1<<c)
}

// fresh makes a zeroed buffer of length size and capacity capacity, 64-byte aligned.
func fresh(size, capacity int) []byte {
	buf := make([]byte, capacity+alignment)
	shift := int(-uintptr(unsafe.Pointer(unsafe.SliceData(buf)))) & (alignment - 1)
	return buf[shift : shift+size : shift+capacity]
}

// Reallocate resizes b to size bytes, in place when its capacity allows (the grown part
// is then not zeroed, as with GoAllocator), else by a new buffer that b is copied into.
// The outgrown buffer is left to the garbage collector rather than pooled: buffers
// that grow by doubling (a decoder's level and value buffers) leave a trail of sizes
// that nothing asks for again.
func (a *Allocator) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		return b[:size]
	}
	nb := a.Allocate(size)
	copy(nb, b)
	return nb
}

// Free gives b back: a buffer whose capacity is a pooled size class goes to that class's
// free list unless the lists already hold their cap.
func (a *Allocator) Free(b []byte) {
	n := cap(b)
	if n == 0 || n&(n-1) != 0 {
		return
	}
	c := bits.Len(uint(n)) - 1
	if c < minClass || c > maxClass {
		return
	}
	if uintptr(unsafe.Pointer(unsafe.SliceData(b[:1])))&(alignment-1) != 0 {
		return // not one of ours (ours are aligned)
	}
	if a.held.Add(int64(n)) > a.maxHeld {
		a.held.Add(-int64(n))
		return
	}
	if a.Poison {
		b = b[:n]
		for i := range b {
			b[i] = 0xff
		}
	}
	k := &a.classes[c-minClass]
	k.mu.Lock()
	k.free = append(k.free, b[:0])
	k.mu.Unlock()
}

// Stats returns how many buffers Allocate handed out from the free lists (reused) and
// how many it had to make (made), counting pooled size classes only, and the bytes the
// free lists hold now.
func (a *Allocator) Stats() (reused, made, held int64) {
	return a.reused.Load(), a.made.Load(), a.held.Load()
}
