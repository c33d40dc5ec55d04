package optim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// schedDef describes one schedule for ParseSchedule.
type schedDef struct {
	name    string
	aliases []string
	params  []param
	// build makes the schedule; total is the number of steps it covers
	// (0 if unknown).
	build func(b *bound, lr0 float64, total int) (Schedule, error)
}

var schedules = []schedDef{
	{name: "constant", build: func(_ *bound, lr0 float64, _ int) (Schedule, error) { return Constant(lr0) }},
	{name: "step", params: []param{{name: "step_size", kind: optInt}, {name: "gamma", def: "0.1"}},
		build: func(b *bound, lr0 float64, _ int) (Schedule, error) {
			every, gamma := b.int("step_size"), b.float("gamma")
			if b.err != nil {
				return nil, b.err
			}
			return StepDecay(lr0, every, gamma)
		}},
	{name: "multistep", params: []param{{name: "milestones", kind: optInts}, {name: "gamma", def: "0.1"}},
		build: func(b *bound, lr0 float64, _ int) (Schedule, error) {
			ms, gamma := b.ints("milestones"), b.float("gamma")
			if b.err != nil {
				return nil, b.err
			}
			return MultiStepDecay(lr0, ms, gamma)
		}},
	{name: "exponential", aliases: []string{"exp"}, params: []param{{name: "gamma"}},
		build: func(b *bound, lr0 float64, _ int) (Schedule, error) {
			gamma := b.float("gamma")
			if b.err != nil {
				return nil, b.err
			}
			return ExponentialDecay(lr0, gamma)
		}},
	{name: "invtime", aliases: []string{"inverse-time", "inverse_time"}, params: []param{{name: "decay"}, {name: "power", def: "1"}},
		build: func(b *bound, lr0 float64, _ int) (Schedule, error) {
			decay, power := b.float("decay"), b.float("power")
			if b.err != nil {
				return nil, b.err
			}
			return InverseTimeDecay(lr0, decay, power)
		}},
	{name: "linear", params: []param{{name: "start_factor", def: "0.3333333333333333"}, {name: "end_factor", def: "1"}, {name: "total_iters", kind: optInt, def: "5"}},
		build: func(b *bound, lr0 float64, _ int) (Schedule, error) {
			s, e, it := b.float("start_factor"), b.float("end_factor"), b.int("total_iters")
			if b.err != nil {
				return nil, b.err
			}
			return Linear(lr0, s, e, it)
		}},
	{name: "cosine", params: []param{{name: "t_max", kind: optInt, def: "total"}, {name: "eta_min", def: "0"}},
		build: func(b *bound, lr0 float64, total int) (Schedule, error) {
			tmax, etaMin := b.intOrTotal("t_max", total), b.float("eta_min")
			if b.err != nil {
				return nil, b.err
			}
			return Cosine(lr0, tmax, etaMin)
		}},
	{name: "cosine-restarts", aliases: []string{"sgdr", "cosine_restarts"},
		params: []param{{name: "t_0", kind: optInt}, {name: "t_mult", kind: optInt, def: "1"}, {name: "eta_min", def: "0"}},
		build: func(b *bound, lr0 float64, _ int) (Schedule, error) {
			t0, tm, etaMin := b.int("t_0"), b.int("t_mult"), b.float("eta_min")
			if b.err != nil {
				return nil, b.err
			}
			return CosineRestarts(lr0, t0, tm, etaMin)
		}},
	{name: "onecycle", params: []param{{name: "max_lr", def: "lr"}, {name: "total_steps", kind: optInt, def: "total"},
		{name: "pct_start", def: "0.3"}, {name: "anneal_strategy", kind: optString, def: "cos"},
		{name: "div_factor", def: "25"}, {name: "final_div_factor", def: "1e4"}, {name: "three_phase", kind: optBool, def: "false"},
		{name: "cycle_momentum", kind: optBool, def: "true"}, {name: "base_momentum", def: "0.85"}, {name: "max_momentum", def: "0.95"}},
		build: func(b *bound, lr0 float64, total int) (Schedule, error) {
			maxLR := lr0
			if b.set["max_lr"] {
				maxLR = b.float("max_lr")
			}
			c := OneCycleConfig{MaxLR: maxLR, TotalSteps: b.intOrTotal("total_steps", total), PctStart: b.float("pct_start"),
				Linear: b.choice("anneal_strategy", "cos", "linear") == "linear", DivFactor: b.float("div_factor"),
				FinalDivFactor: b.float("final_div_factor"), ThreePhase: b.bool("three_phase"),
				CycleMomentum: b.bool("cycle_momentum"), BaseMomentum: b.float("base_momentum"), MaxMomentum: b.float("max_momentum")}
			if b.err != nil {
				return nil, b.err
			}
			return NewOneCycle(c)
		}},
	{name: "plateau", params: []param{{name: "factor", def: "0.1"}, {name: "patience", kind: optInt, def: "10"},
		{name: "threshold", def: "1e-4"}, {name: "threshold_mode", kind: optString, def: "rel"}, {name: "mode", kind: optString, def: "min"},
		{name: "cooldown", kind: optInt, def: "0"}, {name: "min_lr", def: "0"}, {name: "eps", def: "1e-8"}},
		build: func(b *bound, lr0 float64, _ int) (Schedule, error) {
			c := PlateauConfig{Factor: b.float("factor"), Patience: b.int("patience"), Threshold: b.float("threshold"),
				AbsThreshold: b.choice("threshold_mode", "rel", "abs") == "abs", Maximize: b.choice("mode", "min", "max") == "max",
				Cooldown: b.int("cooldown"), MinLR: b.float("min_lr"), Eps: b.float("eps")}
			if b.err != nil {
				return nil, b.err
			}
			return NewPlateau(lr0, c)
		}},
	{name: "swalr", params: []param{{name: "swa_lr"}, {name: "anneal_epochs", kind: optInt, def: "10"}, {name: "anneal_strategy", kind: optString, def: "cos"}},
		build: func(b *bound, lr0 float64, _ int) (Schedule, error) {
			swa, an, lin := b.float("swa_lr"), b.int("anneal_epochs"), b.choice("anneal_strategy", "cos", "linear") == "linear"
			if b.err != nil {
				return nil, b.err
			}
			return SWALR(lr0, swa, an, lin)
		}},
}

var warmupParams = []param{{name: "iters", kind: optInt}, {name: "start_factor", def: "0.1"}}

// intOrTotal reads an int parameter whose default "total" means the steps
// the schedule covers.
func (b *bound) intOrTotal(name string, total int) int {
	if b.vals[name] != "total" {
		return b.int(name)
	}
	if total <= 0 {
		b.failf("%s is required here (the number of training steps is not known)", name)
	}
	return total
}

func findSchedule(name string) (schedDef, bool) {
	for _, s := range schedules {
		if s.name == name {
			return s, true
		}
		for _, a := range s.aliases {
			if a == name {
				return s, true
			}
		}
	}
	return schedDef{}, false
}

func scheduleNames() string {
	names := make([]string, len(schedules))
	for i, s := range schedules {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

// ParseSchedule builds a learning-rate schedule from a CLI spec, with lr0
// the base rate (--lr) and totalSteps the number of steps of the run (0 if
// unknown; cosine's t_max and onecycle's total_steps then must be given).
// The grammar is [warmup:ITERS[,START_FACTOR]+]NAME[:ARGS], ARGS being
// positional values in the order below, then key=value pairs:
//
//	constant                                     lr0 throughout (also the empty spec)
//	step:STEP_SIZE[,GAMMA=0.1]                   torch StepLR
//	multistep:M1/M2/...[,GAMMA=0.1]              torch MultiStepLR
//	exponential:GAMMA (or exp)                   torch ExponentialLR
//	invtime:DECAY[,POWER=1]                      lr0/(1+DECAY·t)^POWER (Bottou)
//	linear[:START=1/3,END=1,ITERS=5]             torch LinearLR
//	cosine[:T_MAX=steps,ETA_MIN=0]               torch CosineAnnealingLR
//	cosine-restarts:T_0[,T_MULT=1,ETA_MIN=0]     torch CosineAnnealingWarmRestarts (or sgdr)
//	onecycle[:MAX_LR=lr0,TOTAL_STEPS=steps,...]  torch OneCycleLR; keys pct_start,
//	    anneal_strategy (cos|linear), div_factor, final_div_factor, three_phase,
//	    cycle_momentum (default true), base_momentum, max_momentum
//	plateau[:FACTOR=0.1,PATIENCE=10,...]         torch ReduceLROnPlateau (a *Plateau); keys
//	    threshold, threshold_mode (rel|abs), mode (min|max), cooldown, min_lr, eps
//	swalr:SWA_LR[,ANNEAL_EPOCHS=10,ANNEAL_STRATEGY=cos]  torch SWALR
//
// "warmup:5,0.1+cosine" ramps linearly from 0.1·lr0 to lr0 over 5 steps,
// then runs cosine over the remaining steps (torch SequentialLR with
// LinearLR); warmup's start factor defaults to 0.1, and it cannot precede
// onecycle (which has its own warm-up) or plateau. Errors name --schedule
// and the parameter at fault.
func ParseSchedule(spec string, lr0 float64, totalSteps int) (Schedule, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		spec = "constant"
	}
	if i := plusBeforeName(spec); i >= 0 {
		return parseWarmup(spec[:i], spec[i+1:], lr0, totalSteps)
	}
	return parseOne(spec, lr0, totalSteps)
}

// plusBeforeName returns the index of the first '+' followed by a letter
// (so that "1e+3" is not split), or -1.
func plusBeforeName(s string) int {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '+' && unicode.IsLetter(rune(s[i+1])) {
			return i
		}
	}
	return -1
}

func parseWarmup(head, tail string, lr0 float64, total int) (Schedule, error) {
	name, args := splitSpec(head)
	if name != "warmup" {
		return nil, fmt.Errorf("--schedule: only warmup:ITERS[,START_FACTOR] may come before '+', got %q", head)
	}
	b := bind("--schedule warmup", warmupParams, args, true)
	iters, start := b.int("iters"), b.float("start_factor")
	if b.err != nil {
		return nil, b.err
	}
	if iters < 1 {
		return nil, fmt.Errorf("--schedule warmup: iters must be >= 1, got %d", iters)
	}
	if total > 0 {
		if total <= iters {
			return nil, fmt.Errorf("--schedule warmup: iters (%d) must be less than the %d training steps", iters, total)
		}
		total -= iters
	}
	if n, _ := splitSpec(tail); n == "onecycle" || n == "plateau" || n == "warmup" {
		return nil, fmt.Errorf("--schedule: warmup cannot precede %s (use onecycle's own warm-up, or warmup with another schedule)", n)
	}
	after, err := parseOne(tail, lr0, total)
	if err != nil {
		return nil, err
	}
	s, err := Warmup(lr0, iters, start, after)
	if err != nil {
		return nil, scheduleFlagError("warmup", err)
	}
	return s, nil
}

func parseOne(spec string, lr0 float64, total int) (Schedule, error) {
	name, args := splitSpec(spec)
	def, ok := findSchedule(name)
	if !ok {
		return nil, fmt.Errorf("--schedule: unknown %q (choose one of %s)", name, scheduleNames())
	}
	b := bind("--schedule "+def.name, def.params, args, true)
	if b.err != nil {
		return nil, b.err
	}
	s, err := def.build(b, lr0, total)
	if err != nil {
		return nil, scheduleFlagError(def.name, err)
	}
	return s, nil
}

// scheduleFlagError rewrites a *ConfigError to name --schedule.
func scheduleFlagError(name string, err error) error {
	var ce *ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	if ce.Field == "lr" {
		return fmt.Errorf("--lr: must be %s for the %s schedule, got %s", ce.Want, name, strconv.FormatFloat(ce.Value, 'g', -1, 64))
	}
	return fmt.Errorf("--schedule %s: %s must be %s, got %s", name, ce.Field, ce.Want, strconv.FormatFloat(ce.Value, 'g', -1, 64))
}
