package optim

import "math"

// RAdamConfig holds RAdam's hyper-parameters (torch.optim.RAdam). The zero
// value is not valid; DefaultRAdamConfig gives torch's defaults.
type RAdamConfig struct {
	LR          float64 // learning rate, > 0; default 1e-3
	Beta1       float64 // in [0, 1); default 0.9
	Beta2       float64 // in [0, 1); default 0.999
	Eps         float64 // > 0; default 1e-8
	WeightDecay float64 // coupled L2 penalty, >= 0; default 0
}

// DefaultRAdamConfig returns torch's defaults: lr 1e-3, betas 0.9/0.999, eps 1e-8.
func DefaultRAdamConfig() RAdamConfig {
	return RAdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

func (c RAdamConfig) validate(n int) error {
	k := checker{rule: "radam"}
	k.size(n)
	k.positive("LR", c.LR)
	k.unitOpen("Beta1", c.Beta1)
	k.unitOpen("Beta2", c.Beta2)
	k.positive("Eps", c.Eps)
	k.nonNeg("WeightDecay", c.WeightDecay)
	return k.err
}

// RAdam is rectified Adam (Liu et al. 2020) as torch 1.13 runs it:
//
//	d = g + wd·p;  m, v as Adam;  m̂ = m/(1-β1^t)
//	ρ∞ = 2/(1-β2) - 1;  ρt = ρ∞ - 2tβ2^t/(1-β2^t)
//	ρt > 5: r = √((ρt-4)(ρt-2)ρ∞/((ρ∞-4)(ρ∞-2)ρt)), p -= lr·r·√(1-β2^t)·m̂/(√v + eps)
//	else:   p -= lr·m̂
//
// Step makes one pass over 4 vectors and never allocates. Not safe for
// concurrent use; call NewRAdam.
type RAdam struct {
	cfg  RAdamConfig
	n    int
	m, v []float32 // exp_avg, exp_avg_sq, (n)

	lr, beta1 float64
	t         int64
}

// NewRAdam returns RAdam for n parameters, or a *ConfigError.
func NewRAdam(n int, cfg RAdamConfig) (*RAdam, error) {
	if err := cfg.validate(n); err != nil {
		return nil, err
	}
	return &RAdam{cfg: cfg, n: n, m: make([]float32, n), v: make([]float32, n), lr: cfg.LR, beta1: cfg.Beta1}, nil
}

// Name returns "radam".
func (o *RAdam) Name() string { return "radam" }

// LR returns the learning rate of the next step.
func (o *RAdam) LR() float64 { return o.lr }

// SetLR sets the learning rate of the next steps.
func (o *RAdam) SetLR(lr float64) { o.lr = lr }

// Momentum returns β1 of the next step.
func (o *RAdam) Momentum() float64 { return o.beta1 }

// SetMomentum sets β1 of the next steps.
func (o *RAdam) SetMomentum(m float64) { o.beta1 = m }

// Step applies one RAdam update to params in place.
func (o *RAdam) Step(params, grads []float32) { o.step(params, grads, false) }

// StepFinite is Step that also reports whether every updated parameter is
// finite, checked in the same pass (see FiniteStepper).
func (o *RAdam) StepFinite(params, grads []float32) bool { return o.step(params, grads, true) }

func (o *RAdam) step(params, grads []float32, check bool) bool {
	checkLen(o.n, params, grads)
	o.t++
	b1, b2, t := o.beta1, o.cfg.Beta2, float64(o.t)
	bc1, bc2 := 1-pow(b1, o.t), 1-pow(b2, o.t)
	rhoInf := 2/(1-b2) - 1
	rhoT := rhoInf - 2*t*pow(b2, o.t)/bc2
	h := adamHyper{b1: float32(b1), b11: float32(1 - b1), b2: float32(b2), b21: float32(1 - b2),
		eps: float32(o.cfg.Eps), wd: float32(o.cfg.WeightDecay), pmul: 1}
	if rhoT > 5 {
		rect := math.Sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT))
		h.ss = float32(o.lr * rect * sqrt64(bc2) / bc1)
		op := vecOp{kind: opRAdamRect, check: check, p: params, g: grads, s1: o.m, s2: o.v, h: h}
		return op.run(o.n)
	}
	h.ss = float32(o.lr / bc1)
	op := vecOp{kind: opRAdamPlain, check: check, p: params, g: grads, s1: o.m, s2: o.v, h: h}
	return op.run(o.n)
}

// radamRectKernel is the rectified step: p -= ss·m/(√v + eps).
func radamRectKernel(p, g, m, v []float32, h adamHyper) {
	p, m, v = p[:len(g)], m[:len(g)], v[:len(g)]
	for i, gi := range g {
		pi := p[i]
		d := gi + h.wd*pi
		mi := h.b1*m[i] + h.b11*d
		vi := h.b2*v[i] + h.b21*(d*d)
		m[i], v[i] = mi, vi
		p[i] = pi - h.ss*(mi/(sqrt32(vi)+h.eps))
	}
}

// radamPlainKernel is the early, unrectified step: p -= ss·m (v still tracked).
func radamPlainKernel(p, g, m, v []float32, h adamHyper) {
	p, m, v = p[:len(g)], m[:len(g)], v[:len(g)]
	for i, gi := range g {
		pi := p[i]
		d := gi + h.wd*pi
		mi := h.b1*m[i] + h.b11*d
		m[i] = mi
		v[i] = h.b2*v[i] + h.b21*(d*d)
		p[i] = pi - h.ss*mi
	}
}

// State returns "step", "lr", "beta1", "exp_avg" and "exp_avg_sq".
func (o *RAdam) State() []NamedVec {
	return []NamedVec{scalar("step", float64(o.t)), scalar("lr", o.lr), scalar("beta1", o.beta1),
		vec32("exp_avg", o.m), vec32("exp_avg_sq", o.v)}
}

// LoadState restores what State returned.
func (o *RAdam) LoadState(st []NamedVec) error {
	r := newStateReader("radam state", st)
	t, lr, b1 := r.count("step"), r.finite("lr"), r.finite("beta1")
	m, v := r.f32("exp_avg", o.n), r.f32("exp_avg_sq", o.n)
	if err := r.done(); err != nil {
		return err
	}
	o.t, o.lr, o.beta1 = t, lr, b1
	copy(o.m, m)
	copy(o.v, v)
	return nil
}
