package stages

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"go.uber.org/zap"

	"github.com/sgdpipe/sgdpipe/pipeline"
)

// ErrInterrupted is returned (wrapped) by Train when its context was cancelled: the run stopped at a step
// boundary and, with a checkpoint directory, wrote a checkpoint that --resume continues from.
var ErrInterrupted = errors.New("training interrupted")

// Train runs the standard training graph described by cfg:
//
//	reader ×R → shuffler → normalizer ×N → batcher → split → compute ×W
//
// (compute runs the forward and backward passes of a micro-batch, and the worker that completes a
// step reduces its gradients and applies it, with the optimizer's side work; with cfg.SplitPasses
// the graph ends forward ×W → backward ×W → reducer → optimizer instead) and returns the trained
// model (not yet saved: call Model.Save). Cancelling ctx stops the run at a step boundary, writes a checkpoint when cfg.CheckpointDir is set, and returns an error wrapping both
// ErrInterrupted and ctx's error. Every goroutine has exited and every record is released when Train
// returns.
func Train(ctx context.Context, cfg TrainConfig) (*Result, error) {
	t, err := newTrainer(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer t.dp.Close()
	return t.run(ctx)
}

func (t *Trainer) run(ctx context.Context) (*Result, error) {
	cfg := t.cfg
	if cfg.ValSplit > 0 || len(cfg.Val) > 0 {
		if err := t.openValidation(); err != nil {
			return nil, err
		}
		defer t.val.Close()
	}
	t.start = time.Now()
	t.epochStart = t.start
	res := &Result{}
	if t.state.Pos.Epoch >= cfg.Data.Epochs {
		t.log.Info("checkpoint is already at the end of training", zap.Int64("step", t.state.Step))
	} else {
		// The graph runs under its own context so that an interrupt stops it at a step boundary: the
		// optimizer's Consume is never cut in the middle.
		gctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		stop := context.AfterFunc(ctx, cancel)
		g := pipeline.New(pipeline.Config{Logger: t.log})
		build := t.cfg.BuildData
		if build == nil {
			build = func(g *pipeline.Graph, dp *DataPath, from Position) (*pipeline.Stream[Batch], error) {
				return dp.Add(g, from)
			}
		}
		batches, err := build(g, t.dp, t.state.Pos)
		if err != nil {
			stop()
			cancel()
			return nil, err
		}
		if t.cfg.ValSplit > 0 {
			batches = pipeline.AddTransform(g, "holdout", batches, holdout{t}, pipeline.Discard(Batch.Release))
		}
		micro := pipeline.AddTransform(g, "split", batches, &Splitter{MicroRows: t.microRows(), FirstStep: t.state.Step + 1},
			pipeline.Capacity(cfg.Workers), pipeline.Discard(Micro.Release))
		red := newReducer(t, t.state.Step+1)
		var app *applier
		if cfg.SplitPasses {
			discardGrad := pipeline.Discard(func(gr Gradient) { t.gradPool.put(gr.Grad) })
			acts := pipeline.AddTransform(g, "forward", micro, forwardWorker{t},
				pipeline.Workers(cfg.Workers), pipeline.Capacity(cfg.Workers), pipeline.Discard(func(a *activation) { a.release(t) }))
			grads := pipeline.AddTransform(g, "backward", acts, backwardWorker{t},
				pipeline.Workers(cfg.Workers), pipeline.Capacity(cfg.Workers), discardGrad)
			steps := pipeline.AddTransform(g, "reduce", grads, red,
				pipeline.Capacity(1), pipeline.Discard(func(sg StepGrad) { t.gradPool.put(sg.Grad) }))
			pipeline.AddSink(g, "optimize", steps, optimizerSink{t})
		} else {
			app = &applier{red: red, opt: optimizerSink{t}}
			pipeline.AddSink(g, "compute", micro, applyingWorker{t, app}, pipeline.Workers(cfg.Workers))
		}
		err = g.Run(gctx)
		stop()
		cancel()
		red.discardPending()
		if app != nil {
			res.StepTime = time.Duration(app.busy.Load())
		}
		res.Report = g.Report()
		switch {
		case err == nil:
		case errors.Is(err, errStopEarly):
			res.Stopped = "early-stop"
		case errors.Is(err, errMaxSteps):
			res.Stopped = "max-steps"
			if cerr := t.writeCheckpoint(); cerr != nil {
				return nil, cerr
			}
		case ctx.Err() != nil:
			// Interrupted: the state is at the last applied step; save it so --resume continues there.
			if cerr := t.writeCheckpoint(); cerr != nil {
				return nil, fmt.Errorf("%w: %w", ErrInterrupted, cerr)
			}
			if t.cfg.CheckpointDir != "" {
				t.log.Info("interrupted: checkpoint written", zap.String("path", t.lastCheckpoint), zap.Int64("step", t.state.Step))
			}
			return nil, fmt.Errorf("%w: %w", ErrInterrupted, ctx.Err())
		default:
			return nil, err
		}
	}
	res.Model = t.model(t.finalParams())
	res.Steps = t.state.Step
	res.Epochs = t.epochs
	res.Skipped = t.state.Skipped
	res.Memory = t.ledger()
	res.Bad = t.dp.Bad
	res.ParamWait = time.Duration(t.paramWait.Load())
	res.AssistTime = t.store.Assisted()
	return res, nil
}

// finalParams returns the parameters of the trained model: the SWA average when averaging ran, else
// the optimizer's parameters.
func (t *Trainer) finalParams() []float32 {
	if t.avg != nil && t.avg.Count() > 0 {
		return t.avg.Average()
	}
	return t.params
}

// model wraps parameters as a Model (sharing the slice).
func (t *Trainer) model(params []float32) *Model {
	return &Model{Spec: t.spec, Features: t.features, Loss: t.loss, Net: t.net, Params: params, Recipe: t.cfg.recipe()}
}

// openValidation prepares the validation evaluator (separate files, or the held-out split).
func (t *Trainer) openValidation() error {
	cfg := t.cfg
	ec := EvalConfig{Paths: cfg.Val, Readers: cfg.Data.Readers, Workers: cfg.Workers, Mem: cfg.Data.Mem, Logger: t.log,
		CacheBytes: t.valCacheBudget()}
	if cfg.ValSplit > 0 {
		// The held-out rows of the training data: the same files without the parts training left out.
		ec.Paths, ec.CacheBytes, ec.leftOut = cfg.Data.Paths, 0, t.dp.BadShards()
		if cfg.Data.SkipBadShards > 0 {
			// Parts the reader leaves out during the run are left out of later evaluations too.
			ec.skipNow = func(path string, shard int) bool {
				for _, b := range t.dp.BadShards() {
					if b.MidRun && b.Path == path && b.Shard == shard {
						return true
					}
				}
				return false
			}
			// A shard that turns unreadable under a validation pass is left out of the pass (training
			// meets it, and counts it against the budget, when it next reads it).
			ec.readFailed = func(path string, shard int, err error) bool {
				t.log.Warn("unreadable data left out of a validation pass (--skip-bad-shards)",
					zap.String("file", path), zap.Int("shard", shard), zap.Error(err))
				return true
			}
		}
		seed, frac := t.seed, cfg.ValSplit
		ec.Filter = func(r int64) bool { return inValSplit(seed, r, frac) }
	}
	e, err := newEvaluator(t.model(t.params), ec, false)
	if err != nil {
		return err
	}
	t.val = e
	return nil
}

// valCacheBudget is the most bytes of decoded validation data kept between evaluations: a
// quarter of the data path's share of the memory budget (what the shard cache and the
// shuffle buffer leave; see OpenDataPath), 0 for a single evaluation.
func (t *Trainer) valCacheBudget() int64 {
	if t.cfg.Data.Epochs <= 1 && t.cfg.EvalEvery == 0 {
		return 0
	}
	return t.dataBudget / 4
}

// endOfPeriod runs the end-of-epoch and evaluation work after a step: averaging bookkeeping,
// validation, the plateau schedule, early stopping, an epoch checkpoint and the epoch callback.
func (t *Trainer) endOfPeriod(ctx context.Context, epoch int, epochEnd, evalNow bool) error {
	st := &t.state
	info := EpochInfo{Epoch: epoch, Step: st.Step, TrainLoss: math.NaN(), TrainAcc: math.NaN(), Elapsed: time.Since(t.start)}
	if st.epochRows > 0 {
		info.TrainLoss = st.epochLoss / float64(st.epochRows)
		if t.classify {
			info.TrainAcc = float64(st.epochCorrect) / float64(st.epochRows)
		}
	}
	if evalNow && t.val != nil {
		r, err := t.val.evaluate(ctx, t.evalParams())
		if err != nil {
			return err
		}
		info.Val = r
		if p, ok := t.sched.(interface{ Observe(float64) bool }); ok {
			p.Observe(r.Loss)
		}
		if r.Loss < st.BestVal {
			st.BestVal, st.BadEvals = r.Loss, 0
		} else {
			st.BadEvals++
		}
	}
	if epochEnd {
		st.epochLoss, st.epochCorrect, st.epochRows = 0, 0, 0
		t.epochStart = time.Now()
		if t.cfg.CheckpointDir != "" {
			if err := t.writeCheckpoint(); err != nil {
				return err
			}
		}
	}
	t.epochs = append(t.epochs, info)
	if t.cfg.OnEpoch != nil {
		t.cfg.OnEpoch(info)
	}
	if t.cfg.Patience > 0 && st.BadEvals >= t.cfg.Patience {
		t.log.Info("early stopping: validation loss has not improved", zap.Int("evaluations", st.BadEvals), zap.Float64("best", st.BestVal))
		return errStopEarly
	}
	return nil
}

// evalParams returns the parameters validation should judge: the running average once averaging has
// started, else the current parameters.
func (t *Trainer) evalParams() []float32 { return t.finalParams() }

// holdout is the stage that removes the validation split's rows from each training batch. It filters
// after batching, so batch boundaries and data positions (resume) are those of the unfiltered stream; a
// batch keeps about (1-ValSplit)·B rows, and a batch left with no rows still travels (it carries the
// epoch boundary and the position) and makes a step that changes nothing.
type holdout struct{ t *Trainer }

func (h holdout) Process(ctx context.Context, b Batch, emit func(Batch) error) error {
	ids := b.RowIDs()
	keep := make([]bool, len(ids))
	n := 0
	for i, r := range ids {
		keep[i] = !inValSplit(h.t.seed, r, h.t.cfg.ValSplit)
		if keep[i] {
			n++
		}
	}
	if n < len(ids) {
		rec, err := keepRows(ctx, b.Rec, keep, h.t.cfg.Data.Mem)
		b.Release()
		if err != nil {
			return err
		}
		b.Rec, b.Rows = rec, n
	}
	if err := emit(b); err != nil {
		b.Release()
		return err
	}
	return nil
}

// keepRows returns a new record of the rows of rec whose keep flag is set (arrow's compute filter).
func keepRows(ctx context.Context, rec arrow.RecordBatch, keep []bool, mem memory.Allocator) (arrow.RecordBatch, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	b := array.NewBooleanBuilder(mem)
	b.AppendValues(keep, nil)
	mask := b.NewBooleanArray()
	b.Release()
	defer mask.Release()
	// Not cancellable: arrow's kernels leak their scratch buffers when cancelled half way, and one batch
	// is quick to filter.
	out, err := compute.FilterRecordBatch(compute.WithAllocator(context.WithoutCancel(ctx), mem), rec, mask, compute.DefaultFilterOptions())
	if err != nil {
		return nil, fmt.Errorf("stages: holding out validation rows: %w", err)
	}
	return out, nil
}
