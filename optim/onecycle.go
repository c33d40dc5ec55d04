package optim

import (
	"fmt"
	"math"
)

// OneCycleConfig holds the parameters of torch's OneCycleLR (Smith &
// Topin 2018). Use DefaultOneCycleConfig for torch's defaults; the zero
// value is not valid.
type OneCycleConfig struct {
	MaxLR          float64 // peak learning rate, > 0
	TotalSteps     int     // length of the cycle in steps, >= 2
	PctStart       float64 // fraction of the steps spent rising, in (0, 1); default 0.3
	DivFactor      float64 // initial rate = MaxLR/DivFactor, > 0; default 25
	FinalDivFactor float64 // final rate = initial/FinalDivFactor, > 0; default 1e4
	Linear         bool    // anneal linearly; false (default) anneals along a cosine
	ThreePhase     bool    // rise, fall back to the initial rate, then decay (torch three_phase)
	// CycleMomentum makes the schedule drive the optimizer's momentum (β1
	// for the Adam family) inversely to the rate, between BaseMomentum and
	// MaxMomentum, overwriting it every step as torch does (so SGD built
	// with momentum 0 runs with momentum). torch's default is true; so is
	// DefaultOneCycleConfig's; the zero value is false.
	CycleMomentum bool
	BaseMomentum  float64 // lowest momentum (at the peak rate), in [0, MaxMomentum]; default 0.85
	MaxMomentum   float64 // highest momentum, in [0, 1); default 0.95
}

// DefaultOneCycleConfig returns torch's defaults for a cycle peaking at maxLR
// over total steps: pct_start 0.3, cosine annealing, div_factor 25,
// final_div_factor 1e4, momentum cycled between 0.85 and 0.95.
func DefaultOneCycleConfig(maxLR float64, total int) OneCycleConfig {
	return OneCycleConfig{MaxLR: maxLR, TotalSteps: total, PctStart: 0.3, DivFactor: 25, FinalDivFactor: 1e4,
		CycleMomentum: true, BaseMomentum: 0.85, MaxMomentum: 0.95}
}

type cyclePhase struct {
	end              float64 // last step of the phase (torch's float end_step)
	startLR, endLR   float64
	startMom, endMom float64
}

// OneCycle is torch's OneCycleLR as a Schedule (and MomentumSchedule). It is
// immutable and safe for concurrent use; LR and Momentum cost one math.Cos.
// Steps at or past TotalSteps give the final values (torch raises an error
// there).
type OneCycle struct {
	cfg    OneCycleConfig
	phases []cyclePhase
}

// NewOneCycle validates cfg and returns the schedule, or a *ConfigError
// naming the bad parameter.
func NewOneCycle(cfg OneCycleConfig) (*OneCycle, error) {
	bad := func(field string, v float64, want string) error { return schedErr("onecycle", field, v, want) }
	switch {
	case !(cfg.MaxLR > 0) || math.IsInf(cfg.MaxLR, 0):
		return nil, bad("max_lr", cfg.MaxLR, "> 0 and finite")
	case cfg.TotalSteps < 2:
		return nil, bad("total_steps", float64(cfg.TotalSteps), ">= 2")
	case !(cfg.PctStart > 0 && cfg.PctStart < 1):
		return nil, bad("pct_start", cfg.PctStart, "in (0, 1)")
	case !(cfg.DivFactor > 0) || math.IsInf(cfg.DivFactor, 0):
		return nil, bad("div_factor", cfg.DivFactor, "> 0 and finite")
	case !(cfg.FinalDivFactor > 0) || math.IsInf(cfg.FinalDivFactor, 0):
		return nil, bad("final_div_factor", cfg.FinalDivFactor, "> 0 and finite")
	case cfg.CycleMomentum && !(cfg.MaxMomentum >= 0 && cfg.MaxMomentum < 1):
		return nil, bad("max_momentum", cfg.MaxMomentum, "in [0, 1)")
	case cfg.CycleMomentum && !(cfg.BaseMomentum >= 0 && cfg.BaseMomentum <= cfg.MaxMomentum):
		return nil, bad("base_momentum", cfg.BaseMomentum, fmt.Sprintf("in [0, max_momentum=%g]", cfg.MaxMomentum))
	}
	initial := cfg.MaxLR / cfg.DivFactor
	final := initial / cfg.FinalDivFactor
	total, pct := float64(cfg.TotalSteps), cfg.PctStart
	lo, hi := cfg.BaseMomentum, cfg.MaxMomentum
	var ph []cyclePhase
	if cfg.ThreePhase {
		ph = []cyclePhase{
			{pct*total - 1, initial, cfg.MaxLR, hi, lo},
			{2*pct*total - 2, cfg.MaxLR, initial, lo, hi},
			{total - 1, initial, final, hi, hi},
		}
	} else {
		ph = []cyclePhase{
			{pct*total - 1, initial, cfg.MaxLR, hi, lo},
			{total - 1, cfg.MaxLR, final, lo, hi},
		}
	}
	start := 0.0
	for _, p := range ph {
		if !(p.end > start) {
			return nil, bad("pct_start", pct, fmt.Sprintf("such that every phase of the %d steps is at least one step long", cfg.TotalSteps))
		}
		start = p.end
	}
	return &OneCycle{cfg: cfg, phases: ph}, nil
}

// at returns the phase of step and the fraction of it done, as torch does.
func (s *OneCycle) at(step int) (cyclePhase, float64) {
	t := float64(min(clampStep(step), s.cfg.TotalSteps-1))
	start := 0.0
	for i, p := range s.phases {
		if t <= p.end || i == len(s.phases)-1 {
			return p, (t - start) / (p.end - start)
		}
		start = p.end
	}
	panic("optim: unreachable")
}

func (s *OneCycle) anneal(start, end, pct float64) float64 {
	if s.cfg.Linear {
		return (end-start)*pct + start
	}
	return annealCos(start, end, pct)
}

// LR returns the rate of step.
func (s *OneCycle) LR(step int) float64 {
	p, pct := s.at(step)
	return s.anneal(p.startLR, p.endLR, pct)
}

// Momentum returns the momentum in force at step, and false if the schedule
// does not cycle momentum.
func (s *OneCycle) Momentum(step int) (float64, bool) {
	if !s.cfg.CycleMomentum {
		return 0, false
	}
	p, pct := s.at(step)
	return s.anneal(p.startMom, p.endMom, pct), true
}

// String describes the cycle.
func (s *OneCycle) String() string {
	c := s.cfg
	strat := "cos"
	if c.Linear {
		strat = "linear"
	}
	m := "momentum=off"
	if c.CycleMomentum {
		m = fmt.Sprintf("momentum=%g..%g", c.BaseMomentum, c.MaxMomentum)
	}
	return fmt.Sprintf("onecycle(max_lr=%g, total_steps=%d, pct_start=%g, %s, div_factor=%g, final_div_factor=%g, three_phase=%v, %s)",
		c.MaxLR, c.TotalSteps, c.PctStart, strat, c.DivFactor, c.FinalDivFactor, c.ThreePhase, m)
}
