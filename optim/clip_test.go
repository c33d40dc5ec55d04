package optim

import (
	"math"
	"testing"
)

func TestFinite(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	tests := []struct {
		name string
		g    []float32
		at   int
	}{
		{"empty", nil, -1},
		{"finite", []float32{0, -0, 1, -1, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 1e-40}, -1},
		{"nan first", []float32{nan, 1, 2, 3, 4}, 0},
		{"+inf in tail", []float32{1, 2, 3, 4, 5, 6, 7, 8, inf}, 8},
		{"-inf in block", []float32{1, 2, -inf, 4, 5}, 2},
		{"negative nan", []float32{1, 2, 3, float32(math.Copysign(math.NaN(), -1))}, 3},
		{"two bad", []float32{1, inf, nan}, 1},
	}
	for _, tc := range tests {
		if got := FirstNonFinite(tc.g); got != tc.at {
			t.Errorf("%s: FirstNonFinite = %d, want %d", tc.name, got, tc.at)
		}
		if got := AllFinite(tc.g); got != (tc.at < 0) {
			t.Errorf("%s: AllFinite = %v", tc.name, got)
		}
	}
	// every position of a long vector, every kind of non-finite value, on
	// sub-slices of every alignment and parity of length
	base := randVec(5, 110, 1)
	for off := range 3 {
		for _, n := range []int{103, 104} {
			g := base[off : off+n]
			if !AllFinite(g) {
				t.Fatalf("offset %d length %d: finite vector reported", off, n)
			}
			for i := range g {
				for _, bad := range []float32{nan, inf, -inf} {
					old := g[i]
					g[i] = bad
					if got := FirstNonFinite(g); got != i {
						t.Fatalf("offset %d length %d: bad value at %d found at %d", off, n, i, got)
					}
					g[i] = old
				}
			}
		}
	}
}

func TestClipGradNorm(t *testing.T) {
	tests := []struct {
		name    string
		g       []float32
		max     float64
		total   float64
		clipped []float32
	}{
		{"under", []float32{0.3, 0.4}, 1, 0.5, []float32{0.3, 0.4}},
		{"over", []float32{3, 4}, 1, 5, []float32{float32(3 / (5 + 1e-6)), float32(4 / (5 + 1e-6))}},
		{"exactly max stays", []float32{0.6, 0.8}, 1, 1, []float32{0.6, 0.8}}, // coef = 1/(1+1e-6) < 1 clips a hair
		{"zero", []float32{0, 0, 0}, 1, 0, []float32{0, 0, 0}},
		{"empty", nil, 1, 0, nil},
	}
	tests[2].clipped = []float32{float32(0.6 / (1 + 1e-6)), float32(0.8 / (1 + 1e-6))}
	for _, tc := range tests {
		g := append([]float32(nil), tc.g...)
		total := ClipGradNorm(g, tc.max)
		if math.Abs(total-tc.total) > 1e-7*math.Max(1, tc.total) { // the inputs are float32
			t.Errorf("%s: total %v, want %v", tc.name, total, tc.total)
		}
		for i := range g {
			if math.Abs(float64(g[i]-tc.clipped[i])) > 1e-7 {
				t.Errorf("%s: g[%d] = %v, want %v", tc.name, i, g[i], tc.clipped[i])
			}
		}
	}
	// a non-finite norm leaves the gradient alone and is returned
	g := []float32{1, float32(math.Inf(1)), 2}
	if total := ClipGradNorm(g, 1); !math.IsInf(total, 1) || g[0] != 1 || g[2] != 2 {
		t.Fatalf("inf: total %v, g %v", total, g)
	}
	// GradNorm is accumulated in float64: no overflow for large float32s
	if n := GradNorm([]float32{3e38, 3e38}); math.Abs(n/(float64(float32(3e38))*math.Sqrt2)-1) > 1e-12 {
		t.Fatalf("GradNorm overflowed: %v", n)
	}
}

func TestClipPanicsOnBadBound(t *testing.T) {
	for name, f := range map[string]func(){
		"norm 0":    func() { ClipGradNorm([]float32{1}, 0) },
		"norm NaN":  func() { ClipGradNorm([]float32{1}, math.NaN()) },
		"value -1":  func() { ClipGradValue([]float32{1}, -1) },
		"step len":  func() { o, _ := NewSGD(2, SGDConfig{LR: 1}); o.Step([]float32{1}, []float32{1}) },
		"avg len":   func() { a, _ := NewAverager(2, AveragerConfig{}); a.Update(1, []float32{1}) },
		"marshal 2": func() { MarshalState("x", []NamedVec{{Name: "a", F32: []float32{1}, F64: []float64{1}}}) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s: no panic", name)
				} else if s, ok := r.(string); !ok || s[:7] != "optim: " {
					t.Errorf("%s: panic %v, want a fixed \"optim: ...\" message", name, r)
				}
			}()
			f()
		}()
	}
}

func TestAveragerEvery(t *testing.T) {
	a, _ := NewAverager(1, AveragerConfig{From: 3, Every: 2})
	var used []int
	for s := 1; s <= 9; s++ {
		if a.Update(s, []float32{float32(s)}) {
			used = append(used, s)
		}
	}
	// steps 3, 5, 7, 9: mean 6
	if len(used) != 4 || used[0] != 3 || used[3] != 9 || a.Average()[0] != 6 || a.Count() != 4 {
		t.Fatalf("used %v, average %v, count %d", used, a.Average(), a.Count())
	}
}

// TestASGDAverages checks ASGD's average against the plain mean of the
// iterates from step t0+2 on: torch's mu for step t is 1/max(1, (t-1)-t0),
// computed at the end of step t-1, so steps up to t0+2 copy.
func TestASGDAverages(t *testing.T) {
	c := DefaultASGDConfig()
	c.T0 = 4
	o, _ := NewASGD(3, c)
	p := []float32{1, -1, 2}
	var sum [3]float64
	cnt := 0
	for i := range 12 {
		o.Step(p, gradAt(p, i))
		if i+1 > int(c.T0)+2 {
			cnt++
			for j := range p {
				sum[j] += float64(p[j])
			}
		} else {
			cnt = 1
			for j := range p {
				sum[j] = float64(p[j])
			}
		}
	}
	for j := range p {
		if d := math.Abs(float64(o.Averaged()[j]) - sum[j]/float64(cnt)); d > 1e-6 {
			t.Fatalf("ax[%d] = %v, mean of iterates %v", j, o.Averaged()[j], sum[j]/float64(cnt))
		}
	}
}
