package optim_test

import (
	"fmt"
	"math"
	"strings"

	"github.com/sgdpipe/sgdpipe/optim"
)

// Minimize f(p) = Σ (p_i - c_i)² with Adam: the gradient is 2(p - c).
func ExampleNewAdam() {
	c := []float32{1, -2, 3}
	p := make([]float32, 3)
	g := make([]float32, 3)
	cfg := optim.DefaultAdamConfig()
	cfg.LR = 0.1
	opt, err := optim.NewAdam(len(p), cfg)
	if err != nil {
		panic(err)
	}
	for range 300 {
		for i := range p {
			g[i] = 2 * (p[i] - c[i])
		}
		opt.Step(p, g)
	}
	fmt.Printf("%s after 300 steps: [%.2f %.2f %.2f]\n", opt.Name(), p[0], p[1], p[2])
	// Output: adam after 300 steps: [1.00 -2.00 3.00]
}

// New picks a rule by name, as the CLI's --optimizer does; a zero LR
// selects the rule's default.
func ExampleNew() {
	opt, err := optim.New("adamw", optim.Config{N: 10, Options: map[string]string{"amsgrad": "true"}})
	if err != nil {
		panic(err)
	}
	fmt.Println(opt.Name(), opt.LR())
	_, err = optim.New("adan", optim.Config{N: 10})
	fmt.Println(err)
	// Output:
	// adamw 0.001
	// --optimizer: unknown "adan" (choose one of sgd, sgd-hd, adam, adamw, adam-hd, adagrad, adadelta, rmsprop, nadam, radam, adamax, rprop, asgd)
}

func ExampleParseOptimizer() {
	opt, err := optim.ParseOptimizer("sgd:nesterov", optim.Config{N: 4, LR: 0.1, Momentum: 0.9})
	if err != nil {
		panic(err)
	}
	fmt.Println(opt.Name(), opt.LR(), opt.(optim.Momentumer).Momentum())
	// Output: sgd 0.1 0.9
}

// A schedule gives the rate of each 0-based step; Apply sets it before
// each Step.
func ExampleParseSchedule() {
	s, err := optim.ParseSchedule("warmup:4,0.25+cosine", 0.1, 12)
	if err != nil {
		panic(err)
	}
	fmt.Println(s)
	for _, step := range []int{0, 2, 4, 8, 12} {
		fmt.Printf("step %2d: lr %.4f\n", step, s.LR(step))
	}
	// Output:
	// sequential(linear(lr=0.1, start_factor=0.25, end_factor=1, total_iters=4), @4: cosine(lr=0.1, t_max=8, eta_min=0))
	// step  0: lr 0.0250
	// step  2: lr 0.0625
	// step  4: lr 0.1000
	// step  8: lr 0.0500
	// step 12: lr 0.0000
}

// OneCycle sets the rate and, like torch's OneCycleLR, the momentum.
func ExampleApply() {
	s, err := optim.NewOneCycle(optim.DefaultOneCycleConfig(0.5, 40))
	if err != nil {
		panic(err)
	}
	opt, err := optim.NewSGD(2, optim.SGDConfig{LR: 0.1})
	if err != nil {
		panic(err)
	}
	p := []float32{1, 1}
	for step := range 40 {
		if err := optim.Apply(opt, s, step); err != nil {
			panic(err)
		}
		if step%11 == 0 {
			fmt.Printf("step %2d: lr %.4f momentum %.3f\n", step, opt.LR(), opt.Momentum())
		}
		opt.Step(p, []float32{0.1 * p[0], -0.1 * p[1]})
	}
	// Output:
	// step  0: lr 0.0200 momentum 0.950
	// step 11: lr 0.5000 momentum 0.850
	// step 22: lr 0.3326 momentum 0.883
	// step 33: lr 0.0545 momentum 0.939
}

// Plateau halves the rate when the validation loss stops improving.
func ExamplePlateau() {
	cfg := optim.DefaultPlateauConfig()
	cfg.Factor, cfg.Patience = 0.5, 1
	p, err := optim.NewPlateau(0.1, cfg)
	if err != nil {
		panic(err)
	}
	for _, loss := range []float64{1.0, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7} {
		reduced := p.Observe(loss)
		fmt.Printf("loss %.1f -> lr %.3f reduced=%v\n", loss, p.LR(0), reduced)
	}
	// Output:
	// loss 1.0 -> lr 0.100 reduced=false
	// loss 0.8 -> lr 0.100 reduced=false
	// loss 0.8 -> lr 0.100 reduced=false
	// loss 0.8 -> lr 0.050 reduced=true
	// loss 0.7 -> lr 0.050 reduced=false
	// loss 0.7 -> lr 0.050 reduced=false
	// loss 0.7 -> lr 0.025 reduced=true
}

func ExampleClipGradNorm() {
	g := []float32{3, 4}
	total := optim.ClipGradNorm(g, 1)
	fmt.Printf("norm before %.1f, after %.7f: %v\n", total, optim.GradNorm(g), g)
	// Output: norm before 5.0, after 0.9999998: [0.5999999 0.79999983]
}

func ExampleFirstNonFinite() {
	g := []float32{0.5, -1, float32(math.Inf(1)), 2}
	fmt.Println(optim.AllFinite(g), optim.FirstNonFinite(g))
	// Output: false 2
}

// Stochastic weight averaging: average the iterates from step 3 on.
func ExampleAverager() {
	avg, err := optim.NewAverager(1, optim.AveragerConfig{From: 3})
	if err != nil {
		panic(err)
	}
	for step, p := range []float32{10, 20, 1, 2, 3} {
		avg.Update(step+1, []float32{p})
	}
	fmt.Println(avg.Average()[0], avg.Count())
	// Output: 2 3
}

// Save and restore an optimizer's state, e.g. in a checkpoint: the resumed
// run continues bitwise as if never stopped.
func ExampleMarshalState() {
	a, _ := optim.NewAdam(2, optim.DefaultAdamConfig())
	p := []float32{1, 2}
	a.Step(p, []float32{0.5, -0.5})
	blob := optim.MarshalState(a.Name(), a.State())

	b, _ := optim.NewAdam(2, optim.DefaultAdamConfig())
	owner, st, err := optim.UnmarshalState(blob)
	if err != nil {
		panic(err)
	}
	if err := b.LoadState(st); err != nil {
		panic(err)
	}
	q := append([]float32(nil), p...)
	a.Step(p, []float32{0.1, 0.1})
	b.Step(q, []float32{0.1, 0.1})
	fmt.Println(owner, len(blob), "bytes;", p[0] == q[0] && p[1] == q[1])
	// Output: adam 145 bytes; true
}

// SGD-HD learns its rate: consistent gradients raise it.
func ExampleNewSGDHD() {
	opt, err := optim.NewSGDHD(1, optim.SGDHDConfig{LR: 0.01, Beta: 0.01})
	if err != nil {
		panic(err)
	}
	p := []float32{10}
	for range 5 {
		opt.Step(p, []float32{1})
	}
	fmt.Printf("alpha %.2f\n", opt.LR())
	// Output: alpha 0.05
}

// SWA: a cosine schedule for 6 steps, then SWALR anneals from the rate
// reached to the SWA rate over 2 steps while an Averager averages every
// step from step 7 on.
func ExampleSWALR() {
	lr0 := 0.1
	cos, _ := optim.Cosine(lr0, 12, 0)
	swa, _ := optim.SWALR(cos.LR(6), 0.02, 2, true)
	s, err := optim.Sequential([]optim.Schedule{cos, swa}, []int{6})
	if err != nil {
		panic(err)
	}
	avg, _ := optim.NewAverager(1, optim.AveragerConfig{From: 7})
	opt, _ := optim.NewSGD(1, optim.SGDConfig{LR: lr0})
	p := []float32{1}
	var lrs []string
	for step := range 10 {
		if err := optim.Apply(opt, s, step); err != nil {
			panic(err)
		}
		lrs = append(lrs, fmt.Sprintf("%.3f", opt.LR()))
		opt.Step(p, []float32{p[0]})
		avg.Update(step+1, p)
	}
	fmt.Println(strings.Join(lrs, " "))
	fmt.Printf("averaged %d steps\n", avg.Count())
	// Output:
	// 0.100 0.098 0.093 0.085 0.075 0.063 0.050 0.035 0.020 0.020
	// averaged 4 steps
}

// The reducer sums micro-batch gradients with AddFinite and learns in the
// same pass whether the sum can be stepped with.
func ExampleAddFinite() {
	sum := []float32{0.5, -1, 2}
	fmt.Println(optim.AddFinite(sum, []float32{0.25, 1, -4}), sum)
	fmt.Println(optim.AddFinite(sum, []float32{float32(math.Inf(1)), 0, 0}), sum)
	// Output:
	// true [0.75 0 -2]
	// false [+Inf 0 -2]
}

// StepFinite steps and reports whether the new parameters are finite, the
// divergence guard's question, without a second pass over them. SetThreads
// lets the step use two goroutines on long vectors; the result is bitwise
// the same.
func ExampleStepFinite() {
	optim.SetThreads(2)
	defer optim.SetThreads(1)
	opt, err := optim.NewSGD(3, optim.SGDConfig{LR: 1e30})
	if err != nil {
		panic(err)
	}
	p := []float32{1, 2, 3}
	fmt.Println(optim.StepFinite(opt, p, []float32{0.5, 0.5, 0.5}), p[0])
	fmt.Println(optim.StepFinite(opt, p, []float32{1e10, 0, 0}), p[0])
	// Output:
	// true -5e+29
	// false -Inf
}
