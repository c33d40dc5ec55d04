package optim

import (
	"fmt"
	"math"
)

// PlateauConfig holds the parameters of torch's ReduceLROnPlateau. The zero
// values of Maximize and AbsThreshold are torch's defaults (mode "min",
// threshold_mode "rel"); DefaultPlateauConfig fills in the rest.
type PlateauConfig struct {
	Factor       float64 // multiplies the rate on a plateau, in (0, 1); default 0.1
	Patience     int     // bad epochs tolerated before reducing, >= 0; default 10
	Threshold    float64 // improvement that counts, >= 0; default 1e-4
	AbsThreshold bool    // threshold is absolute; false (default): relative
	Maximize     bool    // the metric should grow (accuracy); false (default): shrink (loss)
	Cooldown     int     // epochs to wait after a reduction, >= 0; default 0
	MinLR        float64 // floor of the rate, >= 0; default 0
	Eps          float64 // reductions smaller than this are skipped, >= 0; default 1e-8
}

// DefaultPlateauConfig returns torch's defaults: factor 0.1, patience 10,
// threshold 1e-4 relative, mode min, cooldown 0, min_lr 0, eps 1e-8.
func DefaultPlateauConfig() PlateauConfig {
	return PlateauConfig{Factor: 0.1, Patience: 10, Threshold: 1e-4, Eps: 1e-8}
}

// Plateau is torch's ReduceLROnPlateau: Observe takes the validation metric
// after each epoch (or evaluation); when it has not improved by more than
// the threshold for more than Patience observations, the rate is multiplied
// by Factor (not below MinLR), then Cooldown observations are ignored.
//
// A metric improves when metric < best·(1-threshold) (relative, min mode),
// metric < best - threshold (absolute), and the mirror images in max mode.
// NaN never improves. LR ignores its step argument and returns the current
// rate. Plateau is stateful and not safe for concurrent use; its State and
// LoadState round-trip it bitwise. Observe costs a few nanoseconds.
type Plateau struct {
	cfg PlateauConfig

	lr       float64 // the rate in force
	best     float64 // best metric so far (±Inf before the first)
	bad      int64   // consecutive observations without improvement
	cooldown int64   // observations left to ignore
	epochs   int64   // observations so far (torch last_epoch)
}

// NewPlateau returns a Plateau starting at rate lr, or a *ConfigError.
func NewPlateau(lr float64, cfg PlateauConfig) (*Plateau, error) {
	bad := func(field string, v float64, want string) error { return schedErr("plateau", field, v, want) }
	switch {
	case !(lr > 0) || math.IsInf(lr, 0):
		return nil, bad("lr", lr, "> 0 and finite")
	case !(cfg.Factor > 0 && cfg.Factor < 1):
		return nil, bad("factor", cfg.Factor, "in (0, 1)")
	case cfg.Patience < 0:
		return nil, bad("patience", float64(cfg.Patience), ">= 0")
	case !(cfg.Threshold >= 0) || math.IsInf(cfg.Threshold, 0):
		return nil, bad("threshold", cfg.Threshold, ">= 0 and finite")
	case cfg.Cooldown < 0:
		return nil, bad("cooldown", float64(cfg.Cooldown), ">= 0")
	case !(cfg.MinLR >= 0) || math.IsInf(cfg.MinLR, 0):
		return nil, bad("min_lr", cfg.MinLR, ">= 0 and finite")
	case !(cfg.Eps >= 0) || math.IsInf(cfg.Eps, 0):
		return nil, bad("eps", cfg.Eps, ">= 0 and finite")
	}
	p := &Plateau{cfg: cfg, lr: lr}
	p.best = p.worst()
	return p, nil
}

func (p *Plateau) worst() float64 {
	if p.cfg.Maximize {
		return math.Inf(-1)
	}
	return math.Inf(1)
}

// LR returns the current rate, whatever step is.
func (p *Plateau) LR(int) float64 { return p.lr }

// String describes the schedule and its current rate.
func (p *Plateau) String() string {
	c := p.cfg
	mode, tm := "min", "rel"
	if c.Maximize {
		mode = "max"
	}
	if c.AbsThreshold {
		tm = "abs"
	}
	return fmt.Sprintf("plateau(lr=%g, mode=%s, factor=%g, patience=%d, threshold=%g %s, cooldown=%d, min_lr=%g)",
		p.lr, mode, c.Factor, c.Patience, c.Threshold, tm, c.Cooldown, c.MinLR)
}

func (p *Plateau) better(x float64) bool {
	c := p.cfg
	switch {
	case !c.Maximize && !c.AbsThreshold:
		return x < p.best*(1-c.Threshold)
	case !c.Maximize:
		return x < p.best-c.Threshold
	case !c.AbsThreshold:
		return x > p.best*(c.Threshold+1)
	default:
		return x > p.best+c.Threshold
	}
}

// Observe records one metric value and reports whether the rate was reduced.
func (p *Plateau) Observe(metric float64) (reduced bool) {
	p.epochs++
	if p.better(metric) {
		p.best, p.bad = metric, 0
	} else {
		p.bad++
	}
	if p.cooldown > 0 {
		p.cooldown--
		p.bad = 0
	}
	if p.bad > int64(p.cfg.Patience) {
		if next := max(p.lr*p.cfg.Factor, p.cfg.MinLR); p.lr-next > p.cfg.Eps {
			p.lr, reduced = next, true
		}
		p.cooldown, p.bad = int64(p.cfg.Cooldown), 0
	}
	return reduced
}

// Best returns the best metric observed (+Inf, or -Inf in max mode, before
// any).
func (p *Plateau) Best() float64 { return p.best }

// State returns "lr", "best", "num_bad_epochs", "cooldown_counter" and
// "last_epoch" (torch's names).
func (p *Plateau) State() []NamedVec {
	return []NamedVec{scalar("lr", p.lr), scalar("best", p.best), scalar("num_bad_epochs", float64(p.bad)),
		scalar("cooldown_counter", float64(p.cooldown)), scalar("last_epoch", float64(p.epochs))}
}

// LoadState restores what State returned; on error p is unchanged.
func (p *Plateau) LoadState(st []NamedVec) error {
	r := newStateReader("plateau state", st)
	lr, best := r.finite("lr"), r.f64("best")
	bad, cd, ep := r.count("num_bad_epochs"), r.count("cooldown_counter"), r.count("last_epoch")
	if math.IsNaN(best) {
		r.failf(`"best" must not be NaN`)
	}
	if err := r.done(); err != nil {
		return err
	}
	p.lr, p.best, p.bad, p.cooldown, p.epochs = lr, best, bad, cd, ep
	return nil
}
