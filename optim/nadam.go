package optim

import "math"

// NAdamConfig holds NAdam's hyper-parameters (torch.optim.NAdam). The zero
// value is not valid; DefaultNAdamConfig gives torch's defaults.
type NAdamConfig struct {
	LR            float64 // learning rate, > 0; default 2e-3
	Beta1         float64 // in [0, 1); default 0.9
	Beta2         float64 // in [0, 1); default 0.999
	Eps           float64 // > 0; default 1e-8
	WeightDecay   float64 // coupled L2 penalty, >= 0; default 0
	MomentumDecay float64 // ψ in μt = β1(1 - ½·0.96^(tψ)), >= 0; default 4e-3
	// CorrectedProduct selects the bias correction of the look-ahead term.
	// false (default) matches torch 1.13, whose mu_product_next is
	// Π·μt·μt+1 (μt counted twice); true matches torch >= 2.0 and Dozat's
	// paper, Π·μt+1. The two differ by about 1e-4 relative after 20 steps.
	CorrectedProduct bool
}

// DefaultNAdamConfig returns torch's defaults: lr 2e-3, betas 0.9/0.999,
// eps 1e-8, momentum_decay 4e-3, torch 1.13's product.
func DefaultNAdamConfig() NAdamConfig {
	return NAdamConfig{LR: 2e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, MomentumDecay: 4e-3}
}

func (c NAdamConfig) validate(n int) error {
	k := checker{rule: "nadam"}
	k.size(n)
	k.positive("LR", c.LR)
	k.unitOpen("Beta1", c.Beta1)
	k.unitOpen("Beta2", c.Beta2)
	k.positive("Eps", c.Eps)
	k.nonNeg("WeightDecay", c.WeightDecay)
	k.nonNeg("MomentumDecay", c.MomentumDecay)
	return k.err
}

// NAdam is Adam with Nesterov momentum (Dozat 2016) as torch runs it
// (t is the 1-based step, Π the running product of μ, starting at 1):
//
//	μt = β1(1 - ½·0.96^(tψ));  μt+1 likewise;  Π *= μt
//	d = g + wd·p;  m, v as Adam;  den = √(v/(1-β2^t)) + eps
//	p -= lr(1-μt)/(1-Π) · d/den + lr·μt+1/(1-Πnext) · m/den
//
// with Πnext per CorrectedProduct. Step makes one pass over 4 vectors and
// never allocates. Not safe for concurrent use; call NewNAdam.
type NAdam struct {
	cfg  NAdamConfig
	n    int
	m, v []float32 // exp_avg, exp_avg_sq, (n)

	lr, beta1 float64
	muProduct float64 // Π, the product of μ1..μt
	t         int64
}

// NewNAdam returns NAdam for n parameters, or a *ConfigError.
func NewNAdam(n int, cfg NAdamConfig) (*NAdam, error) {
	if err := cfg.validate(n); err != nil {
		return nil, err
	}
	return &NAdam{cfg: cfg, n: n, m: make([]float32, n), v: make([]float32, n),
		lr: cfg.LR, beta1: cfg.Beta1, muProduct: 1}, nil
}

// Name returns "nadam".
func (o *NAdam) Name() string { return "nadam" }

// LR returns the learning rate of the next step.
func (o *NAdam) LR() float64 { return o.lr }

// SetLR sets the learning rate of the next steps.
func (o *NAdam) SetLR(lr float64) { o.lr = lr }

// Momentum returns β1 of the next step.
func (o *NAdam) Momentum() float64 { return o.beta1 }

// SetMomentum sets β1 of the next steps.
func (o *NAdam) SetMomentum(m float64) { o.beta1 = m }

// Step applies one NAdam update to params in place.
func (o *NAdam) Step(params, grads []float32) { o.step(params, grads, false) }

// StepFinite is Step that also reports whether every updated parameter is
// finite, checked in the same pass (see FiniteStepper).
func (o *NAdam) StepFinite(params, grads []float32) bool { return o.step(params, grads, true) }

func (o *NAdam) step(params, grads []float32, check bool) bool {
	checkLen(o.n, params, grads)
	o.t++
	t, b1, b2 := float64(o.t), o.beta1, o.cfg.Beta2
	mu := b1 * (1 - 0.5*math.Pow(0.96, t*o.cfg.MomentumDecay))
	muNext := b1 * (1 - 0.5*math.Pow(0.96, (t+1)*o.cfg.MomentumDecay))
	o.muProduct *= mu
	next := o.muProduct * muNext
	if !o.cfg.CorrectedProduct {
		next *= mu // torch 1.13
	}
	h := nadamHyper{
		b1: float32(b1), b11: float32(1 - b1), b2: float32(b2), b21: float32(1 - b2),
		ibc2: float32(1 / sqrt64(1-pow(b2, o.t))), eps: float32(o.cfg.Eps), wd: float32(o.cfg.WeightDecay),
		cg: float32(o.lr * (1 - mu) / (1 - o.muProduct)), cm: float32(o.lr * muNext / (1 - next)),
	}
	op := vecOp{kind: opNAdam, check: check, p: params, g: grads, s1: o.m, s2: o.v, nh: h}
	return op.run(o.n)
}

// nadamHyper holds NAdam's per-step constants. The assembly kernel reads
// its fields by offset (TestNAdamHyperLayout).
type nadamHyper struct {
	b1, b11, b2, b21 float32
	ibc2, eps, wd    float32 // 1/√(1-β2^t), eps, coupled decay
	cg, cm           float32 // coefficients of d/den and m/den
}

func nadamKernel(p, g, m, v []float32, h nadamHyper) {
	p, m, v = p[:len(g)], m[:len(g)], v[:len(g)]
	for i, gi := range g {
		pi := p[i]
		d := gi + h.wd*pi
		mi := h.b1*m[i] + h.b11*d
		vi := h.b2*v[i] + h.b21*(d*d)
		m[i], v[i] = mi, vi
		inv := 1 / (sqrt32(vi)*h.ibc2 + h.eps)
		p[i] = pi - h.cg*(d*inv) - h.cm*(mi*inv)
	}
}

// State returns "step", "lr", "beta1", "mu_product", "exp_avg" and "exp_avg_sq".
func (o *NAdam) State() []NamedVec {
	return []NamedVec{scalar("step", float64(o.t)), scalar("lr", o.lr), scalar("beta1", o.beta1),
		scalar("mu_product", o.muProduct), vec32("exp_avg", o.m), vec32("exp_avg_sq", o.v)}
}

// LoadState restores what State returned.
func (o *NAdam) LoadState(st []NamedVec) error {
	r := newStateReader("nadam state", st)
	t, lr, b1, mp := r.count("step"), r.finite("lr"), r.finite("beta1"), r.finite("mu_product")
	m, v := r.f32("exp_avg", o.n), r.f32("exp_avg_sq", o.n)
	if err := r.done(); err != nil {
		return err
	}
	o.t, o.lr, o.beta1, o.muProduct = t, lr, b1, mp
	copy(o.m, m)
	copy(o.v, v)
	return nil
}
