package optim

import (
	"fmt"
	"testing"
)

// TestStepAllocs proves that Step allocates nothing in steady state, for
// every rule, at two sizes (so allocations cannot hide in a size-dependent
// path), with a schedule applied before each step as in training.
func TestStepAllocs(t *testing.T) {
	sched, err := ParseSchedule("warmup:3+cosine", 0.01, 100)
	if err != nil {
		t.Fatal(err)
	}
	cycle, err := NewOneCycle(DefaultOneCycleConfig(0.01, 100))
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range ruleCases {
		for _, n := range []int{10, 100_003} {
			t.Run(fmt.Sprintf("%s/n=%d", rc.name, n), func(t *testing.T) {
				o := mustRule(t, rc, n)
				p, g := randVec(1, n, 1), randVec(2, n, 0.1)
				var s Schedule = sched
				if _, ok := o.(Momentumer); ok {
					s = cycle // also exercises SetMomentum
				}
				step := 0
				o.Step(p, g) // first step may allocate lazily-created state
				_, learns := o.(rateLearner)
				allocs := testing.AllocsPerRun(20, func() {
					if learns {
						// no schedule: they learn their rate
					} else if err := Apply(o, s, step%100); err != nil {
						t.Fatal(err)
					}
					o.Step(p, g)
					step++
				})
				if allocs != 0 {
					t.Fatalf("Step allocates %v times per call", allocs)
				}
			})
		}
	}
}

func TestHelpersDoNotAllocate(t *testing.T) {
	g := randVec(3, 1000, 1)
	avg, _ := NewAverager(len(g), AveragerConfig{})
	pl, _ := NewPlateau(0.1, DefaultPlateauConfig())
	step := 0
	for name, f := range map[string]func(){
		"ClipGradNorm":   func() { ClipGradNorm(g, 0.5) },
		"ClipGradValue":  func() { ClipGradValue(g, 0.5) },
		"AllFinite":      func() { AllFinite(g) },
		"FirstNonFinite": func() { FirstNonFinite(g) },
		"Averager":       func() { step++; avg.Update(step, g) },
		"Plateau":        func() { pl.Observe(1) },
	} {
		if a := testing.AllocsPerRun(20, f); a != 0 {
			t.Errorf("%s allocates %v times per call", name, a)
		}
	}
}
