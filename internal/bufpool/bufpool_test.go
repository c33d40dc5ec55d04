package bufpool

import (
	"sync"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func aligned(b []byte) bool {
	return uintptr(unsafe.Pointer(unsafe.SliceData(b[:cap(b)])))%alignment == 0
}

func TestClassOf(t *testing.T) {
	for _, tc := range []struct{ size, want int }{
		{0, -1}, {1, -1}, {2048, -1}, {2049, 12}, {4096, 12}, {4097, 13}, {100 << 10, 17},
		{401408, 19}, {4 << 20, 22}, {4<<20 + 1, -1},
	} {
		if got := classOf(tc.size); got != tc.want {
			t.Errorf("classOf(%d) = %d, want %d", tc.size, got, tc.want)
		}
	}
}

func TestAllocateReuseZeroAlign(t *testing.T) {
	a := New(0)
	for _, size := range []int{1, 100, 4096, 5000, 401408} {
		b := a.Allocate(size)
		if len(b) != size || !aligned(b) {
			t.Fatalf("Allocate(%d): len %d, aligned %v", size, len(b), aligned(b))
		}
		for i := range b {
			b[i] = 7
		}
		a.Free(b)
		c := a.Allocate(size)
		if len(c) != size {
			t.Fatalf("len %d", len(c))
		}
		for i, v := range c {
			if v != 0 {
				t.Fatalf("Allocate(%d) after reuse: byte %d is %d, want 0", size, i, v)
			}
		}
		pooled := classOf(size) >= 0
		if same := unsafe.SliceData(b) == unsafe.SliceData(c); same != pooled {
			t.Errorf("size %d: reused %v, want %v", size, same, pooled)
		}
		a.Free(c)
	}
	reused, made, held := a.Stats()
	if reused != 3 || made != 3 {
		t.Errorf("reused %d made %d, want 3 and 3", reused, made)
	}
	if want := int64(4096 + 8192 + 512<<10); held != want {
		t.Errorf("held %d, want %d", held, want)
	}
}

func TestReallocate(t *testing.T) {
	a := New(0)
	b := a.Allocate(5000) // capacity 8192
	for i := range b {
		b[i] = byte(i)
	}
	c := a.Reallocate(8000, b)
	if unsafe.SliceData(c) != unsafe.SliceData(b) || len(c) != 8000 {
		t.Fatal("Reallocate within the capacity moved the buffer")
	}
	d := a.Reallocate(20000, c)
	if len(d) != 20000 || !aligned(d) {
		t.Fatal("grown buffer")
	}
	for i := range 5000 {
		if d[i] != byte(i) {
			t.Fatalf("byte %d not copied", i)
		}
	}
	if _, _, held := a.Stats(); held != 0 {
		t.Errorf("the outgrown buffer was pooled: held %d", held)
	}
}

func TestMaxHeldAndForeign(t *testing.T) {
	a := New(10000)
	b1, b2 := a.Allocate(8192), a.Allocate(8192)
	a.Free(b1)
	a.Free(b2) // over the cap: dropped
	if _, _, held := a.Stats(); held != 8192 {
		t.Errorf("held %d, want 8192", held)
	}
	a.Free(make([]byte, 3000))  // not a power of two
	a.Free(nil)                 // nothing
	a.Free(make([]byte, 1<<23)) // above the largest class
	if _, _, held := a.Stats(); held != 8192 {
		t.Errorf("held %d after foreign frees, want 8192", held)
	}
}

func TestPoison(t *testing.T) {
	a := New(0)
	a.Poison = true
	b := a.Allocate(6000)
	a.Free(b)
	for i, v := range b[:cap(b)] {
		if v != 0xff {
			t.Fatalf("freed byte %d is %#x, want 0xff", i, v)
		}
	}
}

// TestArrowRecords builds and releases records through the pool under arrow's checked
// allocator, from several goroutines: every byte comes back, and reused buffers hold
// exactly what their new owners wrote.
func TestArrowRecords(t *testing.T) {
	pool := New(0)
	pool.Poison = true
	mem := memory.NewCheckedAllocator(pool)
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Float32}, {Name: "i", Type: arrow.PrimitiveTypes.Int64}}, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for round := range 50 {
				n := 1000 + 97*round + g
				b := array.NewRecordBuilder(mem, schema)
				for i := range n {
					b.Field(0).(*array.Float32Builder).Append(float32(i + g))
					b.Field(1).(*array.Int64Builder).Append(int64(i * g))
				}
				rec := b.NewRecordBatch()
				b.Release()
				xs := rec.Column(0).(*array.Float32).Float32Values()
				is := rec.Column(1).(*array.Int64).Int64Values()
				for i := range n {
					if xs[i] != float32(i+g) || is[i] != int64(i*g) || rec.Column(0).IsNull(i) {
						t.Errorf("goroutine %d round %d row %d: got %v %v", g, round, i, xs[i], is[i])
						break
					}
				}
				rec.Release()
			}
		})
	}
	wg.Wait()
	if reused, _, _ := pool.Stats(); reused == 0 {
		t.Error("no buffer was reused")
	}
}

func TestSteadyStateAllocs(t *testing.T) {
	a := New(0)
	a.Free(a.Allocate(400 << 10))
	if n := testing.AllocsPerRun(100, func() { a.Free(a.Allocate(400 << 10)) }); n != 0 {
		t.Errorf("%v allocations per reuse, want 0", n)
	}
}

func BenchmarkAllocateFree(b *testing.B) {
	for _, tc := range []struct {
		name string
		mem  memory.Allocator
	}{{"pool", New(0)}, {"go", memory.NewGoAllocator()}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tc.mem.Free(tc.mem.Allocate(400 << 10))
			}
		})
	}
}
