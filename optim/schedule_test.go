package optim

import (
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

// TestScheduleValues checks schedules at chosen steps against values worked
// out by hand from torch's definitions.
func TestScheduleValues(t *testing.T) {
	must := func(s Schedule, err error) Schedule {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	three := must(NewOneCycle(OneCycleConfig{MaxLR: 1, TotalSteps: 100, PctStart: 0.3, DivFactor: 10, FinalDivFactor: 100,
		ThreePhase: true, Linear: true}))
	tests := []struct {
		name string
		s    Schedule
		step int
		want float64
	}{
		{"constant", must(Constant(0.3)), 1000, 0.3},
		{"step before", must(StepDecay(1, 3, 0.5)), 2, 1},
		{"step at", must(StepDecay(1, 3, 0.5)), 3, 0.5},
		{"step later", must(StepDecay(1, 3, 0.5)), 7, 0.25},
		{"step negative", must(StepDecay(1, 3, 0.5)), -5, 1},
		{"multistep unsorted", must(MultiStepDecay(1, []int{10, 2}, 0.1)), 5, 0.1},
		{"multistep repeated", must(MultiStepDecay(1, []int{2, 2}, 0.1)), 2, 0.01},
		{"multistep before", must(MultiStepDecay(1, []int{2, 2}, 0.1)), 1, 1},
		{"exponential", must(ExponentialDecay(2, 0.5)), 3, 0.25},
		{"invtime", must(InverseTimeDecay(1, 1, 1)), 3, 0.25},
		{"invtime power", must(InverseTimeDecay(1, 1, 0.5)), 3, 0.5},
		{"linear mid", must(Linear(1, 0.5, 1, 4)), 2, 0.75},
		{"linear after", must(Linear(1, 0.5, 1, 4)), 9, 1},
		{"linear down", must(Linear(1, 1, 0, 4)), 3, 0.25},
		{"cosine mid", must(Cosine(1, 10, 0)), 5, 0.5},
		{"cosine end", must(Cosine(1, 10, 0.1)), 10, 0.1},
		{"cosine past", must(Cosine(1, 10, 0)), 20, 1},
		{"restarts mult 1", must(CosineRestarts(1, 4, 1, 0)), 10, 0.5},
		{"restarts mult 3", must(CosineRestarts(1, 2, 3, 0)), 2 + 3, 0.5}, // second period (6 long) at 3
		{"restarts mult 3 third", must(CosineRestarts(1, 2, 3, 0)), 8, 1},
		{"restarts huge step", must(CosineRestarts(1, 2, 1<<40, 0)), math.MaxInt, annealCos(1, 0, float64(math.MaxInt-2-(1<<41))/float64(math.MaxInt))},
		{"warmup", must(Warmup(1, 4, 0.2, must(Constant(1)))), 2, 0.6},
		{"warmup after", must(Warmup(1, 4, 0.2, must(Cosine(1, 10, 0)))), 4 + 5, 0.5},
		{"swalr linear", must(SWALR(1, 0.5, 4, true)), 2, 0.75},
		{"swalr cos", must(SWALR(1, 0.5, 4, false)), 2, 0.75},
		{"swalr done", must(SWALR(1, 0.5, 4, false)), 9, 0.5},
		{"swalr no anneal", must(SWALR(1, 0.5, 0, false)), 0, 0.5},
		{"three-phase start", three, 0, 0.1},
		{"three-phase peak", three, 29, 1},
		{"three-phase back", three, 58, 0.1},
		{"three-phase end", three, 99, 0.001},
		{"three-phase past", three, 500, 0.001},
		{"func", Func("half", func(int) float64 { return 0.5 }), 3, 0.5},
	}
	for _, tc := range tests {
		if got := tc.s.LR(tc.step); !near(got, tc.want) {
			t.Errorf("%s: %s.LR(%d) = %.17g, want %.17g", tc.name, tc.s, tc.step, got, tc.want)
		}
	}
}

func TestOneCycleMomentum(t *testing.T) {
	c := DefaultOneCycleConfig(0.5, 40)
	s, err := NewOneCycle(c)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := s.Momentum(0); !ok || m != 0.95 {
		t.Fatalf("momentum at 0: %v %v", m, ok)
	}
	if m, _ := s.Momentum(11); !near(m, 0.85) {
		t.Fatalf("momentum at the peak: %v", m)
	}
	c.CycleMomentum = false
	s, _ = NewOneCycle(c)
	if _, ok := s.Momentum(3); ok {
		t.Fatal("momentum cycled with CycleMomentum false")
	}
	// Apply drives beta1 of Adam and refuses a rule without momentum.
	c.CycleMomentum = true
	s, _ = NewOneCycle(c)
	adam, _ := NewAdam(2, DefaultAdamConfig())
	if err := Apply(adam, s, 11); err != nil || !near(adam.Momentum(), 0.85) || !near(adam.LR(), 0.5) {
		t.Fatalf("Apply to adam: %v beta1 %v lr %v", err, adam.Momentum(), adam.LR())
	}
	hd, _ := NewAdamHD(2, DefaultAdamHDConfig())
	if err := Apply(hd, s, 3); err == nil || !strings.Contains(err.Error(), `"adam-hd" learns its own learning rate`) || hd.LR() != 1e-3 {
		t.Fatalf("Apply to adam-hd: %v (lr %v)", err, hd.LR())
	}
	ada, _ := NewAdagrad(2, DefaultAdagradConfig())
	if err := Apply(ada, s, 3); err == nil || !strings.Contains(err.Error(), `but "adagrad" has none`) || ada.LR() != 0.01 {
		t.Fatalf("Apply to adagrad: %v (lr %v)", err, ada.LR())
	}
}

// TestSGDMomentumFromZero: an SGD built without momentum gets a buffer when
// a schedule turns momentum on, and its first momentum step is plain SGD's
// (torch clones the gradient into the new buffer).
func TestSGDMomentumFromZero(t *testing.T) {
	a, _ := NewSGD(3, SGDConfig{LR: 0.1})
	b, _ := NewSGD(3, SGDConfig{LR: 0.1})
	pa, pb := []float32{1, 2, 3}, []float32{1, 2, 3}
	g := []float32{0.5, -1, 2}
	a.SetMomentum(0.9)
	a.Step(pa, g)
	b.Step(pb, g)
	if sameBits(pa, pb) >= 0 {
		t.Fatalf("first momentum step %v, plain %v", pa, pb)
	}
	a.Step(pa, g) // now p -= lr·(0.9·g + g)
	b.Step(pb, g)
	if want := pb[0] - 0.1*0.9*0.5; math.Abs(float64(pa[0]-want)) > 1e-6 {
		t.Fatalf("second momentum step: %v, want %v", pa[0], want)
	}
}

func TestPlateauModes(t *testing.T) {
	type obs struct {
		metric float64
		lr     float64
	}
	tests := []struct {
		name string
		cfg  PlateauConfig
		seq  []obs
	}{
		{"min rel, patience 1", PlateauConfig{Factor: 0.5, Patience: 1, Threshold: 0.1},
			[]obs{{1, 1}, {0.95, 1}, {0.95, 0.5}, {0.5, 0.5}, {0.46, 0.5}, {0.46, 0.25}}},
		{"min abs", PlateauConfig{Factor: 0.5, Threshold: 0.1, AbsThreshold: true},
			[]obs{{1, 1}, {0.91, 0.5}, {0.8, 0.5}, {0.75, 0.25}}},
		{"max rel", PlateauConfig{Factor: 0.5, Threshold: 0.1, Maximize: true},
			[]obs{{1, 1}, {1.2, 1}, {1.3, 0.5}, {2, 0.5}}},
		{"max abs", PlateauConfig{Factor: 0.5, Threshold: 0.1, Maximize: true, AbsThreshold: true},
			[]obs{{1, 1}, {1.2, 1}, {1.25, 0.5}}},
		{"cooldown", PlateauConfig{Factor: 0.5, Cooldown: 2},
			[]obs{{1, 1}, {1, 0.5}, {1, 0.5}, {1, 0.5}, {1, 0.25}}},
		{"min_lr", PlateauConfig{Factor: 0.5, MinLR: 0.3},
			[]obs{{1, 1}, {1, 0.5}, {1, 0.3}, {1, 0.3}}},
		{"eps", PlateauConfig{Factor: 0.5, MinLR: 0.8, Eps: 0.5},
			[]obs{{1, 1}, {1, 1}}}, // 1 - 0.8 < eps: no change
		{"nan never improves", PlateauConfig{Factor: 0.5, Patience: 1},
			[]obs{{math.NaN(), 1}, {math.NaN(), 0.5}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPlateau(1, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i, o := range tc.seq {
				before := p.LR(0)
				reduced := p.Observe(o.metric)
				if got := p.LR(i); got != o.lr || reduced != (got < before) {
					t.Fatalf("after observing %v (#%d): lr %v (reduced %v), want %v", o.metric, i, got, reduced, o.lr)
				}
			}
		})
	}
}

func TestScheduleErrors(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{second(StepDecay(0.1, 0, 0.5)), "step schedule: step_size must be >= 1, got 0"},
		{second(StepDecay(-1, 1, 0.5)), "step schedule: lr must be > 0 and finite, got -1"},
		{second(MultiStepDecay(0.1, nil, 0.5)), "multistep schedule: milestones must be a non-empty list"},
		{second(MultiStepDecay(0.1, []int{0}, 0.5)), "multistep schedule: milestones must be >= 1, got 0"},
		{second(ExponentialDecay(0.1, 0)), "exponential schedule: gamma must be in (0, 1], got 0"},
		{second(InverseTimeDecay(0.1, -1, 1)), "invtime schedule: decay must be >= 0"},
		{second(Linear(0.1, 0, 1, 5)), "linear schedule: start_factor must be > 0"},
		{second(Cosine(0.1, 10, 0.2)), "cosine schedule: eta_min must be in [0, lr=0.1], got 0.2"},
		{second(CosineRestarts(0.1, 10, 0, 0)), "cosine-restarts schedule: t_mult must be >= 1, got 0"},
		{second(Sequential([]Schedule{constant{1}}, []int{3})), "sequential schedule: milestones must be a list of 0 steps"},
		{second(Sequential([]Schedule{constant{1}, constant{2}, constant{3}}, []int{5, 5})), "milestones must be >= 1 and increasing, got 5"},
		{second(Sequential([]Schedule{constant{1}, &Plateau{}}, []int{5})), "cannot contain plateau"},
		{second(NewOneCycle(OneCycleConfig{MaxLR: 1, TotalSteps: 3, PctStart: 0.3, DivFactor: 25, FinalDivFactor: 1e4})),
			"onecycle schedule: pct_start must be such that every phase of the 3 steps is at least one step long"},
		{second(NewOneCycle(OneCycleConfig{MaxLR: 1, TotalSteps: 30, PctStart: 0.3, DivFactor: 25, FinalDivFactor: 1e4,
			CycleMomentum: true, BaseMomentum: 0.9, MaxMomentum: 0.8})), "base_momentum must be in [0, max_momentum=0.8], got 0.9"},
		{second(SWALR(0.1, 0, 5, false)), "swalr schedule: swa_lr must be > 0"},
	}
	for _, tc := range tests {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("got %v, want an error containing %q", tc.err, tc.want)
		}
	}
}

func TestParseSchedule(t *testing.T) {
	good := []struct {
		spec  string
		total int
		step  int
		want  float64
	}{
		{"", 0, 5, 0.1},
		{"constant", 0, 5, 0.1},
		{"step:10", 0, 10, 0.01},
		{"step:step_size=10,gamma=0.5", 0, 10, 0.05},
		{"STEP : 10 , 0.5", 0, 10, 0.05},
		{"multistep:2/4,0.5", 0, 4, 0.025},
		{"exponential:0.5", 0, 2, 0.025},
		{"invtime:1", 0, 1, 0.05},
		{"inverse-time:1,2", 0, 1, 0.025},
		{"linear", 0, 0, 0.1 / 3},
		{"cosine", 10, 5, 0.05},
		{"cosine:t_max=20", 0, 10, 0.05},
		{"sgdr:4", 0, 6, 0.05},
		{"cosine-restarts:t_0=4,t_mult=1", 0, 6, 0.05},
		{"onecycle", 40, 11, 0.1},
		{"onecycle:1,total_steps=40", 0, 11, 1},
		{"onecycle:1e+0,anneal_strategy=linear", 40, 11, 1},
		{"plateau", 0, 99, 0.1},
		{"swalr:0.05,4,linear", 0, 2, 0.075},
		{"warmup:5+cosine", 25, 5, 0.1},
		{"warmup:5,0.5+cosine", 25, 0, 0.05},
		{"warmup:4+step:2,0.5", 0, 6, 0.05},
		{"warmup:4+exp:1e-1", 0, 5, 0.01},
	}
	for _, tc := range good {
		s, err := ParseSchedule(tc.spec, 0.1, tc.total)
		if err != nil {
			t.Errorf("ParseSchedule(%q): %v", tc.spec, err)
			continue
		}
		if got := s.LR(tc.step); !near(got, tc.want) {
			t.Errorf("ParseSchedule(%q) = %s; LR(%d) = %v, want %v", tc.spec, s, tc.step, got, tc.want)
		}
	}
	bad := []struct{ spec, want string }{
		{"foo", `--schedule: unknown "foo" (choose one of constant, step,`},
		{"step", "--schedule step: step_size is required"},
		{"step:x", `--schedule step: step_size: "x" is not a whole number`},
		{"step:10,0", "--schedule step: gamma must be in (0, 1], got 0"},
		{"exp:1.5", "--schedule exponential: gamma must be in (0, 1], got 1.5"},
		{"step:10,0.5,3", "--schedule step: too many values (it takes step_size, gamma)"},
		{"step:gama=0.5", `--schedule step: unknown parameter "gama" (it takes step_size, gamma)`},
		{"step:gamma=0.5,10", `positional value "10" after a key=value one`},
		{"multistep:5/x", `milestones: "5/x" is not a list of whole numbers like 5/15/30`},
		{"onecycle:anneal_strategy=tri", `anneal_strategy: "tri" is not one of cos, linear`},
		{"plateau:mode=up", `mode: "up" is not one of min, max`},
		{"warmup:5+onecycle", "--schedule: warmup cannot precede onecycle"},
		{"warmup:5+plateau", "--schedule: warmup cannot precede plateau"},
		{"warmup:50+cosine", "--schedule warmup: iters (50) must be less than the 40 training steps"},
		{"warmup:0+cosine", "--schedule warmup: iters must be >= 1, got 0"},
		{"warmup:5,0+cosine", "--schedule warmup: start_factor must be > 0 and finite, got 0"},
		{"linear:2,1,0", "--schedule linear: total_iters must be >= 1, got 0"},
		{"step:10+cosine", "--schedule: only warmup:ITERS[,START_FACTOR] may come before '+'"},
		{"exp:inf", `gamma: "inf" is not a finite number`},
	}
	for _, tc := range bad {
		_, err := ParseSchedule(tc.spec, 0.1, 40)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSchedule(%q): got %v, want %q", tc.spec, err, tc.want)
		}
	}
	if _, err := ParseSchedule("cosine", 0.1, 0); err == nil || !strings.Contains(err.Error(), "--schedule cosine: t_max is required here (the number of training steps is not known)") {
		t.Errorf("cosine without total: %v", err)
	}
	if _, err := ParseSchedule("step:10", -1, 40); err == nil || !strings.Contains(err.Error(), "--lr: must be > 0 and finite for the step schedule, got -1") {
		t.Errorf("bad lr: %v", err)
	}
	p, err := ParseSchedule("plateau:0.5,2,mode=max,threshold_mode=abs,cooldown=1,min_lr=1e-3", 0.1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if pl := p.(*Plateau); !pl.cfg.Maximize || !pl.cfg.AbsThreshold || pl.cfg.Cooldown != 1 || pl.cfg.MinLR != 1e-3 || pl.cfg.Patience != 2 {
		t.Fatalf("plateau config %+v", pl.cfg)
	}
}

// FuzzParseSchedule: any spec gives a schedule whose rates are finite and
// positive at every step, or a one-line error naming --schedule or --lr.
func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"", "step:10,0.5", "multistep:5/15/30,0.1", "exp:0.9", "invtime:0.1,0.75", "linear:0.1,1,5",
		"cosine:20,0.001", "sgdr:10,2", "warmup:5,0.1+cosine", "onecycle:0.5", "onecycle:max_lr=0.5,cycle_momentum=false,three_phase",
		"plateau:0.5,2", "swalr:0.05,5,linear", "warmup:3+step:2", "cosine:t_max=1e3", "step:10,,", "+", "warmup+"} {
		f.Add(s, 40)
	}
	f.Fuzz(func(t *testing.T, spec string, total int) {
		total = total % 100_000 // keep the sweep below cheap
		s, err := ParseSchedule(spec, 0.1, total)
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "--") {
				t.Fatalf("bad error %q", msg)
			}
			return
		}
		for _, step := range []int{-1, 0, 1, 2, 7, 50, 1000, 1 << 40} {
			lr := s.LR(step)
			if math.IsNaN(lr) || math.IsInf(lr, 0) || lr < 0 {
				t.Fatalf("%s.LR(%d) = %v", s, step, lr)
			}
		}
		if ms, ok := s.(MomentumSchedule); ok {
			if m, on := ms.Momentum(3); on && !(m >= 0 && m < 1) {
				t.Fatalf("momentum %v", m)
			}
		}
	})
}
