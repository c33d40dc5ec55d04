package stages

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"go.uber.org/zap"

	"github.com/sgdpipe/sgdpipe/optim"
)

// StepInfo describes one applied optimizer step, for progress displays and metrics.
type StepInfo struct {
	Step      int64
	Epoch     int // 0-based
	Batch     int // batch index within the epoch
	Rows      int
	Loss      float64 // mean loss over the batch
	Accuracy  float64 // fraction correct (classification), else NaN
	LR        float64
	Staleness int64 // Step-1 minus the oldest parameter version used
	Skipped   bool  // the step was dropped by the divergence guard
	Elapsed   time.Duration
	Total     int64 // steps the run is planned to take (for progress and ETA)
}

// EpochInfo describes one finished epoch (or evaluation point).
type EpochInfo struct {
	Epoch     int // 0-based
	Step      int64
	TrainLoss float64
	TrainAcc  float64 // NaN for regression
	Val       *EvalResult
	Elapsed   time.Duration
}

// errStopEarly ends the run when early stopping fires; Train turns it into a normal end.
var errStopEarly = errors.New("stages: early stop")

// optimizerSink is the last stage: it applies each step's gradient with the update rule, guards
// against non-finite values, publishes the new parameters, and runs the per-step and per-epoch side
// work (averaging, validation, early stopping, checkpoints, metrics). One worker.
type optimizerSink struct {
	t *Trainer
}

// Consume applies one step.
func (s optimizerSink) Consume(ctx context.Context, sg StepGrad) error {
	t := s.t
	defer t.gradPool.put(sg.Grad)
	st := &t.state
	step := sg.Step
	if step != st.Step+1 {
		return fmt.Errorf("stages: optimizer got step %d after step %d", step, st.Step)
	}
	// Learning rate (and momentum) of this step; the hypergradient rules learn their own.
	if !t.learnsRate {
		if err := optim.Apply(t.opt, t.sched, int(step-1)); err != nil {
			return err
		}
		if st.LRScale != 1 {
			t.opt.SetLR(t.opt.LR() * st.LRScale)
		}
	}
	lr := t.opt.LR()
	loss := sg.Loss / float64(sg.Rows)
	info := StepInfo{Step: step, Epoch: sg.Epoch, Batch: sg.Batch, Rows: sg.Rows, Loss: loss, LR: lr,
		Staleness: step - 1 - sg.Version, Accuracy: math.NaN()}
	if t.classify {
		info.Accuracy = float64(sg.Correct) / float64(sg.Rows)
	}
	// Divergence guard: nothing non-finite reaches the parameters.
	bad := !isFinite(loss)
	if !bad {
		switch {
		case t.cfg.ClipNorm > 0:
			if t.cfg.ClipValue > 0 {
				optim.ClipGradValue(sg.Grad, t.cfg.ClipValue)
			}
			norm := optim.ClipGradNorm(sg.Grad, t.cfg.ClipNorm)
			bad = !isFinite(norm)
		case t.cfg.ClipValue > 0:
			optim.ClipGradValue(sg.Grad, t.cfg.ClipValue)
			bad = !optim.AllFinite(sg.Grad)
		default:
			bad = !sg.Finite // checked by the reducer while it summed
		}
	}
	// At staleness 0 the store's snapshot is t.params itself: wait until no worker reads it.
	if err := t.store.BeginUpdate(ctx); err != nil {
		return err
	}
	if bad {
		switch t.cfg.OnNonFinite {
		case "skip", "backoff":
			st.Skipped++
			info.Skipped = true
			if t.cfg.OnNonFinite == "backoff" {
				st.LRScale /= 2
			}
			t.log.Warn("non-finite loss or gradient: batch skipped", zap.Int64("step", step),
				zap.String("policy", t.cfg.OnNonFinite), zap.Float64("lr_scale", st.LRScale))
		default:
			return &DivergenceError{Step: step, Epoch: sg.Epoch, Loss: loss, LR: lr, Checkpoint: t.lastCheckpoint}
		}
	} else {
		guard := t.cfg.OnNonFinite != "stop"
		if guard {
			copy(t.backup, t.params)
		}
		if !optim.StepFinite(t.opt, t.params, sg.Grad) {
			// A finite gradient times the learning rate overflowed: the update itself diverged.
			if !guard {
				return &DivergenceError{Step: step, Epoch: sg.Epoch, Loss: loss, LR: lr, Checkpoint: t.lastCheckpoint}
			}
			copy(t.params, t.backup)
			st.Skipped++
			info.Skipped = true
			if t.cfg.OnNonFinite == "backoff" {
				st.LRScale /= 2
			}
		} else if t.avg != nil {
			t.avg.Update(int(step), t.params)
		}
	}
	// The step is applied: advance the state before anything that can fail on cancellation.
	st.Step = step
	st.Pos = sg.Next
	st.epochLoss += sg.Loss
	st.epochCorrect += int64(sg.Correct)
	st.epochRows += int64(sg.Rows)
	if err := t.store.Publish(ctx, step, t.params); err != nil {
		return err
	}
	info.Elapsed = time.Since(t.start)
	info.Total = t.totalSteps()
	t.onStep(info)

	epochEnd := sg.Last
	evalNow := epochEnd && t.cfg.EvalEvery == 0 || t.cfg.EvalEvery > 0 && step%int64(t.cfg.EvalEvery) == 0
	if epochEnd || evalNow {
		if err := t.endOfPeriod(ctx, sg.Epoch, epochEnd, evalNow); err != nil {
			return err
		}
	}
	if t.cfg.CheckpointDir != "" && t.cfg.CheckpointEvery > 0 && step%int64(t.cfg.CheckpointEvery) == 0 {
		if err := t.writeCheckpoint(); err != nil {
			return err
		}
	}
	if t.cfg.MaxSteps > 0 && step >= t.cfg.MaxSteps {
		return errMaxSteps
	}
	return nil
}

// totalSteps is the number of steps the run is planned to take.
func (t *Trainer) totalSteps() int64 {
	n := int64(t.stepsPerEpoch()) * int64(t.cfg.Data.Epochs)
	if t.cfg.MaxSteps > 0 {
		n = min(n, t.cfg.MaxSteps)
	}
	return n
}

// errMaxSteps ends a run that reached TrainConfig.MaxSteps; Train turns it into a normal end.
var errMaxSteps = errors.New("stages: step limit reached")

// DivergenceError reports a non-finite loss or gradient caught before it reached the parameters.
type DivergenceError struct {
	Step       int64
	Epoch      int
	Loss       float64
	LR         float64
	Checkpoint string // last good checkpoint, "" if none
}

func (e *DivergenceError) Error() string {
	msg := fmt.Sprintf("training diverged at step %d (epoch %d): loss or gradient is not finite (loss %v, lr %g); lower --lr or enable --clip-norm, or pass --on-nonfinite skip|backoff",
		e.Step, e.Epoch+1, e.Loss, e.LR)
	if e.Checkpoint != "" {
		msg += "; the last good checkpoint is " + e.Checkpoint
	}
	return msg
}
