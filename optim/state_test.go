package optim

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// ruleCase builds one configuration of a rule for n parameters. The table
// covers every rule and every variant with its own state or kernel.
type ruleCase struct {
	name string
	mk   func(n int) (Optimizer, error)
}

var ruleCases = []ruleCase{
	{"sgd", func(n int) (Optimizer, error) { return NewSGD(n, SGDConfig{LR: 0.05}) }},
	{"sgd-momentum-wd", func(n int) (Optimizer, error) {
		return NewSGD(n, SGDConfig{LR: 0.05, Momentum: 0.9, Dampening: 0.1, WeightDecay: 1e-3})
	}},
	{"sgd-nesterov", func(n int) (Optimizer, error) {
		return NewSGD(n, SGDConfig{LR: 0.05, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-3})
	}},
	{"adagrad", func(n int) (Optimizer, error) {
		c := DefaultAdagradConfig()
		c.LRDecay, c.InitialAccumulatorValue, c.WeightDecay = 0.01, 0.1, 1e-3
		return NewAdagrad(n, c)
	}},
	{"adadelta", func(n int) (Optimizer, error) { return NewAdadelta(n, DefaultAdadeltaConfig()) }},
	{"rmsprop", func(n int) (Optimizer, error) { return NewRMSprop(n, DefaultRMSpropConfig()) }},
	{"rmsprop-centered-momentum", func(n int) (Optimizer, error) {
		c := DefaultRMSpropConfig()
		c.Centered, c.Momentum, c.WeightDecay = true, 0.9, 1e-3
		return NewRMSprop(n, c)
	}},
	{"adam", func(n int) (Optimizer, error) { return NewAdam(n, DefaultAdamConfig()) }},
	{"adam-amsgrad-wd", func(n int) (Optimizer, error) {
		c := DefaultAdamConfig()
		c.AMSGrad, c.WeightDecay = true, 1e-2
		return NewAdam(n, c)
	}},
	{"adamw", func(n int) (Optimizer, error) { return NewAdam(n, DefaultAdamWConfig()) }},
	{"nadam", func(n int) (Optimizer, error) { return NewNAdam(n, DefaultNAdamConfig()) }},
	{"radam", func(n int) (Optimizer, error) { return NewRAdam(n, DefaultRAdamConfig()) }},
	{"adamax", func(n int) (Optimizer, error) { return NewAdamax(n, DefaultAdamaxConfig()) }},
	{"rprop", func(n int) (Optimizer, error) { return NewRprop(n, DefaultRpropConfig()) }},
	{"asgd", func(n int) (Optimizer, error) {
		c := DefaultASGDConfig()
		c.T0 = 3 // averaging (mu < 1) starts within the test's steps
		return NewASGD(n, c)
	}},
	{"sgd-hd", func(n int) (Optimizer, error) { return NewSGDHD(n, DefaultSGDHDConfig()) }},
	{"adam-hd", func(n int) (Optimizer, error) { return NewAdamHD(n, DefaultAdamHDConfig()) }},
}

func mustRule(t testing.TB, rc ruleCase, n int) Optimizer {
	t.Helper()
	o, err := rc.mk(n)
	if err != nil {
		t.Fatalf("%s: %v", rc.name, err)
	}
	return o
}

// randVec returns n normal values from a PCG seeded with seed.
func randVec(seed uint64, n int, scale float32) []float32 {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64()) * scale
	}
	return v
}

// gradAt is a deterministic gradient for step i: a quadratic's pull toward 0
// plus noise, so that signs flip (Rprop) and moments build up.
func gradAt(p []float32, i int) []float32 {
	g := randVec(uint64(1000+i), len(p), 0.3)
	for j := range g {
		g[j] += p[j]
	}
	return g
}

func sameBits(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// TestStateRoundTrip runs k steps, saves the state as bytes, restores it
// into a fresh optimizer and runs on: the parameters must be bitwise those
// of an uninterrupted run. A schedule (with momentum cycling where the rule
// has momentum) drives every step, as in training.
func TestStateRoundTrip(t *testing.T) {
	const n, k, total = 37, 6, 15
	for _, rc := range ruleCases {
		t.Run(rc.name, func(t *testing.T) {
			cycle, err := NewOneCycle(DefaultOneCycleConfig(0.02, total))
			if err != nil {
				t.Fatal(err)
			}
			drive := func(o Optimizer, i int) {
				switch o.(type) {
				case *SGDHD, *AdamHD: // they learn their own rate
				case Momentumer:
					if err := Apply(o, cycle, i); err != nil {
						t.Fatal(err)
					}
				default:
					o.SetLR(cycle.LR(i))
				}
			}
			full := mustRule(t, rc, n)
			pFull := randVec(1, n, 1)
			for i := range total {
				drive(full, i)
				full.Step(pFull, gradAt(pFull, i))
			}

			first := mustRule(t, rc, n)
			p := randVec(1, n, 1)
			for i := range k {
				drive(first, i)
				first.Step(p, gradAt(p, i))
			}
			blob := Save(first.Name(), first)
			resumed := mustRule(t, rc, n)
			if err := Load(resumed.Name(), resumed, blob); err != nil {
				t.Fatal(err)
			}
			for i := k; i < total; i++ {
				drive(resumed, i)
				resumed.Step(p, gradAt(p, i))
			}
			if i := sameBits(p, pFull); i >= 0 {
				t.Fatalf("resumed run differs at %d: %v vs %v", i, p[i], pFull[i])
			}
			if !slices.EqualFunc(resumed.State(), full.State(), equalVec) {
				t.Fatal("resumed state differs from the uninterrupted one")
			}
			// and the restored optimizer must not share memory with the source
			st := first.State()
			for _, v := range st {
				for j := range v.F32 {
					v.F32[j] = float32(math.NaN())
				}
			}
			if !AllFinite(resumed.State()[len(resumed.State())-1].F32) {
				t.Fatal("LoadState kept a reference to the loaded vectors")
			}
		})
	}
}

func equalVec(a, b NamedVec) bool {
	if a.Name != b.Name || len(a.F32) != len(b.F32) || len(a.F64) != len(b.F64) {
		return false
	}
	if sameBits(a.F32, b.F32) >= 0 {
		return false
	}
	for i := range a.F64 {
		if math.Float64bits(a.F64[i]) != math.Float64bits(b.F64[i]) {
			return false
		}
	}
	return true
}

func TestPlateauStateRoundTrip(t *testing.T) {
	losses := []float64{1, 0.9, 0.95, 0.95, 0.96, 0.97, 0.89, 0.9, 0.91, 0.92, 0.93, 0.5, 0.6, 0.7, 0.8, 0.9}
	cfg := DefaultPlateauConfig()
	cfg.Patience, cfg.Cooldown, cfg.Factor = 1, 1, 0.5
	for k := range losses {
		full, _ := NewPlateau(0.1, cfg)
		var lrFull []float64
		for _, l := range losses {
			full.Observe(l)
			lrFull = append(lrFull, full.LR(0))
		}
		first, _ := NewPlateau(0.1, cfg)
		var lrs []float64
		for _, l := range losses[:k] {
			first.Observe(l)
			lrs = append(lrs, first.LR(0))
		}
		resumed, _ := NewPlateau(0.1, cfg)
		if err := Load("plateau", resumed, Save("plateau", first)); err != nil {
			t.Fatal(err)
		}
		for _, l := range losses[k:] {
			resumed.Observe(l)
			lrs = append(lrs, resumed.LR(0))
		}
		if !slices.Equal(lrs, lrFull) {
			t.Fatalf("resumed after %d observations: lrs %v, uninterrupted %v", k, lrs, lrFull)
		}
		if k == len(losses)-1 && lrFull[len(lrFull)-1] >= 0.1/4 {
			t.Fatalf("the loss sequence reduced the rate too little (%v) to test anything", lrFull)
		}
	}
}

func TestAveragerStateRoundTrip(t *testing.T) {
	const n, total = 9, 12
	cfg := AveragerConfig{From: 3, Every: 2}
	full, _ := NewAverager(n, cfg)
	first, _ := NewAverager(n, cfg)
	resumed, _ := NewAverager(n, cfg)
	for s := 1; s <= total; s++ {
		p := randVec(uint64(s), n, 1)
		full.Update(s, p)
		if s <= 6 {
			first.Update(s, p)
			if s == 6 {
				if err := Load("averager", resumed, Save("averager", first)); err != nil {
					t.Fatal(err)
				}
			}
		} else {
			resumed.Update(s, p)
		}
	}
	if i := sameBits(resumed.Average(), full.Average()); i >= 0 || resumed.Count() != full.Count() || full.Count() != 5 {
		t.Fatalf("resumed average differs at %d (counts %d, %d; want 5)", i, resumed.Count(), full.Count())
	}
}

func TestLoadStateErrors(t *testing.T) {
	const n = 5
	adam := func() *Adam { o, _ := NewAdam(n, DefaultAdamConfig()); return o }
	good := adam().State()
	edit := func(f func(st []NamedVec) []NamedVec) []NamedVec {
		st := make([]NamedVec, len(good))
		for i, v := range good {
			st[i] = NamedVec{Name: v.Name, F32: slices.Clone(v.F32), F64: slices.Clone(v.F64)}
		}
		return f(st)
	}
	find := func(st []NamedVec, name string) int {
		return slices.IndexFunc(st, func(v NamedVec) bool { return v.Name == name })
	}
	tests := []struct {
		name string
		st   []NamedVec
		want string
	}{
		{"missing", edit(func(st []NamedVec) []NamedVec { return slices.Delete(st, find(st, "exp_avg"), find(st, "exp_avg")+1) }), `missing "exp_avg"`},
		{"short", edit(func(st []NamedVec) []NamedVec { st[find(st, "exp_avg_sq")].F32 = make([]float32, 4); return st }), `"exp_avg_sq" has 4 values, want 5`},
		{"unexpected", edit(func(st []NamedVec) []NamedVec { return append(st, vec32("momentum_buffer", make([]float32, n))) }), `unexpected "momentum_buffer"`},
		{"duplicate", edit(func(st []NamedVec) []NamedVec { return append(st, st[0]) }), `appears twice`},
		{"wrong kind", edit(func(st []NamedVec) []NamedVec {
			st[find(st, "exp_avg")] = NamedVec{Name: "exp_avg", F64: make([]float64, n)}
			return st
		}), `"exp_avg" must hold float32`},
		{"fractional step", edit(func(st []NamedVec) []NamedVec { st[find(st, "step")].F64[0] = 2.5; return st }), `"step" must be a whole number`},
		{"negative step", edit(func(st []NamedVec) []NamedVec { st[find(st, "step")].F64[0] = -1; return st }), `"step" must be a whole number`},
		{"nan lr", edit(func(st []NamedVec) []NamedVec { st[find(st, "lr")].F64[0] = math.NaN(); return st }), `"lr" must be finite`},
		{"both kinds", edit(func(st []NamedVec) []NamedVec { st[0].F32 = []float32{1}; return st }), `exactly one of F32 or F64`},
		{"vector scalar", edit(func(st []NamedVec) []NamedVec { st[find(st, "beta1")].F64 = []float64{1, 2}; return st }), `"beta1" must be one float64 value`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := adam()
			o.Step(randVec(1, n, 1), randVec(2, n, 1))
			before := MarshalState(o.Name(), o.State())
			err := o.LoadState(tc.st)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "optim: load adam state: ") {
				t.Fatalf("got error %v, want one containing %q", err, tc.want)
			}
			if !bytes.Equal(before, MarshalState(o.Name(), o.State())) {
				t.Fatal("a failed LoadState changed the optimizer")
			}
		})
	}
	// the right state loads
	if err := adam().LoadState(good); err != nil {
		t.Fatal(err)
	}
	// a state saved by another rule names both
	sgd, _ := NewSGD(n, SGDConfig{LR: 0.1})
	if err := Load("sgd", sgd, Save("adam", adam())); err == nil || !strings.Contains(err.Error(), `saved by "adam", cannot load it into "sgd"`) {
		t.Fatalf("got %v", err)
	}
}

func TestUnmarshalStateErrors(t *testing.T) {
	o, _ := NewAdam(3, DefaultAdamConfig())
	good := MarshalState("adam", o.State())
	corrupt := slices.Clone(good)
	corrupt[len(corrupt)-10] ^= 1
	trailing := append(slices.Clone(good), 0)
	hugeCount := slices.Clone(good)
	binary.LittleEndian.PutUint32(hugeCount[len(stateMagic)+2+4:], 1<<31)
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "bad magic"},
		{"magic", []byte("SGDPSTv2...."), "bad magic"},
		{"truncated", good[:14], "truncated"},
		{"short entry", good[:len(good)-5], "claims 3 values, only 11 bytes left"},
		{"corrupt", corrupt, "checksum mismatch"},
		{"trailing", trailing, "unexpected bytes after the checksum"},
		{"count", hugeCount, "does not fit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := UnmarshalState(tc.b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	owner, st, err := UnmarshalState(good)
	if err != nil || owner != "adam" || !slices.EqualFunc(st, o.State(), equalVec) {
		t.Fatalf("round trip: %q %v %v", owner, st, err)
	}
}

// FuzzUnmarshalState feeds arbitrary bytes to the decoder: it must return a
// state or an error, never panic, and what it accepts must re-encode to the
// same bytes.
func FuzzUnmarshalState(f *testing.F) {
	for _, rc := range ruleCases { // real states of every rule
		o := mustRule(f, rc, 3)
		o.Step(randVec(1, 3, 1), randVec(2, 3, 1))
		f.Add(Save(o.Name(), o))
	}
	pl, _ := NewPlateau(0.1, DefaultPlateauConfig())
	pl.Observe(1)
	f.Add(Save("plateau", pl))
	f.Add([]byte(stateMagic))
	f.Add(MarshalState("", nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		owner, st, err := UnmarshalState(b)
		if err != nil {
			return
		}
		if again := MarshalState(owner, st); !bytes.Equal(again, b) {
			t.Fatalf("accepted bytes do not re-encode identically")
		}
		// loading into any rule must fail cleanly or succeed
		for _, rc := range ruleCases {
			o := mustRule(t, rc, 3)
			_ = o.LoadState(st)
		}
		p, _ := NewPlateau(0.1, DefaultPlateauConfig())
		_ = p.LoadState(st)
	})
}
