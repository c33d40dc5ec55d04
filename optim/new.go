package optim

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Config chooses the hyper-parameters of a rule picked by name, as the CLI
// builds it from its flags (--lr, --momentum, --weight-decay, and the
// options of --optimizer "name:key=value,..."). Errors from New name those
// flags.
type Config struct {
	// N is the number of parameters (the flat vector's length), >= 1.
	N int
	// LR is the initial learning rate; 0 selects the rule's default
	// (DefaultLR).
	LR float64
	// Momentum is the momentum of sgd and rmsprop; 0 (default) means none.
	// Non-zero for another rule is an error (the Adam family's is beta1).
	Momentum float64
	// WeightDecay is the L2 penalty, decoupled for adamw and coupled (added
	// to the gradient) otherwise; 0 selects the rule's default: none, except
	// adamw's 0.01. rprop takes none.
	WeightDecay float64
	// Options holds the rule's other hyper-parameters by name, as text
	// ("beta2": "0.99", "amsgrad": "true"); see RuleOptions. An option the
	// rule does not take is an error.
	Options map[string]string
}

// ruleDef describes one rule for New.
type ruleDef struct {
	name     string
	lr       float64 // default learning rate
	wd       float64 // default weight decay
	momentum bool    // takes Config.Momentum
	noWD     bool    // takes no weight decay
	opts     []param
	build    func(n int, lr, mom, wd float64, b *bound) (Optimizer, error)
}

var (
	optBeta1 = param{name: "beta1", kind: optFloat, def: "0.9", field: "Beta1"}
	optBeta2 = param{name: "beta2", kind: optFloat, def: "0.999", field: "Beta2"}
	optEps8  = param{name: "eps", kind: optFloat, def: "1e-8", field: "Eps"}
)

var rules = []ruleDef{
	{name: "sgd", lr: 0.01, momentum: true,
		opts: []param{{name: "dampening", def: "0", field: "Dampening"}, {name: "nesterov", kind: optBool, def: "false", field: "Nesterov"}},
		build: func(n int, lr, mom, wd float64, b *bound) (Optimizer, error) {
			c := SGDConfig{LR: lr, Momentum: mom, WeightDecay: wd, Dampening: b.float("dampening"), Nesterov: b.bool("nesterov")}
			if b.err != nil {
				return nil, b.err
			}
			return NewSGD(n, c)
		}},
	{name: "sgd-hd", lr: 0.01,
		opts: []param{{name: "beta", def: "1e-3", field: "Beta"}},
		build: func(n int, lr, _, wd float64, b *bound) (Optimizer, error) {
			c := SGDHDConfig{LR: lr, WeightDecay: wd, Beta: b.float("beta")}
			if b.err != nil {
				return nil, b.err
			}
			return NewSGDHD(n, c)
		}},
	{name: "adam", lr: 1e-3,
		opts: []param{optBeta1, optBeta2, optEps8, {name: "amsgrad", kind: optBool, def: "false", field: "AMSGrad"}},
		build: func(n int, lr, _, wd float64, b *bound) (Optimizer, error) {
			return buildAdam(n, lr, wd, false, b)
		}},
	{name: "adamw", lr: 1e-3, wd: 0.01,
		opts: []param{optBeta1, optBeta2, optEps8, {name: "amsgrad", kind: optBool, def: "false", field: "AMSGrad"}},
		build: func(n int, lr, _, wd float64, b *bound) (Optimizer, error) {
			return buildAdam(n, lr, wd, true, b)
		}},
	{name: "adam-hd", lr: 1e-3,
		opts: []param{{name: "beta", def: "1e-7", field: "Beta"}, optBeta1, optBeta2, optEps8},
		build: func(n int, lr, _, wd float64, b *bound) (Optimizer, error) {
			c := AdamHDConfig{LR: lr, WeightDecay: wd, Beta: b.float("beta"), Beta1: b.float("beta1"), Beta2: b.float("beta2"), Eps: b.float("eps")}
			if b.err != nil {
				return nil, b.err
			}
			return NewAdamHD(n, c)
		}},
	{name: "adagrad", lr: 0.01,
		opts: []param{{name: "lr_decay", def: "0", field: "LRDecay"}, {name: "eps", def: "1e-10", field: "Eps"},
			{name: "initial_accumulator_value", def: "0", field: "InitialAccumulatorValue"}},
		build: func(n int, lr, _, wd float64, b *bound) (Optimizer, error) {
			c := AdagradConfig{LR: lr, WeightDecay: wd, LRDecay: b.float("lr_decay"), Eps: b.float("eps"),
				InitialAccumulatorValue: b.float("initial_accumulator_value")}
			if b.err != nil {
				return nil, b.err
			}
			return NewAdagrad(n, c)
		}},
	{name: "adadelta", lr: 1,
		opts: []param{{name: "rho", def: "0.9", field: "Rho"}, {name: "eps", def: "1e-6", field: "Eps"}},
		build: func(n int, lr, _, wd float64, b *bound) (Optimizer, error) {
			c := AdadeltaConfig{LR: lr, WeightDecay: wd, Rho: b.float("rho"), Eps: b.float("eps")}
			if b.err != nil {
				return nil, b.err
			}
			return NewAdadelta(n, c)
		}},
	{name: "rmsprop", lr: 0.01, momentum: true,
		opts: []param{{name: "alpha", def: "0.99", field: "Alpha"}, optEps8, {name: "centered", kind: optBool, def: "false", field: "Centered"}},
		build: func(n int, lr, mom, wd float64, b *bound) (Optimizer, error) {
			c := RMSpropConfig{LR: lr, Momentum: mom, WeightDecay: wd, Alpha: b.float("alpha"), Eps: b.float("eps"), Centered: b.bool("centered")}
			if b.err != nil {
				return nil, b.err
			}
			return NewRMSprop(n, c)
		}},
	{name: "nadam", lr: 2e-3,
		opts: []param{optBeta1, optBeta2, optEps8, {name: "momentum_decay", def: "4e-3", field: "MomentumDecay"},
			{name: "corrected", kind: optBool, def: "false", field: "CorrectedProduct"}},
		build: func(n int, lr, _, wd float64, b *bound) (Optimizer, error) {
			c := NAdamConfig{LR: lr, WeightDecay: wd, Beta1: b.float("beta1"), Beta2: b.float("beta2"), Eps: b.float("eps"),
				MomentumDecay: b.float("momentum_decay"), CorrectedProduct: b.bool("corrected")}
			if b.err != nil {
				return nil, b.err
			}
			return NewNAdam(n, c)
		}},
	{name: "radam", lr: 1e-3,
		opts: []param{optBeta1, optBeta2, optEps8},
		build: func(n int, lr, _, wd float64, b *bound) (Optimizer, error) {
			c := RAdamConfig{LR: lr, WeightDecay: wd, Beta1: b.float("beta1"), Beta2: b.float("beta2"), Eps: b.float("eps")}
			if b.err != nil {
				return nil, b.err
			}
			return NewRAdam(n, c)
		}},
	{name: "adamax", lr: 2e-3,
		opts: []param{optBeta1, optBeta2, optEps8},
		build: func(n int, lr, _, wd float64, b *bound) (Optimizer, error) {
			c := AdamaxConfig{LR: lr, WeightDecay: wd, Beta1: b.float("beta1"), Beta2: b.float("beta2"), Eps: b.float("eps")}
			if b.err != nil {
				return nil, b.err
			}
			return NewAdamax(n, c)
		}},
	{name: "rprop", lr: 0.01, noWD: true,
		opts: []param{{name: "etaminus", def: "0.5", field: "EtaMinus"}, {name: "etaplus", def: "1.2", field: "EtaPlus"},
			{name: "step_min", def: "1e-6", field: "StepMin"}, {name: "step_max", def: "50", field: "StepMax"}},
		build: func(n int, lr, _, _ float64, b *bound) (Optimizer, error) {
			c := RpropConfig{LR: lr, EtaMinus: b.float("etaminus"), EtaPlus: b.float("etaplus"), StepMin: b.float("step_min"), StepMax: b.float("step_max")}
			if b.err != nil {
				return nil, b.err
			}
			return NewRprop(n, c)
		}},
	{name: "asgd", lr: 0.01,
		opts: []param{{name: "lambd", def: "1e-4", field: "Lambd"}, {name: "alpha", def: "0.75", field: "Alpha"}, {name: "t0", def: "1e6", field: "T0"}},
		build: func(n int, lr, _, wd float64, b *bound) (Optimizer, error) {
			c := ASGDConfig{LR: lr, WeightDecay: wd, Lambd: b.float("lambd"), Alpha: b.float("alpha"), T0: b.float("t0")}
			if b.err != nil {
				return nil, b.err
			}
			return NewASGD(n, c)
		}},
}

func buildAdam(n int, lr, wd float64, decoupled bool, b *bound) (Optimizer, error) {
	c := AdamConfig{LR: lr, WeightDecay: wd, Decoupled: decoupled, Beta1: b.float("beta1"), Beta2: b.float("beta2"),
		Eps: b.float("eps"), AMSGrad: b.bool("amsgrad")}
	if b.err != nil {
		return nil, b.err
	}
	return NewAdam(n, c)
}

func findRule(name string) (ruleDef, bool) {
	i := slices.IndexFunc(rules, func(r ruleDef) bool { return r.name == name })
	if i < 0 {
		return ruleDef{}, false
	}
	return rules[i], true
}

// Rules returns the names New accepts, in a fixed order.
func Rules() []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.name
	}
	return out
}

// DefaultLR returns the learning rate New uses for rule when Config.LR is 0:
// sgd, sgd-hd, adagrad, rmsprop, rprop, asgd 0.01; adam, adamw, adam-hd,
// radam 1e-3; nadam, adamax 2e-3; adadelta 1 (torch's defaults; torch's SGD
// has none, 0.01 is ours; sgd-hd and adam-hd follow Baydin et al.).
func DefaultLR(rule string) (float64, bool) {
	r, ok := findRule(rule)
	return r.lr, ok
}

// RuleOptions returns the options rule takes in Config.Options (and after
// the colon of an --optimizer spec) as "name=default" strings, or false for
// an unknown rule.
func RuleOptions(rule string) ([]string, bool) {
	r, ok := findRule(rule)
	if !ok {
		return nil, false
	}
	out := make([]string, len(r.opts))
	for i, p := range r.opts {
		out[i] = p.name + "=" + p.def
	}
	return out, true
}

// New builds the rule called name (see Rules) for cfg.N parameters. Errors
// name the flag or option at fault and what to do, e.g.
// `--optimizer: unknown "foo" (choose one of sgd, ...)` or
// `--optimizer adam: option beta2 must be in [0, 1), got 1`.
func New(name string, cfg Config) (Optimizer, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	r, ok := findRule(name)
	if !ok {
		return nil, fmt.Errorf("--optimizer: unknown %q (choose one of %s)", name, strings.Join(Rules(), ", "))
	}
	if cfg.N < 1 {
		return nil, fmt.Errorf("optim: %s needs the parameter count N >= 1, got %d", name, cfg.N)
	}
	if cfg.Momentum != 0 && !r.momentum {
		hint := ""
		if slices.ContainsFunc(r.opts, func(p param) bool { return p.name == "beta1" }) {
			hint = "; its beta1 option plays that role"
		}
		return nil, fmt.Errorf("--momentum: %q takes no momentum (remove the flag%s)", name, hint)
	}
	if cfg.WeightDecay != 0 && r.noWD {
		return nil, fmt.Errorf("--weight-decay: %q takes no weight decay (remove the flag)", name)
	}
	lr, wd := cfg.LR, cfg.WeightDecay
	if lr == 0 {
		lr = r.lr
	}
	if wd == 0 {
		wd = r.wd
	}
	who := "--optimizer " + name
	args := make([]string, 0, len(cfg.Options))
	for _, k := range slices.Sorted(maps.Keys(cfg.Options)) {
		args = append(args, k+"="+cfg.Options[k])
	}
	b := bind(who, r.opts, args, false)
	if b.err != nil {
		return nil, b.err
	}
	opt, err := r.build(cfg.N, lr, cfg.Momentum, wd, b)
	if err != nil {
		return nil, flagError(who, r, err)
	}
	return opt, nil
}

// flagError rewrites a *ConfigError to name the flag or option.
func flagError(who string, r ruleDef, err error) error {
	var ce *ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	got := strconv.FormatFloat(ce.Value, 'g', -1, 64)
	switch ce.Field {
	case "LR":
		return fmt.Errorf("--lr: must be %s for %s, got %s", ce.Want, r.name, got)
	case "Momentum":
		return fmt.Errorf("--momentum: must be %s for %s, got %s", ce.Want, r.name, got)
	case "WeightDecay":
		return fmt.Errorf("--weight-decay: must be %s for %s, got %s", ce.Want, r.name, got)
	case "Nesterov":
		return fmt.Errorf("%s: nesterov needs --momentum > 0 and dampening 0", who)
	}
	for _, p := range r.opts {
		if p.field == ce.Field {
			return fmt.Errorf("%s: option %s must be %s, got %s", who, p.name, ce.Want, got)
		}
	}
	return fmt.Errorf("%s: %w", who, err)
}

// ParseOptimizer builds a rule from a CLI spec "name" or
// "name:key=value,...", e.g. "adam:beta2=0.99,amsgrad" (a bare boolean
// option means true). The spec's options join cfg.Options (giving one twice
// is an error); cfg supplies N, LR, Momentum and WeightDecay. See New.
func ParseOptimizer(spec string, cfg Config) (Optimizer, error) {
	name, args := splitSpec(spec)
	if name == "" {
		return nil, fmt.Errorf("--optimizer: empty (choose one of %s)", strings.Join(Rules(), ", "))
	}
	r, ok := findRule(name)
	if !ok {
		return nil, fmt.Errorf("--optimizer: unknown %q (choose one of %s)", name, strings.Join(Rules(), ", "))
	}
	b := bind("--optimizer "+name, r.opts, args, false)
	if b.err != nil {
		return nil, b.err
	}
	opts := make(map[string]string, len(cfg.Options)+len(b.set))
	for k, v := range cfg.Options {
		opts[k] = v
	}
	for k := range b.set {
		if _, dup := opts[k]; dup {
			return nil, fmt.Errorf("--optimizer %s: option %s given twice", name, k)
		}
		opts[k] = b.vals[k]
	}
	cfg.Options = opts
	return New(name, cfg)
}
