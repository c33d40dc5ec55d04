package stages

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sgdpipe/sgdpipe/ops"
)

// Micro is one fixed-size slice of a training batch, the unit of work of the forward and backward
// workers. A batch of B rows is always cut into the same micro-batches (DESIGN invariant 4), whatever the
// number of workers, so the summed gradient is bitwise the same for any W.
//
// Ownership: a Micro holds one reference to the batch record (Rec); the backward worker releases it, or
// Release does on a discard path.
type Micro struct {
	Step      int64 // 1-based optimizer step this micro-batch contributes to
	Epoch     int
	Batch     int // batch index within the epoch
	Index     int // micro-batch index within the step, 0..Count-1
	Count     int // micro-batches in the step
	BatchRows int // rows of the whole batch (the gradient is scaled by 1/BatchRows)
	Offset    int // first row of this micro-batch within the batch
	Rows      int
	Last      bool     // the batch is the last of its epoch
	Next      Position // data position after the batch (where a resume continues)
	Rec       arrow.RecordBatch
}

// Release drops the micro-batch's reference to its record.
func (m Micro) Release() {
	if m.Rec != nil {
		m.Rec.Release()
	}
}

// X returns the micro-batch's inputs as a zero-copy row-major matrix.
func (m Micro) X() ops.Matrix {
	data, _, cols := xView(m.Rec)
	return ops.Matrix{Rows: m.Rows, Cols: cols, Stride: cols, Data: data[m.Offset*cols : (m.Offset+m.Rows)*cols]}
}

// Targets returns the micro-batch's targets for the loss: class indices (int32 y) or values (float32 y).
func (m Micro) Targets() ops.Targets {
	return targetsOf(m.Rec, m.Offset, m.Rows)
}

// targetsOf returns rows [off, off+n) of the record's "y" column as loss targets (empty without y).
func targetsOf(rec arrow.RecordBatch, off, n int) ops.Targets {
	for i := range int(rec.NumCols()) {
		if rec.ColumnName(i) != "y" {
			continue
		}
		switch y := rec.Column(i).(type) {
		case *array.Int32:
			return ops.Targets{Labels: y.Int32Values()[off : off+n]}
		case *array.Float32:
			v := y.Float32Values()[off : off+n]
			return ops.Targets{Values: ops.Matrix{Rows: n, Cols: 1, Stride: 1, Data: v}}
		}
	}
	return ops.Targets{}
}

// Splitter is the stage that cuts each batch into micro-batches of a fixed size and numbers the steps.
type Splitter struct {
	MicroRows int   // rows per micro-batch (the last may be shorter)
	FirstStep int64 // step number of the first batch (1, or the resumed step + 1)
	step      int64
}

// Process emits the micro-batches of b, each holding its own reference to b.Rec.
func (s *Splitter) Process(ctx context.Context, b Batch, emit func(Micro) error) error {
	if s.step == 0 {
		s.step = s.FirstStep
		if s.step == 0 {
			s.step = 1
		}
	}
	defer b.Release()
	count := (b.Rows + s.MicroRows - 1) / s.MicroRows
	for i := range count {
		off := i * s.MicroRows
		m := Micro{Step: s.step, Epoch: b.Epoch, Batch: b.Index, Index: i, Count: count, BatchRows: b.Rows,
			Offset: off, Rows: min(s.MicroRows, b.Rows-off), Last: b.Last, Next: b.Next(), Rec: b.Rec}
		b.Rec.Retain()
		if err := emit(m); err != nil {
			b.Rec.Release()
			return err
		}
	}
	s.step++
	return nil
}

// activation is what a forward worker hands to a backward worker: the workspace that holds the
// micro-batch's activations and the gradient of the loss with respect to the output, and the snapshot
// the forward pass read.
type activation struct {
	m       Micro
	ws      *ops.Workspace
	dOut    []float32 // (maxMicro, outDim) gradient of the scaled loss w.r.t. the output
	snap    *Snapshot
	loss    float64 // summed loss over the micro-batch rows
	correct int     // correctly classified rows (classification)
}

// release hands back everything an activation holds, and the activation itself to the pool.
func (a *activation) release(t *Trainer) {
	a.m.Release()
	a.m = Micro{}
	if a.snap != nil {
		t.store.Release(a.snap)
		a.snap = nil
	}
	t.actPool.put(a)
}

// Gradient is one micro-batch's gradient (already scaled by 1/BatchRows), as sent to the reducer.
type Gradient struct {
	Step            int64
	Epoch, Batch    int
	Index, Count    int
	Rows, BatchRows int
	Last            bool
	Next            Position
	Version         int64 // parameter version the gradient was computed at
	Loss            float64
	Correct         int
	Grad            []float32 // from the trainer's gradient pool; the reducer returns it
}

// freeList is a mutex-protected free list that allocates when empty: pools of workspaces and gradient
// buffers whose number is bounded by the edges and workers in flight.
type freeList[T any] struct {
	mu    sync.Mutex
	items []T
	make  func() T
}

func (f *freeList[T]) get() T {
	f.mu.Lock()
	if n := len(f.items); n > 0 {
		v := f.items[n-1]
		f.items = f.items[:n-1]
		f.mu.Unlock()
		return v
	}
	f.mu.Unlock()
	return f.make()
}

func (f *freeList[T]) put(v T) {
	f.mu.Lock()
	f.items = append(f.items, v)
	f.mu.Unlock()
}

// forwardWorker runs the forward pass and the loss of a micro-batch.
type forwardWorker struct{ t *Trainer }

func (w forwardWorker) Process(ctx context.Context, m Micro, emit func(*activation) error) error {
	t := w.t
	waitStart := time.Now()
	snap, err := t.store.Acquire(ctx, m.Step)
	t.paramWait.Add(int64(time.Since(waitStart)))
	if err != nil {
		m.Release()
		return err
	}
	a := t.actPool.get()
	a.m, a.snap, a.loss, a.correct = m, snap, 0, 0
	out := t.net.Forward(a.ws, snap.Params, m.X(), true, t.microSeed(m))
	dst := ops.Matrix{Rows: out.Rows, Cols: out.Cols, Stride: out.Cols, Data: a.dOut[:out.Rows*out.Cols]}
	loss, err := t.loss.Eval(dst, out, m.Targets(), float32(1/float64(m.BatchRows)))
	if err != nil {
		a.release(t)
		return fmt.Errorf("epoch %d batch %d: %w", m.Epoch+1, m.Batch, err)
	}
	a.loss = loss
	if labels := m.Targets().Labels; labels != nil && t.classify {
		a.correct = ops.CountCorrect(out, labels)
	}
	if err := emit(a); err != nil {
		a.release(t)
		return err
	}
	return nil
}

// backwardWorker runs back-propagation of a micro-batch into a pooled gradient buffer.
type backwardWorker struct{ t *Trainer }

func (w backwardWorker) Process(ctx context.Context, a *activation, emit func(Gradient) error) error {
	t := w.t
	g := t.gradPool.get()
	dOut := ops.Matrix{Rows: a.m.Rows, Cols: t.net.OutDim(), Stride: t.net.OutDim(), Data: a.dOut[:a.m.Rows*t.net.OutDim()]}
	t.net.Backward(a.ws, a.snap.Params, dOut, g)
	out := Gradient{Step: a.m.Step, Epoch: a.m.Epoch, Batch: a.m.Batch, Index: a.m.Index, Count: a.m.Count,
		Rows: a.m.Rows, BatchRows: a.m.BatchRows, Last: a.m.Last, Next: a.m.Next, Version: a.snap.Version, Loss: a.loss, Correct: a.correct, Grad: g}
	a.release(t)
	if err := emit(out); err != nil {
		t.gradPool.put(g)
		return err
	}
	return nil
}

// computeWorker runs both passes of a micro-batch on one goroutine: forwardWorker's work, then
// backwardWorker's on the activation it made (TrainConfig.SplitPasses false).
type computeWorker struct{ t *Trainer }

func (w computeWorker) Process(ctx context.Context, m Micro, emit func(Gradient) error) error {
	var a *activation
	if err := (forwardWorker(w)).Process(ctx, m, func(x *activation) error { a = x; return nil }); err != nil {
		return err
	}
	return backwardWorker(w).Process(ctx, a, emit)
}

// applyingWorker runs both passes of a micro-batch like computeWorker and then, when its gradient
// completes a step whose predecessors are applied, reduces and applies that step itself: with fused
// passes the reducer and the optimizer are calls made under one lock by whichever worker finishes a
// step last, not stages of their own. The arithmetic is the same (the reducer still sums in
// micro-batch order, steps are applied in step order); what goes is two goroutine hand-offs on the
// serial end of every step, which on a busy two-core machine cost tens of microseconds each (the
// Go scheduler runs the data-path goroutines the hand-off readied first).
type applyingWorker struct {
	t *Trainer
	a *applier
}

// applier is the reducer and the optimizer shared by the applying workers.
type applier struct {
	mu   sync.Mutex
	red  *Reducer
	opt  optimizerSink
	err  error        // the optimizer's first error: no step is applied after it
	busy atomic.Int64 // ns spent reducing and applying steps
}

func (w applyingWorker) Consume(ctx context.Context, m Micro) error {
	t := w.t
	var g Gradient
	if err := (computeWorker{t}).Process(ctx, m, func(x Gradient) error { g = x; return nil }); err != nil {
		return err
	}
	a := w.a
	a.mu.Lock()
	defer a.mu.Unlock()
	start := time.Now()
	defer func() { a.busy.Add(int64(time.Since(start))) }()
	if a.err == nil {
		a.err = ctx.Err() // as a sink stage does, apply nothing once the run is cancelled
	}
	if a.err != nil {
		t.gradPool.put(g.Grad)
		return a.err
	}
	if a.err = a.red.add(g); a.err != nil {
		return a.err
	}
	for {
		sg, ok := a.red.pop()
		if !ok {
			return nil
		}
		if a.err = a.opt.Consume(ctx, sg); a.err != nil {
			return a.err
		}
	}
}

// isFinite reports whether v is neither NaN nor infinite.
func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
