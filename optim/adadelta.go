package optim

// AdadeltaConfig holds Adadelta's hyper-parameters (torch.optim.Adadelta).
// The zero value is not valid; DefaultAdadeltaConfig gives torch's defaults.
type AdadeltaConfig struct {
	LR          float64 // scale of the delta, > 0; torch default 1.0
	Rho         float64 // decay of the running averages, in [0, 1]; default 0.9
	Eps         float64 // inside both roots, > 0; default 1e-6
	WeightDecay float64 // coupled L2 penalty, >= 0; default 0
}

// DefaultAdadeltaConfig returns torch's defaults: lr 1, rho 0.9, eps 1e-6.
func DefaultAdadeltaConfig() AdadeltaConfig { return AdadeltaConfig{LR: 1, Rho: 0.9, Eps: 1e-6} }

func (c AdadeltaConfig) validate(n int) error {
	k := checker{rule: "adadelta"}
	k.size(n)
	k.positive("LR", c.LR)
	k.unitClosed("Rho", c.Rho)
	k.positive("Eps", c.Eps)
	k.nonNeg("WeightDecay", c.WeightDecay)
	return k.err
}

// Adadelta is Zeiler's (2012) rule as torch 1.13 runs it:
//
//	d = g + wd·p;  v = ρ·v + (1-ρ)·d²
//	Δ = √(u+eps)/√(v+eps) · d;  u = ρ·u + (1-ρ)·Δ²;  p -= lr·Δ
//
// Step makes one pass over 4 vectors and never allocates. Not safe for
// concurrent use; the zero value is not usable: call NewAdadelta.
type Adadelta struct {
	cfg AdadeltaConfig
	n   int
	v   []float32 // square_avg: running mean of d², (n)
	u   []float32 // acc_delta: running mean of Δ², (n)
	lr  float64
	t   int64
}

// NewAdadelta returns Adadelta for n parameters, or a *ConfigError.
func NewAdadelta(n int, cfg AdadeltaConfig) (*Adadelta, error) {
	if err := cfg.validate(n); err != nil {
		return nil, err
	}
	return &Adadelta{cfg: cfg, n: n, v: make([]float32, n), u: make([]float32, n), lr: cfg.LR}, nil
}

// Name returns "adadelta".
func (o *Adadelta) Name() string { return "adadelta" }

// LR returns the learning rate of the next step.
func (o *Adadelta) LR() float64 { return o.lr }

// SetLR sets the learning rate of the next steps.
func (o *Adadelta) SetLR(lr float64) { o.lr = lr }

// Step applies one Adadelta update to params in place.
func (o *Adadelta) Step(params, grads []float32) { o.step(params, grads, false) }

// StepFinite is Step that also reports whether every updated parameter is
// finite, checked in the same pass (see FiniteStepper).
func (o *Adadelta) StepFinite(params, grads []float32) bool { return o.step(params, grads, true) }

func (o *Adadelta) step(params, grads []float32, check bool) bool {
	checkLen(o.n, params, grads)
	o.t++
	rho := float32(o.cfg.Rho)
	op := vecOp{kind: opAdadelta, check: check, p: params, g: grads, s1: o.v, s2: o.u,
		k: [5]float32{float32(o.lr), rho, 1 - rho, float32(o.cfg.Eps), float32(o.cfg.WeightDecay)}}
	return op.run(o.n)
}

func adadeltaKernel(p, g, v, u []float32, lr, rho, rho1, eps, wd float32) {
	p, v, u = p[:len(g)], v[:len(g)], u[:len(g)]
	for i, gi := range g {
		d := gi + wd*p[i]
		vi := rho*v[i] + rho1*(d*d)
		v[i] = vi
		delta := sqrt32(u[i]+eps) / sqrt32(vi+eps) * d
		u[i] = rho*u[i] + rho1*(delta*delta)
		p[i] -= lr * delta
	}
}

// State returns "step", "lr", "square_avg" and "acc_delta".
func (o *Adadelta) State() []NamedVec {
	return []NamedVec{scalar("step", float64(o.t)), scalar("lr", o.lr), vec32("square_avg", o.v), vec32("acc_delta", o.u)}
}

// LoadState restores what State returned.
func (o *Adadelta) LoadState(st []NamedVec) error {
	r := newStateReader("adadelta state", st)
	t, lr, v, u := r.count("step"), r.finite("lr"), r.f32("square_avg", o.n), r.f32("acc_delta", o.n)
	if err := r.done(); err != nil {
		return err
	}
	o.t, o.lr = t, lr
	copy(o.v, v)
	copy(o.u, u)
	return nil
}
