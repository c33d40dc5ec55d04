package ops

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"golang.org/x/sys/cpu"
)

// unfused returns a copy of n's float32 network with fusion off: the reference the
// fused Dense+activation kernels are compared with. Layers are immutable and shared.
func unfused(n *Net) *network[float32] {
	c := *n.net
	c.setFusion(false)
	return &c
}

// TestFusionMatchesUnfused runs every pointwise activation (and dropout, which is not
// fused, between fused pairs) fused and unfused on the same parameters, input and
// output gradient. Fusion only moves the bias add and the bias-gradient sums into the
// activation's pass, in the same order, so outputs and gradients must agree to a few
// float32 roundings (GEMM with beta = 1 may round bias + x·Wᵀ differently from x·Wᵀ
// then + bias); input gradients of the first layer too.
func TestFusionMatchesUnfused(t *testing.T) {
	for _, tc := range []struct {
		model, act string
		drop       float64
		b, in, out int
	}{
		{"mlp:256,128", "relu", 0, 128, 784, 10},
		{"mlp:33,17", "relu", 0.3, 7, 19, 3},
		{"mlp:33,17", "leakyrelu:0.2", 0, 9, 19, 4},
		{"mlp:33,17", "leakyrelu:-0.5", 0.2, 9, 19, 4},
		{"mlp:33,17", "tanh", 0, 5, 19, 2},
		{"mlp:33", "sigmoid", 0, 6, 19, 1},
		{"mlp:33,17", "gelu", 0.1, 8, 19, 5},
		{"mlp:33,17", "gelu_tanh", 0, 1, 19, 5},
	} {
		t.Run(fmt.Sprintf("%s/%s/drop=%v/B=%d", tc.model, tc.act, tc.drop, tc.b), func(t *testing.T) {
			n := newTestNet(t, tc.model, tc.act, tc.drop, tc.in, tc.out)
			if n.net.linear[0] == nil {
				t.Fatal("the first Dense layer is not fused with its activation")
			}
			ref := unfused(n)
			rng := rand.New(rand.NewPCG(uint64(tc.b), uint64(tc.in)))
			p := n.Layout().NewVector()
			if err := n.Init(p, "default", rng); err != nil {
				t.Fatal(err)
			}
			x := toF32(randMat[float64](rng, tc.b, tc.in, tc.in+3, 1)) // a strided view
			c := toF32(randMat[float64](rng, tc.b, tc.out, tc.out, 1))
			for _, train := range []bool{true, false} {
				ws, wsRef := n.net.newWorkspace(tc.b), ref.newWorkspace(tc.b)
				y := n.net.forward(ws, p, mat[float32](x), train, 5)
				yRef := ref.forward(wsRef, p, mat[float32](x), train, 5)
				closeF32(t, "output", y.Data, yRef.Data)
				g, gRef := make([]float32, len(p)), make([]float32, len(p))
				for i := range g {
					g[i] = float32(math.NaN()) // overwritten, never read
				}
				dx := mat[float32]{Rows: tc.b, Cols: tc.in, Stride: tc.in, Data: make([]float32, tc.b*tc.in)}
				dxRef := mat[float32]{Rows: tc.b, Cols: tc.in, Stride: tc.in, Data: make([]float32, tc.b*tc.in)}
				n.net.backward(ws, p, mat[float32](c), g, dx)
				ref.backward(wsRef, p, mat[float32](c), gRef, dxRef)
				for _, tn := range n.Layout().Tensors {
					closeF32(t, fmt.Sprintf("train=%v d/d%s", train, tn.Name), tn.Of(g), tn.Of(gRef))
				}
				closeF32(t, fmt.Sprintf("train=%v d/dx", train), dx.Data, dxRef.Data)
			}
		})
	}
}

// closeF32 fails t unless got and want agree within 1e-5 relative to ‖want‖∞ (and
// have NaNs in the same places).
func closeF32(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.IsNaN(float64(got[i])) != math.IsNaN(float64(want[i])) {
			t.Fatalf("%s[%d]: got %v, want %v", what, i, got[i], want[i])
		}
	}
	if d, norm := infDist(got, want); d > 1e-5*max(norm, 1e-30) {
		t.Fatalf("%s: ‖fused-unfused‖∞ = %g, ‖unfused‖∞ = %g%s", what, d, norm, side(got, want))
	}
}

// specials are the float32 values whose handling a branch-free kernel could get
// wrong: signed zeros, infinities, NaN, subnormals, the extremes.
var specials = []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)),
	float32(math.NaN()), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32, 0.5, -2.5}

// reluRowImpls are the float32 ReLU row kernels: the dispatching ones (AVX2 on amd64
// CPUs that have it, unless built with -tags noasm) and the pure-Go ones.
var reluRowImpls = []struct {
	name     string
	forward  func(y, x, b []float32)
	backward func(dx, dy, y, db []float32)
}{
	{"dispatch", reluRow32, reluBackwardRow32},
	{"go", reluRowGo, reluBackwardRowGo},
}

// reluRef is the definition of the fused ReLU forward: max(x + b, 0) with Go's max.
func reluRef(x, b float32) float32 { return max(x+b, 0) }

// reluGradRef is the definition of the ReLU backward: dy where y > 0, else +0.
func reluGradRef(y, dy float32) float32 {
	if y > 0 {
		return dy
	}
	return 0
}

// sameBits reports whether a and b are the same float32, bit for bit (any two NaNs
// count as the same: NaN payloads are not part of the contract).
func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

// checkReLURows runs every ReLU row kernel on x, b (len(x)) and dy at every start
// offset 0..3 (unaligned vectors) and compares them with the definitions bit for bit,
// with and without bias and bias gradient.
func checkReLURows(t *testing.T, x, b, dy []float32) {
	t.Helper()
	for _, impl := range reluRowImpls {
		for off := range min(4, len(x)+1) {
			xs, bs, dys := x[off:], b[off:], dy[off:]
			n := len(xs)
			for _, bias := range []bool{false, true} {
				y := make([]float32, n)
				for i := range y {
					y[i] = float32(math.NaN())
				}
				var bb []float32
				if bias {
					bb = bs
				}
				impl.forward(y, xs, bb)
				for i := range y {
					want := reluRef(xs[i], 0)
					if bias {
						want = reluRef(xs[i], bs[i])
					}
					if !sameBits(y[i], want) {
						t.Fatalf("%s forward n=%d off=%d bias=%v [%d]: relu(%v + %v) = %v (%#x), want %v (%#x)",
							impl.name, n, off, bias, i, xs[i], bs[i], y[i], math.Float32bits(y[i]), want, math.Float32bits(want))
					}
				}
				// Backward from the forward's output, with garbage in dx.
				dx := make([]float32, n)
				for i := range dx {
					dx[i] = float32(math.NaN())
				}
				var db, wantDB []float32
				if bias {
					db, wantDB = make([]float32, n), make([]float32, n)
					for i := range db {
						db[i] = float32(i) - 3.25
						wantDB[i] = db[i]
					}
				}
				impl.backward(dx, dys, y, db)
				for i := range dx {
					want := reluGradRef(y[i], dys[i])
					if math.Float32bits(dx[i]) != math.Float32bits(want) {
						t.Fatalf("%s backward n=%d off=%d [%d]: y=%v dy=%v: dx = %v (%#x), want %v (%#x)",
							impl.name, n, off, i, y[i], dys[i], dx[i], math.Float32bits(dx[i]), want, math.Float32bits(want))
					}
					if bias {
						wantDB[i] += want
						if !sameBits(db[i], wantDB[i]) {
							t.Fatalf("%s backward n=%d off=%d [%d]: db = %v, want %v", impl.name, n, off, i, db[i], wantDB[i])
						}
					}
				}
			}
		}
	}
}

// TestReLURows compares the float32 ReLU row kernels with the definitions on every
// pair of special values (as x and b, then as y and dy) and on random rows of every
// length from 0 to 70, which covers the 32- and 8-wide loops and the scalar tails.
func TestReLURows(t *testing.T) {
	var x, b []float32
	for _, u := range specials {
		for _, v := range specials {
			x, b = append(x, u), append(b, v)
		}
	}
	t.Run("specials", func(t *testing.T) {
		checkReLURows(t, x, b, b)
		checkReLURows(t, b, x, x)
	})
	rng := rand.New(rand.NewPCG(9, 9))
	for n := range 71 {
		x, b, dy := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], b[i], dy[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		t.Run(fmt.Sprintf("random/n=%d", n), func(t *testing.T) { checkReLURows(t, x, b, dy) })
	}
}

// FuzzReLURows feeds arbitrary float32 bit patterns (x, b and dy interleaved) to the
// ReLU row kernels, assembly and Go, and compares them with the definitions.
func FuzzReLURows(f *testing.F) {
	var seed []byte
	for _, u := range specials {
		for _, v := range specials {
			seed = binary.LittleEndian.AppendUint32(seed, math.Float32bits(u))
			seed = binary.LittleEndian.AppendUint32(seed, math.Float32bits(v))
			seed = binary.LittleEndian.AppendUint32(seed, math.Float32bits(v-u))
		}
	}
	f.Add(seed)
	f.Add(seed[:12*9])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		n := len(data) / 12
		x, b, dy := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range n {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[12*i:]))
			b[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[12*i+4:]))
			dy[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[12*i+8:]))
		}
		checkReLURows(t, x, b, dy)
	})
}

// TestReLUKernelSelected guards against a silently lost fast path: on amd64 CPUs with
// AVX2 (and without -tags noasm) the dispatching kernels must use it.
func TestReLUKernelSelected(t *testing.T) {
	if runtime.GOARCH == "amd64" && cpu.X86.HasAVX2 && !useAVX2 && !noasmBuild {
		t.Fatal("the CPU has AVX2 but the ReLU kernels use the Go loops")
	}
}
