package stages

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sys/unix"

	"github.com/sgdpipe/sgdpipe/ops"
	"github.com/sgdpipe/sgdpipe/optim"
)

// benchMNIST is the bundled MNIST training set (60,000 rows of 784 pixels).
const benchMNIST = "../testdata/mnist/train.parquet"

// processCPU returns the CPU time (user + system) of the whole process so far.
func processCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// steadyClock records the wall and process CPU time at two optimizer steps, from the
// optimizer stage's OnStep callback, so that start-up (feature fit, filling the shuffle
// buffer, the first batches) stays out of the measurement.
type steadyClock struct {
	from, to   int64 // steps at which the window opens and closes
	rows       int64 // rows trained between them
	mu         sync.Mutex
	wall0, cpu time.Duration
	t0         time.Time
	wall       time.Duration
}

func (c *steadyClock) onStep(s StepInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case s.Step == c.from:
		c.t0, c.cpu = time.Now(), processCPU()
	case s.Step > c.from && s.Step <= c.to:
		c.rows += int64(s.Rows)
		if s.Step == c.to {
			c.wall, c.cpu = time.Since(c.t0), processCPU()-c.cpu
		}
	}
}

// BenchmarkTrainParallelism trains the MNIST MLP 784-256-128-10 (SGD, momentum 0.9, lr
// 0.05, ReLU, micro-batches of batch/2, staleness 0) through stages.Train on the
// bundled data, with the whole data path, and reports the steady-state throughput of
// four ways to use two cores:
//
//   - W=2/gemm=1: two data-parallel workers, each running both passes of its
//     micro-batches with every matrix product on one goroutine (the default);
//   - W=1/gemm=2: one worker, each product split across two goroutines
//     (ops.SetGemmThreads(2), which products large enough to pay use);
//   - W=1/gemm=1/split: one forward and one backward worker (SplitPasses),
//     single-threaded products: the two passes overlap across micro-batches
//     (pipelining);
//   - W=2/gemm=1/split: two forward and two backward workers (SplitPasses), the
//     default before the passes were fused: what the hand-off between them costs.
//
// Metrics: samples/s (wall, between the steps at 10% and 100% of MaxSteps), samples per
// CPU second of the whole process (robust to other processes on a shared machine, but
// blind to parallel speed-up) and cores, the CPU seconds per wall second the run used.
// The reference is none: compare the three lines of one batch size, measured in the
// same run. Each iteration is one Train run of about 30,000 training rows.
func BenchmarkTrainParallelism(b *testing.B) {
	if _, err := os.Stat(benchMNIST); err != nil {
		b.Skip(err)
	}
	for _, bs := range []int{32, 128, 512} {
		for _, p := range []struct {
			name          string
			workers, gemm int
			split         bool
		}{
			{"W=2/gemm=1", 2, 1, false},
			{"W=1/gemm=2", 1, 2, false},
			{"W=1/gemm=1/split", 1, 1, true},
			{"W=2/gemm=1/split", 2, 1, true},
		} {
			b.Run(fmt.Sprintf("B=%d/%s", bs, p.name), func(b *testing.B) {
				ops.SetGemmThreads(p.gemm)
				defer ops.SetGemmThreads(1)
				optim.SetThreads(2) // as pipe train sets it (GOMAXPROCS)
				defer optim.SetThreads(1)
				steps := int64(30000 / bs)
				var rows int64
				var wall, cpu time.Duration
				for b.Loop() {
					clk := &steadyClock{from: steps / 10, to: steps}
					var c TrainConfig
					c.Data.Paths = []string{benchMNIST}
					c.Data.Feature.Target = "label"
					c.Data.Seed = 1
					c.Data.Epochs = 1
					c.Data.Batch = bs
					c.Model = "mlp:256,128"
					c.Optimizer, c.LR, c.Momentum = "sgd", 0.05, 0.9
					c.Workers, c.SplitPasses = p.workers, p.split
					c.MaxSteps = steps
					c.OnStep = clk.onStep
					res, err := Train(context.Background(), c)
					if err != nil {
						b.Fatal(err)
					}
					if res.Steps != steps || clk.wall == 0 {
						b.Fatalf("trained %d steps, want %d", res.Steps, steps)
					}
					rows += clk.rows
					wall += clk.wall
					cpu += clk.cpu
				}
				b.ReportMetric(float64(rows)/wall.Seconds(), "samples/s")
				if cpu > 0 {
					b.ReportMetric(float64(rows)/cpu.Seconds(), "samples/cpu-s")
					b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cores")
				}
			})
		}
	}
}

// threadCPU returns the CPU time of the calling OS thread (the caller holds
// runtime.LockOSThread).
func threadCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_THREAD, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStepStages runs one optimizer step of the MNIST MLP (SGD, momentum 0.9)
// through the real stages on one thread, as TestTrainingStepAllocs does, and reports
// the CPU time of each stage per step (per CPU second of this thread, so other
// processes on the machine do not skew it): forward (snapshot, forward pass, loss) and
// backward of all micro-batches, then the reducer and the optimizer (divergence guard,
// update, publish), which run once per step and, at staleness 0, on the critical path
// of every step whatever the number of workers. serial-% is reduce + optimize as a
// share of the step: the Amdahl bound on what more workers or split products can gain.
// Each batch size runs with the default two micro-batches and with one.
func BenchmarkStepStages(b *testing.B) {
	for _, bs := range []int{32, 128, 512} {
		for _, micro := range []int{bs / 2, bs} {
			benchStepStages(b, bs, micro)
		}
	}
}

func benchStepStages(b *testing.B, bs, micro int) {
	b.Run(fmt.Sprintf("B=%d/micro=%d", bs, micro), func(b *testing.B) {
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		defer mem.AssertSize(b, 0)
		tr := allocTrainer(b, mem, bs, micro, "sgd", 0.9)
		rec := mnistBatchRecord(mem, rand.New(rand.NewPCG(1, uint64(bs))), bs)
		defer rec.Release()
		s := newStepper(tr, rec)
		s.step(b)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var cpu [4]time.Duration // forward, backward, reduce, optimize
		n := 0
		b.ReportAllocs()
		for b.Loop() {
			s.timedStep(b, &cpu)
			n++
		}
		var total time.Duration
		for _, c := range cpu {
			total += c
		}
		per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
		b.ReportMetric(per(cpu[0]), "fwd-µs/step")
		b.ReportMetric(per(cpu[1]), "bwd-µs/step")
		b.ReportMetric(per(cpu[2]), "reduce-µs/step")
		b.ReportMetric(per(cpu[3]), "opt-µs/step")
		b.ReportMetric(100*float64(cpu[2]+cpu[3])/float64(total), "serial-%")
		b.ReportMetric(float64(bs*n)/total.Seconds(), "samples/cpu-s")
	})
}

// timedStep is step with the thread CPU time of each stage added to cpu: forward,
// backward, reduce, optimize (the split is part of forward).
func (s *stepper) timedStep(tb testing.TB, cpu *[4]time.Duration) {
	s.micros, s.acts, s.grads, s.steps = s.micros[:0], s.acts[:0], s.grads[:0], s.steps[:0]
	t0 := threadCPU()
	s.rec.Retain()
	b := Batch{Epoch: 0, Index: s.index, Start: int64(s.index) * s.rec.NumRows(), Rows: int(s.rec.NumRows()), Rec: s.rec}
	s.index++
	if err := s.split.Process(s.ctx, b, s.emitMicro); err != nil {
		tb.Fatal(err)
	}
	for _, m := range s.micros {
		if err := s.fwd.Process(s.ctx, m, s.emitAct); err != nil {
			tb.Fatal(err)
		}
	}
	t1 := threadCPU()
	for _, a := range s.acts {
		if err := s.bwd.Process(s.ctx, a, s.emitGrad); err != nil {
			tb.Fatal(err)
		}
	}
	t2 := threadCPU()
	for _, g := range s.grads {
		if err := s.red.Process(s.ctx, g, s.emitStep); err != nil {
			tb.Fatal(err)
		}
	}
	t3 := threadCPU()
	if len(s.steps) != 1 {
		tb.Fatalf("%d steps reduced, want 1", len(s.steps))
	}
	if err := s.opt.Consume(s.ctx, s.steps[0]); err != nil {
		tb.Fatal(err)
	}
	t4 := threadCPU()
	cpu[0] += t1 - t0
	cpu[1] += t2 - t1
	cpu[2] += t3 - t2
	cpu[3] += t4 - t3
}
