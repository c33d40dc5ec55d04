package ops

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// golden is a PyTorch full-batch trajectory (see testdata/golden/README.md).
type golden struct {
	Dataset  string   `json:"dataset"`
	Features []string `json:"features"`
	Target   string   `json:"target"`
	Hyper    struct{ LR, Momentum float64 }
	Steps    int         `json:"steps"`
	Weight   [][]float64 `json:"weight"`
	Bias     []float64   `json:"bias"`
	Losses   []float64   `json:"losses"`
	Final    float64     `json:"final_loss"`
}

func readGolden(t *testing.T, name string) (golden, [][]float64, []float64) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	f, err := os.Open(filepath.Join("testdata", "golden", g.Dataset))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", g.Dataset, err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var x [][]float64
	var y []float64
	for _, r := range rows[1:] {
		var xr []float64
		for _, name := range append(g.Features, g.Target) {
			v, err := strconv.ParseFloat(r[col[name]], 64)
			if err != nil {
				t.Fatalf("%s: %v", g.Dataset, err)
			}
			xr = append(xr, v)
		}
		x = append(x, xr[:len(g.Features)])
		y = append(y, xr[len(g.Features)])
	}
	return g, x, y
}

// TestPyTorchGolden replays PyTorch's full-batch training of nn.Linear with
// CrossEntropyLoss and MSELoss (SGD, with and without momentum, torch's update rule)
// and compares every step's loss and the final parameters: the float64 instantiation
// to 1e-9 relative, the float32 Net to 1e-4 (the golden README's float32 bound).
func TestPyTorchGolden(t *testing.T) {
	for _, file := range []string{"fullbatch_logreg_momentum.json", "fullbatch_linreg_sgd.json", "fullbatch_linreg_momentum.json"} {
		t.Run(file, func(t *testing.T) {
			g, xs, ys := readGolden(t, file)
			n, in, out := len(xs), len(g.Features), len(g.Weight)
			x64 := mat[float64]{Rows: n, Cols: in, Stride: in, Data: make([]float64, n*in)}
			for i, r := range xs {
				copy(x64.row(i), r)
			}
			labels := make([]int32, n)
			y64 := mat[float64]{Rows: n, Cols: 1, Stride: 1, Data: ys}
			for i, v := range ys {
				labels[i] = int32(v)
			}
			classify := out > 1
			eval64 := func(dst, o mat[float64], scale float64) (float64, error) {
				if classify {
					return crossEntropy(dst, o, labels, 0, scale)
				}
				return regression(dst, o, y64, 0, scale)
			}
			var loss32 Loss = MSE{}
			tg32 := Targets{Values: toF32(y64)}
			if classify {
				loss32, tg32 = CrossEntropy{}, Targets{Labels: labels}
			}

			net64, err := buildNetwork[float64]([]LayerSpec{{Type: LayerDense, Units: out}}, in)
			if err != nil {
				t.Fatal(err)
			}
			net32, err := NewNet(Spec{}, in, out)
			if err != nil {
				t.Fatal(err)
			}
			p64, g64, m64 := make([]float64, net64.layout.Size), make([]float64, net64.layout.Size), make([]float64, net64.layout.Size)
			p32, g32, m32 := net32.Layout().NewVector(), net32.Layout().NewVector(), net32.Layout().NewVector()
			ws64, ws32 := net64.newWorkspace(n), net32.NewWorkspace(n)
			d64 := mat[float64]{Rows: n, Cols: out, Stride: out, Data: make([]float64, n*out)}
			d32 := NewMatrix(n, out)
			x32 := toF32(x64)
			lr, mom := g.Hyper.LR, g.Hyper.Momentum
			var l64, l32 float64
			for step := 0; step <= g.Steps; step++ {
				o64 := net64.forward(ws64, p64, x64, true, 0)
				s64, err := eval64(d64, o64, 1/float64(n))
				if err != nil {
					t.Fatal(err)
				}
				o32 := net32.Forward(ws32, p32, x32, true, 0)
				s32, err := loss32.Eval(d32, o32, tg32, 1/float32(n))
				if err != nil {
					t.Fatal(err)
				}
				l64, l32 = s64/float64(n), s32/float64(n)
				want := g.Final
				if step < g.Steps {
					want = g.Losses[step]
				}
				if math.Abs(l64-want) > 1e-9*max(1, want) || math.Abs(l32-want) > 1e-4*max(1, want) {
					t.Fatalf("loss before step %d: float64 %v, float32 %v, PyTorch %v", step+1, l64, l32, want)
				}
				if step == g.Steps {
					break
				}
				net64.backward(ws64, p64, d64, g64, mat[float64]{})
				net32.Backward(ws32, p32, d32, g32)
				// torch.optim.SGD: buf = g at step 1, else mom·buf + g; p -= lr·buf.
				for i := range p64 {
					if step == 0 || mom == 0 {
						m64[i], m32[i] = g64[i], g32[i]
					} else {
						m64[i] = mom*m64[i] + g64[i]
						m32[i] = float32(mom)*m32[i] + g32[i]
					}
					p64[i] -= lr * m64[i]
					p32[i] -= float32(lr) * m32[i]
				}
			}
			var want []float64
			for _, r := range g.Weight {
				want = append(want, r...)
			}
			want = append(want, g.Bias...)
			if d, norm := infDist(p64, want); d > 1e-9*max(norm, 1) {
				t.Errorf("float64 params: ‖got-want‖∞ = %g%s", d, side(p64, want))
			}
			if d, norm := infDist(p32, want); d > 1e-4*max(norm, 1) {
				t.Errorf("float32 params: ‖got-want‖∞ = %g%s", d, side(p32, want))
			}
		})
	}
}
