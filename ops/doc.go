// Package ops is sgdpipe's math: float32 matrices, matrix products through gonum's
// blas32 API, layers (Dense, ReLU, LeakyReLU, Tanh, Sigmoid, GELU, Softmax, Dropout)
// stacked into a sequential network, losses with their gradients, parameter
// initializers, accuracy helpers and a prediction helper.
//
// # Overview
//
// A model is described by a Spec (parsed from flags such as "--model mlp:256,128
// --activation relu --dropout 0.1", or read back from JSON) and built by NewNet into a
// Net for given input and output widths. The Net is the immutable description: it owns
// the Layout that names every tensor inside one flat []float32 parameter vector
// ("0.weight" (out, in) row-major as in PyTorch, "0.bias", "2.weight", ...: the names
// nn.Sequential would give the same stack, so a state dict maps one to one).
// Gradients and optimizer state use the same Layout, so an update is one loop over
// flat vectors.
//
// Training a micro-batch is
//
//	out := net.Forward(ws, params, x, true, seed) // x: (B, in) view of the batch
//	sum, err := loss.Eval(dOut, out, y, scale)      // dOut = scale·∂(Σ loss)/∂out
//	net.Backward(ws, params, dOut, grads)           // grads overwritten
//
// where scale is 1/B for a mean over the micro-batch, or 1/B_full when a trainer sums
// the gradients of several micro-batches of one batch (Loss.Eval returns the sum of
// the per-sample losses for the same reason).
//
// Matrix products go through blas32.Gemm. The package installs ops/gemm's SGEMM
// (AVX-512/AVX2 kernels chosen at run time) with blas32.Use at init, one goroutine per
// product unless SetGemmThreads allows more, so a different implementation installed
// with blas32.Use afterwards replaces it everywhere. gonum's native Sgemm spawns a
// goroutine per 64×64 block of the result (and so allocates) once the result has 4
// blocks or more; while it is the installed implementation, ops cuts each product into
// tiles of at most 64×192 so every call stays on gonum's serial path: one product per
// worker, parallelism comes from data-parallel workers.
//
// A Dense layer followed by a pointwise activation (ReLU, LeakyReLU, Tanh, Sigmoid,
// GELU) is fused: the Dense layer's product writes x·Wᵀ with beta = 0, the activation
// adds the bias in the pass that applies it, and in the backward pass the activation
// sums its input gradient into the bias gradient while it writes it. The float32 ReLU
// passes are branch-free, in AVX2 assembly where the CPU has it (pure Go elsewhere and
// with -tags noasm): a branch per element mispredicts on the random signs of
// pre-activations: the old branchy ReLU backward loop and its separate bias-gradient
// pass took thirty times the AVX2 kernel's time (BenchmarkReLUBackward).
//
// The kernels are generic over float32 and float64; only float32 is exported. The
// float64 instantiation is what the gradient checks differentiate numerically.
//
// # Ownership
//
// Matrices are views and never own memory. Forward keeps a view of its input x (not a
// copy) until the next Forward on the same Workspace: x must not be modified before
// Backward. The Matrix returned by Forward is owned by the Workspace and is
// overwritten by its next Forward. Parameters, gradients and optimizer state are
// owned by the caller; the Net reads params and writes grads, and never retains them.
// Kernels write to their dst argument, which comes first, and never allocate.
//
// # Concurrency
//
// A Net is immutable after NewNet and safe for concurrent use: W workers share one
// Net and one read-only parameter vector, each with its own Workspace and its own
// gradient vector. A Workspace is not safe for concurrent use. Losses are stateless
// values, safe for concurrent use. Nothing in ops starts goroutines, except ops/gemm
// when SetGemmThreads allows a product to split (its goroutines end before the call
// returns), and gonum's native Sgemm if it is installed instead (the tiling above
// avoids its parallel path).
//
// Costs, measured on one core of the 2-core AMD EPYC (Zen 5) development machine with
// the installed ops/gemm, per CPU second of the benchmark thread (the machine was
// shared), see bench_test.go: one training step (forward, softmax cross-entropy,
// backward, plain SGD) of the MLP 784-256-128-10 runs at about 57,000 samples/s at
// batch 32, 81,000 at batch 128 (1.6 ms a step) and 89,000 at batch 512, and
// allocates nothing; the matrix products are ~85% of it. Fusion and the AVX2 ReLU
// kernels raised the batch-128 and batch-512 figures by 10% and 22% over the unfused,
// branchy layers measured in the same session.
package ops
