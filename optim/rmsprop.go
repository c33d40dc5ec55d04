package optim

// RMSpropConfig holds RMSprop's hyper-parameters (torch.optim.RMSprop). The
// zero value is not valid; DefaultRMSpropConfig gives torch's defaults.
type RMSpropConfig struct {
	LR          float64 // learning rate, > 0; torch default 0.01
	Alpha       float64 // smoothing of the squared-gradient average, in [0, 1]; default 0.99
	Eps         float64 // added to the root, > 0; default 1e-8
	WeightDecay float64 // coupled L2 penalty, >= 0; default 0
	Momentum    float64 // momentum on the scaled step, >= 0; default 0
	Centered    bool    // divide by the estimated variance instead of the second moment
}

// DefaultRMSpropConfig returns torch's defaults: lr 0.01, alpha 0.99, eps 1e-8.
func DefaultRMSpropConfig() RMSpropConfig { return RMSpropConfig{LR: 0.01, Alpha: 0.99, Eps: 1e-8} }

func (c RMSpropConfig) validate(n int) error {
	k := checker{rule: "rmsprop"}
	k.size(n)
	k.positive("LR", c.LR)
	k.unitClosed("Alpha", c.Alpha)
	k.positive("Eps", c.Eps)
	k.nonNeg("WeightDecay", c.WeightDecay)
	k.nonNeg("Momentum", c.Momentum)
	return k.err
}

// RMSprop is Hinton's rule, plain or centered, with optional momentum, as
// torch 1.13 runs it:
//
//	d = g + wd·p;  v = α·v + (1-α)·d²
//	centered: ḡ = α·ḡ + (1-α)·d, den = √(v - ḡ²) + eps; else den = √v + eps
//	momentum > 0: b = mom·b + d/den, p -= lr·b;  else p -= lr·d/den
//
// Step makes one pass over 3 to 5 vectors and never allocates. Not safe for
// concurrent use; the zero value is not usable: call NewRMSprop.
type RMSprop struct {
	cfg RMSpropConfig
	n   int
	v   []float32 // square_avg, (n)
	ga  []float32 // grad_avg, (n); nil unless Centered
	buf []float32 // momentum_buffer, (n); nil until momentum is used

	lr, momentum float64
	t            int64
}

// NewRMSprop returns RMSprop for n parameters, or a *ConfigError.
func NewRMSprop(n int, cfg RMSpropConfig) (*RMSprop, error) {
	if err := cfg.validate(n); err != nil {
		return nil, err
	}
	o := &RMSprop{cfg: cfg, n: n, v: make([]float32, n), lr: cfg.LR, momentum: cfg.Momentum}
	if cfg.Centered {
		o.ga = make([]float32, n)
	}
	if cfg.Momentum > 0 {
		o.buf = make([]float32, n)
	}
	return o, nil
}

// Name returns "rmsprop".
func (o *RMSprop) Name() string { return "rmsprop" }

// LR returns the learning rate of the next step.
func (o *RMSprop) LR() float64 { return o.lr }

// SetLR sets the learning rate of the next steps.
func (o *RMSprop) SetLR(lr float64) { o.lr = lr }

// Momentum returns the momentum of the next step.
func (o *RMSprop) Momentum() float64 { return o.momentum }

// SetMomentum sets the momentum of the next steps; the buffer is allocated
// (zero) the first time it becomes positive.
func (o *RMSprop) SetMomentum(m float64) {
	o.momentum = m
	if m > 0 && o.buf == nil {
		o.buf = make([]float32, o.n)
	}
}

// Step applies one RMSprop update to params in place.
func (o *RMSprop) Step(params, grads []float32) { o.step(params, grads, false) }

// StepFinite is Step that also reports whether every updated parameter is
// finite, checked in the same pass (see FiniteStepper).
func (o *RMSprop) StepFinite(params, grads []float32) bool { return o.step(params, grads, true) }

func (o *RMSprop) step(params, grads []float32, check bool) bool {
	checkLen(o.n, params, grads)
	o.t++
	a := float32(o.cfg.Alpha)
	h := rmsHyper{lr: float32(o.lr), a: a, a1: 1 - a, eps: float32(o.cfg.Eps), wd: float32(o.cfg.WeightDecay), mom: float32(o.momentum)}
	op := vecOp{kind: opRMSPlain, check: check, p: params, g: grads, s1: o.v, rh: h}
	switch {
	case o.cfg.Centered && o.momentum > 0:
		op.kind, op.s2, op.s3 = opRMSCenteredMomentum, o.ga, o.buf
	case o.cfg.Centered:
		op.kind, op.s2 = opRMSCentered, o.ga
	case o.momentum > 0:
		op.kind, op.s2 = opRMSMomentum, o.buf
	}
	return op.run(o.n)
}

// rmsHyper holds RMSprop's per-step constants, hoisted out of the kernels.
// The assembly kernels read its fields by offset (TestRMSHyperLayout).
type rmsHyper struct{ lr, a, a1, eps, wd, mom float32 }

func rmsPlain(p, g, v []float32, h rmsHyper) {
	p, v = p[:len(g)], v[:len(g)]
	for i, gi := range g {
		d := gi + h.wd*p[i]
		vi := h.a*v[i] + h.a1*(d*d)
		v[i] = vi
		p[i] -= h.lr * (d / (sqrt32(vi) + h.eps))
	}
}

func rmsMomentum(p, g, v, b []float32, h rmsHyper) {
	p, v, b = p[:len(g)], v[:len(g)], b[:len(g)]
	for i, gi := range g {
		d := gi + h.wd*p[i]
		vi := h.a*v[i] + h.a1*(d*d)
		v[i] = vi
		bi := h.mom*b[i] + d/(sqrt32(vi)+h.eps)
		b[i] = bi
		p[i] -= h.lr * bi
	}
}

func rmsCentered(p, g, v, ga []float32, h rmsHyper) {
	p, v, ga = p[:len(g)], v[:len(g)], ga[:len(g)]
	for i, gi := range g {
		d := gi + h.wd*p[i]
		vi := h.a*v[i] + h.a1*(d*d)
		v[i] = vi
		gai := h.a*ga[i] + h.a1*d
		ga[i] = gai
		p[i] -= h.lr * (d / (sqrt32(vi-gai*gai) + h.eps))
	}
}

func rmsCenteredMomentum(p, g, v, ga, b []float32, h rmsHyper) {
	p, v, ga, b = p[:len(g)], v[:len(g)], ga[:len(g)], b[:len(g)]
	for i, gi := range g {
		d := gi + h.wd*p[i]
		vi := h.a*v[i] + h.a1*(d*d)
		v[i] = vi
		gai := h.a*ga[i] + h.a1*d
		ga[i] = gai
		bi := h.mom*b[i] + d/(sqrt32(vi-gai*gai)+h.eps)
		b[i] = bi
		p[i] -= h.lr * bi
	}
}

// State returns "step", "lr", "momentum", "square_avg", and "grad_avg"
// (centered) and "momentum_buffer" (once momentum was used).
func (o *RMSprop) State() []NamedVec {
	st := []NamedVec{scalar("step", float64(o.t)), scalar("lr", o.lr), scalar("momentum", o.momentum), vec32("square_avg", o.v)}
	if o.ga != nil {
		st = append(st, vec32("grad_avg", o.ga))
	}
	if o.buf != nil {
		st = append(st, vec32("momentum_buffer", o.buf))
	}
	return st
}

// LoadState restores what State returned.
func (o *RMSprop) LoadState(st []NamedVec) error {
	r := newStateReader("rmsprop state", st)
	t, lr, mom, v := r.count("step"), r.finite("lr"), r.finite("momentum"), r.f32("square_avg", o.n)
	var ga []float32
	if o.cfg.Centered {
		ga = r.f32("grad_avg", o.n)
	}
	buf, hasBuf := r.optF32("momentum_buffer", o.n, true)
	if err := r.done(); err != nil {
		return err
	}
	o.t, o.lr = t, lr
	o.SetMomentum(mom)
	copy(o.v, v)
	copy(o.ga, ga)
	switch {
	case hasBuf && o.buf == nil:
		o.buf = append([]float32(nil), buf...)
	case hasBuf:
		copy(o.buf, buf)
	default:
		clear(o.buf) // a buffer not saved was never used: zero, as a fresh one
	}
	return nil
}
