package ops_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/sgdpipe/sgdpipe/ops"
)

// A training step on one micro-batch: forward, loss, backward, plain SGD.
func Example() {
	spec, err := ops.ParseSpec("mlp:16", "relu", 0) // --model mlp:16 --activation relu
	if err != nil {
		panic(err)
	}
	net, err := ops.NewNet(spec, 2, 2) // 2 features, 2 classes
	if err != nil {
		panic(err)
	}
	params := net.Layout().NewVector()
	grads := net.Layout().NewVector()
	if err := net.Init(params, "default", rand.New(rand.NewPCG(1, 2))); err != nil {
		panic(err)
	}
	// XOR: four rows of a batch, as a view over a flat slice.
	x := ops.MatrixOf([]float32{0, 0, 0, 1, 1, 0, 1, 1}, 4, 2)
	y := ops.Targets{Labels: []int32{0, 1, 1, 0}}
	ws := net.NewWorkspace(4)
	dOut := ops.NewMatrix(4, 2)
	loss := ops.CrossEntropy{}
	var sum float64
	for step := range 500 {
		out := net.Forward(ws, params, x, true, uint64(step))
		if sum, err = loss.Eval(dOut, out, y, 1.0/4); err != nil { // mean over 4 rows
			panic(err)
		}
		net.Backward(ws, params, dOut, grads)
		for i, g := range grads {
			params[i] -= 0.5 * g
		}
	}
	out := net.Forward(ws, params, x, false, 0)
	fmt.Printf("loss < 0.05: %v, correct: %d of 4\n", sum/4 < 0.05, ops.CountCorrect(out, y.Labels))
	// Output: loss < 0.05: true, correct: 4 of 4
}

func ExampleParseSpec() {
	spec, err := ops.ParseSpec("mlp:256,128", "gelu", 0.1)
	if err != nil {
		panic(err)
	}
	fmt.Println(spec)
	net, _ := ops.NewNet(spec, 784, 10)
	fmt.Println(net.Layout())
	_, err = ops.ParseSpec("mlp:256,x", "relu", 0)
	fmt.Println(err)
	// Output:
	// dense(256)-gelu-dropout(0.1)-dense(128)-gelu-dropout(0.1)-dense(out)
	// 0.weight[256 784] 0.bias[256] 3.weight[128 256] 3.bias[128] 6.weight[10 128] 6.bias[10] (235146 elements)
	// --model: "mlp:256,x": layer width "x" must be an integer in [1, 1048576]
}

// Tensors are named views into one flat vector; a view shares memory with it.
func ExampleLayout() {
	net, _ := ops.NewNet(ops.Spec{}, 3, 2) // linear: one Dense layer
	params := net.Layout().NewVector()
	w, _ := net.Layout().Lookup("0.weight")
	wm := w.Matrix(params) // (2, 3), row-major, as PyTorch's nn.Linear.weight
	wm.Set(1, 2, 7)
	fmt.Println(w.Name, w.Shape, w.Offset, w.Size, params)
	// Output: 0.weight [2 3] 0 6 [0 0 0 0 0 7 0 0]
}

func ExampleGemm() {
	a := ops.MatrixOf([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	b := ops.MatrixOf([]float32{1, 0, 1, 0, 1, 0}, 2, 3)
	dst := ops.NewMatrix(2, 2)
	ops.Gemm(dst, 1, a, false, b, true, 0) // dst = a·bᵀ
	fmt.Println(dst.Data)
	// Output: [4 2 10 5]
}

// The sum over a micro-batch lets a trainer add micro-batch gradients and divide by
// the full batch size once.
func ExampleCrossEntropy_Eval() {
	out := ops.MatrixOf([]float32{2, 0, 0, 0, 1, 3}, 2, 3) // logits, 2 rows, 3 classes
	dst := ops.NewMatrix(2, 3)
	sum, err := ops.CrossEntropy{Smoothing: 0.1}.Eval(dst, out, ops.Targets{Labels: []int32{0, 2}}, 0.5)
	if err != nil {
		panic(err)
	}
	fmt.Printf("mean %.4f\n", sum/2)
	fmt.Printf("%.4f\n", dst.Row(0))
	_, err = ops.CrossEntropy{}.Eval(dst, out, ops.Targets{Labels: []int32{0, 3}}, 0.5)
	fmt.Println(err)
	// Output:
	// mean 0.3547
	// [-0.0732 0.0366 0.0366]
	// crossentropy: label 3 at row 1 is out of range [0, 3)
}

func ExampleParseLoss() {
	for _, s := range []string{"ce:0.1", "huber", "hinge", "l1"} {
		l, err := ops.ParseLoss(s)
		fmt.Println(l, err)
	}
	// Output:
	// crossentropy:0.1 <nil>
	// huber:1 <nil>
	// hinge <nil>
	// <nil> --loss: "l1": want crossentropy[:SMOOTHING], bce, mse, huber[:DELTA] or hinge
}

func ExampleNet_Init() {
	net, _ := ops.NewNet(ops.Spec{}, 4, 3)
	params := net.Layout().NewVector()
	if err := net.Init(params, "orthogonal", rand.New(rand.NewPCG(1, 1))); err != nil {
		panic(err)
	}
	w, _ := net.Layout().Lookup("0.weight")
	wwt := ops.NewMatrix(3, 3)
	ops.Gemm(wwt, 1, w.Matrix(params), false, w.Matrix(params), true, 0) // W·Wᵀ = I for a wide W
	for i := range 3 {
		for _, v := range wwt.Row(i) {
			fmt.Printf(" %.3f", math.Round(float64(v)*1000)/1000+0) // +0 turns -0 into 0
		}
		fmt.Println()
	}
	fmt.Println(net.Init(params, "xavier", nil))
	// Output:
	//  1.000 0.000 0.000
	//  0.000 1.000 0.000
	//  0.000 0.000 1.000
	// --init: "xavier": want default, zeros, uniform[:A], normal[:STD], xavier_uniform, xavier_normal, he_uniform, he_normal or orthogonal[:GAIN]
}

func ExampleNet_Predict() {
	net, _ := ops.NewNet(ops.Spec{}, 1, 2) // linear, 2 classes
	params := []float32{1, -1, 0, 0}       // 0.weight (2, 1), 0.bias (2)
	x := ops.MatrixOf([]float32{0, 1, -2}, 3, 1)
	probs := ops.NewMatrix(3, 2)
	net.Predict(probs, net.NewWorkspace(2), params, x, ops.CrossEntropy{}.Link())
	for i := range 3 {
		fmt.Printf("%.3f\n", probs.Row(i))
	}
	// Output:
	// [0.500 0.500]
	// [0.881 0.119]
	// [0.018 0.982]
}
