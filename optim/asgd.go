package optim

import "math"

// ASGDConfig holds ASGD's hyper-parameters (torch.optim.ASGD). The zero value
// is not valid; DefaultASGDConfig gives torch's defaults.
type ASGDConfig struct {
	LR          float64 // learning rate, > 0; default 0.01
	Lambd       float64 // decay term, >= 0; default 1e-4
	Alpha       float64 // power of the eta update, >= 0; default 0.75
	T0          float64 // step at which averaging starts, >= 0; default 1e6
	WeightDecay float64 // coupled L2 penalty, >= 0; default 0
}

// DefaultASGDConfig returns torch's defaults: lr 0.01, lambd 1e-4, alpha
// 0.75, t0 1e6.
func DefaultASGDConfig() ASGDConfig {
	return ASGDConfig{LR: 0.01, Lambd: 1e-4, Alpha: 0.75, T0: 1e6}
}

func (c ASGDConfig) validate(n int) error {
	k := checker{rule: "asgd"}
	k.size(n)
	k.positive("LR", c.LR)
	k.nonNeg("Lambd", c.Lambd)
	k.nonNeg("Alpha", c.Alpha)
	k.nonNeg("T0", c.T0)
	k.nonNeg("WeightDecay", c.WeightDecay)
	return k.err
}

// ASGD is averaged SGD (Polyak & Juditsky 1992; Bottou 2012) as torch 1.13
// runs it, with its per-step state eta (the step size) and mu (the averaging
// weight), both started on the first step (eta = lr, mu = 1):
//
//	d = g + wd·p;  p = p·(1 - λ·eta) - eta·d
//	mu = 1: ax = p;  else ax += mu·(p - ax)
//	eta = lr/(1 + λ·lr·t)^α;  mu = 1/max(1, t - t0)
//
// As in torch, the lr in force during step t sets the eta of step t+1.
// Averaged returns ax. Step makes one pass over 3 vectors and never
// allocates. Not safe for concurrent use; call NewASGD.
type ASGD struct {
	cfg ASGDConfig
	n   int
	ax  []float32 // averaged parameters, (n)

	lr, eta, mu float64
	t           int64
}

// NewASGD returns ASGD for n parameters, or a *ConfigError.
func NewASGD(n int, cfg ASGDConfig) (*ASGD, error) {
	if err := cfg.validate(n); err != nil {
		return nil, err
	}
	return &ASGD{cfg: cfg, n: n, ax: make([]float32, n), lr: cfg.LR, eta: cfg.LR, mu: 1}, nil
}

// Name returns "asgd".
func (o *ASGD) Name() string { return "asgd" }

// LR returns the learning rate in force.
func (o *ASGD) LR() float64 { return o.lr }

// SetLR sets the learning rate; it enters eta at the end of the next step.
func (o *ASGD) SetLR(lr float64) { o.lr = lr }

// Averaged returns the averaged parameters ax (a view, valid until the next
// Step; do not modify). Before t0 steps it equals the last parameters.
func (o *ASGD) Averaged() []float32 { return o.ax }

// Step applies one ASGD update to params in place and updates the average.
func (o *ASGD) Step(params, grads []float32) { o.step(params, grads, false) }

// StepFinite is Step that also reports whether every updated parameter is
// finite, checked in the same pass (see FiniteStepper).
func (o *ASGD) StepFinite(params, grads []float32) bool { return o.step(params, grads, true) }

func (o *ASGD) step(params, grads []float32, check bool) bool {
	checkLen(o.n, params, grads)
	if o.t == 0 {
		o.eta, o.mu = o.lr, 1
	}
	o.t++
	eta := float32(o.eta)
	op := vecOp{kind: opASGD, check: check, p: params, g: grads, s1: o.ax,
		k: [5]float32{float32(1 - o.cfg.Lambd*o.eta), eta, float32(o.cfg.WeightDecay), float32(o.mu)}}
	if o.mu == 1 {
		op.kind = opASGDCopy
	}
	ok := op.run(o.n)
	t := float64(o.t)
	o.eta = o.lr / math.Pow(1+o.cfg.Lambd*o.lr*t, o.cfg.Alpha)
	o.mu = 1 / max(1, t-o.cfg.T0)
	return ok
}

func asgdKernel(p, g, ax []float32, decay, eta, wd, mu float32, copyAvg bool) {
	p, ax = p[:len(g)], ax[:len(g)]
	if copyAvg {
		for i, gi := range g {
			pi := p[i]
			pi = pi*decay - eta*(gi+wd*pi)
			p[i] = pi
			ax[i] = pi
		}
		return
	}
	for i, gi := range g {
		pi := p[i]
		pi = pi*decay - eta*(gi+wd*pi)
		p[i] = pi
		ax[i] += mu * (pi - ax[i])
	}
}

// State returns "step", "lr", "eta", "mu" and "ax".
func (o *ASGD) State() []NamedVec {
	return []NamedVec{scalar("step", float64(o.t)), scalar("lr", o.lr), scalar("eta", o.eta), scalar("mu", o.mu), vec32("ax", o.ax)}
}

// LoadState restores what State returned.
func (o *ASGD) LoadState(st []NamedVec) error {
	r := newStateReader("asgd state", st)
	t, lr, eta, mu, ax := r.count("step"), r.finite("lr"), r.finite("eta"), r.finite("mu"), r.f32("ax", o.n)
	if err := r.done(); err != nil {
		return err
	}
	o.t, o.lr, o.eta, o.mu = t, lr, eta, mu
	copy(o.ax, ax)
	return nil
}
