package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The gradient checks run the float64 instantiation of the very kernels Net uses in
// float32, and compare analytic gradients with central differences
// (f(v+h) - f(v-h))/2h in float64. Truncation error is O(h²) and rounding error
// O(ε·|f|/h); with h = 1e-6 both stay far below the 1e-6 relative bound, measured as
// ‖analytic - numeric‖∞ / ‖numeric‖∞.
const (
	fdStep   = 1e-6
	fdRelTol = 1e-6
)

// numGrad returns the central-difference gradient of f with respect to v, perturbing
// v in place and restoring it.
func numGrad(f func() float64, v []float64) []float64 {
	g := make([]float64, len(v))
	for i := range v {
		old := v[i]
		v[i] = old + fdStep
		fp := f()
		v[i] = old - fdStep
		fm := f()
		v[i] = old
		g[i] = (fp - fm) / (2 * fdStep)
	}
	return g
}

// checkGrad fails t if analytic and numeric differ by more than fdRelTol relative to
// ‖numeric‖∞, reporting the ∞-norm distance.
func checkGrad(t *testing.T, what string, analytic, numeric []float64) {
	t.Helper()
	dist, norm := infDist(analytic, numeric)
	if dist > fdRelTol*norm { // a zero numeric gradient (softmax of one column) must be matched exactly
		t.Errorf("%s: ‖analytic-numeric‖∞ = %.3g, ‖numeric‖∞ = %.3g, relative %.3g > %g%s",
			what, dist, norm, dist/norm, fdRelTol, side(analytic, numeric))
	}
}

// gradShapes are (batch, input width, dense output width): batch 1, odd sizes.
var gradShapes = [][3]int{{1, 1, 1}, {1, 4, 3}, {3, 5, 7}, {5, 7, 2}, {2, 13, 11}}

// TestGradcheckLayers checks every layer type alone: the gradient of Σ c⊙layer(x) with
// respect to x and to the layer's parameters.
func TestGradcheckLayers(t *testing.T) {
	cases := []struct {
		name  string
		spec  func(out int) LayerSpec
		train bool
	}{
		{"dense", func(out int) LayerSpec { return LayerSpec{Type: LayerDense, Units: out} }, true},
		{"relu", func(int) LayerSpec { return LayerSpec{Type: LayerReLU} }, true},
		{"leakyrelu", func(int) LayerSpec { return LayerSpec{Type: LayerLeakyReLU, Slope: 0.2} }, true},
		{"leakyrelu_negative_slope", func(int) LayerSpec { return LayerSpec{Type: LayerLeakyReLU, Slope: -0.5} }, true},
		{"tanh", func(int) LayerSpec { return LayerSpec{Type: LayerTanh} }, true},
		{"sigmoid", func(int) LayerSpec { return LayerSpec{Type: LayerSigmoid} }, true},
		{"gelu", func(int) LayerSpec { return LayerSpec{Type: LayerGELU} }, true},
		{"gelu_tanh", func(int) LayerSpec { return LayerSpec{Type: LayerGELUTanh} }, true},
		{"softmax", func(int) LayerSpec { return LayerSpec{Type: LayerSoftmax} }, true},
		{"dropout_train", func(int) LayerSpec { return LayerSpec{Type: LayerDropout, Rate: 0.4} }, true},
		{"dropout_eval", func(int) LayerSpec { return LayerSpec{Type: LayerDropout, Rate: 0.4} }, false},
	}
	for _, tc := range cases {
		for _, sh := range gradShapes {
			b, in, out := sh[0], sh[1], sh[2]
			t.Run(fmt.Sprintf("%s/B=%d/in=%d/out=%d", tc.name, b, in, out), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(b*1000+in), uint64(out)))
				net, err := buildNetwork[float64]([]LayerSpec{tc.spec(out)}, in)
				if err != nil {
					t.Fatal(err)
				}
				gradcheckNet(t, net, rng, b, tc.train)
			})
		}
	}
}

// gradcheckNet checks the gradients of f = Σ c⊙net(x) with respect to x and params.
func gradcheckNet(t *testing.T, net *network[float64], rng *rand.Rand, b int, train bool) {
	t.Helper()
	p := randVec[float64](rng, net.layout.Size, 0.7)
	x := randMat[float64](rng, b, net.in, net.in+2, 1) // stride > cols: a view
	c := randMat[float64](rng, b, net.out, net.out, 1)
	ws := net.newWorkspace(b)
	const seed = 42
	f := func() float64 {
		y := net.forward(ws, p, x, train, seed)
		var s float64
		for i := range y.Rows {
			for j, v := range y.row(i) {
				s += c.at(i, j) * v
			}
		}
		return s
	}
	f()
	g := make([]float64, len(p))
	for i := range g {
		g[i] = 1e300 // overwritten, not accumulated
	}
	dx := mat[float64]{Rows: b, Cols: net.in, Stride: net.in, Data: make([]float64, b*net.in)}
	net.backward(ws, p, c, g, dx)

	// numGrad over x.Data includes the stride padding, whose gradient is 0: compare rows.
	nx := numGrad(f, x.Data)
	var nxRows []float64
	for i := range b {
		nxRows = append(nxRows, nx[i*x.Stride:i*x.Stride+net.in]...)
	}
	checkGrad(t, "d/dx", dx.Data, nxRows)
	if len(p) > 0 {
		checkGrad(t, "d/dparams", g, numGrad(f, p))
	}
}

// lossFunc is the float64 instantiation of one loss, with its targets bound.
type lossFunc func(dst, out mat[float64], scale float64) (float64, error)

// lossCase builds a loss and matching random targets for a b×k output.
type lossCase struct {
	name string
	cols []int // output widths to try
	make func(rng *rand.Rand, b, k int) lossFunc
}

func randLabels(rng *rand.Rand, b, k int) []int32 {
	l := make([]int32, b)
	for i := range l {
		l[i] = int32(rng.IntN(k))
	}
	return l
}

var lossCases = []lossCase{
	{"crossentropy", []int{2, 3, 10}, func(rng *rand.Rand, b, k int) lossFunc {
		l := randLabels(rng, b, k)
		return func(dst, out mat[float64], s float64) (float64, error) { return crossEntropy(dst, out, l, 0, s) }
	}},
	{"crossentropy_smoothing", []int{2, 3, 10}, func(rng *rand.Rand, b, k int) lossFunc {
		l := randLabels(rng, b, k)
		return func(dst, out mat[float64], s float64) (float64, error) { return crossEntropy(dst, out, l, 0.1, s) }
	}},
	{"bce_labels", []int{1}, func(rng *rand.Rand, b, k int) lossFunc {
		l := randLabels(rng, b, 2)
		return func(dst, out mat[float64], s float64) (float64, error) {
			return bceWithLogits(dst, out, l, mat[float64]{}, s)
		}
	}},
	{"bce_probabilities", []int{1, 3}, func(rng *rand.Rand, b, k int) lossFunc {
		p := randMat[float64](rng, b, k, k, 1)
		for i := range p.Data {
			p.Data[i] = sigmoid(p.Data[i])
		}
		return func(dst, out mat[float64], s float64) (float64, error) { return bceWithLogits(dst, out, nil, p, s) }
	}},
	{"mse", []int{1, 3}, func(rng *rand.Rand, b, k int) lossFunc {
		y := randMat[float64](rng, b, k, k, 1)
		return func(dst, out mat[float64], s float64) (float64, error) { return regression(dst, out, y, 0, s) }
	}},
	{"huber", []int{1, 4}, func(rng *rand.Rand, b, k int) lossFunc {
		y := randMat[float64](rng, b, k, k, 2) // residuals on both sides of delta
		return func(dst, out mat[float64], s float64) (float64, error) { return regression(dst, out, y, 0.8, s) }
	}},
	{"hinge", []int{1}, func(rng *rand.Rand, b, k int) lossFunc {
		l := randLabels(rng, b, 2)
		return func(dst, out mat[float64], s float64) (float64, error) { return hinge(dst, out, l, s) }
	}},
}

// TestGradcheckLosses checks dst = scale·∂(sum)/∂out against finite differences of
// scale·sum for every loss, with scale ≠ 1 so a missing factor shows.
func TestGradcheckLosses(t *testing.T) {
	for _, lc := range lossCases {
		for _, k := range lc.cols {
			for _, b := range []int{1, 3, 8} {
				t.Run(fmt.Sprintf("%s/B=%d/k=%d", lc.name, b, k), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(b), uint64(k)))
					f := lc.make(rng, b, k)
					out := randMat[float64](rng, b, k, k+1, 2)
					const scale = 0.37
					dst := mat[float64]{Rows: b, Cols: k, Stride: k, Data: make([]float64, b*k)}
					sum, err := f(dst, out, scale)
					if err != nil {
						t.Fatal(err)
					}
					value, err := f(mat[float64]{}, out, scale) // value only
					if err != nil || value != sum {
						t.Fatalf("sum without gradient = %v, %v; with gradient %v", value, err, sum)
					}
					num := numGrad(func() float64 {
						s, err := f(mat[float64]{}, out, scale)
						if err != nil {
							t.Fatal(err)
						}
						return scale * s
					}, out.Data)
					var rows []float64
					for i := range b {
						rows = append(rows, num[i*out.Stride:i*out.Stride+k]...)
					}
					checkGrad(t, "d/dout", dst.Data, rows)
				})
			}
		}
	}
}

// TestGradcheckMLP checks a 3-layer MLP end to end, through the loss, with every
// activation and dropout in training mode: the gradient of the summed loss with
// respect to all parameters and to the input.
func TestGradcheckMLP(t *testing.T) {
	for _, act := range []string{"relu", "leakyrelu:0.1", "tanh", "sigmoid", "gelu", "gelu_tanh"} {
		for _, drop := range []float64{0, 0.3} {
			for _, sh := range [][3]int{{1, 6, 4}, {4, 9, 3}, {7, 5, 10}} {
				b, in, out := sh[0], sh[1], sh[2]
				t.Run(fmt.Sprintf("%s/dropout=%v/B=%d/in=%d/out=%d", act, drop, b, in, out), func(t *testing.T) {
					spec, err := ParseSpec("mlp:8,5", act, drop)
					if err != nil {
						t.Fatal(err)
					}
					layers := append(spec.Layers, LayerSpec{Type: LayerDense, Units: out})
					net, err := buildNetwork[float64](layers, in)
					if err != nil {
						t.Fatal(err)
					}
					if got := len(net.layout.Tensors); got != 6 {
						t.Fatalf("%d tensors, want 6 (3 dense layers)", got)
					}
					rng := rand.New(rand.NewPCG(uint64(b), uint64(in*out)))
					p := randVec[float64](rng, net.layout.Size, 0.5)
					x := randMat[float64](rng, b, in, in, 1)
					labels := randLabels(rng, b, out)
					ws := net.newWorkspace(b + 2)
					scale := 1 / float64(b)
					const seed = 7
					f := func() float64 {
						y := net.forward(ws, p, x, true, seed)
						s, err := crossEntropy(mat[float64]{}, y, labels, 0.05, scale)
						if err != nil {
							t.Fatal(err)
						}
						return s * scale
					}
					y := net.forward(ws, p, x, true, seed)
					dOut := mat[float64]{Rows: b, Cols: out, Stride: out, Data: make([]float64, b*out)}
					if _, err := crossEntropy(dOut, y, labels, 0.05, scale); err != nil {
						t.Fatal(err)
					}
					g := randVec[float64](rng, len(p), 1e6) // garbage: Backward overwrites
					dx := mat[float64]{Rows: b, Cols: in, Stride: in, Data: make([]float64, b*in)}
					net.backward(ws, p, dOut, g, dx)
					checkGrad(t, "d/dparams", g, numGrad(f, p))
					checkGrad(t, "d/dx", dx.Data, numGrad(f, x.Data))
				})
			}
		}
	}
}
