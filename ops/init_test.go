package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestInitMoments checks the first two moments of each scheme's weight draws (and the
// range of the uniform ones) against the formula, within 5 standard errors, and the
// biases.
func TestInitMoments(t *testing.T) {
	const in, out = 300, 200 // 60,000 draws
	n := float64(in * out)
	cases := []struct {
		scheme  string
		uniform bool    // U(-a, a) with a = spread, else N(0, spread²)
		spread  float64 // half-width or standard deviation
		bias    float64 // half-width of the uniform bias, 0 for zero biases
	}{
		{"default", true, 1 / math.Sqrt(in), 1 / math.Sqrt(in)},
		{"uniform", true, DefaultUniformA, 0},
		{"uniform:0.3", true, 0.3, 0},
		{"normal", false, DefaultNormalStd, 0},
		{"normal:2", false, 2, 0},
		{"xavier_uniform", true, math.Sqrt(6.0 / (in + out)), 0},
		{"glorot_uniform", true, math.Sqrt(6.0 / (in + out)), 0},
		{"xavier_normal", false, math.Sqrt(2.0 / (in + out)), 0},
		{"he_uniform", true, math.Sqrt(6.0 / in), 0},
		{"kaiming_uniform", true, math.Sqrt(6.0 / in), 0},
		{"he_normal", false, math.Sqrt(2.0 / in), 0},
		{"kaiming_normal", false, math.Sqrt(2.0 / in), 0},
	}
	for _, tc := range cases {
		t.Run(tc.scheme, func(t *testing.T) {
			net, err := NewNet(Spec{}, in, out)
			if err != nil {
				t.Fatal(err)
			}
			p := net.Layout().NewVector()
			for i := range p {
				p[i] = 123 // every element must be written
			}
			if err := net.Init(p, tc.scheme, rand.New(rand.NewPCG(7, 8))); err != nil {
				t.Fatal(err)
			}
			wt, _ := net.Layout().Lookup("0.weight")
			bt, _ := net.Layout().Lookup("0.bias")
			w := wt.Of(p)
			var sum, sq, maxAbs float64
			for _, v := range w {
				sum += float64(v)
				sq += float64(v) * float64(v)
				maxAbs = max(maxAbs, math.Abs(float64(v)))
			}
			mean, variance := sum/n, sq/n-(sum/n)*(sum/n)
			wantVar, kurtosis := tc.spread*tc.spread, 3.0
			if tc.uniform {
				wantVar, kurtosis = tc.spread*tc.spread/3, 1.8
			}
			if se := math.Sqrt(wantVar / n); math.Abs(mean) > 5*se {
				t.Errorf("mean %.3g, want 0 ± %.3g", mean, 5*se)
			}
			// The sample variance has standard error σ²·√((κ-1)/n).
			if se := wantVar * math.Sqrt((kurtosis-1)/n); math.Abs(variance-wantVar) > 5*se {
				t.Errorf("variance %.5g, want %.5g ± %.3g", variance, wantVar, 5*se)
			}
			if tc.uniform && (maxAbs > tc.spread || maxAbs < 0.99*tc.spread) {
				t.Errorf("max |w| = %v, want just below %v", maxAbs, tc.spread)
			}
			b := bt.Of(p)
			for i, v := range b {
				if tc.bias == 0 && v != 0 || math.Abs(float64(v)) > tc.bias {
					t.Fatalf("bias[%d] = %v, want within ±%v", i, v, tc.bias)
				}
			}
			if tc.bias > 0 && b[0] == b[1] {
				t.Fatal("biases not drawn")
			}
			// The same seed reproduces the parameters bit for bit.
			q := net.Layout().NewVector()
			if err := net.Init(q, tc.scheme, rand.New(rand.NewPCG(7, 8))); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(p) != fmt.Sprint(q) {
				t.Fatal("same seed, different parameters")
			}
		})
	}
}

// TestInitOrthogonal checks WᵀW = I (out >= in) or WWᵀ = I (out < in) to 1e-5, and the
// gain.
func TestInitOrthogonal(t *testing.T) {
	for _, sh := range [][2]int{{64, 32}, {32, 64}, {50, 50}, {1, 5}, {10, 1}, {784, 256}} {
		for _, gain := range []float64{1, 2.5} {
			out, in := sh[0], sh[1]
			t.Run(fmt.Sprintf("out=%d/in=%d/gain=%v", out, in, gain), func(t *testing.T) {
				net, err := NewNet(Spec{}, in, out)
				if err != nil {
					t.Fatal(err)
				}
				p := net.Layout().NewVector()
				if err := net.Init(p, fmt.Sprintf("orthogonal:%v", gain), rand.New(rand.NewPCG(1, uint64(out)))); err != nil {
					t.Fatal(err)
				}
				wt, _ := net.Layout().Lookup("0.weight")
				w := wt.Matrix(p)
				r, c, tr := in, in, true // WᵀW, in×in
				if out < in {
					r, c, tr = out, out, false // WWᵀ, out×out
				}
				g := NewMatrix(r, c)
				Gemm(g, float32(1/(gain*gain)), w, tr, w, !tr, 0)
				var worst float64
				for i := range r {
					for j := range c {
						want := 0.0
						if i == j {
							want = 1
						}
						worst = max(worst, math.Abs(float64(g.At(i, j))-want))
					}
				}
				if worst > 1e-5 {
					t.Fatalf("‖WᵀW/gain² - I‖max = %g > 1e-5", worst)
				}
			})
		}
	}
}

func TestInitErrors(t *testing.T) {
	for _, s := range []string{"", "xavier", "uniform:0", "uniform:-1", "normal:x", "normal:inf", "orthogonal:NaN", "he_normal:2", "zeros:1"} {
		err := CheckInit(s)
		if err == nil || !strings.HasPrefix(err.Error(), "--init: ") {
			t.Errorf("CheckInit(%q) = %v, want an error naming --init", s, err)
		}
	}
	for _, s := range []string{"default", "zeros", "uniform", "uniform:0.1", " normal:1e-3 ", "orthogonal", "orthogonal:1.4", "glorot_normal"} {
		if err := CheckInit(s); err != nil {
			t.Errorf("CheckInit(%q) = %v", s, err)
		}
	}
	net := newTestNet(t, "mlp:3", "relu", 0, 2, 2)
	p := net.Layout().NewVector()
	if err := net.Init(p, "bogus", rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Fatal("Init accepted a bogus scheme")
	}
	if err := net.Init(p, "zeros", rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	for i, v := range p {
		if v != 0 {
			t.Fatalf("zeros: p[%d] = %v", i, v)
		}
	}
}
