package stages

import (
	"context"
	"fmt"
	"slices"

	"github.com/sgdpipe/sgdpipe/optim"
)

// StepGrad is the gradient of one optimizer step: the sum of its micro-batch gradients in micro-batch
// order, with the step's loss and accuracy counts.
type StepGrad struct {
	Step         int64
	Epoch, Batch int
	Rows         int
	Last         bool     // last step of the epoch
	Next         Position // data position after the step
	Version      int64    // oldest parameter version among the micro-batches (staleness = Step-1-Version)
	Loss         float64
	Correct      int
	Grad         []float32 // from the trainer's gradient pool; the optimizer returns it
	Finite       bool      // every element of Grad is finite (checked in the summing pass)
}

// pendingStep collects the micro-batch gradients of one step.
type pendingStep struct {
	grads []Gradient
	have  int
}

// Reducer sums the micro-batch gradients of each step in a fixed order (micro-batch index 0, 1, ...), so
// the sum is bitwise the same whatever the timing and the number of workers, and emits steps in step
// order. It is a single-worker stage.
type Reducer struct {
	t       *Trainer
	next    int64 // next step to emit
	pending map[int64]*pendingStep
	spare   []*pendingStep // emitted steps, reused: the steady state allocates nothing
}

func newReducer(t *Trainer, firstStep int64) *Reducer {
	return &Reducer{t: t, next: firstStep, pending: make(map[int64]*pendingStep)}
}

// Process files g under its step and emits every step that is complete, in order.
func (r *Reducer) Process(ctx context.Context, g Gradient, emit func(StepGrad) error) error {
	if err := r.add(g); err != nil {
		return err
	}
	for {
		sg, ok := r.pop()
		if !ok {
			return nil
		}
		if err := emit(sg); err != nil {
			r.t.gradPool.put(sg.Grad)
			return err
		}
	}
}

// add files g under its step. The reducer owns g.Grad from then on, even on error.
func (r *Reducer) add(g Gradient) error {
	p := r.pending[g.Step]
	if p == nil {
		if n := len(r.spare); n > 0 {
			p, r.spare = r.spare[n-1], r.spare[:n-1]
		} else {
			p = &pendingStep{}
		}
		p.grads, p.have = slices.Grow(p.grads[:0], g.Count)[:g.Count], 0
		clear(p.grads)
		r.pending[g.Step] = p
	}
	if g.Index >= len(p.grads) || p.grads[g.Index].Grad != nil {
		r.t.gradPool.put(g.Grad)
		return fmt.Errorf("stages: step %d: micro-batch %d received twice or out of range", g.Step, g.Index)
	}
	p.grads[g.Index] = g
	p.have++
	return nil
}

// pop returns the summed gradient of the next step when all its micro-batches are in; the caller
// owns its Grad.
func (r *Reducer) pop() (StepGrad, bool) {
	p := r.pending[r.next]
	if p == nil || p.have < len(p.grads) {
		return StepGrad{}, false
	}
	delete(r.pending, r.next)
	r.next++
	sg := r.sum(p)
	clear(p.grads)
	r.spare = append(r.spare, p)
	return sg, true
}

// sum adds the gradients of a complete step in micro-batch order into the first one's buffer.
func (r *Reducer) sum(p *pendingStep) StepGrad {
	first := p.grads[0]
	sg := StepGrad{Step: first.Step, Epoch: first.Epoch, Batch: first.Batch, Rows: first.BatchRows,
		Last: first.Last, Next: first.Next, Version: first.Version, Grad: first.Grad}
	for i, g := range p.grads {
		sg.Loss += g.Loss
		sg.Correct += g.Correct
		sg.Version = min(sg.Version, g.Version)
		if i == 0 {
			continue
		}
		// The divergence guard's check rides on the summing pass: the last sum's
		// verdict covers the whole gradient.
		sg.Finite = optim.AddFinite(sg.Grad, g.Grad)
		r.t.gradPool.put(g.Grad)
	}
	if len(p.grads) == 1 {
		sg.Finite = optim.AllFinite(sg.Grad)
	}
	return sg
}

// discardPending returns the buffers of incomplete steps to the pool (after cancellation).
func (r *Reducer) discardPending() {
	for k, p := range r.pending {
		for _, g := range p.grads {
			if g.Grad != nil {
				r.t.gradPool.put(g.Grad)
			}
		}
		delete(r.pending, k)
	}
}
