// Copyright 2026 The sgdpipe Authors.

package gemm_test

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/sgdpipe/sgdpipe/ops/gemm"
)

// Installing the implementation makes every blas32 product use it.
func Example() {
	blas32.Use(gemm.Implementation{})
	defer blas32.Use(gonum.Implementation{}) // restore gonum's, for the other examples

	a := blas32.General{Rows: 2, Cols: 3, Stride: 3, Data: []float32{
		1, 2, 3,
		4, 5, 6,
	}}
	b := blas32.General{Rows: 3, Cols: 2, Stride: 2, Data: []float32{
		7, 8,
		9, 10,
		11, 12,
	}}
	c := blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: make([]float32, 4)}
	blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, a, b, 0, c)
	fmt.Println(c.Data)
	// Output: [58 64 139 154]
}

// A Dense layer's forward pass, y = x·Wᵀ + y, with W stored (out, in)
// row-major, on the calling goroutine only.
func ExampleImplementation_Sgemm() {
	const batch, in, out = 2, 3, 2
	x := []float32{ // (batch, in)
		1, 0, 2,
		0, 1, 1,
	}
	w := []float32{ // (out, in)
		1, 1, 1,
		2, 0, -1,
	}
	y := []float32{ // (batch, out), holding the bias
		0.5, 0.5,
		0.5, 0.5,
	}
	impl := gemm.Implementation{Threads: 1}
	impl.Sgemm(blas.NoTrans, blas.Trans, batch, out, in, 1, x, in, w, in, 1, y, out)
	fmt.Println(y)
	// Output: [3.5 0.5 2.5 -0.5]
}
