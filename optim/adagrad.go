package optim

// AdagradConfig holds Adagrad's hyper-parameters (torch.optim.Adagrad). The
// zero value is not valid; DefaultAdagradConfig gives torch's defaults.
type AdagradConfig struct {
	LR                      float64 // learning rate, > 0; torch default 0.01
	LRDecay                 float64 // lr_t = LR/(1+(t-1)·LRDecay), >= 0; default 0
	WeightDecay             float64 // coupled L2 penalty, >= 0; default 0
	InitialAccumulatorValue float64 // starting value of the sum of squares, >= 0; default 0
	Eps                     float64 // added to the root, > 0; default 1e-10
}

// DefaultAdagradConfig returns torch's defaults: lr 0.01, eps 1e-10.
func DefaultAdagradConfig() AdagradConfig { return AdagradConfig{LR: 0.01, Eps: 1e-10} }

func (c AdagradConfig) validate(n int) error {
	k := checker{rule: "adagrad"}
	k.size(n)
	k.positive("LR", c.LR)
	k.nonNeg("LRDecay", c.LRDecay)
	k.nonNeg("WeightDecay", c.WeightDecay)
	k.nonNeg("InitialAccumulatorValue", c.InitialAccumulatorValue)
	k.positive("Eps", c.Eps)
	return k.err
}

// Adagrad is the adaptive-gradient rule (Duchi et al. 2011) as torch 1.13
// runs it:
//
//	d = g + wd·p;  s += d²;  p -= lr/(1+(t-1)·lr_decay) · d/(√s + eps)
//
// Step makes one pass over 3 vectors and never allocates. Not safe for
// concurrent use; the zero value is not usable: call NewAdagrad.
type Adagrad struct {
	cfg AdagradConfig
	n   int
	sum []float32 // running sum of squared gradients, (n)
	lr  float64
	t   int64
}

// NewAdagrad returns Adagrad for n parameters, or a *ConfigError.
func NewAdagrad(n int, cfg AdagradConfig) (*Adagrad, error) {
	if err := cfg.validate(n); err != nil {
		return nil, err
	}
	o := &Adagrad{cfg: cfg, n: n, sum: make([]float32, n), lr: cfg.LR}
	if v := float32(cfg.InitialAccumulatorValue); v != 0 {
		fill(o.sum, v)
	}
	return o, nil
}

// Name returns "adagrad".
func (o *Adagrad) Name() string { return "adagrad" }

// LR returns the base learning rate of the next step (before lr_decay).
func (o *Adagrad) LR() float64 { return o.lr }

// SetLR sets the base learning rate of the next steps.
func (o *Adagrad) SetLR(lr float64) { o.lr = lr }

// Step applies one Adagrad update to params in place.
func (o *Adagrad) Step(params, grads []float32) { o.step(params, grads, false) }

// StepFinite is Step that also reports whether every updated parameter is
// finite, checked in the same pass (see FiniteStepper).
func (o *Adagrad) StepFinite(params, grads []float32) bool { return o.step(params, grads, true) }

func (o *Adagrad) step(params, grads []float32, check bool) bool {
	checkLen(o.n, params, grads)
	o.t++
	clr := o.lr / (1 + float64(o.t-1)*o.cfg.LRDecay)
	op := vecOp{kind: opAdagrad, check: check, p: params, g: grads, s1: o.sum,
		k: [5]float32{float32(clr), float32(o.cfg.WeightDecay), float32(o.cfg.Eps)}}
	return op.run(o.n)
}

func adagradKernel(p, g, s []float32, clr, wd, eps float32) {
	p, s = p[:len(g)], s[:len(g)]
	for i, gi := range g {
		d := gi + wd*p[i]
		si := s[i] + d*d
		s[i] = si
		p[i] -= clr * (d / (sqrt32(si) + eps))
	}
}

// State returns "step", "lr" and "sum".
func (o *Adagrad) State() []NamedVec {
	return []NamedVec{scalar("step", float64(o.t)), scalar("lr", o.lr), vec32("sum", o.sum)}
}

// LoadState restores what State returned.
func (o *Adagrad) LoadState(st []NamedVec) error {
	r := newStateReader("adagrad state", st)
	t, lr, sum := r.count("step"), r.finite("lr"), r.f32("sum", o.n)
	if err := r.done(); err != nil {
		return err
	}
	o.t, o.lr = t, lr
	copy(o.sum, sum)
	return nil
}
