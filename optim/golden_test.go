package optim

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The golden files are PyTorch 1.13 float64 trajectories written by
// testdata/golden/make_golden.py; see testdata/golden/README.md for the
// update rules and tolerances.
const goldenDir = "../testdata/golden"

// tol32 is the float32 bar: |got-want| <= tol32·max(1, |want|).
const tol32 = 1e-5

// tolLR is the bar for learning rates, which are computed in float64 here;
// torch's recursive forms differ from the closed forms by <= 7.3e-16.
const tolLR = 1e-12

type goldenFile struct {
	Name            string             `json:"name"`
	Optimizer       string             `json:"optimizer"`
	Hyper           map[string]any     `json:"hyper"`
	Defaults        map[string]any     `json:"defaults_full"`
	Schedule        *goldenSchedule    `json:"schedule"`
	Steps           int                `json:"steps"`
	Params0         []float64          `json:"params0"`
	Grads           [][]float64        `json:"grads"`
	Params          [][]float64        `json:"params"`
	ParamsTorch2    [][]float64        `json:"params_torch2"`
	LRs             []float64          `json:"lrs"`
	Momentums       []float64          `json:"momentums"`
	PlateauLosses   []float64          `json:"plateau_losses"`
	Alphas          []float64          `json:"alphas"`
	AverageFromStep int                `json:"average_from_step"`
	Avgs            [][]float64        `json:"avgs"`
	NAveraged       []int64            `json:"n_averaged"`
	F32VsF64        map[string]float64 `json:"float32_run_vs_float64"`
}

type goldenSchedule struct {
	Class string         `json:"class"`
	Args  map[string]any `json:"args"`
}

func readGolden(t *testing.T, file string) *goldenFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, file))
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return &g
}

func to32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

// num reads a float hyper-parameter, from hyper first, then defaults_full.
func (g *goldenFile) num(key string) float64 {
	v, ok := g.Hyper[key]
	if !ok {
		v, ok = g.Defaults[key]
	}
	if !ok {
		panic(fmt.Sprintf("golden %s: no hyper-parameter %q", g.Name, key))
	}
	switch x := v.(type) {
	case float64:
		return x
	case bool:
		return b2f(x)
	}
	panic(fmt.Sprintf("golden %s: %q is %T", g.Name, key, v))
}

func (g *goldenFile) flag(key string) bool { return g.num(key) != 0 }

// pair reads a two-element hyper-parameter such as betas.
func (g *goldenFile) pair(key string) (float64, float64) {
	v, ok := g.Hyper[key]
	if !ok {
		v = g.Defaults[key]
	}
	xs := v.([]any)
	return xs[0].(float64), xs[1].(float64)
}

// vecDiff returns the worst |got-want|/max(1,|want|) and its index.
func vecDiff(got []float32, want []float64) (worst float64, at int) {
	at = -1
	for i, w := range want {
		d := math.Abs(float64(got[i])-w) / math.Max(1, math.Abs(w))
		if d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	return worst, at
}

// sideBySide prints the first few values of got and want.
func sideBySide(got []float32, want []float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%4s %22s %22s %12s\n", "i", "got", "want", "diff")
	for i := range min(len(want), 8) {
		fmt.Fprintf(&b, "%4d %22.15g %22.15g %12.3g\n", i, got[i], want[i], float64(got[i])-want[i])
	}
	return b.String()
}

// tracker checks vectors against golden values and remembers the worst deviation.
type tracker struct {
	t     *testing.T
	worst float64
}

// vec compares got with want at tolerance tol and reports the first failure
// of a trajectory with the values side by side. It returns false on failure.
func (k *tracker) vec(what string, got []float32, want []float64, tol float64) bool {
	k.t.Helper()
	if len(got) != len(want) {
		k.t.Errorf("%s: got %d values, want %d", what, len(got), len(want))
		return false
	}
	d, at := vecDiff(got, want)
	k.worst = max(k.worst, d)
	if d > tol || math.IsNaN(d) {
		k.t.Errorf("%s: element %d deviates by %.3g (> %.0e relative, floor 1):\n%s", what, at, d, tol, sideBySide(got, want))
		return false
	}
	return true
}

// scalar compares a float64 value at tolerance tol (relative, floor 1e-300).
func (k *tracker) scalar(what string, got, want, tol float64) bool {
	k.t.Helper()
	d := math.Abs(got-want) / math.Max(math.Abs(want), 1e-300)
	if d > tol || math.IsNaN(d) {
		k.t.Errorf("%s: got %.17g, want %.17g (relative deviation %.3g > %.0e)", what, got, want, d, tol)
		return false
	}
	return true
}

// runTrajectory steps opt over g.Grads from g.Params0, checking the lr in
// force before each step against lrs and the parameters after it against
// want. before (may be nil) runs before each step, after (may be nil) after.
func runTrajectory(t *testing.T, g *goldenFile, opt Optimizer, want [][]float64, before, after func(i int, p []float32)) *tracker {
	t.Helper()
	k := &tracker{t: t}
	p := to32(g.Params0)
	for i := range g.Steps {
		if before != nil {
			before(i, p)
		}
		if g.LRs != nil && !k.scalar(fmt.Sprintf("lr before step %d", i+1), opt.LR(), g.LRs[i], tolLR) {
			return k
		}
		opt.Step(p, to32(g.Grads[i]))
		if !k.vec(fmt.Sprintf("params after step %d", i+1), p, want[i], tol32) {
			return k
		}
		if after != nil {
			after(i, p)
		}
	}
	return k
}

// goldenOptimizer builds the rule a golden optim_* file describes, from its
// torch class and keyword arguments.
func goldenOptimizer(t *testing.T, g *goldenFile) Optimizer {
	t.Helper()
	n := len(g.Params0)
	var o Optimizer
	var err error
	switch g.Optimizer {
	case "SGD":
		o, err = NewSGD(n, SGDConfig{LR: g.num("lr"), Momentum: g.num("momentum"), Dampening: g.num("dampening"),
			WeightDecay: g.num("weight_decay"), Nesterov: g.flag("nesterov")})
	case "Adagrad":
		o, err = NewAdagrad(n, AdagradConfig{LR: g.num("lr"), LRDecay: g.num("lr_decay"), WeightDecay: g.num("weight_decay"),
			InitialAccumulatorValue: g.num("initial_accumulator_value"), Eps: g.num("eps")})
	case "Adadelta":
		o, err = NewAdadelta(n, AdadeltaConfig{LR: g.num("lr"), Rho: g.num("rho"), Eps: g.num("eps"), WeightDecay: g.num("weight_decay")})
	case "RMSprop":
		o, err = NewRMSprop(n, RMSpropConfig{LR: g.num("lr"), Alpha: g.num("alpha"), Eps: g.num("eps"), WeightDecay: g.num("weight_decay"),
			Momentum: g.num("momentum"), Centered: g.flag("centered")})
	case "Adam", "AdamW":
		b1, b2 := g.pair("betas")
		o, err = NewAdam(n, AdamConfig{LR: g.num("lr"), Beta1: b1, Beta2: b2, Eps: g.num("eps"), WeightDecay: g.num("weight_decay"),
			AMSGrad: g.flag("amsgrad"), Decoupled: g.Optimizer == "AdamW"})
	case "NAdam":
		b1, b2 := g.pair("betas")
		o, err = NewNAdam(n, NAdamConfig{LR: g.num("lr"), Beta1: b1, Beta2: b2, Eps: g.num("eps"), WeightDecay: g.num("weight_decay"),
			MomentumDecay: g.num("momentum_decay")})
	case "RAdam":
		b1, b2 := g.pair("betas")
		o, err = NewRAdam(n, RAdamConfig{LR: g.num("lr"), Beta1: b1, Beta2: b2, Eps: g.num("eps"), WeightDecay: g.num("weight_decay")})
	case "Adamax":
		b1, b2 := g.pair("betas")
		o, err = NewAdamax(n, AdamaxConfig{LR: g.num("lr"), Beta1: b1, Beta2: b2, Eps: g.num("eps"), WeightDecay: g.num("weight_decay")})
	case "Rprop":
		em, ep := g.pair("etas")
		smin, smax := g.pair("step_sizes")
		o, err = NewRprop(n, RpropConfig{LR: g.num("lr"), EtaMinus: em, EtaPlus: ep, StepMin: smin, StepMax: smax})
	case "ASGD":
		o, err = NewASGD(n, ASGDConfig{LR: g.num("lr"), Lambd: g.num("lambd"), Alpha: g.num("alpha"), T0: g.num("t0"),
			WeightDecay: g.num("weight_decay")})
	default:
		t.Fatalf("golden %s: no rule for torch class %q", g.Name, g.Optimizer)
	}
	if err != nil {
		t.Fatalf("golden %s: %v", g.Name, err)
	}
	return o
}

// TestGoldenFilesCovered fails if a golden file has no test, so that a new
// file cannot be skipped silently.
func TestGoldenFilesCovered(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in %s: %v", goldenDir, err)
	}
	prefixes := []string{"optim_", "sched_", "clip.json", "swa_average.json", "swalr_", "hd_", "fullbatch_", "summary_float32.json"}
	for _, f := range files {
		base := filepath.Base(f)
		covered := false
		for _, p := range prefixes {
			covered = covered || strings.HasPrefix(base, p)
		}
		if !covered {
			t.Errorf("golden file %s has no test", base)
		}
	}
}

func globGolden(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(goldenDir, pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files %s in %s: %v", pattern, goldenDir, err)
	}
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	return files
}

func TestGoldenOptimizers(t *testing.T) {
	for _, file := range globGolden(t, "optim_*.json") {
		t.Run(strings.TrimSuffix(file, ".json"), func(t *testing.T) {
			g := readGolden(t, file)
			k := runTrajectory(t, g, goldenOptimizer(t, g), g.Params, nil, nil)
			t.Logf("%s: worst deviation %.2g (torch's own float32 run: %.2g)", g.Name, k.worst, g.F32VsF64["max_rel_floor1"])
		})
	}
}

// TestGoldenNAdamCorrected checks the torch >= 2.0 / Dozat variant against
// the numpy trajectory params_torch2, and that the two variants differ.
func TestGoldenNAdamCorrected(t *testing.T) {
	g := readGolden(t, "optim_nadam.json")
	b1, b2 := g.pair("betas")
	o, err := NewNAdam(len(g.Params0), NAdamConfig{LR: g.num("lr"), Beta1: b1, Beta2: b2, Eps: g.num("eps"),
		MomentumDecay: g.num("momentum_decay"), CorrectedProduct: true})
	if err != nil {
		t.Fatal(err)
	}
	runTrajectory(t, g, o, g.ParamsTorch2, nil, nil)
	last := len(g.Params) - 1
	if d, _ := vecDiff(to32(g.Params[last]), g.ParamsTorch2[last]); d < 10*tol32 {
		t.Fatalf("the two NAdam variants differ by only %.2g: the test could not tell them apart", d)
	}
}

func TestGoldenHypergradient(t *testing.T) {
	for _, file := range globGolden(t, "hd_*.json") {
		t.Run(strings.TrimSuffix(file, ".json"), func(t *testing.T) {
			g := readGolden(t, file)
			n := len(g.Params0)
			var o Optimizer
			var err error
			switch g.Optimizer {
			case "SGD-HD":
				o, err = NewSGDHD(n, SGDHDConfig{LR: g.num("alpha0"), Beta: g.num("beta")})
			case "Adam-HD":
				o, err = NewAdamHD(n, AdamHDConfig{LR: g.num("alpha0"), Beta: g.num("beta"), Beta1: g.num("beta1"),
					Beta2: g.num("beta2"), Eps: g.num("eps")})
			default:
				t.Fatalf("unknown %q", g.Optimizer)
			}
			if err != nil {
				t.Fatal(err)
			}
			lrs := g.LRs
			g.LRs = nil // alphas are learned during the step: checked after it
			k := runTrajectory(t, g, o, g.Params, nil, func(i int, _ []float32) {
				// alpha is a float64 running sum of float32 dot products
				(&tracker{t: t}).scalar(fmt.Sprintf("alpha of step %d", i+1), o.LR(), lrs[i], tol32)
			})
			// Without the hypergradient (beta 0) the trajectory must leave the
			// tolerance, or this test could not catch a broken alpha update
			// (Adam-HD's beta 1e-7 moves alpha by only 0.7%, and the params
			// by 6.5e-5; the alpha check above is the sharper one there).
			var flat Optimizer
			if g.Optimizer == "SGD-HD" {
				flat, _ = NewSGDHD(n, SGDHDConfig{LR: g.num("alpha0")})
			} else {
				flat, _ = NewAdamHD(n, AdamHDConfig{LR: g.num("alpha0"), Beta1: g.num("beta1"), Beta2: g.num("beta2"), Eps: g.num("eps")})
			}
			p := to32(g.Params0)
			for i := range g.Steps {
				flat.Step(p, to32(g.Grads[i]))
			}
			if d, _ := vecDiff(p, g.Params[g.Steps-1]); d < 3*tol32 {
				t.Fatalf("a constant rate ends only %.2g away: the case does not exercise hypergradients", d)
			}
			t.Logf("%s: worst deviation %.2g (numpy float32: %.2g)", g.Name, k.worst, g.F32VsF64["max_rel_floor1"])
		})
	}
}

// goldenScheduleSpecs are the --schedule specs that must reproduce each
// sched_* file, with lr0 0.1 and 40 steps.
var goldenScheduleSpecs = map[string]string{
	"step":                 "step:10,0.5",
	"multistep":            "multistep:5/15/30,0.1",
	"exponential":          "exp:0.9",
	"cosine":               "cosine:20,0.001",
	"cosine_warm_restarts": "sgdr:10,2",
	"warmup_cosine":        "warmup:5,0.1+cosine",
	"linear":               "linear:0.1,1,5",
	"inverse_time":         "invtime:0.1,0.75",
	"onecycle":             "onecycle:0.5",
	"onecycle_nomomentum":  "onecycle:max_lr=0.5,cycle_momentum=false",
	"plateau":              "plateau:0.5,2",
}

// scheduleFromTorch builds a schedule from a torch scheduler description.
func scheduleFromTorch(t *testing.T, lr0 float64, total int, s goldenSchedule) Schedule {
	t.Helper()
	f := func(k string) float64 { return s.Args[k].(float64) }
	i := func(k string) int { return int(s.Args[k].(float64)) }
	var out Schedule
	var err error
	switch s.Class {
	case "StepLR":
		out, err = StepDecay(lr0, i("step_size"), f("gamma"))
	case "MultiStepLR":
		var ms []int
		for _, m := range s.Args["milestones"].([]any) {
			ms = append(ms, int(m.(float64)))
		}
		out, err = MultiStepDecay(lr0, ms, f("gamma"))
	case "ExponentialLR":
		out, err = ExponentialDecay(lr0, f("gamma"))
	case "CosineAnnealingLR":
		out, err = Cosine(lr0, i("T_max"), f("eta_min"))
	case "CosineAnnealingWarmRestarts":
		out, err = CosineRestarts(lr0, i("T_0"), i("T_mult"), f("eta_min"))
	case "LinearLR":
		out, err = Linear(lr0, f("start_factor"), f("end_factor"), i("total_iters"))
	case "LambdaLR":
		// the file's lambda is documented in args.meaning as lr0/(1+0.1 t)^0.75
		if !strings.Contains(s.Args["meaning"].(string), "(1 + 0.1*t)^0.75") {
			t.Fatalf("unexpected LambdaLR: %v", s.Args)
		}
		out, err = InverseTimeDecay(lr0, 0.1, 0.75)
	case "SequentialLR":
		var subs []Schedule
		for _, sub := range s.Args["schedulers"].([]any) {
			m := sub.(map[string]any)
			subs = append(subs, scheduleFromTorch(t, lr0, total, goldenSchedule{Class: m["class"].(string), Args: m["args"].(map[string]any)}))
		}
		var ms []int
		for _, m := range s.Args["milestones"].([]any) {
			ms = append(ms, int(m.(float64)))
		}
		out, err = Sequential(subs, ms)
	case "OneCycleLR":
		c := OneCycleConfig{MaxLR: f("max_lr"), TotalSteps: i("total_steps"), PctStart: f("pct_start"),
			Linear: s.Args["anneal_strategy"] == "linear", DivFactor: f("div_factor"), FinalDivFactor: f("final_div_factor"),
			ThreePhase: s.Args["three_phase"].(bool), CycleMomentum: s.Args["cycle_momentum"].(bool),
			BaseMomentum: f("base_momentum"), MaxMomentum: f("max_momentum")}
		out, err = NewOneCycle(c)
	case "ReduceLROnPlateau":
		if s.Args["mode"] != "min" || s.Args["threshold_mode"] != "rel" {
			t.Fatalf("unexpected plateau args %v", s.Args)
		}
		out, err = NewPlateau(lr0, PlateauConfig{Factor: f("factor"), Patience: i("patience"), Threshold: f("threshold"),
			Cooldown: i("cooldown"), MinLR: f("min_lr"), Eps: f("eps")})
	case "SWALR":
		out, err = SWALR(lr0, f("swa_lr"), i("anneal_epochs"), s.Args["anneal_strategy"] == "linear")
	default:
		t.Fatalf("no schedule for torch class %q", s.Class)
	}
	if err != nil {
		t.Fatalf("%s: %v", s.Class, err)
	}
	return out
}

// runScheduled runs SGD(lr0) driven by s over g and checks lrs, momentums
// and params.
func runScheduled(t *testing.T, g *goldenFile, s Schedule) *tracker {
	t.Helper()
	opt, err := NewSGD(len(g.Params0), SGDConfig{LR: g.num("lr")})
	if err != nil {
		t.Fatal(err)
	}
	plateau, _ := s.(*Plateau)
	return runTrajectory(t, g, opt, g.Params, func(i int, _ []float32) {
		if err := Apply(opt, s, i); err != nil {
			t.Fatal(err)
		}
		if g.Momentums != nil {
			(&tracker{t: t}).scalar(fmt.Sprintf("momentum of step %d", i+1), opt.Momentum()+1, g.Momentums[i]+1, tolLR)
		}
	}, func(i int, _ []float32) {
		if plateau != nil {
			plateau.Observe(g.PlateauLosses[i])
		}
	})
}

func TestGoldenSchedules(t *testing.T) {
	for _, file := range append(globGolden(t, "sched_*.json"), globGolden(t, "swalr_*.json")...) {
		t.Run(strings.TrimSuffix(file, ".json"), func(t *testing.T) {
			g := readGolden(t, file)
			if g.Schedule == nil {
				t.Fatal("no schedule in file")
			}
			lr0 := g.num("lr")
			k := runScheduled(t, g, scheduleFromTorch(t, lr0, g.Steps, *g.Schedule))
			t.Logf("%s: worst deviation %.2g (torch's own float32 run: %.2g)", g.Name, k.worst, g.F32VsF64["max_rel_floor1"])
			if strings.HasPrefix(file, "swalr_") {
				return // SWALR is not a --schedule on its own; see TestParseScheduleSWALR
			}
			spec, ok := goldenScheduleSpecs[g.Name]
			if !ok {
				t.Fatalf("no --schedule spec for %s", g.Name)
			}
			s, err := ParseSchedule(spec, lr0, g.Steps)
			if err != nil {
				t.Fatalf("ParseSchedule(%q): %v", spec, err)
			}
			runScheduled(t, g, s)
		})
	}
}

func TestGoldenClip(t *testing.T) {
	var c struct {
		Sizes []int `json:"sizes"`
		Cases []struct {
			Grad      []float64 `json:"grad"`
			Total     float64   `json:"total_norm"`
			ByNorm    []float64 `json:"clipped_by_norm_1.0"`
			ByValue   []float64 `json:"clipped_by_value_0.5"`
			GradSplit [][]float64
		} `json:"cases"`
	}
	b, err := os.ReadFile(filepath.Join(goldenDir, "clip.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	clipped := 0
	for i, cs := range c.Cases {
		k := &tracker{t: t}
		g := to32(cs.Grad)
		total := ClipGradNorm(g, 1.0)
		k.scalar(fmt.Sprintf("case %d total norm", i), total, cs.Total, tol32)
		k.vec(fmt.Sprintf("case %d clipped by norm", i), g, cs.ByNorm, tol32)
		if cs.Total > 1 {
			clipped++
			if n := GradNorm(g); !(n < 1) {
				t.Errorf("case %d: clipped norm %v, want < 1", i, n)
			}
		}
		g = to32(cs.Grad)
		ClipGradValue(g, 0.5)
		for j, w := range to32(cs.ByValue) { // clamping a float32 is exact
			if g[j] != w {
				t.Errorf("case %d clipped by value: element %d is %v, want %v", i, j, g[j], w)
			}
		}
	}
	if clipped < 3 || clipped == len(c.Cases) {
		t.Fatalf("%d of %d cases clipped: the file does not exercise both branches", clipped, len(c.Cases))
	}
}

func TestGoldenSWAAverage(t *testing.T) {
	g := readGolden(t, "swa_average.json")
	n := len(g.Params0)
	opt, err := NewSGD(n, SGDConfig{LR: g.num("lr"), Momentum: g.num("momentum")})
	if err != nil {
		t.Fatal(err)
	}
	avg, err := NewAverager(n, AveragerConfig{From: g.AverageFromStep})
	if err != nil {
		t.Fatal(err)
	}
	k := runTrajectory(t, g, opt, g.Params, nil, func(i int, p []float32) {
		step := i + 1
		did := avg.Update(step, p)
		if did != (g.Avgs[i] != nil) {
			t.Fatalf("step %d: averaged %v, torch %v", step, did, g.Avgs[i] != nil)
		}
		if avg.Count() != g.NAveraged[i] {
			t.Fatalf("step %d: n_averaged %d, want %d", step, avg.Count(), g.NAveraged[i])
		}
		if did {
			(&tracker{t: t}).vec(fmt.Sprintf("average after step %d", step), avg.Average(), g.Avgs[i], tol32)
		}
	})
	t.Logf("swa: worst deviation %.2g", k.worst)
}
