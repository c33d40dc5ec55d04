package optim

// AdamHDConfig holds Adam-HD's hyper-parameters. The zero value is not valid;
// DefaultAdamHDConfig gives the paper's values.
type AdamHDConfig struct {
	LR          float64 // initial learning rate α0, > 0; default 1e-3
	Beta        float64 // hypergradient learning rate β, >= 0; default 1e-7 (the paper's)
	Beta1       float64 // in [0, 1); default 0.9
	Beta2       float64 // in [0, 1); default 0.999
	Eps         float64 // > 0; default 1e-8
	WeightDecay float64 // coupled L2 penalty, >= 0; default 0
}

// DefaultAdamHDConfig returns α0 = 1e-3, β = 1e-7 and Adam's defaults.
func DefaultAdamHDConfig() AdamHDConfig {
	return AdamHDConfig{LR: 1e-3, Beta: 1e-7, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

func (c AdamHDConfig) validate(n int) error {
	k := checker{rule: "adam-hd"}
	k.size(n)
	k.positive("LR", c.LR)
	k.nonNeg("Beta", c.Beta)
	k.unitOpen("Beta1", c.Beta1)
	k.unitOpen("Beta2", c.Beta2)
	k.positive("Eps", c.Eps)
	k.nonNeg("WeightDecay", c.WeightDecay)
	return k.err
}

// AdamHD is Adam with hypergradient descent on its learning rate (u0 := 0,
// d = g + wd·p):
//
//	αt = αt-1 + β·⟨dt, ut-1⟩
//	m, v as Adam;  ut = m̂t/(√v̂t + eps);  p -= αt·ut
//
// LR returns the learned αt; SetLR overwrites it, so do not drive Adam-HD
// with a schedule (Apply refuses). Step makes two passes (5 vectors) and
// never allocates. Not safe for concurrent use; call NewAdamHD.
type AdamHD struct {
	cfg     AdamHDConfig
	n       int
	m, v, u []float32 // exp_avg, exp_avg_sq, previous direction u, (n)

	alpha, beta1 float64
	t            int64
}

// NewAdamHD returns Adam-HD for n parameters, or a *ConfigError.
func NewAdamHD(n int, cfg AdamHDConfig) (*AdamHD, error) {
	if err := cfg.validate(n); err != nil {
		return nil, err
	}
	return &AdamHD{cfg: cfg, n: n, m: make([]float32, n), v: make([]float32, n), u: make([]float32, n),
		alpha: cfg.LR, beta1: cfg.Beta1}, nil
}

// Name returns "adam-hd".
func (o *AdamHD) Name() string { return "adam-hd" }

func (o *AdamHD) learnsRate() {}

// LR returns the current learned rate α.
func (o *AdamHD) LR() float64 { return o.alpha }

// SetLR overwrites the learned rate α.
func (o *AdamHD) SetLR(lr float64) { o.alpha = lr }

// Momentum returns β1 of the next step.
func (o *AdamHD) Momentum() float64 { return o.beta1 }

// SetMomentum sets β1 of the next steps.
func (o *AdamHD) SetMomentum(m float64) { o.beta1 = m }

// Step updates α, then params in place.
func (o *AdamHD) Step(params, grads []float32) { o.step(params, grads, false) }

// StepFinite is Step that also reports whether every updated parameter is
// finite, checked in the same pass (see FiniteStepper).
func (o *AdamHD) StepFinite(params, grads []float32) bool { return o.step(params, grads, true) }

func (o *AdamHD) step(params, grads []float32, check bool) bool {
	checkLen(o.n, params, grads)
	o.t++
	wd := float32(o.cfg.WeightDecay)
	o.alpha += o.cfg.Beta * dotDecayed(grads, params, o.u, wd)
	b1, b2 := o.beta1, o.cfg.Beta2
	h := adamHyper{b1: float32(b1), b11: float32(1 - b1), b2: float32(b2), b21: float32(1 - b2),
		ss: float32(1 / (1 - pow(b1, o.t))), ibc2: float32(1 / sqrt64(1-pow(b2, o.t))),
		eps: float32(o.cfg.Eps), wd: wd, pmul: float32(o.alpha)}
	op := vecOp{kind: opAdamHD, check: check, p: params, g: grads, s1: o.m, s2: o.v, s3: o.u, h: h}
	return op.run(o.n)
}

// adamHDKernel uses h.ss = 1/(1-β1^t) and h.pmul = α.
func adamHDKernel(p, g, m, v, u []float32, h adamHyper) {
	p, m, v, u = p[:len(g)], m[:len(g)], v[:len(g)], u[:len(g)]
	for i, gi := range g {
		pi := p[i]
		d := gi + h.wd*pi
		mi := h.b1*m[i] + h.b11*d
		vi := h.b2*v[i] + h.b21*(d*d)
		m[i], v[i] = mi, vi
		ui := (mi * h.ss) / (sqrt32(vi)*h.ibc2 + h.eps)
		u[i] = ui
		p[i] = pi - h.pmul*ui
	}
}

// State returns "step", "alpha", "beta1", "exp_avg", "exp_avg_sq" and "prev_dir".
func (o *AdamHD) State() []NamedVec {
	return []NamedVec{scalar("step", float64(o.t)), scalar("alpha", o.alpha), scalar("beta1", o.beta1),
		vec32("exp_avg", o.m), vec32("exp_avg_sq", o.v), vec32("prev_dir", o.u)}
}

// LoadState restores what State returned.
func (o *AdamHD) LoadState(st []NamedVec) error {
	r := newStateReader("adam-hd state", st)
	t, alpha, b1 := r.count("step"), r.finite("alpha"), r.finite("beta1")
	m, v, u := r.f32("exp_avg", o.n), r.f32("exp_avg_sq", o.n), r.f32("prev_dir", o.n)
	if err := r.done(); err != nil {
		return err
	}
	o.t, o.alpha, o.beta1 = t, alpha, b1
	copy(o.m, m)
	copy(o.v, v)
	copy(o.u, u)
	return nil
}
