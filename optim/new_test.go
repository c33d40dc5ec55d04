package optim

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestNewMatchesTyped checks that New builds the same rule as the typed
// constructor: same name, same trajectory bit for bit.
func TestNewMatchesTyped(t *testing.T) {
	const n = 11
	tests := []struct {
		name  string
		cfg   Config
		typed func() (Optimizer, error)
	}{
		{"sgd", Config{N: n, Momentum: 0.9, Options: map[string]string{"nesterov": "true"}},
			func() (Optimizer, error) { return NewSGD(n, SGDConfig{LR: 0.01, Momentum: 0.9, Nesterov: true}) }},
		{"adam", Config{N: n, Options: map[string]string{"amsgrad": "1", "beta2": "0.99"}},
			func() (Optimizer, error) {
				c := DefaultAdamConfig()
				c.AMSGrad, c.Beta2 = true, 0.99
				return NewAdam(n, c)
			}},
		{"adamw", Config{N: n}, func() (Optimizer, error) { return NewAdam(n, DefaultAdamWConfig()) }},
		{"adagrad", Config{N: n, LR: 0.5, Options: map[string]string{"lr_decay": "0.1"}},
			func() (Optimizer, error) {
				c := DefaultAdagradConfig()
				c.LR, c.LRDecay = 0.5, 0.1
				return NewAdagrad(n, c)
			}},
		{"adadelta", Config{N: n, WeightDecay: 0.1}, func() (Optimizer, error) {
			c := DefaultAdadeltaConfig()
			c.WeightDecay = 0.1
			return NewAdadelta(n, c)
		}},
		{"rmsprop", Config{N: n, Momentum: 0.5, Options: map[string]string{"centered": "yes"}},
			func() (Optimizer, error) {
				c := DefaultRMSpropConfig()
				c.Momentum, c.Centered = 0.5, true
				return NewRMSprop(n, c)
			}},
		{"nadam", Config{N: n, Options: map[string]string{"corrected": "true"}}, func() (Optimizer, error) {
			c := DefaultNAdamConfig()
			c.CorrectedProduct = true
			return NewNAdam(n, c)
		}},
		{"radam", Config{N: n}, func() (Optimizer, error) { return NewRAdam(n, DefaultRAdamConfig()) }},
		{"adamax", Config{N: n}, func() (Optimizer, error) { return NewAdamax(n, DefaultAdamaxConfig()) }},
		{"rprop", Config{N: n}, func() (Optimizer, error) { return NewRprop(n, DefaultRpropConfig()) }},
		{"asgd", Config{N: n, Options: map[string]string{"t0": "2"}}, func() (Optimizer, error) {
			c := DefaultASGDConfig()
			c.T0 = 2
			return NewASGD(n, c)
		}},
		{"sgd-hd", Config{N: n}, func() (Optimizer, error) { return NewSGDHD(n, DefaultSGDHDConfig()) }},
		{"adam-hd", Config{N: n, Options: map[string]string{"beta": "1e-4"}}, func() (Optimizer, error) {
			c := DefaultAdamHDConfig()
			c.Beta = 1e-4
			return NewAdamHD(n, c)
		}},
	}
	if len(tests) != len(Rules()) {
		t.Fatalf("%d cases for %d rules", len(tests), len(Rules()))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := New(tc.name, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			b, err := tc.typed()
			if err != nil {
				t.Fatal(err)
			}
			if a.Name() != tc.name || b.Name() != tc.name {
				t.Fatalf("names %q and %q, want %q", a.Name(), b.Name(), tc.name)
			}
			if lr, _ := DefaultLR(tc.name); tc.cfg.LR == 0 && a.LR() != lr {
				t.Fatalf("lr %v, want the default %v", a.LR(), lr)
			}
			pa, pb := randVec(1, n, 1), randVec(1, n, 1)
			for i := range 8 {
				a.Step(pa, gradAt(pa, i))
				b.Step(pb, gradAt(pb, i))
			}
			if i := sameBits(pa, pb); i >= 0 {
				t.Fatalf("New and the typed constructor diverge at %d", i)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"foo", Config{N: 3}, `--optimizer: unknown "foo" (choose one of sgd, sgd-hd, adam,`},
		{"adam", Config{N: 0}, `needs the parameter count N >= 1, got 0`},
		{"adam", Config{N: 3, LR: -0.1}, `--lr: must be > 0 and finite for adam, got -0.1`},
		{"sgd", Config{N: 3, Momentum: -1}, `--momentum: must be >= 0 and finite for sgd, got -1`},
		{"adam", Config{N: 3, Momentum: 0.9}, `--momentum: "adam" takes no momentum (remove the flag; its beta1 option plays that role)`},
		{"adagrad", Config{N: 3, Momentum: 0.9}, `--momentum: "adagrad" takes no momentum (remove the flag)`},
		{"rprop", Config{N: 3, WeightDecay: 0.1}, `--weight-decay: "rprop" takes no weight decay`},
		{"adam", Config{N: 3, WeightDecay: -1}, `--weight-decay: must be >= 0 and finite for adam, got -1`},
		{"adam", Config{N: 3, Options: map[string]string{"beta2": "1"}}, `--optimizer adam: option beta2 must be in [0, 1), got 1`},
		{"adam", Config{N: 3, Options: map[string]string{"rho": "0.9"}}, `--optimizer adam: unknown parameter "rho" (it takes beta1, beta2, eps, amsgrad)`},
		{"adam", Config{N: 3, Options: map[string]string{"eps": "x"}}, `--optimizer adam: eps: "x" is not a finite number`},
		{"adam", Config{N: 3, Options: map[string]string{"amsgrad": "maybe"}}, `--optimizer adam: amsgrad: "maybe" is not true or false`},
		{"sgd", Config{N: 3, Options: map[string]string{"nesterov": "true"}}, `--optimizer sgd: nesterov needs --momentum > 0 and dampening 0`},
		{"rprop", Config{N: 3, Options: map[string]string{"etaplus": "0.9"}}, `--optimizer rprop: option etaplus must be > 1 and finite, got 0.9`},
		{"adadelta", Config{N: 3, Options: map[string]string{"rho": "1.5"}}, `--optimizer adadelta: option rho must be in [0, 1], got 1.5`},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			_, err := New(tc.name, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
		})
	}
}

func TestParseOptimizer(t *testing.T) {
	o, err := ParseOptimizer(" Adam:beta2=0.99, amsgrad ", Config{N: 4, LR: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	a := o.(*Adam)
	if a.cfg.Beta2 != 0.99 || !a.cfg.AMSGrad || a.LR() != 0.02 || a.cfg.Beta1 != 0.9 {
		t.Fatalf("got %+v lr %v", a.cfg, a.LR())
	}
	bad := []struct{ spec, want string }{
		{"", "--optimizer: empty"},
		{"adm", `--optimizer: unknown "adm"`},
		{"adam:0.9", `--optimizer adam: "0.9": want key=value`},
		{"adam:beta1=0.8,beta1=0.7", "beta1 given twice"},
		{"adam:beta1=0.8,", "empty argument"},
	}
	for _, tc := range bad {
		if _, err := ParseOptimizer(tc.spec, Config{N: 4}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseOptimizer(%q): got %v, want %q", tc.spec, err, tc.want)
		}
	}
	if _, err := ParseOptimizer("adam:beta1=0.8", Config{N: 4, Options: map[string]string{"beta1": "0.7"}}); err == nil ||
		!strings.Contains(err.Error(), "option beta1 given twice") {
		t.Errorf("duplicate across spec and Config: %v", err)
	}
}

func TestRuleOptionsAndDefaults(t *testing.T) {
	wantLR := map[string]float64{"sgd": 0.01, "sgd-hd": 0.01, "adam": 1e-3, "adamw": 1e-3, "adam-hd": 1e-3, "adagrad": 0.01,
		"adadelta": 1, "rmsprop": 0.01, "nadam": 2e-3, "radam": 1e-3, "adamax": 2e-3, "rprop": 0.01, "asgd": 0.01}
	for _, r := range Rules() {
		lr, ok := DefaultLR(r)
		if !ok || lr != wantLR[r] {
			t.Errorf("DefaultLR(%s) = %v, %v; want %v", r, lr, ok, wantLR[r])
		}
		if _, ok := RuleOptions(r); !ok {
			t.Errorf("RuleOptions(%s) missing", r)
		}
	}
	if len(wantLR) != len(Rules()) {
		t.Errorf("Rules() = %v", Rules())
	}
	opts, _ := RuleOptions("adam")
	if !slices.Equal(opts, []string{"beta1=0.9", "beta2=0.999", "eps=1e-8", "amsgrad=false"}) {
		t.Errorf("RuleOptions(adam) = %v", opts)
	}
	if _, ok := DefaultLR("nope"); ok {
		t.Error("DefaultLR accepted an unknown rule")
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{second(NewSGD(3, SGDConfig{})), "optim: sgd: LR must be > 0 and finite, got 0"},
		{second(NewSGD(0, SGDConfig{LR: 1})), "optim: sgd: n (parameter count) must be >= 1, got 0"},
		{second(NewSGD(3, SGDConfig{LR: 1, Dampening: 2})), "optim: sgd: Dampening must be in [0, 1], got 2"},
		{second(NewAdam(3, AdamConfig{LR: 1, Beta1: 1})), "optim: adam: Beta1 must be in [0, 1), got 1"},
		{second(NewAdam(3, AdamConfig{LR: 1, Beta2: 0.5, Eps: 0, Decoupled: true})), "optim: adamw: Eps must be > 0 and finite, got 0"},
		{second(NewRprop(3, RpropConfig{LR: 1, EtaMinus: 0.5, EtaPlus: 2, StepMin: 2, StepMax: 1})), "optim: rprop: StepMax must be >= StepMin and finite, got 1"},
		{second(NewAverager(3, AveragerConfig{From: -1})), "optim: averager: From must be >= 0, got -1"},
		{second(NewPlateau(0.1, PlateauConfig{Factor: 1})), "optim: plateau schedule: factor must be in (0, 1), got 1"},
	}
	for _, tc := range tests {
		var ce *ConfigError
		if tc.err == nil || tc.err.Error() != tc.want || !errors.As(tc.err, &ce) {
			t.Errorf("got %v, want %q (a *ConfigError)", tc.err, tc.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// FuzzParseOptimizer: any spec gives an optimizer or an error, never a
// panic; errors are one line and name --optimizer or a flag.
func FuzzParseOptimizer(f *testing.F) {
	for _, s := range []string{"adam", "adam:beta2=0.99,amsgrad", "sgd:nesterov=true,dampening=0", "rmsprop:centered,alpha=0.9",
		"nadam:corrected=1", "rprop:etaminus=0.4,step_max=10", "adagrad:lr_decay=1e-3,initial_accumulator_value=0.1",
		"asgd:t0=100", "adam-hd:beta=1e-6", "adamw:eps=1e-6", "sgd:", "foo:bar", "adam:beta1", ":", "adam:=1"} {
		f.Add(s, 0.9)
	}
	f.Fuzz(func(t *testing.T, spec string, mom float64) {
		o, err := ParseOptimizer(spec, Config{N: 3, Momentum: mom})
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "--") {
				t.Fatalf("bad error %q", msg)
			}
			return
		}
		p := []float32{1, -2, 3}
		o.Step(p, []float32{0.1, 0.2, -0.3})
	})
}
