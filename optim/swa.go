package optim

import (
	"fmt"
	"math"
)

// AveragerConfig says which steps an Averager averages. The zero value
// averages every step from the first.
type AveragerConfig struct {
	// From is the first step averaged (steps count from 1, as Update's
	// argument); 0 and 1 both mean the first step.
	From int
	// Every averages only steps From, From+Every, From+2·Every, ... (SWA
	// averages once per cycle); 0 and 1 mean every step.
	Every int
}

// Averager keeps the equal-weight running average of the parameters over
// chosen steps: Polyak averaging from a given step, or stochastic weight
// averaging (Izmailov et al. 2018, arXiv 1803.05407) as torch's AveragedModel
// with its default averaging function computes it: the first averaged step
// copies the parameters, later ones do avg += (p - avg)/(n+1). Combine it
// with SWALR for the SWA learning rate.
//
// The average is a separate vector; Average returns a view of it. Update
// makes one pass over 2 vectors and never allocates. Not safe for
// concurrent use; the zero value is not usable: call NewAverager.
type Averager struct {
	cfg AveragerConfig
	avg []float32 // the running average, (n), same layout as the parameters
	cnt int64     // number of steps averaged (torch n_averaged)
}

// NewAverager returns an Averager for n parameters, or a *ConfigError.
func NewAverager(n int, cfg AveragerConfig) (*Averager, error) {
	k := checker{rule: "averager"}
	k.size(n)
	if cfg.From < 0 {
		k.fail("From", float64(cfg.From), ">= 0")
	}
	if cfg.Every < 0 {
		k.fail("Every", float64(cfg.Every), ">= 0")
	}
	if k.err != nil {
		return nil, k.err
	}
	return &Averager{cfg: cfg, avg: make([]float32, n)}, nil
}

// Due reports whether Update(step, ...) would average.
func (a *Averager) Due(step int) bool {
	from, every := max(a.cfg.From, 1), max(a.cfg.Every, 1)
	return step >= from && (step-from)%every == 0
}

// Update folds params (read, not retained) into the average if step (the
// 1-based number of the Step just taken) is due, and reports whether it did.
// params must have the Averager's length (else it panics).
func (a *Averager) Update(step int, params []float32) bool {
	if len(params) != len(a.avg) {
		panic("optim: params must have the averager's length")
	}
	if !a.Due(step) {
		return false
	}
	if a.cnt == 0 {
		copy(a.avg, params)
	} else {
		op := vecOp{kind: opAverage, p: a.avg, g: params, k: [5]float32{1 / float32(a.cnt+1)}}
		op.run(len(a.avg))
	}
	a.cnt++
	return true
}

// averageInto is avg += w·(p - avg).
func averageInto(avg, p []float32, w float32) {
	p = p[:len(avg)]
	for i, ai := range avg {
		avg[i] = ai + (p[i]-ai)*w
	}
}

// Average returns the averaged parameters (a view: valid until the next
// Update, do not modify; all zero before the first averaged step).
func (a *Averager) Average() []float32 { return a.avg }

// Count returns the number of steps averaged so far.
func (a *Averager) Count() int64 { return a.cnt }

// State returns "n_averaged" and "average".
func (a *Averager) State() []NamedVec {
	return []NamedVec{scalar("n_averaged", float64(a.cnt)), vec32("average", a.avg)}
}

// LoadState restores what State returned; on error a is unchanged.
func (a *Averager) LoadState(st []NamedVec) error {
	r := newStateReader("averager state", st)
	cnt, avg := r.count("n_averaged"), r.f32("average", len(a.avg))
	if err := r.done(); err != nil {
		return err
	}
	a.cnt = cnt
	copy(a.avg, avg)
	return nil
}

// swalr is torch's SWALR.
type swalr struct {
	lr0, swaLR float64
	anneal     int
	linear     bool
}

// SWALR returns torch's SWALR: from lr0 the rate anneals to swaLR over
// annealSteps steps (along a half cosine, or linearly if linear), then stays
// there: swaLR·α + lr0·(1-α), α = (1-cos(π·t))/2 or t, t = min(step/annealSteps,
// 1). annealSteps 0 jumps to swaLR at once. Start it (step 0) where
// averaging starts, e.g. inside Sequential.
func SWALR(lr0, swaLR float64, annealSteps int, linear bool) (Schedule, error) {
	if err := checkLR0("swalr", lr0); err != nil {
		return nil, err
	}
	if !(swaLR > 0) || math.IsInf(swaLR, 0) {
		return nil, schedErr("swalr", "swa_lr", swaLR, "> 0 and finite")
	}
	if annealSteps < 0 {
		return nil, schedErr("swalr", "anneal_epochs", float64(annealSteps), ">= 0")
	}
	return swalr{lr0, swaLR, annealSteps, linear}, nil
}

func (s swalr) LR(step int) float64 {
	t := 1.0
	if s.anneal > 0 {
		t = min(float64(clampStep(step))/float64(s.anneal), 1)
	}
	alpha := t
	if !s.linear {
		alpha = (1 - math.Cos(math.Pi*t)) / 2
	}
	return s.swaLR*alpha + s.lr0*(1-alpha)
}

func (s swalr) String() string {
	strat := "cos"
	if s.linear {
		strat = "linear"
	}
	return fmt.Sprintf("swalr(lr=%g, swa_lr=%g, anneal_epochs=%d, anneal_strategy=%s)", s.lr0, s.swaLR, s.anneal, strat)
}
