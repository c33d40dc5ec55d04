// Package optim holds sgdpipe's update rules, learning-rate schedules,
// weight averaging, hypergradients, gradient clipping and the non-finite
// check, all over flat []float32 vectors.
//
// # Overview
//
// Parameters, gradients and per-parameter optimizer state are flat vectors
// with one layout (see DESIGN.md), so every rule is one pass of a pure,
// allocation-free kernel over a few vectors. Each rule splits into:
//
//   - hyper-parameters: a config struct (SGDConfig, AdamConfig, ...),
//     validated by its constructor (a *ConfigError names the field) and never
//     mutated;
//   - per-parameter state: vectors of the parameters' length (Adam's m, v);
//   - per-step state: scalars (the step count, the learning rate and
//     momentum in force, NAdam's μ product, the learned rate of the
//     hypergradient rules).
//
// The rules reproduce PyTorch 1.13's torch.optim to within float32 rounding
// (the tests replay torch's float64 trajectories in testdata/golden at
// 1e-5·max(1,|x|); the worst deviation is 2.1e-6, torch's own float32 run
// reaches the same): SGD (momentum, dampening, Nesterov, weight decay),
// Adagrad, Adadelta, RMSprop (plain, centered, momentum), Adam, AMSGrad,
// AdamW, NAdam (torch 1.13's bias correction by default, torch 2's with
// NAdamConfig.CorrectedProduct), RAdam, Adamax, Rprop and ASGD, plus the
// hypergradient rules SGD-HD and Adam-HD (Baydin et al. 2018).
//
// A Schedule maps a 0-based step to a learning rate; Apply sets it (and, for
// OneCycle, the momentum) on any Optimizer before each Step. Schedules
// compose with Sequential and Warmup. Plateau (ReduceLROnPlateau) follows a
// validation metric instead. New and ParseOptimizer build a rule by name
// from CLI flags, ParseSchedule a schedule from a spec such as
// "warmup:5+cosine" or "step:10,0.5"; their errors name the flag at fault.
//
// ClipGradNorm and ClipGradValue follow torch's clip_grad_norm_ and
// clip_grad_value_; AllFinite and FirstNonFinite serve the divergence guard,
// AddFinite sums micro-batch gradients and checks the sum in the same pass,
// and StepFinite (the FiniteStepper interface, which every rule implements)
// steps and checks the new parameters in the same pass; Averager computes
// Polyak / SWA averages, with SWALR for the SWA rate.
//
// # Kernels
//
// Every element-wise loop (the update of every rule, AddFinite, AllFinite,
// ClipGradValue, ClipGradNorm's scaling, Averager.Update) has an AVX2
// version in kernel_amd64.s, chosen at run time with golang.org/x/sys/cpu.
// Other CPUs, other architectures and builds with -tags noasm run the
// pure-Go loops, which remain the reference. The assembly computes bitwise
// what the Go loop computes: the same float32 operations in the same order
// (VMULPS, VADDPS, VSUBPS, and VDIVPS and VSQRTPS, correctly rounded like
// DIVSS and the SQRTSS that sqrt32 compiles to; never FMA, which gc does
// not emit for the default GOAMD64=v1), min and max as gc lowers them (the
// NaN and signed-zero cases included), and the same integer bit tricks.
// The one exception is the payload of a NaN where an operation meets two
// different NaNs: x86 returns its first operand's, and gc picks the first
// operand of a commutative operation by register allocation, differently in
// different functions, so the Go loop has no single answer there either.
// (For Rprop, whose step branches on the sign of g·prev, this reaches the
// step and prev of an element whose gradient and previous gradient are both
// NaN.) TestKernelsBitwise and FuzzKernels check every kernel against its
// Go loop on random inputs full of NaNs, infinities, denormals and zeros of
// both signs, at every length up to 300 and at unaligned offsets; the run
// with -tags noasm checks the Go path. Building the Go loops with
// GOAMD64=v3 would let gc fuse a·b+c into FMA there, and noasm results
// would no longer match the assembly; the default does not.
//
// GradNorm and the hypergradient rules' dot product keep their four
// interleaved float64 sums; with AVX2 the four sums are the lanes of one
// register, the same additions in the same order.
//
// SetThreads lets one kernel call split its vectors into chunks of 8,192
// elements, claimed one at a time by up to n goroutines (the caller's
// included). Every element is computed by the same instructions whichever
// goroutine computes it, so results do not depend on n. The two reductions
// are not split, since splitting them would change their sums: GradNorm and
// the dot product give the same value for every n, today's.
//
// # Ownership
//
// Step reads grads and updates params in place; it retains neither. Each
// optimizer owns its state vectors: State returns views of them (valid until
// the next Step, not to be modified) together with fresh per-step scalars,
// and LoadState copies what it is given. MarshalState and UnmarshalState
// turn a state into a self-checking byte string and back, so a checkpoint
// can store it and restore it bitwise. Averager.Average and ASGD.Averaged
// return views of vectors the averager owns.
//
// # Concurrency
//
// Optimizers, Plateau and Averager are not safe for concurrent use: the
// optimizer stage drives them from one goroutine. Schedules other than
// Plateau are immutable values, safe for concurrent use. The free functions
// (ClipGradNorm, AllFinite, AddFinite, ...) touch only their arguments.
// With SetThreads(n > 1) a kernel call starts up to n-1 goroutines; they
// have returned when the call returns, so nothing is left running between
// calls (the package's tests run goleak). Starting them does not allocate.
// Calls from different goroutines may run at once: one of them at a time
// uses the extra goroutines, the others run on their callers.
//
// # Cost
//
// Step never allocates and makes one pass over its vectors (two for the
// hypergradient rules: the dot product, then the update). BenchmarkStep
// runs every rule over the 235,146 parameters of a 784-256-128-10 MLP and
// reports, in the same run, the time of the pure-Go loop (x-vs-go). On the
// shared 2-core Zen 5 machine (loaded by other work when measured, so times
// are upper bounds), one step took with the assembly kernels: 23 µs for
// SGD, 35-39 µs with momentum or Nesterov (0.2x the Go loop), 35 µs for
// ASGD, 70 µs for Adam (AVX-512; 0.11x the Go loop's 640 µs), 72-82 µs for
// Adagrad, RMSprop, AdamW, RAdam and Adamax, 100-130 µs for centered
// RMSprop, NAdam, Adadelta, AMSGrad and Rprop (0.13-0.15x), 85 µs for
// SGD-HD and 170 µs for Adam-HD, whose dot product keeps its serial sums.
// AllFinite takes 11 µs (84 GB/s, 0.23x the Go loop), AddFinite 23 µs
// (0.19x the Go sum and check), GradNorm 49 µs (0.75x), ClipGradValue
// 30 µs and Averager.Update 22 µs. BenchmarkAVX512 and BenchmarkSplit
// compare the AVX-512 kernels with the AVX2 ones and SetThreads(2) with
// one goroutine.
package optim
