package optim

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Schedule maps a 0-based step index to the learning rate that step uses:
// LR(i) is the rate of the (i+1)-th Step, as lrs[i] in torch's loop
// "lr = group lr; optimizer.step(); scheduler.step()". The closed forms here
// equal torch's recursive ("chainable") forms to within 1e-15 relative.
//
// Schedules built by this package are immutable values, safe for concurrent
// use, and LR allocates nothing and costs well under a microsecond (one
// math.Pow or math.Cos at most). The exception is *Plateau, which is driven
// by validation losses and is stateful. A negative step counts as 0.
type Schedule interface {
	LR(step int) float64
	// String describes the schedule and its parameters, for logs.
	String() string
}

// MomentumSchedule is a Schedule that also sets the optimizer's momentum
// (OneCycle with momentum cycling). Momentum returns false when the schedule
// leaves the momentum alone.
type MomentumSchedule interface {
	Schedule
	Momentum(step int) (m float64, ok bool)
}

// Apply sets opt's learning rate to s.LR(step) and, if s cycles momentum,
// its momentum (β1 for the Adam family). It returns an error, without
// changing opt, if s cycles momentum and opt has none, or if opt learns its
// own rate (sgd-hd, adam-hd: a schedule would overwrite what they learn).
// Call it before each Step; it does not allocate on success.
func Apply(opt Optimizer, s Schedule, step int) error {
	if _, ok := opt.(rateLearner); ok {
		return fmt.Errorf("optim: %q learns its own learning rate; run it without a schedule", opt.Name())
	}
	if ms, ok := s.(MomentumSchedule); ok {
		if m, cyc := ms.Momentum(step); cyc {
			mo, ok := opt.(Momentumer)
			if !ok {
				return fmt.Errorf("optim: schedule %s cycles momentum, but %q has none (turn momentum cycling off)", s, opt.Name())
			}
			mo.SetMomentum(m)
		}
	}
	opt.SetLR(s.LR(step))
	return nil
}

// rateLearner marks the hypergradient rules.
type rateLearner interface{ learnsRate() }

func schedErr(sched, field string, v float64, want string) error {
	return &ConfigError{Rule: sched + " schedule", Field: field, Value: v, Want: want}
}

func checkLR0(sched string, lr float64) error {
	if !(lr > 0) || math.IsInf(lr, 0) {
		return schedErr(sched, "lr", lr, "> 0 and finite")
	}
	return nil
}

func clampStep(step int) int { return max(step, 0) }

// constant is a fixed rate.
type constant struct{ lr float64 }

// Constant returns the schedule that always gives lr.
func Constant(lr float64) (Schedule, error) {
	if err := checkLR0("constant", lr); err != nil {
		return nil, err
	}
	return constant{lr}, nil
}

func (c constant) LR(int) float64 { return c.lr }
func (c constant) String() string { return fmt.Sprintf("constant(lr=%g)", c.lr) }

// stepDecay is torch's StepLR.
type stepDecay struct {
	lr, gamma float64
	every     int
}

// StepDecay returns torch's StepLR: lr·gamma^⌊step/every⌋. gamma is in
// (0, 1] (a growing rate would reach +Inf; torch does not check).
func StepDecay(lr float64, every int, gamma float64) (Schedule, error) {
	if err := checkLR0("step", lr); err != nil {
		return nil, err
	}
	if every < 1 {
		return nil, schedErr("step", "step_size", float64(every), ">= 1")
	}
	if !(gamma > 0 && gamma <= 1) {
		return nil, schedErr("step", "gamma", gamma, "in (0, 1]")
	}
	return stepDecay{lr, gamma, every}, nil
}

func (s stepDecay) LR(step int) float64 {
	return s.lr * math.Pow(s.gamma, float64(clampStep(step)/s.every))
}

func (s stepDecay) String() string {
	return fmt.Sprintf("step(lr=%g, step_size=%d, gamma=%g)", s.lr, s.every, s.gamma)
}

// multiStep is torch's MultiStepLR.
type multiStep struct {
	lr, gamma  float64
	milestones []int // sorted, repeats allowed (each repeat multiplies again)
}

// MultiStepDecay returns torch's MultiStepLR: lr·gamma^(number of milestones
// <= step), gamma in (0, 1]. Milestones need not be sorted; a repeated milestone counts twice,
// as in torch. The schedule keeps a sorted copy.
func MultiStepDecay(lr float64, milestones []int, gamma float64) (Schedule, error) {
	if err := checkLR0("multistep", lr); err != nil {
		return nil, err
	}
	if len(milestones) == 0 {
		return nil, schedErr("multistep", "milestones", 0, "a non-empty list")
	}
	ms := slices.Clone(milestones)
	slices.Sort(ms)
	if ms[0] < 1 {
		return nil, schedErr("multistep", "milestones", float64(ms[0]), ">= 1")
	}
	if !(gamma > 0 && gamma <= 1) {
		return nil, schedErr("multistep", "gamma", gamma, "in (0, 1]")
	}
	return multiStep{lr, gamma, ms}, nil
}

func (s multiStep) LR(step int) float64 {
	k, _ := slices.BinarySearch(s.milestones, clampStep(step)+1) // milestones <= step
	return s.lr * math.Pow(s.gamma, float64(k))
}

func (s multiStep) String() string {
	return fmt.Sprintf("multistep(lr=%g, milestones=%v, gamma=%g)", s.lr, s.milestones, s.gamma)
}

// exponential is torch's ExponentialLR.
type exponential struct{ lr, gamma float64 }

// ExponentialDecay returns torch's ExponentialLR: lr·gamma^step, gamma in
// (0, 1] (a growing rate would reach +Inf; torch does not check).
func ExponentialDecay(lr, gamma float64) (Schedule, error) {
	if err := checkLR0("exponential", lr); err != nil {
		return nil, err
	}
	if !(gamma > 0 && gamma <= 1) {
		return nil, schedErr("exponential", "gamma", gamma, "in (0, 1]")
	}
	return exponential{lr, gamma}, nil
}

func (s exponential) LR(step int) float64 { return s.lr * math.Pow(s.gamma, float64(clampStep(step))) }
func (s exponential) String() string {
	return fmt.Sprintf("exponential(lr=%g, gamma=%g)", s.lr, s.gamma)
}

// inverseTime is Bottou's decay.
type inverseTime struct{ lr, decay, power float64 }

// InverseTimeDecay returns Bottou's schedule lr/(1 + decay·step)^power
// (power 1 for SGD, 0.75 for ASGD; sklearn's "optimal" with decay = λ·lr).
func InverseTimeDecay(lr, decay, power float64) (Schedule, error) {
	if err := checkLR0("invtime", lr); err != nil {
		return nil, err
	}
	if !(decay >= 0) || math.IsInf(decay, 0) {
		return nil, schedErr("invtime", "decay", decay, ">= 0 and finite")
	}
	if !(power >= 0) || math.IsInf(power, 0) {
		return nil, schedErr("invtime", "power", power, ">= 0 and finite")
	}
	return inverseTime{lr, decay, power}, nil
}

func (s inverseTime) LR(step int) float64 {
	return s.lr * math.Pow(1+s.decay*float64(clampStep(step)), -s.power)
}

func (s inverseTime) String() string {
	return fmt.Sprintf("invtime(lr=%g, decay=%g, power=%g)", s.lr, s.decay, s.power)
}

// linear is torch's LinearLR.
type linear struct {
	lr, start, end float64
	iters          int
}

// Linear returns torch's LinearLR: the factor goes linearly from start to
// end over iters steps, then stays at end: lr·(start + (end-start)·min(step,
// iters)/iters). start must be > 0 and end >= 0 (torch further bounds both
// by 1; a factor above 1 is allowed here).
func Linear(lr, start, end float64, iters int) (Schedule, error) {
	if err := checkLR0("linear", lr); err != nil {
		return nil, err
	}
	if !(start > 0) || math.IsInf(start, 0) {
		return nil, schedErr("linear", "start_factor", start, "> 0 and finite")
	}
	if !(end >= 0) || math.IsInf(end, 0) {
		return nil, schedErr("linear", "end_factor", end, ">= 0 and finite")
	}
	if iters < 1 {
		return nil, schedErr("linear", "total_iters", float64(iters), ">= 1")
	}
	return linear{lr, start, end, iters}, nil
}

func (s linear) LR(step int) float64 {
	t := min(clampStep(step), s.iters)
	return s.lr * (s.start + (s.end-s.start)*float64(t)/float64(s.iters))
}

func (s linear) String() string {
	return fmt.Sprintf("linear(lr=%g, start_factor=%g, end_factor=%g, total_iters=%d)", s.lr, s.start, s.end, s.iters)
}

// cosine is torch's CosineAnnealingLR.
type cosine struct {
	lr, etaMin float64
	tmax       int
}

// Cosine returns torch's CosineAnnealingLR: etaMin + (lr-etaMin)(1+cos(π
// step/tmax))/2. Past tmax the rate climbs back up, as torch's does.
func Cosine(lr float64, tmax int, etaMin float64) (Schedule, error) {
	if err := checkLR0("cosine", lr); err != nil {
		return nil, err
	}
	if tmax < 1 {
		return nil, schedErr("cosine", "t_max", float64(tmax), ">= 1")
	}
	if !(etaMin >= 0) || etaMin > lr {
		return nil, schedErr("cosine", "eta_min", etaMin, fmt.Sprintf("in [0, lr=%g]", lr))
	}
	return cosine{lr, etaMin, tmax}, nil
}

func (s cosine) LR(step int) float64 {
	return annealCos(s.lr, s.etaMin, float64(clampStep(step))/float64(s.tmax))
}

func (s cosine) String() string {
	return fmt.Sprintf("cosine(lr=%g, t_max=%d, eta_min=%g)", s.lr, s.tmax, s.etaMin)
}

// annealCos goes from start (pct 0) to end (pct 1) along half a cosine.
func annealCos(start, end, pct float64) float64 {
	return end + (start-end)/2*(1+math.Cos(math.Pi*pct))
}

// restarts is torch's CosineAnnealingWarmRestarts.
type restarts struct {
	lr, etaMin float64
	t0, tmult  int
}

// CosineRestarts returns torch's CosineAnnealingWarmRestarts (SGDR, Loshchilov
// & Hutter 2017): cosine annealing from lr to etaMin over t0 steps, restarted
// at lr each time, each period tmult times longer than the last.
func CosineRestarts(lr float64, t0, tmult int, etaMin float64) (Schedule, error) {
	if err := checkLR0("cosine-restarts", lr); err != nil {
		return nil, err
	}
	if t0 < 1 {
		return nil, schedErr("cosine-restarts", "t_0", float64(t0), ">= 1")
	}
	if tmult < 1 {
		return nil, schedErr("cosine-restarts", "t_mult", float64(tmult), ">= 1")
	}
	if !(etaMin >= 0) || etaMin > lr {
		return nil, schedErr("cosine-restarts", "eta_min", etaMin, fmt.Sprintf("in [0, lr=%g]", lr))
	}
	return restarts{lr, etaMin, t0, tmult}, nil
}

func (s restarts) LR(step int) float64 {
	cur, ti := clampStep(step), s.t0
	if s.tmult == 1 {
		cur %= ti
	} else {
		for cur >= ti { // O(log step) rounds
			cur -= ti
			if ti > math.MaxInt/s.tmult {
				ti = math.MaxInt // longer than any step count
				break
			}
			ti *= s.tmult
		}
	}
	return annealCos(s.lr, s.etaMin, float64(cur)/float64(ti))
}

func (s restarts) String() string {
	return fmt.Sprintf("cosine-restarts(lr=%g, t_0=%d, t_mult=%d, eta_min=%g)", s.lr, s.t0, s.tmult, s.etaMin)
}

// sequential is torch's SequentialLR.
type sequential struct {
	scheds     []Schedule
	milestones []int
}

// Sequential returns torch's SequentialLR: scheds[0] until milestones[0],
// then scheds[1] restarted at step 0, and so on (scheds[k] sees step -
// milestones[k-1]). len(milestones) must be len(scheds)-1, increasing.
// Stateful schedules (*Plateau) are refused.
func Sequential(scheds []Schedule, milestones []int) (Schedule, error) {
	if len(scheds) < 1 || len(milestones) != len(scheds)-1 {
		return nil, schedErr("sequential", "milestones", float64(len(milestones)), fmt.Sprintf("a list of %d steps (one fewer than schedules)", max(len(scheds)-1, 0)))
	}
	for i, m := range milestones {
		if m < 1 || (i > 0 && m <= milestones[i-1]) {
			return nil, schedErr("sequential", "milestones", float64(m), ">= 1 and increasing")
		}
	}
	for _, s := range scheds {
		if s == nil {
			return nil, schedErr("sequential", "schedules", 0, "non-nil")
		}
		if _, ok := s.(*Plateau); ok {
			return nil, fmt.Errorf("optim: sequential schedule: cannot contain plateau (it follows validation loss, not steps)")
		}
		if _, ok := s.(MomentumSchedule); ok {
			return nil, fmt.Errorf("optim: sequential schedule: cannot contain %s (it cycles momentum and has its own warm-up)", s)
		}
	}
	return sequential{slices.Clone(scheds), slices.Clone(milestones)}, nil
}

// Warmup returns Sequential(Linear(lr0, startFactor, 1, iters), after) with
// milestone iters: a linear ramp from startFactor·lr0 to lr0 over iters
// steps, then after, started at its step 0. lr0 should be after's starting
// rate.
func Warmup(lr0 float64, iters int, startFactor float64, after Schedule) (Schedule, error) {
	ramp, err := Linear(lr0, startFactor, 1, iters)
	if err != nil {
		return nil, fmt.Errorf("warmup: %w", err)
	}
	return Sequential([]Schedule{ramp, after}, []int{iters})
}

func (s sequential) LR(step int) float64 {
	step = clampStep(step)
	k, _ := slices.BinarySearch(s.milestones, step+1) // milestones <= step
	if k > 0 {
		step -= s.milestones[k-1]
	}
	return s.scheds[k].LR(step)
}

func (s sequential) String() string {
	var b strings.Builder
	b.WriteString("sequential(")
	for i, sc := range s.scheds {
		if i > 0 {
			fmt.Fprintf(&b, ", @%d: ", s.milestones[i-1])
		}
		b.WriteString(sc.String())
	}
	b.WriteString(")")
	return b.String()
}

// funcSchedule adapts a function.
type funcSchedule struct {
	name string
	f    func(step int) float64
}

// Func adapts f to a Schedule named name (for String). f must be pure.
func Func(name string, f func(step int) float64) Schedule { return funcSchedule{name, f} }

func (s funcSchedule) LR(step int) float64 { return s.f(clampStep(step)) }
func (s funcSchedule) String() string      { return s.name }
