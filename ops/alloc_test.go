package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// sgd is the plain update p -= lr·g, one loop over the flat vectors.
func sgd(p, g []float32, lr float32) {
	p = p[:len(g)]
	for i, v := range g {
		p[i] -= lr * v
	}
}

// trainStep is one steady-state training step: forward, loss, backward, update.
type trainStep struct {
	net    *Net
	ws     *Workspace
	params []float32
	grads  []float32
	x      Matrix
	labels []int32
	dOut   Matrix
	seed   uint64
	lr     float32
}

func newTrainStep(t testing.TB, model, act string, drop float64, b, in, out int) *trainStep {
	n := newTestNet(t, model, act, drop, in, out)
	rng := rand.New(rand.NewPCG(uint64(b), uint64(in)))
	s := &trainStep{net: n, ws: n.NewWorkspace(b), params: n.Layout().NewVector(), grads: n.Layout().NewVector(), lr: 0.01}
	if err := n.Init(s.params, "default", rng); err != nil {
		t.Fatal(err)
	}
	s.x = toF32(randMat[float64](rng, b, in, in, 1))
	s.labels = randLabels(rng, b, out)
	s.dOut = NewMatrix(b, out)
	return s
}

func (s *trainStep) run() float64 {
	s.seed++
	out := s.net.Forward(s.ws, s.params, s.x, true, s.seed)
	loss, err := CrossEntropy{}.Eval(s.dOut, out, Targets{Labels: s.labels}, 1/float32(s.x.Rows))
	if err != nil {
		panic(err)
	}
	s.net.Backward(s.ws, s.params, s.dOut, s.grads)
	sgd(s.params, s.grads, s.lr)
	return loss
}

// TestSteadyStateAllocs: forward + loss + backward + SGD update allocates nothing,
// for the MNIST MLP and for models with every kind of layer, whatever the batch size.
func TestSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	for _, tc := range []struct {
		model, act string
		drop       float64
		b, in, out int
	}{
		{"mlp:256,128", "relu", 0, 128, 784, 10},
		{"mlp:256,128", "relu", 0, 32, 784, 10},
		{"mlp:64,32", "gelu", 0.2, 100, 50, 3},
		{"mlp:16", "leakyrelu", 0.5, 7, 9, 2},
		{"mlp:16", "tanh", 0, 1, 9, 2},
		{"mlp:16", "sigmoid", 0, 5, 9, 4},
		{"linear", "", 0, 256, 784, 10},
	} {
		t.Run(fmt.Sprintf("%s/%s/B=%d", tc.model, tc.act, tc.b), func(t *testing.T) {
			s := newTrainStep(t, tc.model, tc.act, tc.drop, tc.b, tc.in, tc.out)
			s.run()
			if a := testing.AllocsPerRun(5, func() { s.run() }); a != 0 {
				t.Fatalf("%v allocations per training step, want 0", a)
			}
			dst := NewMatrix(tc.b, tc.out)
			if a := testing.AllocsPerRun(5, func() { s.net.Predict(dst, s.ws, s.params, s.x, LinkSoftmax) }); a != 0 {
				t.Fatalf("%v allocations per Predict, want 0", a)
			}
		})
	}
}

// TestTrainingReducesLoss is a sanity check of the whole step: a few hundred SGD steps
// on a fixed batch must fit it.
func TestTrainingReducesLoss(t *testing.T) {
	s := newTrainStep(t, "mlp:32", "relu", 0, 64, 20, 4)
	s.lr = 0.5
	first := s.run()
	var last float64
	for range 300 {
		last = s.run()
	}
	last /= 64
	first /= 64
	if !(last < first/4) {
		t.Fatalf("mean loss %v after 300 steps, started at %v", last, first)
	}
}
