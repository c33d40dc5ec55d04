package optim

// Hypergradient descent (Baydin et al. 2018, arXiv 1703.04782) learns the
// learning rate online from the dot product of the current gradient with the
// previous update direction: SGDHD here, AdamHD in adamhd.go. Both take two
// passes per step: the dot product (accumulated in float64, in index order,
// so it is deterministic) must be complete before the update can use the
// new rate.

// SGDHDConfig holds SGD-HD's hyper-parameters. The zero value is not valid;
// DefaultSGDHDConfig gives the paper's values.
type SGDHDConfig struct {
	LR          float64 // initial learning rate α0, > 0; default 0.01
	Beta        float64 // hypergradient learning rate β, >= 0; default 1e-3 (the paper's)
	WeightDecay float64 // coupled L2 penalty, >= 0; default 0
}

// DefaultSGDHDConfig returns α0 = 0.01, β = 1e-3.
func DefaultSGDHDConfig() SGDHDConfig { return SGDHDConfig{LR: 0.01, Beta: 1e-3} }

func (c SGDHDConfig) validate(n int) error {
	k := checker{rule: "sgd-hd"}
	k.size(n)
	k.positive("LR", c.LR)
	k.nonNeg("Beta", c.Beta)
	k.nonNeg("WeightDecay", c.WeightDecay)
	return k.err
}

// SGDHD is SGD with hypergradient descent on its learning rate
// (g0 := 0, d = g + wd·p):
//
//	αt = αt-1 + β·⟨dt, dt-1⟩;  p -= αt·dt
//
// LR returns the learned αt of the last step (α0 before the first);
// SetLR overwrites it, so do not drive SGD-HD with a schedule (Apply
// refuses). Step makes two passes (3 vectors) and never allocates. Not safe
// for concurrent use; call NewSGDHD.
type SGDHD struct {
	cfg   SGDHDConfig
	n     int
	prev  []float32 // the previous gradient dt-1, (n)
	alpha float64
	t     int64
}

// NewSGDHD returns SGD-HD for n parameters, or a *ConfigError.
func NewSGDHD(n int, cfg SGDHDConfig) (*SGDHD, error) {
	if err := cfg.validate(n); err != nil {
		return nil, err
	}
	return &SGDHD{cfg: cfg, n: n, prev: make([]float32, n), alpha: cfg.LR}, nil
}

// Name returns "sgd-hd".
func (o *SGDHD) Name() string { return "sgd-hd" }

func (o *SGDHD) learnsRate() {}

// LR returns the current learned rate α.
func (o *SGDHD) LR() float64 { return o.alpha }

// SetLR overwrites the learned rate α.
func (o *SGDHD) SetLR(lr float64) { o.alpha = lr }

// Step updates α, then params in place.
func (o *SGDHD) Step(params, grads []float32) { o.step(params, grads, false) }

// StepFinite is Step that also reports whether every updated parameter is
// finite, checked in the same pass (see FiniteStepper).
func (o *SGDHD) StepFinite(params, grads []float32) bool { return o.step(params, grads, true) }

func (o *SGDHD) step(params, grads []float32, check bool) bool {
	checkLen(o.n, params, grads)
	o.t++
	wd := float32(o.cfg.WeightDecay)
	o.alpha += o.cfg.Beta * dotDecayed(grads, params, o.prev, wd)
	op := vecOp{kind: opSGDHD, check: check, p: params, g: grads, s1: o.prev, k: [5]float32{float32(o.alpha), wd}}
	return op.run(o.n)
}

// dotDecayed returns Σ (g+wd·p)·u in float64, in index order (four
// interleaved partial sums, the elements past the last multiple of four
// added to the first). With AVX2 the four sums are the lanes of one vector
// register: the same additions in the same order, so the same bits.
func dotDecayed(g, p, u []float32, wd float32) float64 {
	p, u = p[:len(g)], u[:len(g)]
	var s [4]float64
	m := len(g) &^ 3
	if useAsm {
		dotDecayedAsm(g[:m], p[:m], u[:m], wd, &s)
	} else {
		dotDecayed4(g[:m], p[:m], u[:m], wd, &s)
	}
	p, u = p[m:], u[m:]
	for i, gi := range g[m:] {
		s[0] += float64(gi+wd*p[i]) * float64(u[i])
	}
	return (s[0] + s[1]) + (s[2] + s[3])
}

// dotDecayed4 adds (g[i]+wd·p[i])·u[i] to s[i%4] in index order; len(g) is
// a multiple of 4.
func dotDecayed4(g, p, u []float32, wd float32, s *[4]float64) {
	s0, s1, s2, s3 := s[0], s[1], s[2], s[3]
	for len(g) >= 4 && len(p) >= 4 && len(u) >= 4 {
		s0 += float64(g[0]+wd*p[0]) * float64(u[0])
		s1 += float64(g[1]+wd*p[1]) * float64(u[1])
		s2 += float64(g[2]+wd*p[2]) * float64(u[2])
		s3 += float64(g[3]+wd*p[3]) * float64(u[3])
		g, p, u = g[4:], p[4:], u[4:]
	}
	s[0], s[1], s[2], s[3] = s0, s1, s2, s3
}

func sgdHDKernel(p, g, prev []float32, alpha, wd float32) {
	p, prev = p[:len(g)], prev[:len(g)]
	for i, gi := range g {
		d := gi + wd*p[i]
		prev[i] = d
		p[i] -= alpha * d
	}
}

// State returns "step", "alpha" and "prev_grad".
func (o *SGDHD) State() []NamedVec {
	return []NamedVec{scalar("step", float64(o.t)), scalar("alpha", o.alpha), vec32("prev_grad", o.prev)}
}

// LoadState restores what State returned.
func (o *SGDHD) LoadState(st []NamedVec) error {
	r := newStateReader("sgd-hd state", st)
	t, alpha, prev := r.count("step"), r.finite("alpha"), r.f32("prev_grad", o.n)
	if err := r.done(); err != nil {
		return err
	}
	o.t, o.alpha = t, alpha
	copy(o.prev, prev)
	return nil
}
