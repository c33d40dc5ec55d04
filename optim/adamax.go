package optim

// AdamaxConfig holds Adamax's hyper-parameters (torch.optim.Adamax). The zero
// value is not valid; DefaultAdamaxConfig gives torch's defaults.
type AdamaxConfig struct {
	LR          float64 // learning rate, > 0; default 2e-3
	Beta1       float64 // in [0, 1); default 0.9
	Beta2       float64 // decay of the infinity norm, in [0, 1); default 0.999
	Eps         float64 // > 0; default 1e-8
	WeightDecay float64 // coupled L2 penalty, >= 0; default 0
}

// DefaultAdamaxConfig returns torch's defaults: lr 2e-3, betas 0.9/0.999, eps 1e-8.
func DefaultAdamaxConfig() AdamaxConfig {
	return AdamaxConfig{LR: 2e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

func (c AdamaxConfig) validate(n int) error {
	k := checker{rule: "adamax"}
	k.size(n)
	k.positive("LR", c.LR)
	k.unitOpen("Beta1", c.Beta1)
	k.unitOpen("Beta2", c.Beta2)
	k.positive("Eps", c.Eps)
	k.nonNeg("WeightDecay", c.WeightDecay)
	return k.err
}

// Adamax is Adam's infinity-norm variant (Kingma & Ba 2015, §7) as torch
// 1.13 runs it:
//
//	d = g + wd·p;  m = β1·m + (1-β1)·d;  u = max(β2·u, |d| + eps)
//	p -= lr/(1-β1^t) · m/u
//
// Step makes one pass over 4 vectors and never allocates. Not safe for
// concurrent use; call NewAdamax.
type Adamax struct {
	cfg AdamaxConfig
	n   int
	m   []float32 // exp_avg, (n)
	u   []float32 // exp_inf, (n)

	lr, beta1 float64
	t         int64
}

// NewAdamax returns Adamax for n parameters, or a *ConfigError.
func NewAdamax(n int, cfg AdamaxConfig) (*Adamax, error) {
	if err := cfg.validate(n); err != nil {
		return nil, err
	}
	return &Adamax{cfg: cfg, n: n, m: make([]float32, n), u: make([]float32, n), lr: cfg.LR, beta1: cfg.Beta1}, nil
}

// Name returns "adamax".
func (o *Adamax) Name() string { return "adamax" }

// LR returns the learning rate of the next step.
func (o *Adamax) LR() float64 { return o.lr }

// SetLR sets the learning rate of the next steps.
func (o *Adamax) SetLR(lr float64) { o.lr = lr }

// Momentum returns β1 of the next step.
func (o *Adamax) Momentum() float64 { return o.beta1 }

// SetMomentum sets β1 of the next steps.
func (o *Adamax) SetMomentum(m float64) { o.beta1 = m }

// Step applies one Adamax update to params in place.
func (o *Adamax) Step(params, grads []float32) { o.step(params, grads, false) }

// StepFinite is Step that also reports whether every updated parameter is
// finite, checked in the same pass (see FiniteStepper).
func (o *Adamax) StepFinite(params, grads []float32) bool { return o.step(params, grads, true) }

func (o *Adamax) step(params, grads []float32, check bool) bool {
	checkLen(o.n, params, grads)
	o.t++
	b1 := o.beta1
	h := adamHyper{b1: float32(b1), b11: float32(1 - b1), b2: float32(o.cfg.Beta2),
		ss: float32(o.lr / (1 - pow(b1, o.t))), eps: float32(o.cfg.Eps), wd: float32(o.cfg.WeightDecay)}
	op := vecOp{kind: opAdamax, check: check, p: params, g: grads, s1: o.m, s2: o.u, h: h}
	return op.run(o.n)
}

func adamaxKernel(p, g, m, u []float32, h adamHyper) {
	p, m, u = p[:len(g)], m[:len(g)], u[:len(g)]
	for i, gi := range g {
		pi := p[i]
		d := gi + h.wd*pi
		mi := h.b1*m[i] + h.b11*d
		m[i] = mi
		ui := max(h.b2*u[i], abs32(d)+h.eps)
		u[i] = ui
		p[i] = pi - h.ss*(mi/ui)
	}
}

// State returns "step", "lr", "beta1", "exp_avg" and "exp_inf".
func (o *Adamax) State() []NamedVec {
	return []NamedVec{scalar("step", float64(o.t)), scalar("lr", o.lr), scalar("beta1", o.beta1),
		vec32("exp_avg", o.m), vec32("exp_inf", o.u)}
}

// LoadState restores what State returned.
func (o *Adamax) LoadState(st []NamedVec) error {
	r := newStateReader("adamax state", st)
	t, lr, b1 := r.count("step"), r.finite("lr"), r.finite("beta1")
	m, u := r.f32("exp_avg", o.n), r.f32("exp_inf", o.n)
	if err := r.done(); err != nil {
		return err
	}
	o.t, o.lr, o.beta1 = t, lr, b1
	copy(o.m, m)
	copy(o.u, u)
	return nil
}
