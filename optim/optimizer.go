package optim

import (
	"fmt"
	"math"
)

// Optimizer is one update rule applied to one flat parameter vector.
//
// Every rule in this package satisfies it. An Optimizer is built for a fixed
// number of parameters n; its per-parameter state has the same layout as the
// parameters. It is not safe for concurrent use: one goroutine (the optimizer
// stage) drives it.
type Optimizer interface {
	// Step applies one update to params in place, using grads (not modified,
	// not retained). Both must have the length the optimizer was built for;
	// anything else is a programmer error and panics. Step never allocates.
	Step(params, grads []float32)
	// LR returns the learning rate the next Step will use.
	LR() float64
	// SetLR sets the learning rate of the next steps. A schedule calls it
	// before each Step (see Apply). Rules whose rate is part of their state
	// (ASGD's eta, Rprop's step sizes, the hypergradient rules' alpha)
	// document what it changes.
	SetLR(lr float64)
	// Name returns the rule's name as New accepts it ("adam", "sgd", ...).
	Name() string
	// State returns the rule's mutable state: per-parameter vectors (F32,
	// views of the optimizer's buffers, valid until the next Step; do not
	// modify them) and per-step scalars (F64, fresh). It excludes the
	// hyper-parameters, which come from the configuration.
	State() []NamedVec
	// LoadState replaces the state with a copy of st, as returned by State
	// of an optimizer of the same rule and size. It checks everything
	// before changing anything and names the offending entry on error.
	LoadState(st []NamedVec) error
}

// FiniteStepper is implemented by the rules whose kernels can check the
// updated parameters while they write them: every rule of the package. StepFinite(params, grads) is Step(params, grads)
// followed by AllFinite(params), bitwise the same update, in one pass over
// the vectors instead of two. Like Step it never allocates and is not safe
// for concurrent use. StepFinite (the function) uses it when the rule has
// it.
type FiniteStepper interface {
	StepFinite(params, grads []float32) bool
}

// StepFinite applies one update of o to params and reports whether every
// updated parameter is finite: o.StepFinite when o is a FiniteStepper,
// otherwise o.Step followed by AllFinite(params). The divergence guard uses
// it after every step.
func StepFinite(o Optimizer, params, grads []float32) bool {
	if f, ok := o.(FiniteStepper); ok {
		return f.StepFinite(params, grads)
	}
	o.Step(params, grads)
	return AllFinite(params)
}

// Momentumer is implemented by the rules whose momentum a schedule may cycle
// (OneCycle): SGD and RMSprop (their momentum), and Adam, AdamW, NAdam, RAdam,
// Adamax and Adam-HD (their beta1), as torch's OneCycleLR does.
type Momentumer interface {
	Momentum() float64
	SetMomentum(m float64)
}

// Compile-time checks that every rule satisfies the interfaces.
var (
	_ Optimizer     = (*SGD)(nil)
	_ Optimizer     = (*Adagrad)(nil)
	_ Optimizer     = (*Adadelta)(nil)
	_ Optimizer     = (*RMSprop)(nil)
	_ Optimizer     = (*Adam)(nil)
	_ Optimizer     = (*NAdam)(nil)
	_ Optimizer     = (*RAdam)(nil)
	_ Optimizer     = (*Adamax)(nil)
	_ Optimizer     = (*Rprop)(nil)
	_ Optimizer     = (*ASGD)(nil)
	_ Optimizer     = (*SGDHD)(nil)
	_ Optimizer     = (*AdamHD)(nil)
	_ FiniteStepper = (*SGD)(nil)
	_ FiniteStepper = (*Adam)(nil)
	_ FiniteStepper = (*Adagrad)(nil)
	_ FiniteStepper = (*RMSprop)(nil)
	_ FiniteStepper = (*Adadelta)(nil)
	_ FiniteStepper = (*NAdam)(nil)
	_ FiniteStepper = (*RAdam)(nil)
	_ FiniteStepper = (*Adamax)(nil)
	_ FiniteStepper = (*ASGD)(nil)
	_ FiniteStepper = (*SGDHD)(nil)
	_ FiniteStepper = (*AdamHD)(nil)
	_ FiniteStepper = (*Rprop)(nil)
	_ Momentumer    = (*SGD)(nil)
	_ Momentumer    = (*RMSprop)(nil)
	_ Momentumer    = (*Adam)(nil)
	_ Momentumer    = (*NAdam)(nil)
	_ Momentumer    = (*RAdam)(nil)
	_ Momentumer    = (*Adamax)(nil)
	_ Momentumer    = (*AdamHD)(nil)
)

// ConfigError reports a hyper-parameter out of its valid range. Rule is the
// rule or schedule ("adam", "plateau"), Field the Go field name ("Beta2").
// New and the parsers turn it into a message naming the flag or option.
type ConfigError struct {
	Rule  string
	Field string
	Value float64
	Want  string // the valid range, e.g. "in [0, 1)"
}

// Error returns "optim: adam: Beta2 must be in [0, 1), got 1".
func (e *ConfigError) Error() string {
	return fmt.Sprintf("optim: %s: %s must be %s, got %v", e.Rule, e.Field, e.Want, e.Value)
}

// checker accumulates the first ConfigError of a validation.
type checker struct {
	rule string
	err  error
}

func (c *checker) fail(field string, v float64, want string) {
	if c.err == nil {
		c.err = &ConfigError{Rule: c.rule, Field: field, Value: v, Want: want}
	}
}

// positive requires a finite v > 0.
func (c *checker) positive(field string, v float64) {
	if !(v > 0) || math.IsInf(v, 0) {
		c.fail(field, v, "> 0 and finite")
	}
}

// nonNeg requires a finite v >= 0.
func (c *checker) nonNeg(field string, v float64) {
	if !(v >= 0) || math.IsInf(v, 0) {
		c.fail(field, v, ">= 0 and finite")
	}
}

// unitOpen requires v in [0, 1).
func (c *checker) unitOpen(field string, v float64) {
	if !(v >= 0 && v < 1) {
		c.fail(field, v, "in [0, 1)")
	}
}

// unitClosed requires v in [0, 1].
func (c *checker) unitClosed(field string, v float64) {
	if !(v >= 0 && v <= 1) {
		c.fail(field, v, "in [0, 1]")
	}
}

// size requires n >= 1.
func (c *checker) size(n int) {
	if n < 1 {
		c.fail("n (parameter count)", float64(n), ">= 1")
	}
}

// checkLen panics unless params and grads both have length n.
func checkLen(n int, params, grads []float32) {
	if len(params) != n || len(grads) != n {
		panic("optim: params and grads must have the optimizer's length")
	}
}

// pow returns x**t for a step count.
func pow(x float64, t int64) float64 { return math.Pow(x, float64(t)) }

// sqrt32 is a float32 square root; the compiler emits one SQRTSS for it.
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// sqrt64 is math.Sqrt, named to pair with sqrt32.
func sqrt64(x float64) float64 { return math.Sqrt(x) }

// abs32 clears the sign bit of x.
func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// fill sets every element of x to v.
func fill(x []float32, v float32) {
	for i := range x {
		x[i] = v
	}
}
