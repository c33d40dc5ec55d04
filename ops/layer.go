package ops

import "math/rand/v2"

// layer is one stage of a sequential network. Implementations are immutable after
// construction; everything that varies per batch lives in the workspace and is passed
// in. x is the layer's input (the caller's batch for the first layer, so its Stride may
// exceed Cols), y its output, both kept by the workspace between forward and backward.
type layer[T float] interface {
	// outDim returns the width of the layer's output.
	outDim() int
	// auxPerRow returns how many values per row forward keeps for backward besides
	// x and y (the dropout mask), 0 for most layers.
	auxPerRow() int
	// hasParams reports whether the layer owns tensors in the parameter layout.
	hasParams() bool
	// forward computes y from x. rng is seeded by the network for this layer and batch.
	forward(p []T, x, y mat[T], aux []T, train bool, rng *rand.PCG)
	// backward writes the layer's parameter gradients into g (overwriting them) and,
	// when dx.Data is not nil, the gradient with respect to x into dx.
	backward(p, g []T, x, y, dy, dx mat[T], aux []T, train bool)
}

// eachRow calls f for every row of three same-shaped matrices; f gets the rows resliced
// to the same length so the compiler can drop bounds checks in its loop.
func eachRow[T float](a, b, c mat[T], f func(ar, br, cr []T)) {
	for i := range a.Rows {
		ar := a.row(i)
		br := b.row(i)[:len(ar)]
		cr := c.row(i)[:len(ar)]
		f(ar, br, cr)
	}
}
