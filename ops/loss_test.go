package ops

import (
	"math"
	"strings"
	"testing"
)

// TestLossValues checks values and gradients against numbers worked out by hand (and
// matching PyTorch's functional losses with mean reduction).
func TestLossValues(t *testing.T) {
	m := func(rows, cols int, v ...float32) Matrix { return MatrixOf(v, rows, cols) }
	cases := []struct {
		name     string
		loss     Loss
		out      Matrix
		y        Targets
		wantSum  float64
		wantGrad []float32 // with scale 1, nil to skip
	}{
		{"ce uniform", CrossEntropy{}, m(1, 2, 0, 0), Targets{Labels: []int32{0}}, math.Ln2, []float32{-0.5, 0.5}},
		{"ce 3 classes", CrossEntropy{}, m(1, 3, 1, 2, 3), Targets{Labels: []int32{2}}, 0.40760596444438, nil},
		{"ce smoothing", CrossEntropy{Smoothing: 0.1}, m(1, 3, 1, 2, 3), Targets{Labels: []int32{2}}, 0.9*0.40760596444438 + 0.1*(3.40760596444438-2), nil},
		{"ce huge logits", CrossEntropy{}, m(2, 2, 1000, -1000, 3e38, -3e38), Targets{Labels: []int32{1, 0}}, 2000, []float32{1, -1, 0, 0}},
		{"bce label", BCEWithLogits{}, m(2, 1, 0, 2), Targets{Labels: []int32{1, 0}}, math.Ln2 + math.Log1p(math.Exp(2)), []float32{-0.5, float32(sigmoid(2))}},
		{"bce huge logit", BCEWithLogits{}, m(1, 1, 1000), Targets{Labels: []int32{0}}, 1000, []float32{1}},
		{"bce probabilities", BCEWithLogits{}, m(1, 2, 0, 0), Targets{Values: m(1, 2, 0.25, 1)}, math.Ln2, []float32{0.125, -0.25}},
		{"mse", MSE{}, m(2, 2, 1, 2, 0, 0), Targets{Values: m(2, 2, 0, 0, 0, 1)}, 2.5 + 0.5, []float32{1, 2, 0, -1}},
		{"huber", Huber{Delta: 1}, m(1, 2, 0.5, 3), Targets{Values: m(1, 2, 0, 0)}, (0.125 + 2.5) / 2, []float32{0.25, 0.5}},
		{"hinge", Hinge{}, m(4, 1, 0.3, -2, 0.5, 1), Targets{Labels: []int32{1, 0, -1, 1}}, 0.7 + 0 + 1.5 + 0, []float32{-1, 0, 1, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := NewMatrix(tc.out.Rows, tc.out.Cols)
			sum, err := tc.loss.Eval(dst, tc.out, tc.y, 1)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(sum-tc.wantSum) > 1e-6*max(1, math.Abs(tc.wantSum)) {
				t.Errorf("sum %v, want %v", sum, tc.wantSum)
			}
			for i, w := range tc.wantGrad {
				if math.Abs(float64(dst.Data[i]-w)) > 1e-6 {
					t.Errorf("grad %v, want %v", dst.Data, tc.wantGrad)
					break
				}
			}
			// scale multiplies the gradient only.
			half := NewMatrix(tc.out.Rows, tc.out.Cols)
			s2, _ := tc.loss.Eval(half, tc.out, tc.y, 0.5)
			for i := range half.Data {
				if s2 != sum || half.Data[i] != dst.Data[i]*0.5 {
					t.Fatalf("scale 0.5: sum %v (want %v), grad %v (want half of %v)", s2, sum, half.Data, dst.Data)
				}
			}
		})
	}
}

func TestLossErrors(t *testing.T) {
	m := func(rows, cols int) Matrix { return NewMatrix(rows, cols) }
	cases := []struct {
		loss Loss
		out  Matrix
		y    Targets
		want string
	}{
		{CrossEntropy{}, m(2, 3), Targets{Labels: []int32{0, 3}}, "label 3 at row 1 is out of range [0, 3)"},
		{CrossEntropy{}, m(2, 3), Targets{Labels: []int32{-1, 0}}, "label -1 at row 0"},
		{CrossEntropy{}, m(2, 3), Targets{Labels: []int32{0}}, "1 labels for 2 rows"},
		{CrossEntropy{}, m(2, 1), Targets{Labels: []int32{0, 0}}, "at least 2 outputs"},
		{CrossEntropy{Smoothing: 1.5}, m(1, 2), Targets{Labels: []int32{0}}, "smoothing"},
		{BCEWithLogits{}, m(1, 2), Targets{Labels: []int32{0}}, "needs 1 output"},
		{BCEWithLogits{}, m(1, 1), Targets{Labels: []int32{2}}, "label 2 at row 0"},
		{BCEWithLogits{}, m(1, 1), Targets{Values: MatrixOf([]float32{1.5}, 1, 1)}, "not a probability"},
		{BCEWithLogits{}, m(2, 1), Targets{Values: m(1, 1)}, "targets are 1×1"},
		{MSE{}, m(2, 2), Targets{}, "needs real-valued targets"},
		{MSE{}, m(2, 2), Targets{Values: m(2, 3)}, "targets are 2×3, outputs 2×2"},
		{Huber{}, m(1, 1), Targets{Values: m(1, 1)}, "delta"},
		{Hinge{}, m(1, 2), Targets{Labels: []int32{1}}, "needs 1 output"},
		{Hinge{}, m(2, 1), Targets{Labels: []int32{1}}, "1 labels for 2 rows"},
	}
	for _, tc := range cases {
		_, err := tc.loss.Eval(NewMatrix(tc.out.Rows, tc.out.Cols), tc.out, tc.y, 1)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.loss, err, tc.want)
		}
	}
	defer func() {
		if r := recover(); r != errShape {
			t.Fatalf("misshapen dst: panic %v, want %q", r, errShape)
		}
	}()
	MSE{}.Eval(NewMatrix(1, 1), NewMatrix(2, 1), Targets{Values: NewMatrix(2, 1)}, 1)
}

func TestParseLoss(t *testing.T) {
	for s, want := range map[string]Loss{
		"crossentropy": CrossEntropy{}, "ce": CrossEntropy{}, "crossentropy:0.1": CrossEntropy{Smoothing: 0.1},
		"bce": BCEWithLogits{}, "mse": MSE{}, "huber": Huber{Delta: 1}, " huber:2.5": Huber{Delta: 2.5}, "hinge": Hinge{},
	} {
		got, err := ParseLoss(s)
		if err != nil || got != want {
			t.Errorf("ParseLoss(%q) = %v, %v; want %v", s, got, err, want)
		}
		if back, err := ParseLoss(got.String()); err != nil || back != got {
			t.Errorf("ParseLoss(%q.String()) = %v, %v", s, back, err)
		}
	}
	for _, s := range []string{"", "l1", "crossentropy:1.5", "crossentropy:-0.1", "ce:x", "huber:0", "huber:-1", "huber:inf", "mse:1", "bce:0.5", "hinge:2"} {
		if _, err := ParseLoss(s); err == nil || !strings.HasPrefix(err.Error(), "--loss: ") {
			t.Errorf("ParseLoss(%q) = %v, want an error naming --loss", s, err)
		}
	}
	if (CrossEntropy{}).Link() != LinkSoftmax || (BCEWithLogits{}).Link() != LinkSigmoid || (MSE{}).Link() != LinkIdentity {
		t.Fatal("wrong links")
	}
}

// FuzzParseLoss: ParseLoss never panics, names the flag in its errors, and what it
// accepts round-trips through String and evaluates to a finite loss.
func FuzzParseLoss(f *testing.F) {
	for _, s := range []string{"crossentropy", "ce:0.1", "bce", "mse", "huber:1.5", "hinge", "huber:", "ce:1e400", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLoss(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--loss: ") {
				t.Fatalf("error %q does not name --loss", err)
			}
			return
		}
		if back, err := ParseLoss(l.String()); err != nil || back != l {
			t.Fatalf("round trip %q → %v → %v, %v", s, l, back, err)
		}
		out := MatrixOf([]float32{0.5, -1, 2, 0}, 2, 2)
		y := Targets{Labels: []int32{1, 0}, Values: MatrixOf([]float32{0, 1, 1, 0}, 2, 2)}
		if _, ok := l.(Hinge); ok {
			out = Matrix{Rows: 2, Cols: 1, Stride: 2, Data: out.Data} // first column
		}
		if _, ok := l.(BCEWithLogits); ok {
			y.Labels = nil
		}
		sum, err := l.Eval(NewMatrix(out.Rows, out.Cols), out, y, 0.5)
		if err != nil || math.IsNaN(sum) || math.IsInf(sum, 0) {
			t.Fatalf("%v.Eval = %v, %v", l, sum, err)
		}
	})
}

// FuzzCheckInit: CheckInit never panics and agrees with Net.Init.
func FuzzCheckInit(f *testing.F) {
	for _, s := range []string{"default", "uniform:0.1", "normal:", "orthogonal:2", "he_normal", "xavier_uniform:1", "kaiming_uniform"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := CheckInit(s)
		if err != nil && !strings.HasPrefix(err.Error(), "--init: ") {
			t.Fatalf("error %q does not name --init", err)
		}
		n, _ := NewNet(Spec{}, 3, 2)
		p := n.Layout().NewVector()
		if ierr := n.Init(p, s, newRand(1)); (ierr == nil) != (err == nil) {
			t.Fatalf("CheckInit(%q) = %v but Init = %v", s, err, ierr)
		}
		for _, v := range p {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("Init(%q) drew %v", s, v)
			}
		}
	})
}
