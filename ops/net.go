package ops

import (
	"fmt"
	"math/rand/v2"
)

// network is the generic sequential stack behind Net.
type network[T float] struct {
	in, out  int
	layers   []layer[T]
	layout   Layout
	maxWidth int    // widest layer output
	paramsLo []bool // paramsLo[i]: some layer j < i has parameters, so layer i must produce dx

	// Fused Dense+activation pairs (see pointwise): linear[i] is layer i when it is a
	// Dense layer followed by a pointwise activation, else nil; act[i] is layer i when
	// it is that activation, else nil. Both nil everywhere when fusion is off.
	linear []*dense[T]
	act    []pointwise[T]
}

// setFusion turns the fusion of Dense layers with the pointwise activation after them
// on (the default) or off (tests and benchmarks compare the two). It must not be
// called while the network is in use.
func (n *network[T]) setFusion(on bool) {
	n.linear = make([]*dense[T], len(n.layers))
	n.act = make([]pointwise[T], len(n.layers))
	if !on {
		return
	}
	for i := 0; i+1 < len(n.layers); i++ {
		d, isDense := n.layers[i].(*dense[T])
		a, isPointwise := n.layers[i+1].(pointwise[T])
		if isDense && isPointwise {
			n.linear[i], n.act[i+1] = d, a
		}
	}
}

// buildNetwork builds the layers of specs (validated by the caller) on top of an
// input of width in.
func buildNetwork[T float](specs []LayerSpec, in int) (*network[T], error) {
	n := &network[T]{in: in}
	width := in
	params := 0
	for i, s := range specs {
		var l layer[T]
		switch s.Type {
		case LayerDense:
			params += (width + 1) * s.Units
			if params > MaxParams {
				return nil, fmt.Errorf("model has more than %d parameters at layer %d (dense %d→%d)", MaxParams, i, width, s.Units)
			}
			l = newDense[T](&n.layout, i, width, s.Units)
		case LayerReLU:
			l = &relu[T]{width: width}
		case LayerLeakyReLU:
			l = &leakyReLU[T]{width: width, slope: T(s.slope())}
		case LayerTanh:
			l = &tanhLayer[T]{width: width}
		case LayerSigmoid:
			l = &sigmoidLayer[T]{width: width}
		case LayerGELU, LayerGELUTanh:
			l = &gelu[T]{width: width, approxTanh: s.Type == LayerGELUTanh}
		case LayerSoftmax:
			l = &softmaxLayer[T]{width: width}
		case LayerDropout:
			l = newDropout[T](width, s.Rate)
		default:
			return nil, fmt.Errorf("layer %d: unknown type %q", i, s.Type)
		}
		width = l.outDim()
		n.maxWidth = max(n.maxWidth, width)
		n.layers = append(n.layers, l)
	}
	n.out = width
	n.paramsLo = make([]bool, len(n.layers))
	for i := 1; i < len(n.layers); i++ {
		n.paramsLo[i] = n.paramsLo[i-1] || n.layers[i-1].hasParams()
	}
	n.setFusion(true)
	return n, nil
}

// workspace is the generic per-worker state behind Workspace.
type workspace[T float] struct {
	owner    *network[T]
	maxBatch int
	acts     [][]T // acts[i]: output of layer i, maxBatch × outDim(i)
	aux      [][]T // aux[i]: what layer i keeps for backward (dropout mask), or nil
	grad     [2][]T
	x        mat[T] // input of the last forward (a view of the caller's batch)
	train    bool
	ready    bool
	rng      rand.PCG
}

func (n *network[T]) newWorkspace(maxBatch int) *workspace[T] {
	if maxBatch < 1 {
		panic(errMaxBatch)
	}
	ws := &workspace[T]{owner: n, maxBatch: maxBatch}
	ws.acts = make([][]T, len(n.layers))
	ws.aux = make([][]T, len(n.layers))
	for i, l := range n.layers {
		ws.acts[i] = make([]T, maxBatch*l.outDim())
		if a := l.auxPerRow(); a > 0 {
			ws.aux[i] = make([]T, maxBatch*a)
		}
	}
	for i := range ws.grad {
		ws.grad[i] = make([]T, maxBatch*max(n.maxWidth, n.in))
	}
	return ws
}

// act returns the output of layer i for the current batch.
func (ws *workspace[T]) act(i int) mat[T] {
	c := ws.owner.layers[i].outDim()
	return mat[T]{Rows: ws.x.Rows, Cols: c, Stride: c, Data: ws.acts[i][:ws.x.Rows*c]}
}

// input returns the input of layer i for the current batch.
func (ws *workspace[T]) input(i int) mat[T] {
	if i == 0 {
		return ws.x
	}
	return ws.act(i - 1)
}

func (n *network[T]) forward(ws *workspace[T], p []T, x mat[T], train bool, seed uint64) mat[T] {
	if ws.owner != n {
		panic(errWorkspace)
	}
	if len(p) != n.layout.Size {
		panic(errParamsLen)
	}
	x.check()
	if x.Cols != n.in {
		panic(errShape)
	}
	if x.Rows > ws.maxBatch {
		panic(errBatch)
	}
	ws.x, ws.train, ws.ready = x, train, true
	for i, l := range n.layers {
		var aux []T
		if a := l.auxPerRow(); a > 0 {
			aux = ws.aux[i][:x.Rows*a]
		}
		ws.rng.Seed(seed, uint64(i))
		switch {
		case n.linear[i] != nil:
			n.linear[i].forwardLinear(p, ws.input(i), ws.act(i))
		case n.act[i] != nil:
			n.act[i].forwardBias(ws.input(i), ws.act(i), n.linear[i-1].bias(p))
		default:
			l.forward(p, ws.input(i), ws.act(i), aux, train, &ws.rng)
		}
	}
	return ws.act(len(n.layers) - 1)
}

// backward overwrites g with the gradient of Σ dOut⊙output with respect to the
// parameters and, when dx.Data is not nil, writes the gradient with respect to the
// input into dx.
func (n *network[T]) backward(ws *workspace[T], p []T, dOut mat[T], g []T, dx mat[T]) {
	if ws.owner != n {
		panic(errWorkspace)
	}
	if !ws.ready {
		panic(errNoForward)
	}
	if len(p) != n.layout.Size {
		panic(errParamsLen)
	}
	if len(g) != n.layout.Size {
		panic(errGradsLen)
	}
	dOut.check()
	if dOut.Rows != ws.x.Rows || dOut.Cols != n.out {
		panic(errShape)
	}
	if dx.Data != nil {
		dx.check()
		if dx.Rows != ws.x.Rows || dx.Cols != n.in {
			panic(errShape)
		}
	}
	dy := dOut
	for i := len(n.layers) - 1; i >= 0; i-- {
		l := n.layers[i]
		var dxi mat[T]
		switch {
		case i == 0:
			dxi = dx
		case n.paramsLo[i] || dx.Data != nil:
			c := n.layers[i-1].outDim()
			buf := ws.grad[i&1]
			dxi = mat[T]{Rows: ws.x.Rows, Cols: c, Stride: c, Data: buf[:ws.x.Rows*c]}
		}
		var aux []T
		if a := l.auxPerRow(); a > 0 {
			aux = ws.aux[i][:ws.x.Rows*a]
		}
		switch {
		case n.linear[i] != nil: // its bias gradient was written by layer i+1
			n.linear[i].backwardLinear(p, g, ws.input(i), dy, dxi)
		case n.act[i] != nil: // dxi is not nil: layer i-1 has parameters
			n.act[i].backwardBias(ws.input(i), ws.act(i), dy, dxi, n.linear[i-1].bias(g))
		default:
			l.backward(p, g, ws.input(i), ws.act(i), dy, dxi, aux, ws.train)
		}
		if dxi.Data == nil {
			return // no parameters below and no input gradient wanted
		}
		dy = dxi
	}
}

// Net is an immutable sequential network: the layers of a Spec followed by an output
// Dense layer, for fixed input and output widths, and the Layout of its parameters.
//
// A Net holds no parameters: Forward, Backward, Init and Predict take the flat vector,
// so W workers share one Net and one read-only parameter snapshot, each with its own
// Workspace and gradient vector. A Net is safe for concurrent use. Its zero value is
// not usable: build one with NewNet.
type Net struct {
	spec Spec
	net  *network[float32]
}

// Workspace is one worker's scratch memory for a Net: layer outputs, dropout masks and
// gradient buffers for batches of up to MaxBatch rows, reused across batches so the
// steady state allocates nothing. It is not safe for concurrent use; its zero value is
// not usable: get one from Net.NewWorkspace.
type Workspace struct {
	ws *workspace[float32]
}

// NewNet builds the network of spec for inputs of width inDim and outputs of width
// outDim (classes for CrossEntropy, 1 for BCEWithLogits or Hinge, targets for MSE).
// The output layer is a Dense layer named after its index in the stack. Errors name the
// bad layer or dimension. Cost: allocates only the layer descriptions and the Layout.
func NewNet(spec Spec, inDim, outDim int) (*Net, error) {
	if inDim < 1 || inDim > MaxUnits {
		return nil, fmt.Errorf("ops: input width must be in [1, %d], got %d", MaxUnits, inDim)
	}
	if outDim < 1 || outDim > MaxUnits {
		return nil, fmt.Errorf("ops: output width must be in [1, %d], got %d", MaxUnits, outDim)
	}
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("ops: %w", err)
	}
	layers := append(append([]LayerSpec(nil), spec.Layers...), LayerSpec{Type: LayerDense, Units: outDim})
	n, err := buildNetwork[float32](layers, inDim)
	if err != nil {
		return nil, fmt.Errorf("ops: model spec: %w", err)
	}
	spec.Layers = layers[:len(spec.Layers):len(spec.Layers)]
	return &Net{spec: spec, net: n}, nil
}

// Spec returns the spec the net was built from (without the output layer).
func (n *Net) Spec() Spec { return Spec{Layers: append([]LayerSpec(nil), n.spec.Layers...)} }

// InDim returns the input width.
func (n *Net) InDim() int { return n.net.in }

// OutDim returns the output width.
func (n *Net) OutDim() int { return n.net.out }

// Layout returns the layout of the parameter vector (and of gradients and optimizer
// state). It is shared with the Net: do not modify it.
func (n *Net) Layout() Layout { return n.net.layout }

// NumParams returns the length of the parameter vector.
func (n *Net) NumParams() int { return n.net.layout.Size }

// NewWorkspace allocates a workspace for batches of at most maxBatch rows: about
// 4·maxBatch·(sum of layer widths + 2·widest layer) bytes. It panics if maxBatch < 1.
func (n *Net) NewWorkspace(maxBatch int) *Workspace {
	return &Workspace{ws: n.net.newWorkspace(maxBatch)}
}

// MaxBatch returns the largest batch the workspace accepts.
func (w *Workspace) MaxBatch() int { return w.ws.maxBatch }

// Forward computes the network's output for the batch x (rows are samples, Cols ==
// InDim, any Stride) with the parameters params (len == NumParams) and returns it as a
// (x.Rows, OutDim) matrix owned by ws, valid until the next Forward on ws.
//
// With train set, dropout layers draw their masks from a PCG seeded with (seed, layer
// index): the masks depend on the micro-batch's seed, not on which worker runs it.
// Without train, dropout is the identity and seed is unused. Forward keeps a view of x
// (not a copy) for Backward: x must not change in between. It panics on shape
// mismatches and on batches larger than ws.MaxBatch. It does not allocate.
func (n *Net) Forward(ws *Workspace, params []float32, x Matrix, train bool, seed uint64) Matrix {
	return Matrix(n.net.forward(ws.ws, params, mat[float32](x), train, seed))
}

// Backward computes the gradient of Σᵢⱼ dOut[i,j]·out[i,j] with respect to the
// parameters, where out is the output of the last Forward on ws, and writes it into
// grads, OVERWRITING every element (grads need not be zeroed; NaNs in it are
// cleared). dOut is the gradient of the loss with respect to the output, as written
// by Loss.Eval; it is read-only here. To sum micro-batches, a trainer keeps one
// gradient vector per micro-batch (or adds grads into its own sum after each call) in
// a fixed order, which keeps the sum bitwise reproducible. The gradient with respect
// to the input is not computed. Backward does not allocate.
func (n *Net) Backward(ws *Workspace, params []float32, dOut Matrix, grads []float32) {
	n.net.backward(ws.ws, params, mat[float32](dOut), grads, mat[float32]{})
}
