package optim

import "math"

// RpropConfig holds Rprop's hyper-parameters (torch.optim.Rprop). The zero
// value is not valid; DefaultRpropConfig gives torch's defaults.
type RpropConfig struct {
	LR       float64 // initial step size of every parameter, > 0; default 0.01
	EtaMinus float64 // step shrink factor on a sign change, in (0, 1); default 0.5
	EtaPlus  float64 // step growth factor on the same sign, > 1; default 1.2
	StepMin  float64 // smallest step, >= 0; default 1e-6
	StepMax  float64 // largest step, >= StepMin; default 50
}

// DefaultRpropConfig returns torch's defaults: lr 0.01, etas 0.5/1.2, step
// sizes 1e-6..50.
func DefaultRpropConfig() RpropConfig {
	return RpropConfig{LR: 0.01, EtaMinus: 0.5, EtaPlus: 1.2, StepMin: 1e-6, StepMax: 50}
}

func (c RpropConfig) validate(n int) error {
	k := checker{rule: "rprop"}
	k.size(n)
	k.positive("LR", c.LR)
	if !(c.EtaMinus > 0 && c.EtaMinus < 1) {
		k.fail("EtaMinus", c.EtaMinus, "in (0, 1)")
	}
	if !(c.EtaPlus > 1) || c.EtaPlus > 1e300 {
		k.fail("EtaPlus", c.EtaPlus, "> 1 and finite")
	}
	k.nonNeg("StepMin", c.StepMin)
	if !(c.StepMax >= c.StepMin) || c.StepMax > 1e300 {
		k.fail("StepMax", c.StepMax, ">= StepMin and finite")
	}
	return k.err
}

// Rprop is resilient backpropagation (Riedmiller & Braun 1993) as torch 1.13
// runs it: each parameter has its own step size s, started at LR on the
// first step;
//
//	g·g_prev > 0: s = min(s·η+, max);  < 0: s = max(s·η-, min) and g = 0
//	p -= sign(g)·s;  g_prev = g
//
// Because the step sizes are state, SetLR only matters before the first
// Step (as in torch, where lr only initialises them). A NaN gradient
// element moves its parameter by ±s instead of making it NaN as torch does
// (the divergence guard rejects such gradients before any rule sees them).
// Step makes one branch-free pass over 4 vectors and never allocates. Not
// safe for concurrent use; call NewRprop.
type Rprop struct {
	cfg   RpropConfig
	n     int
	prev  []float32 // the previous (masked) gradient, (n)
	steps []float32 // step_size per parameter, (n)

	lr float64
	t  int64
}

// NewRprop returns Rprop for n parameters, or a *ConfigError.
func NewRprop(n int, cfg RpropConfig) (*Rprop, error) {
	if err := cfg.validate(n); err != nil {
		return nil, err
	}
	return &Rprop{cfg: cfg, n: n, prev: make([]float32, n), steps: make([]float32, n), lr: cfg.LR}, nil
}

// Name returns "rprop".
func (o *Rprop) Name() string { return "rprop" }

// LR returns the learning rate (the initial step size).
func (o *Rprop) LR() float64 { return o.lr }

// SetLR sets the initial step size; it has no effect after the first Step.
func (o *Rprop) SetLR(lr float64) { o.lr = lr }

// Step applies one Rprop update to params in place.
func (o *Rprop) Step(params, grads []float32) { o.step(params, grads, false) }

// StepFinite is Step that also reports whether every updated parameter is
// finite, checked in the same pass (see FiniteStepper).
func (o *Rprop) StepFinite(params, grads []float32) bool { return o.step(params, grads, true) }

func (o *Rprop) step(params, grads []float32, check bool) bool {
	checkLen(o.n, params, grads)
	if o.t == 0 {
		fill(o.steps, float32(o.lr))
	}
	o.t++
	op := vecOp{kind: opRprop, check: check, p: params, g: grads, s1: o.prev, s2: o.steps,
		k: [5]float32{float32(o.cfg.EtaMinus), float32(o.cfg.EtaPlus), float32(o.cfg.StepMin), float32(o.cfg.StepMax)}}
	return op.run(o.n)
}

// rpropKernel is branch-free over the signs (with random signs, as in
// mini-batch training, a branchy loop mispredicts about half the time and
// runs 3x slower): the step factor and the masking of g come from bit masks.
func rpropKernel(p, g, prev, step []float32, etaMinus, etaPlus, smin, smax float32) {
	p, prev, step = p[:len(g)], prev[:len(g)], step[:len(g)]
	one := math.Float32bits(1)
	xPlus, xMinus := one^math.Float32bits(etaPlus), one^math.Float32bits(etaMinus)
	for i, gi := range g {
		cb := math.Float32bits(gi * prev[i])
		nz := (cb&absMask + absMask) >> 31 // 1 unless g·g_prev is ±0
		neg := -(cb >> 31 & nz)            // all ones if g·g_prev < 0
		pos := -(^cb >> 31 & nz)           // all ones if g·g_prev > 0
		s := min(max(step[i]*math.Float32frombits(one^xPlus&pos^xMinus&neg), smin), smax)
		step[i] = s
		gb := math.Float32bits(gi) &^ neg                                      // g = +0 after a sign change
		gnz := -((gb&absMask + absMask) >> 31)                                 // all ones unless g is ±0
		p[i] -= math.Float32frombits((math.Float32bits(s) | gb&signBit) & gnz) // sign(g)·s
		prev[i] = math.Float32frombits(gb)
	}
}

// absMask clears a float32's sign bit.
const absMask = 0x7fffffff

// State returns "step", "lr", "prev" and "step_size".
func (o *Rprop) State() []NamedVec {
	return []NamedVec{scalar("step", float64(o.t)), scalar("lr", o.lr), vec32("prev", o.prev), vec32("step_size", o.steps)}
}

// LoadState restores what State returned.
func (o *Rprop) LoadState(st []NamedVec) error {
	r := newStateReader("rprop state", st)
	t, lr, prev, step := r.count("step"), r.finite("lr"), r.f32("prev", o.n), r.f32("step_size", o.n)
	if err := r.done(); err != nil {
		return err
	}
	o.t, o.lr = t, lr
	copy(o.prev, prev)
	copy(o.steps, step)
	return nil
}
