package optim

import "testing"

// rpropRef is torch 1.13's Rprop step written with branches.
func rpropRef(p, g, prev, step []float32, etaMinus, etaPlus, smin, smax float32) {
	for i, gi := range g {
		s := step[i]
		switch c := gi * prev[i]; {
		case c > 0:
			s *= etaPlus
		case c < 0:
			s *= etaMinus
			gi = 0
		}
		s = min(max(s, smin), smax)
		step[i] = s
		switch {
		case gi > 0:
			p[i] -= s
		case gi < 0:
			p[i] += s
		}
		prev[i] = gi
	}
}

// TestRpropKernelMatchesBranchy checks the branch-free kernel bit for bit
// against the branchy one, with random signs, zero gradients, and step sizes
// hitting both bounds.
func TestRpropKernelMatchesBranchy(t *testing.T) {
	const n = 1001
	p1, p2 := randVec(1, n, 1), randVec(1, n, 1)
	pr1, pr2, s1, s2 := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	fill(s1, 0.01)
	fill(s2, 0.01)
	hitMax, hitMin := false, false
	for i := range 60 {
		g := randVec(uint64(i), n, 1)
		for j := i; j < n; j += 7 {
			g[j] = 0
		}
		if i > 30 { // same signs for a while: steps grow to the maximum
			g = randVec(99, n, 1)
		}
		rpropRef(p1, g, pr1, s1, 0.5, 1.2, 4e-3, 0.05)
		rpropKernel(p2, g, pr2, s2, 0.5, 1.2, 4e-3, 0.05)
		if j := sameBits(p1, p2); j >= 0 || sameBits(s1, s2) >= 0 || sameBits(pr1, pr2) >= 0 {
			t.Fatalf("step %d: kernels differ (param %d: %v vs %v)", i, j, p1[max(j, 0)], p2[max(j, 0)])
		}
		for _, s := range s2 {
			hitMax = hitMax || s == 0.05
			hitMin = hitMin || s == 4e-3
		}
	}
	if !hitMax || !hitMin {
		t.Fatalf("step sizes never reached the bounds (max %v, min %v)", hitMax, hitMin)
	}
}
