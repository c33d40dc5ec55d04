package optim

import (
	"sync"
	"sync/atomic"
)

const (
	// chunkLen is the fixed unit in which the element-wise kernels are
	// split over goroutines and in which the chunked reductions sum. It is
	// part of the results of those reductions: do not change it.
	chunkLen = 4096
	// minThreadLen is the least number of elements a kernel call gives each
	// goroutine: below it, starting one costs more than it saves.
	minThreadLen = 4 * chunkLen
	// maxThreads bounds SetThreads.
	maxThreads = 64
)

var threadCount atomic.Int32

func init() { threadCount.Store(1) }

// SetThreads sets how many goroutines (the caller's included) one call of an
// element-wise kernel may use: Step of the rules with assembly kernels (SGD,
// Adam, AdamW, AMSGrad), AddFinite and AllFinite. n < 1 is taken as 1 (the
// default: everything runs on the calling goroutine), n > 64 as 64.
//
// A call splits its vectors into fixed chunks of 4,096 elements, gives each
// goroutine a contiguous run of chunks, and uses at most one goroutine per
// 16,384 elements, so small vectors stay on the caller. The goroutines are
// started by the call and have returned when it returns: nothing is left
// running between calls. Starting them does not allocate. Results are
// bitwise the same for every n, since every element is computed by the same
// instructions whichever goroutine computes it. When two calls run at once
// (two optimizers on different goroutines), one of them runs on its caller
// alone.
//
// SetThreads is safe for concurrent use and takes effect at the next call.
func SetThreads(n int) { threadCount.Store(int32(min(max(n, 1), maxThreads))) }

// Threads returns the number set by SetThreads (1 by default).
func Threads() int { return int(threadCount.Load()) }

// runner is the reusable state of one split kernel call: the WaitGroup,
// the operation, and one task per goroutine with its closure built once,
// so that starting the goroutines does not allocate. One runner serves the
// package; a call that finds it busy runs serially.
type runner struct {
	mu    sync.Mutex
	wg    sync.WaitGroup
	op    vecOp
	tasks []*runTask
}

type runTask struct {
	r      *runner
	lo, hi int    // the elements this goroutine computes
	ok     bool   // the kernel's result over [lo, hi)
	fn     func() // run followed by r.wg.Done; built once
}

var shared = runner{}

func (r *runner) grow(t int) {
	for len(r.tasks) < t {
		tk := &runTask{r: r}
		tk.fn = func() {
			tk.ok = tk.r.op.do(tk.lo, tk.hi)
			tk.r.wg.Done()
		}
		r.tasks = append(r.tasks, tk)
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
// whether every part reported finite (see vecOp.do).
func (op *vecOp) run(n int) bool {
	t := threadsFor(n)
	if t <= 1 || !shared.mu.TryLock() {
		return op.do(0, n)
	}
	r := &shared
	r.op = *op
	r.grow(t)
	chunks := (n + chunkLen - 1) / chunkLen
	for i, tk := range r.tasks[:t] {
		tk.lo = min(n, i*chunks/t*chunkLen)
		tk.hi = min(n, (i+1)*chunks/t*chunkLen)
	}
	r.wg.Add(t - 1)
	for _, tk := range r.tasks[1:t] {
		go tk.fn()
	}
	ok := r.op.do(r.tasks[0].lo, r.tasks[0].hi)
	r.wg.Wait()
	for _, tk := range r.tasks[1:t] {
		ok = ok && tk.ok
	}
	r.op = vecOp{} // drop the references to the caller's vectors
	r.mu.Unlock()
	return ok
}
