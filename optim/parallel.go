package optim

import (
	"runtime"
	"sync"
	"sync/atomic"
)

const (
	// chunkLen is the unit in which the element-wise kernels are split over
	// goroutines.
	chunkLen = 8192
	// maxThreads bounds SetThreads.
	maxThreads = 64
)

// minThreadLen is the least number of elements a kernel call gives each
// goroutine: below it, handing work to another goroutine costs more than it
// saves. On the 2-vCPU machines the project runs on, a goroutine started
// for the second core begins 50-100 µs after the go statement (the wake of
// an idle vCPU, plus the runtime's wait before it steals a just-started
// goroutine), as long as Adam takes over 300,000 elements; measured there,
// splitting the 235,146 parameters of the MNIST MLP made steps slower
// (Adam's mean step 100 µs instead of 80), 2,000,000 made Adam's fastest
// step 30% faster. Tests lower it to exercise the split on small vectors.
var minThreadLen = 1 << 17

var threadCount atomic.Int32

func init() { threadCount.Store(1) }

// SetThreads sets how many goroutines (the caller's included) one call of an
// element-wise kernel may use: Step and StepFinite of every rule,
// AddFinite, AllFinite, ClipGradValue, ClipGradNorm's scaling and
// Averager.Update (GradNorm and the hypergradient dot product never split).
// n < 1 is taken as 1 (the default: everything runs on the calling
// goroutine), n > 64 as 64.
//
// A call splits its vectors into chunks of 8,192 elements, which the
// goroutines claim one at a time (so a goroutine that starts late, or whose
// core is busy, takes fewer), and uses at most one goroutine per 131,072
// elements: handing work to another core costs 50-100 µs on the project's
// 2-vCPU machines, so smaller vectors stay on the caller (the 235,146
// parameters of the MNIST MLP do; 2,000,000 parameters make Adam's step up
// to 30% faster with n = 2). The goroutines are started
// by the call and have returned when it returns: nothing is left running
// between calls. Starting them does not allocate. Results are bitwise the
// same for every n, since every element is computed by the same
// instructions whichever goroutine computes it. When two calls run at once
// (two optimizers on different goroutines), one of them runs on its caller
// alone.
//
// SetThreads is safe for concurrent use and takes effect at the next call.
func SetThreads(n int) { threadCount.Store(int32(min(max(n, 1), maxThreads))) }

// Threads returns the number set by SetThreads (1 by default).
func Threads() int { return int(threadCount.Load()) }

// runner is the reusable state of one split kernel call: the WaitGroup,
// the operation, the next chunk to claim, and one task per goroutine with
// its closure built once, so that starting the goroutines does not
// allocate. One runner serves the package; a call that finds it busy runs
// serially.
type runner struct {
	mu     sync.Mutex
	wg     sync.WaitGroup
	op     vecOp
	n      int          // elements
	chunks int64        // chunks of chunkLen in [0, n)
	next   atomic.Int64 // the next chunk to claim
	tasks  []*runTask
	// Assistance (Assist): open while the call's chunks may be claimed by goroutines that
	// are not its own; active counts those inside work; bad records that one of them
	// found a non-finite chunk.
	open, bad atomic.Bool
	active    atomic.Int32
}

type runTask struct {
	r  *runner
	ok bool   // the kernel's result over the chunks this task claimed
	fn func() // work followed by r.wg.Done; built once
}

var shared = runner{}

func (r *runner) grow(t int) {
	for len(r.tasks) < t {
		tk := &runTask{r: r}
		tk.fn = func() {
			tk.ok = tk.r.work()
			tk.r.wg.Done()
		}
		r.tasks = append(r.tasks, tk)
	}
}

// work claims chunks until none is left, runs the kernel over each, and
// returns whether all of them reported finite.
func (r *runner) work() bool {
	ok := true
	for {
		c := r.next.Add(1) - 1
		if c >= r.chunks {
			return ok
		}
		lo := int(c) * chunkLen
		if !r.op.do(lo, min(r.n, lo+chunkLen)) {
			ok = false
		}
	}
}

// threadsFor returns how many goroutines a kernel over n elements uses.
func threadsFor(n int) int {
	t := int(threadCount.Load())
	if t <= 1 {
		return 1
	}
	return max(1, min(t, n/minThreadLen))
}

// run runs op over [0, n) on up to threadsFor(n) goroutines and returns
// whether every chunk reported finite (see vecOp.do).
func (op *vecOp) run(n int) bool {
	t := threadsFor(n)
	assist := n >= minAssistLen
	if t <= 1 && !assist || !shared.mu.TryLock() {
		return op.do(0, n)
	}
	r := &shared
	r.op, r.n, r.chunks = *op, n, int64((n+chunkLen-1)/chunkLen)
	r.next.Store(0)
	r.grow(t - 1)
	r.wg.Add(t - 1)
	for _, tk := range r.tasks[:t-1] {
		go tk.fn()
	}
	if assist {
		r.bad.Store(false)
		r.open.Store(true)
	}
	ok := r.work()
	if assist {
		// Close, then wait for the assistants already inside: each is finishing a chunk.
		r.open.Store(false)
		for r.active.Load() > 0 {
			runtime.Gosched()
		}
		ok = ok && !r.bad.Load()
	}
	r.wg.Wait()
	for _, tk := range r.tasks[:t-1] {
		ok = ok && tk.ok
	}
	r.op = vecOp{} // drop the references to the caller's vectors
	r.mu.Unlock()
	return ok
}

// minAssistLen is the least number of elements a kernel call opens to Assist: four chunks.
const minAssistLen = 4 * chunkLen

// Assist runs chunks of the element-wise kernel call in progress on another goroutine (a Step,
// StepFinite, AddFinite, AllFinite, ClipGradValue, ClipGradNorm scaling or Averager.Update over
// at least 32,768 elements), if there is one, until none is left to claim, and reports whether
// there was one. It is for goroutines that would otherwise wait for that call to end: the
// workers of a synchronous step, spinning until the optimizer publishes the parameters of the
// next one, halve the serial update that way on two cores, where a goroutine started for it
// would begin too late (see SetThreads). Results are bitwise the same whoever computes a chunk.
// The call in progress returns only after every assistant has finished its chunk. Assist
// allocates nothing and returns at once when no call is open; safe for concurrent use.
func Assist() bool {
	r := &shared
	if !r.open.Load() {
		return false
	}
	r.active.Add(1)
	defer r.active.Add(-1)
	if !r.open.Load() { // closed in between: the call's vectors may be gone
		return false
	}
	if !r.work() {
		r.bad.Store(true)
	}
	return true
}
