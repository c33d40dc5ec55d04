package optim

// AdamConfig holds the hyper-parameters of Adam and AdamW (torch.optim.Adam,
// torch.optim.AdamW). The zero value is not valid; DefaultAdamConfig and
// DefaultAdamWConfig give torch's defaults.
type AdamConfig struct {
	LR          float64 // learning rate, > 0; default 1e-3
	Beta1       float64 // decay of the first moment, in [0, 1); default 0.9
	Beta2       float64 // decay of the second moment, in [0, 1); default 0.999
	Eps         float64 // added to the root, > 0; default 1e-8
	WeightDecay float64 // >= 0; coupled L2 (Adam) or decoupled (AdamW); default 0 (AdamW: 0.01)
	Decoupled   bool    // AdamW: p *= 1 - lr·WeightDecay before the Adam step
	AMSGrad     bool    // use the running maximum of the second moment
}

// DefaultAdamConfig returns torch's Adam defaults: lr 1e-3, betas 0.9/0.999,
// eps 1e-8, no weight decay.
func DefaultAdamConfig() AdamConfig {
	return AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// DefaultAdamWConfig returns torch's AdamW defaults: as Adam, with decoupled
// weight decay 0.01.
func DefaultAdamWConfig() AdamConfig {
	c := DefaultAdamConfig()
	c.WeightDecay, c.Decoupled = 0.01, true
	return c
}

func (c AdamConfig) name() string {
	if c.Decoupled {
		return "adamw"
	}
	return "adam"
}

func (c AdamConfig) validate(n int) error {
	k := checker{rule: c.name()}
	k.size(n)
	k.positive("LR", c.LR)
	k.unitOpen("Beta1", c.Beta1)
	k.unitOpen("Beta2", c.Beta2)
	k.positive("Eps", c.Eps)
	k.nonNeg("WeightDecay", c.WeightDecay)
	return k.err
}

// Adam is Kingma & Ba's rule with torch 1.13's semantics, including AMSGrad
// and AdamW's decoupled weight decay (t is the 1-based step):
//
//	AdamW: p *= 1 - lr·wd;  Adam: d = g + wd·p
//	m = β1·m + (1-β1)·d;  v = β2·v + (1-β2)·d²;  AMSGrad: v̂ = max(v̂, v)
//	p -= lr/(1-β1^t) · m/(√v/√(1-β2^t) + eps)
//
// Step makes one pass over 4 (5 with AMSGrad) vectors with the step-dependent
// factors hoisted, and never allocates. Not safe for concurrent use; the zero
// value is not usable: call NewAdam.
type Adam struct {
	cfg  AdamConfig
	n    int
	m, v []float32 // exp_avg, exp_avg_sq, (n)
	vmax []float32 // max_exp_avg_sq, (n); nil unless AMSGrad

	lr, beta1 float64 // in force for the next step (schedules set them)
	t         int64
}

// NewAdam returns Adam (AdamW when cfg.Decoupled) for n parameters, or a
// *ConfigError naming the bad field.
func NewAdam(n int, cfg AdamConfig) (*Adam, error) {
	if err := cfg.validate(n); err != nil {
		return nil, err
	}
	o := &Adam{cfg: cfg, n: n, m: make([]float32, n), v: make([]float32, n), lr: cfg.LR, beta1: cfg.Beta1}
	if cfg.AMSGrad {
		o.vmax = make([]float32, n)
	}
	return o, nil
}

// Name returns "adam" or "adamw".
func (o *Adam) Name() string { return o.cfg.name() }

// LR returns the learning rate of the next step.
func (o *Adam) LR() float64 { return o.lr }

// SetLR sets the learning rate of the next steps.
func (o *Adam) SetLR(lr float64) { o.lr = lr }

// Momentum returns β1 of the next step.
func (o *Adam) Momentum() float64 { return o.beta1 }

// SetMomentum sets β1 of the next steps, as OneCycleLR does to Adam's betas.
func (o *Adam) SetMomentum(m float64) { o.beta1 = m }

// Step applies one Adam update to params in place.
func (o *Adam) Step(params, grads []float32) { o.step(params, grads, false) }

// StepFinite is Step that also reports whether every updated parameter is
// finite, checked in the same pass (see FiniteStepper).
func (o *Adam) StepFinite(params, grads []float32) bool { return o.step(params, grads, true) }

func (o *Adam) step(params, grads []float32, check bool) bool {
	checkLen(o.n, params, grads)
	o.t++
	h := adamHyperFor(o.lr, o.beta1, o.cfg.Beta2, o.cfg.Eps, o.t)
	if o.cfg.Decoupled {
		h.pmul = float32(1 - o.lr*o.cfg.WeightDecay)
	} else {
		h.wd = float32(o.cfg.WeightDecay)
	}
	op := vecOp{kind: opAdam, check: check, p: params, g: grads, s1: o.m, s2: o.v, h: h}
	if o.cfg.AMSGrad {
		op.kind, op.s3 = opAdamAMSGrad, o.vmax
	}
	return op.run(o.n)
}

// adamHyper holds Adam's per-step constants, hoisted out of the kernels.
// The assembly kernels read its fields by offset (TestAdamHyperLayout).
type adamHyper struct {
	b1, b11, b2, b21 float32 // β1, 1-β1, β2, 1-β2
	ss               float32 // lr/(1-β1^t)
	ibc2             float32 // 1/√(1-β2^t)
	eps              float32
	wd               float32 // coupled weight decay (0 for AdamW)
	pmul             float32 // decoupled decay factor 1-lr·wd (1 for Adam)
}

func adamHyperFor(lr, beta1, beta2, eps float64, t int64) adamHyper {
	bc1, bc2 := 1-pow(beta1, t), 1-pow(beta2, t)
	return adamHyper{
		b1: float32(beta1), b11: float32(1 - beta1), b2: float32(beta2), b21: float32(1 - beta2),
		ss: float32(lr / bc1), ibc2: float32(1 / sqrt64(bc2)), eps: float32(eps), pmul: 1,
	}
}

func adamKernel(p, g, m, v []float32, h adamHyper) {
	p, m, v = p[:len(g)], m[:len(g)], v[:len(g)]
	for i, gi := range g {
		pi := p[i]
		d := gi + h.wd*pi
		mi := h.b1*m[i] + h.b11*d
		vi := h.b2*v[i] + h.b21*(d*d)
		m[i], v[i] = mi, vi
		p[i] = pi*h.pmul - h.ss*(mi/(sqrt32(vi)*h.ibc2+h.eps))
	}
}

func adamAMSGradKernel(p, g, m, v, vmax []float32, h adamHyper) {
	p, m, v, vmax = p[:len(g)], m[:len(g)], v[:len(g)], vmax[:len(g)]
	for i, gi := range g {
		pi := p[i]
		d := gi + h.wd*pi
		mi := h.b1*m[i] + h.b11*d
		vi := h.b2*v[i] + h.b21*(d*d)
		m[i], v[i] = mi, vi
		vm := max(vmax[i], vi)
		vmax[i] = vm
		p[i] = pi*h.pmul - h.ss*(mi/(sqrt32(vm)*h.ibc2+h.eps))
	}
}

// State returns "step", "lr", "beta1", "exp_avg", "exp_avg_sq" and, with
// AMSGrad, "max_exp_avg_sq".
func (o *Adam) State() []NamedVec {
	st := []NamedVec{scalar("step", float64(o.t)), scalar("lr", o.lr), scalar("beta1", o.beta1),
		vec32("exp_avg", o.m), vec32("exp_avg_sq", o.v)}
	if o.vmax != nil {
		st = append(st, vec32("max_exp_avg_sq", o.vmax))
	}
	return st
}

// LoadState restores what State returned.
func (o *Adam) LoadState(st []NamedVec) error {
	r := newStateReader(o.Name()+" state", st)
	t, lr, b1 := r.count("step"), r.finite("lr"), r.finite("beta1")
	m, v := r.f32("exp_avg", o.n), r.f32("exp_avg_sq", o.n)
	var vmax []float32
	if o.cfg.AMSGrad {
		vmax = r.f32("max_exp_avg_sq", o.n)
	}
	if err := r.done(); err != nil {
		return err
	}
	o.t, o.lr, o.beta1 = t, lr, b1
	copy(o.m, m)
	copy(o.v, v)
	copy(o.vmax, vmax)
	return nil
}
