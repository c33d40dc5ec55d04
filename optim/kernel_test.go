package optim

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"
)

// kernelCase is one element-wise kernel with fixed hyper-parameters. vs[0]
// is the vector the kernel writes and checks (params, or dst), vs[1] the
// one it reads (grads, or src), vs[2:] the state. ref runs the pure-Go
// loop the kernel replaces, exactly as the code before the assembly
// kernels did, and returns what the kernel must return (whether vs[0] is
// finite afterwards); op builds the vecOp under test.
type kernelCase struct {
	name string
	nvec int
	ref  func(vs [][]float32) bool
	op   func(vs [][]float32) vecOp
}

// finiteRef is the obvious check, independent of the kernels under test.
func finiteRef(x []float32) bool {
	for _, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return true
}

func adamHyperCase(lr, b1, b2, eps, wd float64, decoupled bool, t int64) adamHyper {
	h := adamHyperFor(lr, b1, b2, eps, t)
	if decoupled {
		h.pmul = float32(1 - lr*wd)
	} else {
		h.wd = float32(wd)
	}
	return h
}

// kernelCases covers every kernel with ordinary hyper-parameters, the
// first-step settings (momentum 0, dampening factor 1), and settings that
// overflow finite inputs, so that the finiteness result is exercised both
// ways.
func kernelCases() []kernelCase {
	var cs []kernelCase
	cs = append(cs,
		kernelCase{"AllFinite", 1,
			func(vs [][]float32) bool { return finiteRef(vs[0]) },
			func(vs [][]float32) vecOp { return vecOp{kind: opAllFinite, p: vs[0], g: vs[0]} }},
		kernelCase{"AddFinite", 2,
			func(vs [][]float32) bool {
				for i, v := range vs[1] {
					vs[0][i] += v
				}
				return finiteRef(vs[0])
			},
			func(vs [][]float32) vecOp { return vecOp{kind: opAddFinite, check: true, p: vs[0], g: vs[1]} }},
	)
	for _, k := range [][2]float32{{0.05, 0}, {0.01, 1e-3}, {1e30, 0.5}} {
		cs = append(cs, kernelCase{fmt.Sprintf("sgdPlain/lr=%g,wd=%g", k[0], k[1]), 2,
			func(vs [][]float32) bool { sgdPlain(vs[0], vs[1], k[0], k[1]); return finiteRef(vs[0]) },
			func(vs [][]float32) vecOp {
				return vecOp{kind: opSGDPlain, check: true, p: vs[0], g: vs[1], k: [5]float32{k[0], k[1]}}
			}})
	}
	for _, k := range [][4]float32{{0.05, 1e-3, 0.9, 0.9}, {0.05, 0, 0, 1}, {0.1, 0.01, 0.99, 1}, {1e30, 2, 0.9, 0.5}} {
		cs = append(cs, kernelCase{fmt.Sprintf("sgdMomentum/%v", k), 3,
			func(vs [][]float32) bool {
				sgdMomentum(vs[0], vs[1], vs[2], k[0], k[1], k[2], k[3])
				return finiteRef(vs[0])
			},
			func(vs [][]float32) vecOp {
				return vecOp{kind: opSGDMomentum, check: true, p: vs[0], g: vs[1], s1: vs[2], k: [5]float32{k[0], k[1], k[2], k[3]}}
			}})
	}
	for _, k := range [][5]float32{{0.05, 1e-3, 0.9, 0.9, 1}, {0.05, 1e-3, 0.9, 0, 1}, {1e30, 0, 0.5, 0.5, 1}} {
		cs = append(cs, kernelCase{fmt.Sprintf("sgdNesterov/%v", k), 3,
			func(vs [][]float32) bool {
				sgdNesterov(vs[0], vs[1], vs[2], k[0], k[1], k[2], k[3], k[4])
				return finiteRef(vs[0])
			},
			func(vs [][]float32) vecOp {
				return vecOp{kind: opSGDNesterov, check: true, p: vs[0], g: vs[1], s1: vs[2], k: k}
			}})
	}
	hs := []adamHyper{
		adamHyperCase(1e-3, 0.9, 0.999, 1e-8, 0, false, 1),
		adamHyperCase(1e-3, 0.9, 0.999, 1e-8, 1e-2, false, 1000),
		adamHyperCase(1e-3, 0.9, 0.999, 1e-8, 1e-2, true, 7),
		adamHyperCase(1e30, 0.5, 0.5, 1e-30, 0, false, 3),
	}
	for i, h := range hs {
		cs = append(cs, kernelCase{fmt.Sprintf("adam/%d", i), 4,
			func(vs [][]float32) bool { adamKernel(vs[0], vs[1], vs[2], vs[3], h); return finiteRef(vs[0]) },
			func(vs [][]float32) vecOp {
				return vecOp{kind: opAdam, check: true, p: vs[0], g: vs[1], s1: vs[2], s2: vs[3], h: h}
			}})
		cs = append(cs, kernelCase{fmt.Sprintf("adamAMSGrad/%d", i), 5,
			func(vs [][]float32) bool {
				adamAMSGradKernel(vs[0], vs[1], vs[2], vs[3], vs[4], h)
				return finiteRef(vs[0])
			},
			func(vs [][]float32) vecOp {
				return vecOp{kind: opAdamAMSGrad, check: true, p: vs[0], g: vs[1], s1: vs[2], s2: vs[3], s3: vs[4], h: h}
			}})
	}
	cs = append(cs,
		kernelCase{"scale", 1,
			func(vs [][]float32) bool { scale(vs[0], 0.37); return finiteRef(vs[0]) },
			func(vs [][]float32) vecOp {
				return vecOp{kind: opScale, check: true, p: vs[0], g: vs[0], k: [5]float32{0.37}}
			}},
		kernelCase{"clipValue", 1,
			func(vs [][]float32) bool { clipValue(vs[0], 0.5); return finiteRef(vs[0]) },
			func(vs [][]float32) vecOp {
				return vecOp{kind: opClipValue, check: true, p: vs[0], g: vs[0], k: [5]float32{0.5}}
			}},
		kernelCase{"average", 2,
			func(vs [][]float32) bool { averageInto(vs[0], vs[1], 1.0/3); return finiteRef(vs[0]) },
			func(vs [][]float32) vecOp {
				return vecOp{kind: opAverage, check: true, p: vs[0], g: vs[1], k: [5]float32{1.0 / 3}}
			}},
	)
	for _, k := range [][3]float32{{0.01, 0, 1e-10}, {0.05, 1e-3, 1e-10}, {1e30, 0.5, 1e-30}} {
		cs = append(cs, kernelCase{fmt.Sprintf("adagrad/%v", k), 3,
			func(vs [][]float32) bool {
				adagradKernel(vs[0], vs[1], vs[2], k[0], k[1], k[2])
				return finiteRef(vs[0])
			},
			func(vs [][]float32) vecOp {
				return vecOp{kind: opAdagrad, check: true, p: vs[0], g: vs[1], s1: vs[2], k: [5]float32{k[0], k[1], k[2]}}
			}})
	}
	for i, h := range []rmsHyper{
		{lr: 0.01, a: 0.99, a1: 1 - float32(0.99), eps: 1e-8},
		{lr: 0.01, a: 0.9, a1: 0.1, eps: 1e-8, wd: 1e-3, mom: 0.9},
		{lr: 1e30, a: 0.5, a1: 0.5, eps: 1e-30, wd: 2, mom: 0.5},
	} {
		cs = append(cs,
			kernelCase{fmt.Sprintf("rmsPlain/%d", i), 3,
				func(vs [][]float32) bool { rmsPlain(vs[0], vs[1], vs[2], h); return finiteRef(vs[0]) },
				func(vs [][]float32) vecOp {
					return vecOp{kind: opRMSPlain, check: true, p: vs[0], g: vs[1], s1: vs[2], rh: h}
				}},
			kernelCase{fmt.Sprintf("rmsMomentum/%d", i), 4,
				func(vs [][]float32) bool { rmsMomentum(vs[0], vs[1], vs[2], vs[3], h); return finiteRef(vs[0]) },
				func(vs [][]float32) vecOp {
					return vecOp{kind: opRMSMomentum, check: true, p: vs[0], g: vs[1], s1: vs[2], s2: vs[3], rh: h}
				}},
			kernelCase{fmt.Sprintf("rmsCentered/%d", i), 4,
				func(vs [][]float32) bool { rmsCentered(vs[0], vs[1], vs[2], vs[3], h); return finiteRef(vs[0]) },
				func(vs [][]float32) vecOp {
					return vecOp{kind: opRMSCentered, check: true, p: vs[0], g: vs[1], s1: vs[2], s2: vs[3], rh: h}
				}},
			kernelCase{fmt.Sprintf("rmsCenteredMomentum/%d", i), 5,
				func(vs [][]float32) bool {
					rmsCenteredMomentum(vs[0], vs[1], vs[2], vs[3], vs[4], h)
					return finiteRef(vs[0])
				},
				func(vs [][]float32) vecOp {
					return vecOp{kind: opRMSCenteredMomentum, check: true, p: vs[0], g: vs[1], s1: vs[2], s2: vs[3], s3: vs[4], rh: h}
				}},
		)
	}
	for i, h := range hs {
		cs = append(cs,
			kernelCase{fmt.Sprintf("radamRect/%d", i), 4,
				func(vs [][]float32) bool { radamRectKernel(vs[0], vs[1], vs[2], vs[3], h); return finiteRef(vs[0]) },
				func(vs [][]float32) vecOp {
					return vecOp{kind: opRAdamRect, check: true, p: vs[0], g: vs[1], s1: vs[2], s2: vs[3], h: h}
				}},
			kernelCase{fmt.Sprintf("radamPlain/%d", i), 4,
				func(vs [][]float32) bool { radamPlainKernel(vs[0], vs[1], vs[2], vs[3], h); return finiteRef(vs[0]) },
				func(vs [][]float32) vecOp {
					return vecOp{kind: opRAdamPlain, check: true, p: vs[0], g: vs[1], s1: vs[2], s2: vs[3], h: h}
				}},
			kernelCase{fmt.Sprintf("adamax/%d", i), 4,
				func(vs [][]float32) bool { adamaxKernel(vs[0], vs[1], vs[2], vs[3], h); return finiteRef(vs[0]) },
				func(vs [][]float32) vecOp {
					return vecOp{kind: opAdamax, check: true, p: vs[0], g: vs[1], s1: vs[2], s2: vs[3], h: h}
				}},
			kernelCase{fmt.Sprintf("adamHD/%d", i), 5,
				func(vs [][]float32) bool { adamHDKernel(vs[0], vs[1], vs[2], vs[3], vs[4], h); return finiteRef(vs[0]) },
				func(vs [][]float32) vecOp {
					return vecOp{kind: opAdamHD, check: true, p: vs[0], g: vs[1], s1: vs[2], s2: vs[3], s3: vs[4], h: h}
				}},
		)
	}
	for i, h := range []nadamHyper{
		{b1: 0.9, b11: 0.1, b2: 0.999, b21: 1 - float32(0.999), ibc2: 31.6, eps: 1e-8, cg: 1e-3, cm: 2e-3},
		{b1: 0.9, b11: 0.1, b2: 0.999, b21: 1e-3, ibc2: 1.01, eps: 1e-8, wd: 1e-2, cg: 1e-4, cm: 9e-4},
		{b1: 0.5, b11: 0.5, b2: 0.5, b21: 0.5, ibc2: 2, eps: 1e-30, wd: 2, cg: 1e30, cm: 1e30},
	} {
		cs = append(cs, kernelCase{fmt.Sprintf("nadam/%d", i), 4,
			func(vs [][]float32) bool { nadamKernel(vs[0], vs[1], vs[2], vs[3], h); return finiteRef(vs[0]) },
			func(vs [][]float32) vecOp {
				return vecOp{kind: opNAdam, check: true, p: vs[0], g: vs[1], s1: vs[2], s2: vs[3], nh: h}
			}})
	}
	for _, k := range [][2]float32{{0.01, 0}, {0.05, 1e-3}, {1e30, 2}} {
		cs = append(cs, kernelCase{fmt.Sprintf("sgdHD/%v", k), 3,
			func(vs [][]float32) bool { sgdHDKernel(vs[0], vs[1], vs[2], k[0], k[1]); return finiteRef(vs[0]) },
			func(vs [][]float32) vecOp {
				return vecOp{kind: opSGDHD, check: true, p: vs[0], g: vs[1], s1: vs[2], k: [5]float32{k[0], k[1]}}
			}})
	}
	for _, k := range [][5]float32{{1, 0.9, 0.1, 1e-6, 0}, {0.5, 0.95, 0.05, 1e-6, 1e-3}, {1e30, 0.5, 0.5, 1e-30, 2}} {
		cs = append(cs, kernelCase{fmt.Sprintf("adadelta/%v", k), 4,
			func(vs [][]float32) bool {
				adadeltaKernel(vs[0], vs[1], vs[2], vs[3], k[0], k[1], k[2], k[3], k[4])
				return finiteRef(vs[0])
			},
			func(vs [][]float32) vecOp {
				return vecOp{kind: opAdadelta, check: true, p: vs[0], g: vs[1], s1: vs[2], s2: vs[3], k: k}
			}})
	}
	for _, k := range [][4]float32{{0.9999, 0.01, 0, 1}, {0.99, 0.01, 1e-3, 0.25}, {1, 1e30, 2, 0.5}} {
		for _, copyAvg := range []bool{false, true} {
			kind := opASGD
			if copyAvg {
				kind = opASGDCopy
			}
			cs = append(cs, kernelCase{fmt.Sprintf("asgd/%v/copy=%v", k, copyAvg), 3,
				func(vs [][]float32) bool {
					asgdKernel(vs[0], vs[1], vs[2], k[0], k[1], k[2], k[3], copyAvg)
					return finiteRef(vs[0])
				},
				func(vs [][]float32) vecOp {
					return vecOp{kind: kind, check: true, p: vs[0], g: vs[1], s1: vs[2], k: [5]float32{k[0], k[1], k[2], k[3]}}
				}})
		}
	}
	for _, k := range [][4]float32{{0.5, 1.2, 1e-6, 50}, {0.3, 1.5, 0, 1}, {0.5, 1.2, 1e30, 3e38}} {
		cs = append(cs, kernelCase{fmt.Sprintf("rprop/%v", k), 4,
			func(vs [][]float32) bool {
				rpropKernel(vs[0], vs[1], vs[2], vs[3], k[0], k[1], k[2], k[3])
				return finiteRef(vs[0])
			},
			func(vs [][]float32) vecOp {
				return vecOp{kind: opRprop, check: true, p: vs[0], g: vs[1], s1: vs[2], s2: vs[3], k: [5]float32{k[0], k[1], k[2], k[3]}}
			}})
	}
	return cs
}

// rpropOneNaN replaces prev (vs[2]) by 1 where both it and g (vs[1]) are
// NaN. Rprop branches on the sign bit of g·prev, and when both are NaN that
// is the sign of whichever NaN the multiplication returns: the first
// operand's, which gc picks by register allocation (see checkSameKernel).
// So there the Go loop itself has no one answer; everywhere else the bits
// must match. (prev holds the last gradient, so it is NaN only after a NaN
// gradient was stepped with.)
func rpropOneNaN(vs [][]float32) {
	for i, g := range vs[1] {
		if g != g && vs[2][i] != vs[2][i] {
			vs[2][i] = 1
		}
	}
}

// smallGradAvg keeps centered RMSprop's v - ga² non-negative, so that its
// square root makes no NaN: it zeroes ga (vs[3]) but for its NaNs, so that
// ga becomes (1-α)·d and v >= (1-α)·d² >= ga².
func smallGradAvg(vs [][]float32) {
	for i, x := range vs[3] {
		if x == x {
			vs[3][i] = 0
		}
	}
}

// specialValue draws a float32 that is, with probability special, one of
// the values kernels get wrong: NaN with a random payload (quiet or
// signalling, either sign), ±Inf, a denormal, ±0, a value near overflow or
// the least normal; otherwise a normal value of about scale.
func specialValue(r *rand.Rand, special float64, scale float32) float32 {
	if r.Float64() >= special {
		return float32(r.NormFloat64()) * scale
	}
	sign := r.Uint32() & signBit
	switch r.IntN(7) {
	case 0:
		return math.Float32frombits(sign | expBits | (r.Uint32()&0x7fffff | 1)) // NaN
	case 1:
		return math.Float32frombits(sign | expBits) // ±Inf
	case 2:
		return math.Float32frombits(sign | r.Uint32()&0x7fffff) // denormal or 0
	case 3:
		return math.Float32frombits(sign) // ±0
	case 4:
		return math.Float32frombits(sign | 0x7f000000 | r.Uint32()&0x7fffff) // ~1e38
	case 5:
		return math.Float32frombits(sign | expLow) // least normal
	default:
		return math.Float32frombits(sign | (r.Uint32()&0xff)<<23 | r.Uint32()&0x7fffff) // any exponent, NaN/Inf included
	}
}

// kernelInputs returns nvec vectors of n values placed off elements into
// larger buffers (so that the kernels see unaligned sub-slices with data on
// both sides), and the same again as an independent copy.
func kernelInputs(r *rand.Rand, nvec, n, off int, special float64) (a, b [][]float32) {
	for range nvec {
		buf := make([]float32, off+n+9)
		for i := range buf {
			buf[i] = specialValue(r, special, 1)
		}
		cp := append([]float32(nil), buf...)
		a, b = append(a, buf[off:off+n]), append(b, cp[off:off+n])
	}
	return a, b
}

// sameOrNaN returns the first index where a and b differ in their bits,
// other than both holding a NaN (possibly of different payloads), or -1.
func sameOrNaN(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) && (a[i] == a[i] || b[i] == b[i]) {
			return i
		}
	}
	return -1
}

// oneNaNInputs is kernelInputs for exact NaN payloads: ordinary values,
// denormals and zeros, non-negative state (so that no square root makes a
// NaN of its own), and in one element in ten a NaN with a random payload in
// one of the vectors.
func oneNaNInputs(r *rand.Rand, nvec, n, off int) (a, b [][]float32) {
	a, b = kernelInputs(r, nvec, n, off, 0)
	for v := range nvec {
		for i := range n {
			x := a[v][i]
			switch r.IntN(10) {
			case 0:
				x = math.Float32frombits(r.Uint32() & (signBit | 0x7fffff)) // denormal or ±0
			case 1:
				x = 1e-30 * x
			}
			if v >= 2 {
				x = abs32(x)
			}
			a[v][i], b[v][i] = x, x
		}
	}
	for i := range n {
		if r.IntN(10) == 0 {
			v := r.IntN(nvec)
			x := math.Float32frombits(r.Uint32()&signBit | expBits | (r.Uint32()&0x7fffff | 1))
			a[v][i], b[v][i] = x, x
		}
	}
	return a, b
}

// checkSameKernel runs kc's reference over ref and the vecOp (with the
// assembly kernels if asm) over got, and fails unless the returned flags
// agree and so does every vector, bitwise (with exactNaN), or bitwise but
// for the payloads of NaNs.
//
// NaN payloads can differ where one operation meets two different NaNs: x86
// returns the first operand's, and for commutative operations (a+b, a·b)
// the Go compiler picks that operand by register allocation, differently
// for the same source line inlined in different functions. So the Go loop
// has no one payload to match there; with at most one NaN entering each
// element's computation (exactNaN inputs) the payload propagates and must
// match.
func checkSameKernel(t *testing.T, kc kernelCase, ref, got [][]float32, asm, exactNaN bool, what string) {
	t.Helper()
	if strings.HasPrefix(kc.name, "rprop") {
		rpropOneNaN(ref)
		rpropOneNaN(got)
	}
	in := make([][]float32, len(ref))
	for i, v := range ref {
		in[i] = append([]float32(nil), v...)
	}
	wantOK := kc.ref(ref)
	saved := useAsm
	useAsm = asm
	op := kc.op(got)
	gotOK := op.run(len(got[0]))
	useAsm = saved
	for v := range ref {
		i := sameOrNaN(ref[v], got[v])
		if exactNaN {
			i = sameBits(ref[v], got[v])
		}
		if i >= 0 {
			var ins string
			for _, x := range in {
				ins += fmt.Sprintf(" %#08x", math.Float32bits(x[i]))
			}
			t.Fatalf("%s %s: vector %d element %d of %d: got %#08x (%g), want %#08x (%g); inputs%s",
				kc.name, what, v, i, len(ref[v]), math.Float32bits(got[v][i]), got[v][i],
				math.Float32bits(ref[v][i]), ref[v][i], ins)
		}
	}
	if gotOK != wantOK {
		t.Fatalf("%s %s: finite = %v, want %v", kc.name, what, gotOK, wantOK)
	}
}

// TestKernelsBitwise compares every kernel with its pure-Go loop, bitwise,
// on random inputs full of NaNs (with payloads), infinities, denormals and
// zeros of both signs, at every length from 0 to 300 and some longer ones,
// at four alignments. Without assembly kernels (-tags noasm, other CPUs) it
// checks the dispatch and the finiteness check of the Go path.
func TestKernelsBitwise(t *testing.T) {
	if !haveAsm {
		t.Log("no assembly kernels: checking the pure-Go path only")
	}
	lens := make([]int, 0, 310)
	for n := range 301 {
		lens = append(lens, n)
	}
	lens = append(lens, 1000, 4096+7, 3*chunkLen+13)
	defer func() { useAVX512 = haveAVX512 }()
	for _, kc := range kernelCases() {
		for _, z := range avx512Variants(kc) {
			useAVX512 = z
			t.Run(fmt.Sprintf("%s/avx512=%v", kc.name, z), func(t *testing.T) {
				bitwiseCase(t, kc, lens)
			})
		}
	}
}

// avx512Variants returns the values of useAVX512 under which kc's kernel
// is to be tested: both when it has an AVX-512 version and the CPU runs it.
func avx512Variants(kc kernelCase) []bool {
	if haveAVX512 && strings.HasPrefix(kc.name, "adam") && !strings.HasPrefix(kc.name, "adamax") && !strings.HasPrefix(kc.name, "adamHD") {
		return []bool{false, true}
	}
	return []bool{false}
}

// bitwiseCase runs checkSameKernel for kc at every length in lens, three
// alignments, two densities of special values, and with one NaN.
func bitwiseCase(t *testing.T, kc kernelCase, lens []int) {
	r := rand.New(rand.NewPCG(1, uint64(len(kc.name))))
	for _, n := range lens {
		for _, off := range []int{0, 1, 3} {
			for _, special := range []float64{0.02, 0.5} {
				ref, got := kernelInputs(r, kc.nvec, n, off, special)
				checkSameKernel(t, kc, ref, got, haveAsm, false, fmt.Sprintf("n=%d off=%d special=%g", n, off, special))
			}
			ref, got := oneNaNInputs(r, kc.nvec, n, off)
			if strings.HasPrefix(kc.name, "rmsCentered") {
				smallGradAvg(ref)
				smallGradAvg(got)
			}
			checkSameKernel(t, kc, ref, got, haveAsm, true, fmt.Sprintf("n=%d off=%d one NaN", n, off))
		}
	}
}

// TestKernelsNoOverrun checks that the kernels touch nothing outside their
// slices: the guard elements around them keep their bits.
func TestKernelsNoOverrun(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	defer func() { useAVX512 = haveAVX512 }()
	for _, kc := range kernelCases() {
		for _, z := range avx512Variants(kc) {
			useAVX512 = z
			noOverrun(t, r, kc)
		}
	}
}

// noOverrun runs kc over n elements in the middle of buffers with 16 guard
// elements on each side, for n up to 40, and fails if a guard changed.
func noOverrun(t *testing.T, r *rand.Rand, kc kernelCase) {
	for n := range 40 {
		bufs := make([][]float32, kc.nvec)
		vs := make([][]float32, kc.nvec)
		for i := range bufs {
			bufs[i] = make([]float32, n+32)
			for j := range bufs[i] {
				bufs[i][j] = specialValue(r, 0.1, 1)
			}
			vs[i] = bufs[i][16 : 16+n]
		}
		before := make([][]float32, kc.nvec)
		for i := range bufs {
			before[i] = append([]float32(nil), bufs[i]...)
		}
		op := kc.op(vs)
		op.run(n)
		for i := range bufs {
			for j, x := range bufs[i] {
				if (j < 16 || j >= 16+n) && math.Float32bits(x) != math.Float32bits(before[i][j]) {
					t.Fatalf("%s n=%d: vector %d guard element %d changed", kc.name, n, i, j)
				}
			}
		}
	}
}

// cloneVecs returns deep copies of vs.
func cloneVecs(vs [][]float32) [][]float32 {
	out := make([][]float32, len(vs))
	for i, v := range vs {
		out[i] = append([]float32(nil), v...)
	}
	return out
}

// splitSmall lets the kernels split vectors of two chunks or more over
// goroutines until the test ends, so that tests exercise the split without
// large vectors.
func splitSmall(t *testing.T) {
	saved := minThreadLen
	minThreadLen = chunkLen
	t.Cleanup(func() { minThreadLen = saved })
}

// TestKernelsThreads checks that the result does not depend on the number of
// goroutines: every kernel, over vectors long enough to be split unevenly,
// gives bitwise what one goroutine gives.
func TestKernelsThreads(t *testing.T) {
	defer SetThreads(Threads())
	splitSmall(t)
	const n = 9*chunkLen + 333
	for _, kc := range kernelCases() {
		r := rand.New(rand.NewPCG(3, 3))
		base, _ := kernelInputs(r, kc.nvec, n, 1, 1e-4)
		clone := func() [][]float32 { return cloneVecs(base) }
		SetThreads(1)
		ref := clone()
		op := kc.op(ref)
		wantOK := op.run(n)
		for _, threads := range []int{2, 3, 4, 64} {
			SetThreads(threads)
			got := clone()
			op := kc.op(got)
			if ok := op.run(n); ok != wantOK {
				t.Fatalf("%s threads=%d: finite = %v, want %v", kc.name, threads, ok, wantOK)
			}
			for v := range ref {
				if i := sameBits(ref[v], got[v]); i >= 0 {
					t.Fatalf("%s threads=%d: vector %d differs at %d", kc.name, threads, v, i)
				}
			}
		}
	}
}

// TestSetThreads checks the clamping and the split: at most one goroutine
// per minThreadLen elements.
func TestSetThreads(t *testing.T) {
	defer SetThreads(Threads())
	for _, c := range []struct{ set, want, n, used int }{
		{0, 1, 1 << 20, 1},
		{-3, 1, 1 << 20, 1},
		{1, 1, 1 << 20, 1},
		{2, 2, 1 << 20, 2},
		{2, 2, minThreadLen, 1},
		{2, 2, 2*minThreadLen - 1, 1},
		{2, 2, 2 * minThreadLen, 2},
		{8, 8, 3 * minThreadLen, 3},
		{2, 2, mlpParams, 1}, // the MNIST MLP stays on the caller
		{1000, maxThreads, 1 << 30, maxThreads},
	} {
		SetThreads(c.set)
		if got := Threads(); got != c.want {
			t.Errorf("SetThreads(%d): Threads() = %d, want %d", c.set, got, c.want)
		}
		if got := threadsFor(c.n); got != c.used {
			t.Errorf("SetThreads(%d): threadsFor(%d) = %d, want %d", c.set, c.n, got, c.used)
		}
	}
}

// TestAddFinite is AddFinite's table test.
func TestAddFinite(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	for _, c := range []struct {
		name     string
		dst, src []float32
		want     []float32
		ok       bool
	}{
		{"empty", nil, nil, nil, true},
		{"sum", []float32{1, 2, 3}, []float32{0.5, -2, 1e-3}, []float32{1.5, 0, 3.001}, true},
		{"overflow", []float32{3e38, 1}, []float32{3e38, 1}, []float32{inf, 2}, false},
		{"inf in src", []float32{1, 2}, []float32{-inf, 0}, []float32{-inf, 2}, false},
		{"nan in dst", []float32{nan}, []float32{1}, []float32{nan}, false},
		{"inf minus inf", []float32{inf}, []float32{-inf}, []float32{nan}, false},
		{"last of nine", []float32{0, 0, 0, 0, 0, 0, 0, 0, inf}, make([]float32, 9), []float32{0, 0, 0, 0, 0, 0, 0, 0, inf}, false},
	} {
		ok := AddFinite(c.dst, c.src)
		if ok != c.ok {
			t.Errorf("%s: AddFinite = %v, want %v", c.name, ok, c.ok)
		}
		for i := range c.want {
			g, w := c.dst[i], c.want[i]
			if !(g == w || g != g && w != w) {
				t.Errorf("%s: dst[%d] = %g, want %g", c.name, i, g, w)
			}
		}
	}
	defer func() {
		if r := recover(); r != "optim: AddFinite: dst and src must have the same length" {
			t.Errorf("length mismatch: recovered %v", r)
		}
	}()
	AddFinite(make([]float32, 3), make([]float32, 2))
}

// TestStepFinite checks that StepFinite updates as Step does, bitwise, and
// reports what AllFinite would: for the FiniteSteppers and for a rule that
// is not one.
func TestStepFinite(t *testing.T) {
	defer SetThreads(Threads())
	splitSmall(t)
	for _, rc := range ruleCases {
		name := rc.name
		for _, threads := range []int{1, 2} {
			SetThreads(threads)
			const n = 5*chunkLen + 3
			a, b := mustRule(t, rc, n), mustRule(t, rc, n)
			pa, pb := randVec(1, n, 1), randVec(1, n, 1)
			for step := range 4 {
				g := gradAt(pa, step)
				if step == 3 {
					g[n-1] = float32(math.Inf(-1)) // the update overflows
				}
				a.Step(pa, g)
				want := AllFinite(pa)
				if got := StepFinite(b, pb, g); got != want {
					t.Fatalf("%s threads=%d step %d: StepFinite = %v, want %v", name, threads, step, got, want)
				}
				if i := sameBits(pa, pb); i >= 0 {
					t.Fatalf("%s threads=%d step %d: params differ at %d", name, threads, step, i)
				}
				if step == 3 && want && name != "rprop" { // Rprop uses only the gradient's sign
					t.Fatalf("%s: step with an infinite gradient stayed finite", name)
				}
			}
		}
	}
}

// TestAdamHyperLayout pins the field offsets the assembly reads.
func TestAdamHyperLayout(t *testing.T) {
	var h adamHyper
	got := []uintptr{unsafe.Offsetof(h.b1), unsafe.Offsetof(h.b11), unsafe.Offsetof(h.b2), unsafe.Offsetof(h.b21),
		unsafe.Offsetof(h.ss), unsafe.Offsetof(h.ibc2), unsafe.Offsetof(h.eps), unsafe.Offsetof(h.wd), unsafe.Offsetof(h.pmul)}
	for i, off := range got {
		if off != uintptr(4*i) {
			t.Fatalf("adamHyper field %d at offset %d, the assembly reads %d", i, off, 4*i)
		}
	}
}

// TestNAdamHyperLayout pins the field offsets the assembly reads.
func TestNAdamHyperLayout(t *testing.T) {
	var h nadamHyper
	got := []uintptr{unsafe.Offsetof(h.b1), unsafe.Offsetof(h.b11), unsafe.Offsetof(h.b2), unsafe.Offsetof(h.b21),
		unsafe.Offsetof(h.ibc2), unsafe.Offsetof(h.eps), unsafe.Offsetof(h.wd), unsafe.Offsetof(h.cg), unsafe.Offsetof(h.cm)}
	for i, off := range got {
		if off != uintptr(4*i) {
			t.Fatalf("nadamHyper field %d at offset %d, the assembly reads %d", i, off, 4*i)
		}
	}
}

// TestRMSHyperLayout pins the field offsets the assembly reads.
func TestRMSHyperLayout(t *testing.T) {
	var h rmsHyper
	got := []uintptr{unsafe.Offsetof(h.lr), unsafe.Offsetof(h.a), unsafe.Offsetof(h.a1), unsafe.Offsetof(h.eps),
		unsafe.Offsetof(h.wd), unsafe.Offsetof(h.mom)}
	for i, off := range got {
		if off != uintptr(4*i) {
			t.Fatalf("rmsHyper field %d at offset %d, the assembly reads %d", i, off, 4*i)
		}
	}
}

// gradNormRef and dotDecayedRef are GradNorm and dotDecayed as they were
// before the assembly kernels.
func gradNormRef(g []float32) float64 {
	var s0, s1, s2, s3 float64
	for len(g) >= 4 {
		x0, x1, x2, x3 := float64(g[0]), float64(g[1]), float64(g[2]), float64(g[3])
		s0 += x0 * x0
		s1 += x1 * x1
		s2 += x2 * x2
		s3 += x3 * x3
		g = g[4:]
	}
	for _, x := range g {
		s0 += float64(x) * float64(x)
	}
	return math.Sqrt((s0 + s1) + (s2 + s3))
}

func dotDecayedRef(g, p, u []float32, wd float32) float64 {
	var s0, s1, s2, s3 float64
	for len(g) >= 4 {
		s0 += float64(g[0]+wd*p[0]) * float64(u[0])
		s1 += float64(g[1]+wd*p[1]) * float64(u[1])
		s2 += float64(g[2]+wd*p[2]) * float64(u[2])
		s3 += float64(g[3]+wd*p[3]) * float64(u[3])
		g, p, u = g[4:], p[4:], u[4:]
	}
	for i, gi := range g {
		s0 += float64(gi+wd*p[i]) * float64(u[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// TestReductionsBitwise checks that GradNorm and the hypergradient dot
// product give the bits of the loops they replace, with and without the
// assembly kernels and for any SetThreads (they do not split).
func TestReductionsBitwise(t *testing.T) {
	defer SetThreads(Threads())
	r := rand.New(rand.NewPCG(5, 5))
	same := func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) || a != a && b != b }
	for _, n := range []int{0, 1, 3, 4, 5, 17, 64, 255, 1000, 3*chunkLen + 5} {
		for off := range 4 {
			for _, special := range []float64{0, 0.01} {
				vs, _ := kernelInputs(r, 3, n, off, special)
				for _, asm := range []bool{false, haveAsm} {
					for _, threads := range []int{1, 2} {
						SetThreads(threads)
						useAsm = asm
						gn, dd := GradNorm(vs[0]), dotDecayed(vs[0], vs[1], vs[2], 1e-3)
						useAsm = haveAsm
						if want := gradNormRef(vs[0]); !same(gn, want) {
							t.Fatalf("n=%d off=%d special=%g asm=%v threads=%d: GradNorm = %v, want %v", n, off, special, asm, threads, gn, want)
						}
						if want := dotDecayedRef(vs[0], vs[1], vs[2], 1e-3); !same(dd, want) {
							t.Fatalf("n=%d off=%d special=%g asm=%v threads=%d: dotDecayed = %v, want %v", n, off, special, asm, threads, dd, want)
						}
					}
				}
			}
		}
	}
}

// TestParallelDoesNotAllocate checks that splitting a kernel over
// goroutines allocates nothing in steady state.
func TestParallelDoesNotAllocate(t *testing.T) {
	defer SetThreads(Threads())
	splitSmall(t)
	SetThreads(2)
	dst, src := randVec(1, 8*chunkLen, 1), randVec(2, 8*chunkLen, 1e-9)
	o, err := NewAdam(len(dst), DefaultAdamConfig())
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(){
		"AddFinite":  func() { AddFinite(dst, src) },
		"AllFinite":  func() { AllFinite(dst) },
		"StepFinite": func() { o.StepFinite(dst, src) },
	} {
		f()
		if a := testing.AllocsPerRun(50, f); a != 0 {
			t.Errorf("%s with 2 threads allocates %v times per call", name, a)
		}
	}
}

// FuzzKernels feeds arbitrary bit patterns to every kernel, the assembly
// and the pure-Go loop, and requires bitwise-equal results. The first byte
// picks the kernel, the second the offset into the buffers; the rest are
// the vectors' float32 bits, interleaved.
func FuzzKernels(f *testing.F) {
	cs := kernelCases()
	r := rand.New(rand.NewPCG(4, 4))
	for i := range cs {
		seed := []byte{byte(i), byte(i % 3)}
		for range 4 * 5 * (9 + i) {
			seed = binary.LittleEndian.AppendUint32(seed, math.Float32bits(specialValue(r, 0.3, 1)))
		}
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		kc := cs[int(data[0])%len(cs)]
		off := int(data[1]) % 8
		words := (len(data) - 2) / 4
		n := words / kc.nvec
		ref, got := make([][]float32, kc.nvec), make([][]float32, kc.nvec)
		for v := range kc.nvec {
			ref[v], got[v] = make([]float32, off+n), make([]float32, off+n)
			for i := range n {
				x := math.Float32frombits(binary.LittleEndian.Uint32(data[2+4*(i*kc.nvec+v):]))
				ref[v][off+i], got[v][off+i] = x, x
			}
			ref[v], got[v] = ref[v][off:], got[v][off:]
		}
		checkSameKernel(t, kc, ref, got, haveAsm, false, fmt.Sprintf("n=%d off=%d", n, off))
	})
}

// TestAssist checks that a kernel call's result does not depend on who computes its chunks:
// every kernel, with an assistant goroutine calling Assist in a loop while the call runs, gives
// bitwise what the caller alone gives, and the same finite verdict.
func TestAssist(t *testing.T) {
	const n = 9*chunkLen + 333
	var helped atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if Assist() {
				helped.Add(1)
			}
			runtime.Gosched()
		}
	}()
	defer func() { close(stop); <-done }()
	for _, kc := range kernelCases() {
		r := rand.New(rand.NewPCG(5, 5))
		base, _ := kernelInputs(r, kc.nvec, n, 1, 1e-4)
		clone := func() [][]float32 { return cloneVecs(base) }
		ref := clone()
		refOp := kc.op(ref)
		wantOK := refOp.do(0, n)
		rounds := 20
		if testing.Short() {
			rounds = 1
		}
		for round := range rounds {
			got := clone()
			op := kc.op(got)
			if ok := op.run(n); ok != wantOK {
				t.Fatalf("%s round %d: finite = %v, want %v", kc.name, round, ok, wantOK)
			}
			for v := range ref {
				if i := sameBits(ref[v], got[v]); i >= 0 {
					t.Fatalf("%s round %d: vector %d differs at %d", kc.name, round, v, i)
				}
			}
		}
	}
	t.Logf("the assistant joined %d calls", helped.Load())
}

// TestAssistAlone opens a call for assistance by hand and lets the test goroutine, as its only
// assistant, compute every chunk: the result and the non-finite verdict are the caller's own,
// and Assist reports that there was nothing to do once the call is closed.
func TestAssistAlone(t *testing.T) {
	const n = 5*chunkLen + 7
	dst, src := make([]float32, n), make([]float32, n)
	for i := range dst {
		dst[i], src[i] = float32(i), 0.5
	}
	src[3*chunkLen+11] = float32(math.Inf(1)) // a non-finite sum in chunk 3
	want := append([]float32(nil), dst...)
	wantOK := (&vecOp{kind: opAddFinite, p: want, g: src}).do(0, n)
	if wantOK {
		t.Fatal("the reference found every sum finite")
	}
	r := &shared
	r.mu.Lock()
	r.op, r.n, r.chunks = vecOp{kind: opAddFinite, p: dst, g: src}, n, int64((n+chunkLen-1)/chunkLen)
	r.next.Store(0)
	r.bad.Store(false)
	r.open.Store(true)
	if !Assist() {
		t.Fatal("Assist found no call open")
	}
	r.open.Store(false)
	bad := r.bad.Load()
	r.op = vecOp{}
	r.mu.Unlock()
	if !bad {
		t.Error("the assistant's non-finite chunk was not recorded")
	}
	if i := sameBits(want, dst); i >= 0 {
		t.Errorf("element %d differs", i)
	}
	if Assist() {
		t.Error("Assist worked on a closed call")
	}
}
