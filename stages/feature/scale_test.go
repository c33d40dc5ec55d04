package feature

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// asmModes lists the settings of useAsm to test: the pure-Go loops always, the assembly kernels
// when this build and CPU have them.
func asmModes() []bool {
	if haveAsm {
		return []bool{false, true}
	}
	return []bool{false}
}

// withAsm runs f with useAsm set to on and restores it.
func withAsm(on bool, f func()) {
	saved := useAsm
	useAsm = on
	defer func() { useAsm = saved }()
	f()
}

// scaleLengths are the row lengths of the equality tests: every length up to 300 (all tails of the
// 16- and 4-element loops at every count of main iterations up to 18), then a few large ones.
func scaleLengths() []int {
	var ns []int
	for n := range 301 {
		ns = append(ns, n)
	}
	return append(ns, 511, 784, 1037, 4099)
}

// scaleOffset is where a test row starts in its backing arrays, in elements: with uint8 sources
// every byte alignment of src is met, and dst, shift and scale start off 32-byte boundaries.
type scaleOffset struct{ src, dst, stat int }

var scaleOffsets = []scaleOffset{{0, 0, 0}, {1, 3, 1}, {3, 1, 2}, {6, 2, 3}, {7, 5, 5}}

// sentinel fills the parts of dst buffers that a kernel must not write.
const sentinel = 0x7fc0dead

// drawShift returns a shift: mostly ordinary values, sometimes NaN (quiet or signalling, any payload
// and sign), ±Inf, ±0, a denormal or a huge value.
func drawShift(r *rand.Rand) float64 {
	sign := r.Uint64() & (1 << 63)
	switch r.IntN(16) {
	case 0:
		return math.Float64frombits(sign | 0x7ff8000000000000 | r.Uint64()&0x0007ffffffffffff)
	case 1:
		return math.Float64frombits(sign | 0x7ff0000000000000 | (r.Uint64()&0x0007ffffffffffff | 1))
	case 2:
		return math.Float64frombits(sign | 0x7ff0000000000000)
	case 3:
		return math.Float64frombits(sign)
	case 4:
		return math.Float64frombits(sign | r.Uint64()&0x000fffffffffffff)
	case 5:
		return math.Float64frombits(sign) + math.Ldexp(1+r.Float64(), 900+r.IntN(123))
	}
	return r.NormFloat64() * 100
}

// drawScale returns a scale: mostly ordinary values, sometimes NaN, ±Inf, ±0, a denormal, a value
// so large or so small that the float32 result overflows to ±Inf or underflows to a denormal or
// zero, a value whose products land on float32 rounding ties, or any power of two in a wide range.
func drawScale(r *rand.Rand) float64 {
	sign := r.Uint64() & (1 << 63)
	s := math.Float64frombits(sign | 0x3ff0000000000000) // ±1
	switch r.IntN(20) {
	case 0:
		return math.Float64frombits(sign | 0x7ff8000000000000 | r.Uint64()&0x0007ffffffffffff)
	case 1:
		return math.Float64frombits(sign | 0x7ff0000000000000)
	case 2:
		return math.Float64frombits(sign)
	case 3:
		return math.Float64frombits(sign | r.Uint64()&0x000fffffffffffff)
	case 4:
		return s * math.Ldexp(1+r.Float64(), 100+r.IntN(924))
	case 5:
		return s * math.Ldexp(1+r.Float64(), -130-r.IntN(900))
	case 6:
		return s * (1 + float64(1+2*r.IntN(4))*0x1p-24) // odd multiples of half a float32 ulp
	case 7:
		return s * math.Ldexp(1, r.IntN(400)-200)
	}
	return s / (1 + r.Float64()*100)
}

// drawF32 returns a float32 source value: pixel-like, or with extreme, sometimes NaN (quiet or
// signalling), ±Inf, ±0, a denormal, ±MaxFloat32 or arbitrary bits.
func drawF32(r *rand.Rand, extreme bool) float32 {
	if !extreme {
		return r.Float32() * 255
	}
	sign := r.Uint32() & (1 << 31)
	switch r.IntN(20) {
	case 0:
		return math.Float32frombits(sign | 0x7fc00000 | r.Uint32()&0x003fffff)
	case 1:
		return math.Float32frombits(sign | 0x7f800000 | (r.Uint32()&0x003fffff | 1))
	case 2:
		return math.Float32frombits(sign | 0x7f800000)
	case 3:
		return math.Float32frombits(sign)
	case 4:
		return math.Float32frombits(sign | r.Uint32()&0x007fffff)
	case 5:
		return math.Float32frombits(sign | 0x7f7fffff)
	case 6:
		return math.Float32frombits(r.Uint32())
	}
	return r.Float32() * 255
}

// drawU8 returns a uint8 source value, with extreme 0 and 255 more often than the others.
func drawU8(r *rand.Rand, extreme bool) uint8 {
	if !extreme {
		return uint8(r.Uint32())
	}
	switch r.IntN(8) {
	case 0:
		return 0
	case 1:
		return 255
	}
	return uint8(r.Uint32())
}

// scaleCase is one row for the kernels: src, shift and scale sliced out of larger arrays at an offset,
// and dst buffers for the reference and the kernel under test with sentinels around the row.
type scaleCase[T uint8 | float32] struct {
	src          []T
	shift, scale []float64
	off          scaleOffset
	n            int
}

// newScaleCase draws a row of n elements at off. With extremeStats, shift and scale take the special
// values of drawShift and drawScale; without, they are ordinary z-score statistics. draw draws the
// source values, with its own specials if extremeSrc.
func newScaleCase[T uint8 | float32](r *rand.Rand, n int, off scaleOffset, extremeStats, extremeSrc bool, draw func(*rand.Rand, bool) T) scaleCase[T] {
	const pad = 9
	src := make([]T, off.src+n+pad)
	shift := make([]float64, off.stat+n+pad)
	scale := make([]float64, off.stat+n+pad)
	for i := range src {
		src[i] = draw(r, extremeSrc)
	}
	for i := range shift {
		if extremeStats {
			shift[i], scale[i] = drawShift(r), drawScale(r)
		} else {
			shift[i], scale[i] = r.Float64()*128, 1/(1+r.Float64()*100)
		}
	}
	return scaleCase[T]{
		src:   src[off.src : off.src+n],
		shift: shift[off.stat : off.stat+n],
		scale: scale[off.stat : off.stat+n],
		off:   off,
		n:     n,
	}
}

// run calls f on a fresh dst row (sentinels around it), checks the sentinels and returns the row.
func (c scaleCase[T]) run(t *testing.T, what string, f func(dst []float32)) []float32 {
	t.Helper()
	const pad = 9
	buf := make([]float32, c.off.dst+c.n+pad)
	for i := range buf {
		buf[i] = math.Float32frombits(sentinel)
	}
	dst := buf[c.off.dst : c.off.dst+c.n]
	f(dst)
	for i, v := range buf {
		if (i < c.off.dst || i >= c.off.dst+c.n) && math.Float32bits(v) != sentinel {
			t.Fatalf("%s: n=%d off=%+v: wrote %#08x at buffer index %d, outside the row [%d, %d)",
				what, c.n, c.off, math.Float32bits(v), i, c.off.dst, c.off.dst+c.n)
		}
	}
	return dst
}

// sameBits fails unless got and want hold the same float32 bit patterns.
func (c scaleCase[T]) sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for j := range want {
		if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
			t.Fatalf("%s: n=%d off=%+v: element %d: src %v, shift %v (%#016x), scale %v (%#016x): got %v (%#08x), want %v (%#08x)",
				what, c.n, c.off, j, c.src[j], c.shift[j], math.Float64bits(c.shift[j]), c.scale[j], math.Float64bits(c.scale[j]),
				got[j], math.Float32bits(got[j]), want[j], math.Float32bits(want[j]))
		}
	}
}

// checkScaleRows compares scaleRowFast and scaleRowFiniteFast, with the assembly kernels on and off,
// with the reference loops scaleRow and scaleRowFinite, bitwise, for every length and offset, with
// ordinary and extreme statistics and sources. It returns how many rows the reference found finite
// and not.
func checkScaleRows[T uint8 | float32](t *testing.T, seed uint64, draw func(*rand.Rand, bool) T) (finite, nonFinite int) {
	r := rand.New(rand.NewPCG(seed, 0x5ca1e))
	for _, n := range scaleLengths() {
		for k, off := range scaleOffsets {
			c := newScaleCase(r, n, off, k%2 == 1, k >= 2, draw)
			want := c.run(t, "scaleRow", func(dst []float32) { scaleRow(dst, c.src, c.shift, c.scale) })
			var wantOK bool
			wantF := c.run(t, "scaleRowFinite", func(dst []float32) { wantOK = scaleRowFinite(dst, c.src, c.shift, c.scale) })
			c.sameBits(t, "scaleRowFinite vs scaleRow", wantF, want)
			if wantOK {
				finite++
			} else {
				nonFinite++
			}
			for _, asm := range asmModes() {
				withAsm(asm, func() {
					what := fmt.Sprintf("scaleRowFast[%T] asm=%v", c.src[:0:0], asm)
					got := c.run(t, what, func(dst []float32) { scaleRowFast(dst, c.src, c.shift, c.scale) })
					c.sameBits(t, what, got, want)
					what = fmt.Sprintf("scaleRowFiniteFast[%T] asm=%v", c.src[:0:0], asm)
					var ok bool
					got = c.run(t, what, func(dst []float32) { ok = scaleRowFiniteFast(dst, c.src, c.shift, c.scale) })
					c.sameBits(t, what, got, want)
					if ok != wantOK {
						t.Fatalf("%s: n=%d off=%+v: finite = %v, the Go loop says %v", what, n, off, ok, wantOK)
					}
				})
			}
		}
	}
	return finite, nonFinite
}

func TestScaleRowMatchesGoLoop(t *testing.T) {
	if !haveAsm {
		t.Log("no assembly kernels in this build or on this CPU: checking the pure-Go dispatch only")
	}
	for _, tc := range []struct {
		name string
		run  func(*testing.T) (int, int)
	}{
		{"uint8", func(t *testing.T) (int, int) { return checkScaleRows(t, 1, drawU8) }},
		{"float32", func(t *testing.T) (int, int) { return checkScaleRows(t, 2, drawF32) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			finite, nonFinite := tc.run(t)
			t.Logf("%d finite rows, %d non-finite rows", finite, nonFinite)
			// Both outcomes of the finite flag must be exercised, or the flag comparison proves little.
			if finite < 100 || nonFinite < 100 {
				t.Errorf("%d finite rows and %d non-finite rows: the draws no longer exercise both outcomes", finite, nonFinite)
			}
		})
	}
}

// TestScaleRowFiniteEveryLane puts one non-finite result at every position of rows of every length
// up to 40 (every lane of the 16-, 4- and 1-element steps), and checks that the finite flag says so,
// with and without the assembly kernels.
func TestScaleRowFiniteEveryLane(t *testing.T) {
	type poison struct {
		name string
		set  func(src8 []uint8, src32 []float32, shift, scale []float64, k int)
	}
	poisons := []poison{
		{"overflow", func(src8 []uint8, src32 []float32, shift, scale []float64, k int) {
			src8[k], src32[k], shift[k], scale[k] = 255, 255, 0, 1e300
		}},
		{"float32 overflow", func(src8 []uint8, src32 []float32, shift, scale []float64, k int) {
			src8[k], src32[k], shift[k], scale[k] = 255, 255, 0, math.MaxFloat32
		}},
		{"NaN scale", func(_ []uint8, _ []float32, _, scale []float64, k int) { scale[k] = math.NaN() }},
		{"-Inf shift", func(_ []uint8, _ []float32, shift, _ []float64, k int) { shift[k] = math.Inf(-1) }},
		{"Inf source", func(src8 []uint8, src32 []float32, shift, scale []float64, k int) {
			// A uint8 source cannot be infinite: it overflows instead.
			src8[k], src32[k], shift[k], scale[k] = 200, float32(math.Inf(1)), 0, 1e300
		}},
	}
	r := rand.New(rand.NewPCG(3, 4))
	for n := 1; n <= 40; n++ {
		for k := -1; k < n; k++ { // k = -1: no poison, every result finite
			for _, p := range poisons {
				src8, src32 := make([]uint8, n), make([]float32, n)
				shift, scale := make([]float64, n), make([]float64, n)
				for i := range n {
					src8[i] = uint8(r.Uint32())
					src32[i] = r.Float32() * 255
					shift[i], scale[i] = r.Float64()*128, 1/(1+r.Float64()*100)
				}
				if k >= 0 {
					p.set(src8, src32, shift, scale, k)
				}
				want := k < 0
				dst := make([]float32, n)
				for _, asm := range asmModes() {
					withAsm(asm, func() {
						if got := scaleRowFiniteFast(dst, src8, shift, scale); got != want {
							t.Fatalf("uint8 %s n=%d k=%d asm=%v: finite = %v, want %v", p.name, n, k, asm, got, want)
						}
						if got := scaleRowFiniteFast(dst, src32, shift, scale); got != want {
							t.Fatalf("float32 %s n=%d k=%d asm=%v: finite = %v, want %v", p.name, n, k, asm, got, want)
						}
					})
				}
			}
		}
	}
}

// TestScaleRowFastAllocs checks that the dispatch (an interface conversion and a type switch) does
// not allocate, for the types with kernels and for one without.
func TestScaleRowFastAllocs(t *testing.T) {
	const n = 784
	dst := make([]float32, n)
	src8, src32, src16 := make([]uint8, n), make([]float32, n), make([]int16, n)
	shift, scale := make([]float64, n), make([]float64, n)
	for _, asm := range asmModes() {
		withAsm(asm, func() {
			for _, tc := range []struct {
				name string
				f    func()
			}{
				{"scaleRowFast[uint8]", func() { scaleRowFast(dst, src8, shift, scale) }},
				{"scaleRowFast[float32]", func() { scaleRowFast(dst, src32, shift, scale) }},
				{"scaleRowFast[int16]", func() { scaleRowFast(dst, src16, shift, scale) }},
				{"scaleRowFiniteFast[uint8]", func() { scaleRowFiniteFast(dst, src8, shift, scale) }},
				{"scaleRowFiniteFast[float32]", func() { scaleRowFiniteFast(dst, src32, shift, scale) }},
				{"scaleRowFiniteFast[int16]", func() { scaleRowFiniteFast(dst, src16, shift, scale) }},
			} {
				if a := testing.AllocsPerRun(100, tc.f); a != 0 {
					t.Errorf("%s asm=%v: %v allocations per call, want 0", tc.name, asm, a)
				}
			}
		})
	}
}

// TestTransformAsmMatchesGo transforms MNIST-shaped records (pixels as fixed_size_list<uint8> and as
// list<float32>) with the assembly kernels on and off and requires bitwise equal x columns.
func TestTransformAsmMatchesGo(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	u8 := mnistRecord(mem, 37, 5)
	defer u8.Release()
	src := shardsOf(u8, "mnist.parquet", 37)
	defer src.release()
	s := fitMem(t, src, Config{Target: "label"}, 1)
	f32 := asListFloat32(u8)
	defer f32.Release()
	for _, rec := range []arrow.RecordBatch{u8, f32} {
		name := rec.Column(0).(array.ListLike).ListValues().DataType().String()
		var xs [][]float32
		for _, asm := range asmModes() {
			withAsm(asm, func() {
				out, err := s.Transform(rec, mem)
				if err != nil {
					t.Fatalf("%s asm=%v: %v", name, asm, err)
				}
				defer out.Release()
				x, _, _ := XMatrix(out)
				xs = append(xs, append([]float32(nil), x...))
			})
		}
		for i := 1; i < len(xs); i++ {
			for j := range xs[0] {
				if math.Float32bits(xs[i][j]) != math.Float32bits(xs[0][j]) {
					t.Fatalf("%s: x[%d] = %v with the kernels, %v with the Go loop", name, j, xs[i][j], xs[0][j])
				}
			}
		}
	}
}
