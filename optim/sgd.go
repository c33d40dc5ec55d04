package optim

// SGDConfig holds the hyper-parameters of SGD, as torch.optim.SGD takes them.
// The zero value is not valid (LR must be > 0); DefaultSGDConfig gives torch's
// defaults with lr 0.01.
type SGDConfig struct {
	LR          float64 // learning rate, > 0
	Momentum    float64 // momentum factor, >= 0; 0 (default) is plain SGD
	Dampening   float64 // dampening of the momentum, in [0, 1]; default 0
	WeightDecay float64 // coupled L2 penalty added to the gradient, >= 0; default 0
	Nesterov    bool    // Nesterov momentum; needs Momentum > 0 and Dampening 0
}

// DefaultSGDConfig returns lr 0.01 and torch's other defaults (no momentum,
// no dampening, no weight decay, no Nesterov).
func DefaultSGDConfig() SGDConfig { return SGDConfig{LR: 0.01} }

func (c SGDConfig) validate(n int) error {
	k := checker{rule: "sgd"}
	k.size(n)
	k.positive("LR", c.LR)
	k.nonNeg("Momentum", c.Momentum)
	k.unitClosed("Dampening", c.Dampening)
	k.nonNeg("WeightDecay", c.WeightDecay)
	if c.Nesterov && (c.Momentum <= 0 || c.Dampening != 0) {
		k.fail("Nesterov", 1, "used with Momentum > 0 and Dampening 0")
	}
	return k.err
}

// SGD is stochastic gradient descent with momentum, dampening, Nesterov and
// coupled weight decay, with torch 1.13's semantics:
//
//	d = g + wd·p
//	b = d on the first momentum step, else b = mom·b + (1-dampening)·d
//	d = d + mom·b (Nesterov) or d = b
//	p -= lr·d
//
// The momentum buffer is allocated when momentum is first non-zero (at
// construction, or by SetMomentum as OneCycle does). Step costs one pass
// over 3 (no momentum) or 4 vectors and never allocates; it is not safe for
// concurrent use. The zero value is not usable: call NewSGD.
type SGD struct {
	cfg SGDConfig // validated, never mutated
	n   int

	buf []float32 // momentum buffer, (n), nil until momentum is used

	lr, momentum float64 // in force for the next step (schedules set them)
	t            int64   // steps taken
	hasBuf       bool    // the buffer holds a momentum (torch: buffer is not None)
}

// NewSGD returns SGD for n parameters, or a *ConfigError naming the bad field.
func NewSGD(n int, cfg SGDConfig) (*SGD, error) {
	if err := cfg.validate(n); err != nil {
		return nil, err
	}
	o := &SGD{cfg: cfg, n: n, lr: cfg.LR, momentum: cfg.Momentum}
	if cfg.Momentum != 0 {
		o.buf = make([]float32, n)
	}
	return o, nil
}

// Name returns "sgd".
func (o *SGD) Name() string { return "sgd" }

// LR returns the learning rate of the next step.
func (o *SGD) LR() float64 { return o.lr }

// SetLR sets the learning rate of the next steps.
func (o *SGD) SetLR(lr float64) { o.lr = lr }

// Momentum returns the momentum factor of the next step.
func (o *SGD) Momentum() float64 { return o.momentum }

// SetMomentum sets the momentum factor of the next steps (OneCycle cycles it).
// It allocates the buffer the first time momentum becomes non-zero.
func (o *SGD) SetMomentum(m float64) {
	o.momentum = m
	if m != 0 && o.buf == nil {
		o.buf = make([]float32, o.n)
	}
}

// Step applies one SGD update to params in place.
func (o *SGD) Step(params, grads []float32) { o.step(params, grads, false) }

// StepFinite is Step that also reports whether every updated parameter is
// finite, checked in the same pass (see FiniteStepper).
func (o *SGD) StepFinite(params, grads []float32) bool { return o.step(params, grads, true) }

func (o *SGD) step(params, grads []float32, check bool) bool {
	checkLen(o.n, params, grads)
	o.t++
	lr, wd := float32(o.lr), float32(o.cfg.WeightDecay)
	op := vecOp{kind: opSGDPlain, check: check, p: params, g: grads, k: [5]float32{lr, wd}}
	if o.momentum == 0 {
		return op.run(o.n)
	}
	if o.buf == nil { // momentum set directly on a fresh optimizer
		o.buf = make([]float32, o.n)
	}
	mom, damp := float32(o.momentum), float32(1-o.cfg.Dampening)
	if !o.hasBuf {
		// torch: the first buffer is a clone of d. With b = 0 this is
		// exact: 0·0 + 1·d = d.
		clear(o.buf)
		mom, damp = 0, 1
		o.hasBuf = true
	}
	op.s1 = o.buf
	if o.cfg.Nesterov {
		op.kind, op.k = opSGDNesterov, [5]float32{lr, wd, float32(o.momentum), mom, damp}
	} else {
		op.kind, op.k = opSGDMomentum, [5]float32{lr, wd, mom, damp}
	}
	return op.run(o.n)
}

// sgdPlain is p -= lr·(g + wd·p).
func sgdPlain(p, g []float32, lr, wd float32) {
	p = p[:len(g)]
	for i, gi := range g {
		p[i] -= lr * (gi + wd*p[i])
	}
}

// sgdMomentum is b = mom·b + damp·(g + wd·p); p -= lr·b.
func sgdMomentum(p, g, b []float32, lr, wd, mom, damp float32) {
	p, b = p[:len(g)], b[:len(g)]
	for i, gi := range g {
		d := gi + wd*p[i]
		bi := mom*b[i] + damp*d
		b[i] = bi
		p[i] -= lr * bi
	}
}

// sgdNesterov is b = bmom·b + damp·d; p -= lr·(d + mom·b), d = g + wd·p.
// bmom is 0 on the first step (b = d), mom is the true momentum.
func sgdNesterov(p, g, b []float32, lr, wd, mom, bmom, damp float32) {
	p, b = p[:len(g)], b[:len(g)]
	for i, gi := range g {
		d := gi + wd*p[i]
		bi := bmom*b[i] + damp*d
		b[i] = bi
		p[i] -= lr * (d + mom*bi)
	}
}

// State returns "step", "lr", "momentum", "has_momentum_buffer" and, once
// allocated, "momentum_buffer".
func (o *SGD) State() []NamedVec {
	st := []NamedVec{
		scalar("step", float64(o.t)),
		scalar("lr", o.lr),
		scalar("momentum", o.momentum),
		scalar("has_momentum_buffer", b2f(o.hasBuf)),
	}
	if o.buf != nil {
		st = append(st, vec32("momentum_buffer", o.buf))
	}
	return st
}

// LoadState restores what State returned.
func (o *SGD) LoadState(st []NamedVec) error {
	r := newStateReader("sgd state", st)
	t, lr, mom, has := r.count("step"), r.finite("lr"), r.finite("momentum"), r.flag("has_momentum_buffer")
	buf, ok := r.optF32("momentum_buffer", o.n, true)
	if has && !ok {
		r.failf("has_momentum_buffer is 1 but momentum_buffer is missing")
	}
	if err := r.done(); err != nil {
		return err
	}
	o.t, o.lr, o.hasBuf = t, lr, has
	o.SetMomentum(mom)
	if ok {
		if o.buf == nil {
			o.buf = make([]float32, o.n)
		}
		copy(o.buf, buf)
	}
	return nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
