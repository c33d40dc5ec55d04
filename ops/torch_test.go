package ops

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// torchCase is one small MLP evaluated by PyTorch in float64
// (testdata/torch/make_golden.py).
type torchCase struct {
	Name     string    `json:"name"`
	Spec     Spec      `json:"spec"`
	In       int       `json:"in"`
	Out      int       `json:"out"`
	Loss     string    `json:"loss"`
	Labels   []int32   `json:"labels"`
	Targets  []float64 `json:"targets"`
	Names    []string  `json:"names"`
	X        []float64 `json:"x"`
	Params   []float64 `json:"params"`
	Outputs  []float64 `json:"outputs"`
	LossMean float64   `json:"loss_mean"`
	Grads    []float64 `json:"grads"`
	DX       []float64 `json:"dx"`
}

// evalLoss64 evaluates the float64 instantiation of l.
func evalLoss64(l Loss, dst, out mat[float64], labels []int32, targets mat[float64], scale float64) (float64, error) {
	switch l := l.(type) {
	case CrossEntropy:
		return crossEntropy(dst, out, labels, l.Smoothing, scale)
	case BCEWithLogits:
		return bceWithLogits(dst, out, labels, targets, scale)
	case MSE:
		return regression(dst, out, targets, 0, scale)
	case Huber:
		return regression(dst, out, targets, l.Delta, scale)
	case Hinge:
		return hinge(dst, out, labels, scale)
	}
	panic(fmt.Sprintf("no float64 loss for %v", l))
}

// TestTorchMLP compares small MLPs (every activation, every loss, label smoothing,
// batch 1) with PyTorch: parameter names (state_dict order), outputs, mean loss, and
// the gradients with respect to the parameters and the input. The float64
// instantiation must agree to 1e-12, the float32 Net to 1e-5, relative to
// max(1, ‖PyTorch‖∞).
func TestTorchMLP(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "torch", "mlp_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Cases []torchCase }
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) < 7 {
		t.Fatalf("%d cases in the golden file", len(file.Cases))
	}
	for _, tc := range file.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			loss, err := ParseLoss(tc.Loss)
			if err != nil {
				t.Fatal(err)
			}
			net, err := NewNet(tc.Spec, tc.In, tc.Out)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, ti := range net.Layout().Tensors {
				names = append(names, ti.Name)
			}
			if fmt.Sprint(names) != fmt.Sprint(tc.Names) || net.NumParams() != len(tc.Params) {
				t.Fatalf("layout %v (%d), PyTorch state_dict %v (%d)", names, net.NumParams(), tc.Names, len(tc.Params))
			}
			bs := len(tc.X) / tc.In
			x := mat[float64]{Rows: bs, Cols: tc.In, Stride: tc.In, Data: tc.X}
			var targets mat[float64]
			if tc.Targets != nil {
				targets = mat[float64]{Rows: bs, Cols: tc.Out, Stride: tc.Out, Data: tc.Targets}
			}
			check := func(what string, got []float64, want []float64, tol float64) {
				t.Helper()
				if d, norm := infDist(got, want); d > tol*max(1, norm) || len(got) != len(want) {
					t.Errorf("%s: ‖got-PyTorch‖∞ = %.3g > %g·max(1, %.3g)%s", what, d, tol, norm, side(got, want))
				}
			}

			// float64 instantiation.
			layers := append(append([]LayerSpec(nil), tc.Spec.Layers...), LayerSpec{Type: LayerDense, Units: tc.Out})
			n64, err := buildNetwork[float64](layers, tc.In)
			if err != nil {
				t.Fatal(err)
			}
			ws64 := n64.newWorkspace(bs)
			out64 := n64.forward(ws64, tc.Params, x, true, 0)
			check("float64 outputs", out64.Data, tc.Outputs, 1e-12)
			d64 := mat[float64]{Rows: bs, Cols: tc.Out, Stride: tc.Out, Data: make([]float64, bs*tc.Out)}
			sum, err := evalLoss64(loss, d64, out64, tc.Labels, targets, 1/float64(bs))
			if err != nil {
				t.Fatal(err)
			}
			check("float64 loss", []float64{sum / float64(bs)}, []float64{tc.LossMean}, 1e-12)
			g64 := make([]float64, len(tc.Params))
			dx64 := mat[float64]{Rows: bs, Cols: tc.In, Stride: tc.In, Data: make([]float64, bs*tc.In)}
			n64.backward(ws64, tc.Params, d64, g64, dx64)
			check("float64 grads", g64, tc.Grads, 1e-12)
			check("float64 dx", dx64.Data, tc.DX, 1e-12)

			// float32 Net.
			p32 := make([]float32, len(tc.Params))
			for i, v := range tc.Params {
				p32[i] = float32(v)
			}
			ws := net.NewWorkspace(bs)
			out := net.Forward(ws, p32, toF32(x), true, 0)
			check("float32 outputs", widen(out.Data), tc.Outputs, 1e-5)
			d32 := NewMatrix(bs, tc.Out)
			y := Targets{Labels: tc.Labels}
			if tc.Targets != nil {
				y.Values = toF32(targets)
			}
			sum32, err := loss.Eval(d32, out, y, 1/float32(bs))
			if err != nil {
				t.Fatal(err)
			}
			check("float32 loss", []float64{sum32 / float64(bs)}, []float64{tc.LossMean}, 1e-5)
			g32 := make([]float32, len(p32))
			net.Backward(ws, p32, d32, g32)
			check("float32 grads", widen(g32), tc.Grads, 1e-5)
		})
	}
}

func widen(v []float32) []float64 {
	w := make([]float64, len(v))
	for i, x := range v {
		w[i] = float64(x)
	}
	return w
}
