package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestArgmaxAndCountCorrect(t *testing.T) {
	nan := float32(math.NaN())
	out := MatrixOf([]float32{
		1, 3, 3, // tie: first
		nan, 0, -1, // NaN never chosen
		-5, -4, -6,
		nan, nan, nan,
	}, 4, 3)
	got := make([]int32, 4)
	Argmax(got, out)
	if want := []int32{1, 1, 1, 0}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Argmax = %v, want %v", got, want)
	}
	if n := CountCorrect(out, []int32{1, 2, 1, 0}); n != 3 {
		t.Fatalf("CountCorrect = %d, want 3", n)
	}
	bin := MatrixOf([]float32{0.5, -0.1, 0, 2}, 4, 1)
	if n := CountCorrect(bin, []int32{1, 0, 1, -1}); n != 2 {
		t.Fatalf("binary CountCorrect = %d, want 2 (0 predicts class 0)", n)
	}
}

// TestPredict: probabilities match the eval-mode forward pass, in chunks larger and
// smaller than the workspace.
func TestPredict(t *testing.T) {
	n := newTestNet(t, "mlp:8", "relu", 0.5, 4, 3)
	rng := rand.New(rand.NewPCG(9, 9))
	p := n.Layout().NewVector()
	if err := n.Init(p, "default", rng); err != nil {
		t.Fatal(err)
	}
	x := toF32(randMat[float64](rng, 11, 4, 4, 1))
	ws := n.NewWorkspace(4) // 11 rows: chunks of 4, 4, 3
	probs := NewMatrix(11, 3)
	n.Predict(probs, ws, p, x, LinkSoftmax)
	raw := NewMatrix(11, 3)
	n.Predict(raw, ws, p, x, LinkIdentity)
	big := n.NewWorkspace(11)
	want := n.Forward(big, p, x, false, 0)
	for i := range 11 {
		var sum float64
		for j := range 3 {
			if raw.At(i, j) != want.At(i, j) {
				t.Fatalf("identity (%d,%d) = %v, forward %v", i, j, raw.At(i, j), want.At(i, j))
			}
			sum += float64(probs.At(i, j))
		}
		if math.Abs(sum-1) > 1e-6 {
			t.Fatalf("row %d probabilities sum to %v", i, sum)
		}
		var am [1]int32
		Argmax(am[:], probs.SliceRows(i, i+1))
		var aw [1]int32
		Argmax(aw[:], want.SliceRows(i, i+1))
		if am != aw {
			t.Fatalf("row %d: softmax changed the argmax", i)
		}
	}
	sig := newTestNet(t, "linear", "", 0, 4, 1)
	ps := sig.Layout().NewVector()
	if err := sig.Init(ps, "default", rng); err != nil {
		t.Fatal(err)
	}
	pr := NewMatrix(11, 1)
	sig.Predict(pr, sig.NewWorkspace(11), ps, x, LinkSigmoid)
	logit := sig.Forward(sig.NewWorkspace(11), ps, x, false, 0)
	for i := range 11 {
		if w := 1 / (1 + math.Exp(-float64(logit.At(i, 0)))); math.Abs(float64(pr.At(i, 0))-w) > 1e-6 {
			t.Fatalf("sigmoid row %d = %v, want %v", i, pr.At(i, 0), w)
		}
	}
}
