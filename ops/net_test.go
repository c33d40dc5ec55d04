package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// newTestNet builds a Net from flag values or fails the test.
func newTestNet(t testing.TB, model, act string, drop float64, in, out int) *Net {
	t.Helper()
	spec, err := ParseSpec(model, act, drop)
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNet(spec, in, out)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestNetFloat32MatchesFloat64 runs the exported float32 Net (blas32 with the serial
// tiling) and the float64 instantiation the gradient checks verified on the same
// parameters, with sizes that cross the 64×192 tiles, and compares outputs and
// gradients.
func TestNetFloat32MatchesFloat64(t *testing.T) {
	for _, tc := range []struct {
		model, act string
		drop       float64
		b, in, out int
	}{
		{"mlp:197,65", "relu", 0, 130, 200, 10},
		{"mlp:64,192", "gelu", 0.25, 64, 33, 3},
		{"linear", "", 0, 1, 784, 10},
		{"mlp:300", "tanh", 0.5, 129, 50, 1},
	} {
		t.Run(fmt.Sprintf("%s/%s/B=%d", tc.model, tc.act, tc.b), func(t *testing.T) {
			n := newTestNet(t, tc.model, tc.act, tc.drop, tc.in, tc.out)
			layers := append(n.Spec().Layers, LayerSpec{Type: LayerDense, Units: tc.out})
			n64, err := buildNetwork[float64](layers, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			p32 := n.Layout().NewVector()
			if err := n.Init(p32, "default", rng); err != nil {
				t.Fatal(err)
			}
			p64 := make([]float64, len(p32))
			for i, v := range p32 {
				p64[i] = float64(v)
			}
			x64 := randMat[float64](rng, tc.b, tc.in, tc.in, 1)
			x32 := toF32(x64)
			ws32, ws64 := n.NewWorkspace(tc.b), n64.newWorkspace(tc.b)
			y32 := n.Forward(ws32, p32, x32, true, 99)
			y64 := n64.forward(ws64, p64, x64, true, 99)
			if d, norm := infDist(y32.Data, y64.Data); d > 1e-5*max(norm, 1) {
				t.Fatalf("outputs: ‖f32-f64‖∞ = %g (‖f64‖∞ = %g)%s", d, norm, side(y32.Data, y64.Data))
			}
			c64 := randMat[float64](rng, tc.b, tc.out, tc.out, 1)
			g32 := make([]float32, len(p32))
			g64 := make([]float64, len(p64))
			n.Backward(ws32, p32, toF32(c64), g32)
			n64.backward(ws64, p64, c64, g64, mat[float64]{})
			if d, norm := infDist(g32, g64); d > 1e-4*max(norm, 1) {
				t.Fatalf("gradients: ‖f32-f64‖∞ = %g (‖f64‖∞ = %g)%s", d, norm, side(g32, g64))
			}
		})
	}
}

// TestBackwardOverwrites checks the documented contract: grads are overwritten, so a
// vector full of garbage or NaN gives the same result as a zeroed one, bit for bit.
func TestBackwardOverwrites(t *testing.T) {
	n := newTestNet(t, "mlp:20,9", "relu", 0.2, 13, 4)
	rng := rand.New(rand.NewPCG(3, 4))
	p := n.Layout().NewVector()
	if err := n.Init(p, "he_normal", rng); err != nil {
		t.Fatal(err)
	}
	x := toF32(randMat[float64](rng, 6, 13, 13, 1))
	dOut := toF32(randMat[float64](rng, 6, 4, 4, 1))
	ws := n.NewWorkspace(8)
	zero := make([]float32, len(p))
	n.Forward(ws, p, x, true, 5)
	n.Backward(ws, p, dOut, zero)
	for _, fill := range []float32{float32(math.NaN()), 1e30, -3} {
		g := make([]float32, len(p))
		for i := range g {
			g[i] = fill
		}
		n.Forward(ws, p, x, true, 5)
		n.Backward(ws, p, dOut, g)
		for i := range g {
			if math.Float32bits(g[i]) != math.Float32bits(zero[i]) {
				t.Fatalf("prefilled with %v: grads[%d] = %v, want %v", fill, i, g[i], zero[i])
			}
		}
	}
	var nonzero int
	for _, v := range zero {
		if v != 0 {
			nonzero++
		}
	}
	if nonzero < len(zero)/2 {
		t.Fatalf("only %d of %d gradient elements are non-zero", nonzero, len(zero))
	}
}

// TestWorkersShareNet runs two workspaces over one Net and one parameter vector on
// the same micro-batch and seed: results must be bitwise equal, whichever worker.
func TestWorkersShareNet(t *testing.T) {
	n := newTestNet(t, "mlp:32,16", "gelu", 0.5, 10, 3)
	rng := rand.New(rand.NewPCG(5, 6))
	p := n.Layout().NewVector()
	if err := n.Init(p, "default", rng); err != nil {
		t.Fatal(err)
	}
	x := toF32(randMat[float64](rng, 16, 10, 10, 1))
	labels := randLabels(rng, 16, 3)
	step := func(ws *Workspace, seed uint64) []float32 {
		out := n.Forward(ws, p, x, true, seed)
		d := NewMatrix(out.Rows, out.Cols)
		if _, err := (CrossEntropy{}).Eval(d, out, Targets{Labels: labels}, 1.0/16); err != nil {
			t.Fatal(err)
		}
		g := make([]float32, len(p))
		n.Backward(ws, p, d, g)
		return g
	}
	w1, w2 := n.NewWorkspace(16), n.NewWorkspace(32)
	step(w2, 1) // a different history must not matter
	a, b := step(w1, 77), step(w2, 77)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("grads[%d]: worker 1 %v, worker 2 %v", i, a[i], b[i])
		}
	}
	c := step(w1, 78)
	if d, _ := infDist(a, c); d == 0 {
		t.Fatal("another seed gave the same dropout gradients")
	}
}

func TestNetPanics(t *testing.T) {
	n := newTestNet(t, "mlp:4", "relu", 0, 3, 2)
	m := newTestNet(t, "mlp:4", "relu", 0, 3, 2)
	p := n.Layout().NewVector()
	ws := n.NewWorkspace(2)
	x := NewMatrix(2, 3)
	cases := []struct {
		name string
		f    func()
		want string
	}{
		{"width", func() { n.Forward(ws, p, NewMatrix(2, 4), false, 0) }, errShape},
		{"batch", func() { n.Forward(ws, p, NewMatrix(3, 3), false, 0) }, errBatch},
		{"params", func() { n.Forward(ws, p[1:], x, false, 0) }, errParamsLen},
		{"workspace", func() { m.Forward(ws, p, x, false, 0) }, errWorkspace},
		{"no forward", func() { n.Backward(n.NewWorkspace(2), p, NewMatrix(2, 2), p) }, errNoForward},
		{"maxBatch", func() { n.NewWorkspace(0) }, errMaxBatch},
		{"grads", func() { n.Forward(ws, p, x, false, 0); n.Backward(ws, p, NewMatrix(2, 2), p[:3]) }, errGradsLen},
		{"dOut", func() { n.Forward(ws, p, x, false, 0); n.Backward(ws, p, NewMatrix(1, 2), make([]float32, len(p))) }, errShape},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != tc.want {
					t.Fatalf("panic %v, want %q", r, tc.want)
				}
			}()
			tc.f()
		})
	}
}

// TestDropout checks the dropout contract: the same seed gives the same mask, kept
// elements are scaled by 1/(1-p), about 1-p of them are kept, and evaluation is the
// identity.
func TestDropout(t *testing.T) {
	for _, p := range []float64{0.1, 0.5, 0.9} {
		t.Run(fmt.Sprint("p=", p), func(t *testing.T) {
			const b, w = 64, 100
			d := newDropout[float32](w, p)
			x := mat[float32]{Rows: b, Cols: w, Stride: w, Data: make([]float32, b*w)}
			for i := range x.Data {
				x.Data[i] = 1 + float32(i%7)
			}
			run := func(seed uint64, train bool) ([]float32, []float32) {
				y := mat[float32]{Rows: b, Cols: w, Stride: w, Data: make([]float32, b*w)}
				mask := make([]float32, b*w)
				var rng rand.PCG
				rng.Seed(seed, 3)
				d.forward(nil, x, y, mask, train, &rng)
				return y.Data, mask
			}
			y1, m1 := run(11, true)
			y2, m2 := run(11, true)
			y3, _ := run(12, true)
			if fmt.Sprint(y1) != fmt.Sprint(y2) || fmt.Sprint(m1) != fmt.Sprint(m2) {
				t.Fatal("same seed, different masks")
			}
			if fmt.Sprint(y1) == fmt.Sprint(y3) {
				t.Fatal("different seeds, same output")
			}
			scale := float32(1 / (1 - p))
			kept := 0
			for i, v := range y1 {
				switch v {
				case 0:
				case x.Data[i] * scale:
					kept++
				default:
					t.Fatalf("y[%d] = %v, want 0 or %v·%v", i, v, x.Data[i], scale)
				}
			}
			// kept ~ Binomial(n, 1-p): allow 5 standard deviations.
			n := float64(b * w)
			mean, sd := n*(1-p), math.Sqrt(n*p*(1-p))
			if math.Abs(float64(kept)-mean) > 5*sd {
				t.Fatalf("kept %d of %v, want %.0f ± %.0f", kept, n, mean, 5*sd)
			}
			ye, _ := run(11, false)
			if fmt.Sprint(ye) != fmt.Sprint(x.Data) {
				t.Fatal("evaluation mode is not the identity")
			}
		})
	}
}
