package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"golang.org/x/term"

	"github.com/sgdpipe/sgdpipe/io/sink"
	"github.com/sgdpipe/sgdpipe/ops"
	"github.com/sgdpipe/sgdpipe/optim"
	"github.com/sgdpipe/sgdpipe/stages"
	"github.com/sgdpipe/sgdpipe/stages/feature"
)

// defaultData is the bundled data set that `pipe train` uses without --data.
const (
	defaultTrain = "testdata/mnist/train.parquet"
	defaultTest  = "testdata/mnist/test.parquet"
)

// trainFlags holds the values of pipe train's flags.
type trainFlags struct {
	cfg         stages.TrainConfig
	data        []string
	features    []string
	exclude     []string
	task        string
	out         string
	metrics     string
	plot        string
	test        []string
	seed        uint64
	noProgress  bool
	memBudget   string
	gemmThreads int
	prof        profiles
}

func (a *app) trainCmd() *cobra.Command {
	tf := &trainFlags{}
	cmd := &cobra.Command{
		Use:   "train [--data FILES --target COLUMN] [flags]",
		Short: "Train a model on Parquet, Arrow IPC or CSV files",
		Long: `train fits a model with stochastic gradient descent. The data streams through
readers -> shuffler -> normalizers -> batcher -> compute workers (forward+backward; the worker that
completes a step sums its gradients and applies the update), and at the end pipe prints the per-stage report: how busy, starved and blocked each stage was, which
stage is the bottleneck and which flag to raise.

With no --data, train fits an MLP on the bundled MNIST data (testdata/mnist) and evaluates it on
the bundled test set.

The task follows from the target column: strings, booleans and small sets of integers classify
(two classes: binary), floats regress; --task overrides. The loss follows from the task and --lr
from the optimizer unless given.`,
		Example: `  pipe train
  pipe train --data train.parquet --target label --val-split 0.1 --out model.safetensors
  pipe train --data data/ --target price --model mlp:64 --optimizer adam --epochs 20 --schedule cosine
  pipe train --data train.parquet --target label --checkpoint ckpt --checkpoint-every 500
  pipe train --data train.parquet --target label --checkpoint ckpt --resume`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runTrain(cmd, tf) },
	}
	f := cmd.Flags()
	c := &tf.cfg
	// Data.
	f.StringSliceVar(&tf.data, "data", nil, "training data: files, directories or globs (default: bundled MNIST)")
	f.StringVar(&c.Data.Feature.Target, "target", "", "target column (default: label for the bundled data)")
	f.StringSliceVar(&tf.features, "features", nil, "feature columns (default: all but the target and --exclude)")
	f.StringSliceVar(&tf.exclude, "exclude", nil, "columns not to use as features")
	f.StringVar(&tf.task, "task", "", "classification, binary or regression (default: from the target column)")
	f.StringVar(&c.Data.Feature.Normalize, "normalize", "zscore", "feature normalization: zscore, minmax or none")
	f.IntVar(&c.Data.Feature.HashBuckets, "hash-buckets", 0, "hash string columns into this many buckets instead of one-hot")
	f.BoolVar(&c.Data.Feature.AllowNonFinite, "allow-nonfinite", false, "treat NaN/Inf in features as missing instead of an error")
	f.StringSliceVar(&c.Val, "val", nil, "validation files (evaluated at every epoch end or --eval-every steps)")
	f.Float64Var(&c.ValSplit, "val-split", 0, "hold out this fraction of the training rows (seeded) for validation")
	f.StringSliceVar(&tf.test, "test", nil, "test files evaluated once after training (default: bundled MNIST test set with the bundled data)")
	// Data path.
	f.IntVar(&c.Data.Epochs, "epochs", 0, "passes over the data (default 5 for the bundled data, else 10)")
	f.IntVar(&c.Data.Batch, "batch", 128, "rows per optimizer step")
	f.BoolVar(&c.Data.DropLast, "drop-last", false, "drop the last partial batch of each epoch")
	f.StringVar(&c.Data.Shuffle, "shuffle", "buffer", "shuffle mode: full, buffer, shards or none")
	f.IntVar(&c.Data.ShuffleBuffer, "shuffle-buffer", 0, "rows in the shuffle buffer (buffer mode; default 10000)")
	f.StringVar(&tf.memBudget, "memory-budget", "", "memory budget of the run, e.g. 2GiB, divided among the shuffle buffer and data queues, activations, gradients and parameter snapshots (default: a quarter of RAM)")
	f.Uint64Var(&tf.seed, "seed", 1, "random seed: initialization, shuffling, dropout, validation split")
	// Model and loss.
	f.StringVar(&c.Model, "model", "mlp:256,128", "model: linear or mlp:W1,W2,... (hidden widths)")
	f.StringVar(&c.Activation, "activation", "", "hidden activation: relu, leakyrelu[:SLOPE], tanh, sigmoid, gelu, gelu_tanh (default relu)")
	f.Float64Var(&c.Dropout, "dropout", 0, "dropout rate after each hidden activation")
	f.StringVar(&c.Init, "init", "default", "initialization: default (PyTorch nn.Linear), zeros, uniform[:A], normal[:STD], xavier_uniform, xavier_normal, he_uniform, he_normal, orthogonal[:GAIN]")
	f.StringVar(&c.Loss, "loss", "", "loss: crossentropy[:SMOOTHING], bce, mse, huber[:DELTA], hinge (default: from the task)")
	// Optimizer.
	f.StringVar(&c.Optimizer, "optimizer", "sgd", "update rule with options, e.g. sgd, adam, adamw, adagrad, adadelta, rmsprop, sgd-hd, adam-hd, adam:beta2=0.99")
	f.Float64Var(&c.LR, "lr", 0, "learning rate (default: the optimizer's; 0.05 for sgd on the bundled data)")
	f.Float64Var(&c.Momentum, "momentum", 0, "momentum (sgd, rmsprop)")
	f.BoolVar(&c.Nesterov, "nesterov", false, "Nesterov momentum (sgd)")
	f.Float64Var(&c.WeightDecay, "weight-decay", 0, "L2 penalty (decoupled for adamw)")
	f.StringVar(&c.Schedule, "schedule", "", "learning-rate schedule: constant, step:EVERY,GAMMA, multistep:M1/M2,GAMMA, exponential:GAMMA, invtime:DECAY,POWER, cosine, cosine-restarts:T0,TMULT, onecycle, plateau (default constant)")
	f.IntVar(&c.Warmup, "warmup", 0, "linear warm-up steps before the schedule")
	f.Float64Var(&c.ClipNorm, "clip-norm", 0, "clip the gradient's global L2 norm to this value")
	f.Float64Var(&c.ClipValue, "clip-value", 0, "clip every gradient element to [-v, v]")
	f.IntVar(&c.SWAStart, "swa-start", 0, "stochastic weight averaging from this epoch (1-based) on; 0 = off")
	f.StringVar(&c.OnNonFinite, "on-nonfinite", "stop", "on a NaN/Inf loss or gradient: stop, skip (drop the batch) or backoff (halve the lr)")
	// Validation and stopping.
	f.IntVar(&c.EvalEvery, "eval-every", 0, "validate every N steps (default: at every epoch end)")
	f.IntVar(&c.Patience, "patience", 0, "stop after N validations without a better validation loss")
	// Concurrency.
	f.IntVar(&c.Data.Readers, "readers", 2, "concurrent shard readers")
	f.IntVar(&c.Data.Normalizers, "normalizers", 2, "concurrent normalizers")
	f.IntVar(&c.Workers, "workers", 2, "workers running the forward and backward passes")
	f.IntVar(&tf.gemmThreads, "gemm-threads", 1, "goroutines per matrix product (0 = GOMAXPROCS); 1 suits one worker per core")
	f.IntVar(&c.MicroBatch, "micro-batch", 0, "rows per micro-batch (default batch/2); fixes the gradient summation order")
	f.IntVar(&c.Staleness, "staleness", 0, "parameter versions a worker may lag behind (0 = synchronous, deterministic)")
	f.BoolVar(&c.SplitPasses, "split-passes", false, "run forward and backward passes in separate stages of --workers workers each, overlapping across micro-batches (default: one stage runs both passes of a micro-batch)")
	f.IntVar(&c.Data.Queue, "queue", 4, "capacity of each queue between data stages")
	f.IntVar(&c.Data.SkipBadShards, "skip-bad-shards", 0, "train on past up to N unreadable files or shards, logging each (default: stop at the first)")
	// Outputs.
	f.StringVar(&tf.out, "out", "model.safetensors", "model file to write")
	f.StringVar(&c.CheckpointDir, "checkpoint", "", "checkpoint directory (written at epoch ends, every --checkpoint-every steps and on Ctrl-C)")
	f.IntVar(&c.CheckpointEvery, "checkpoint-every", 0, "steps between checkpoints")
	f.BoolVar(&c.Resume, "resume", false, "continue from the checkpoint in --checkpoint")
	f.StringVar(&tf.metrics, "metrics", "", "write per-step and per-epoch metrics to this file (.csv or .parquet)")
	f.StringVar(&tf.plot, "plot", "", "write a PNG plot of the loss and accuracy curves")
	f.BoolVar(&tf.noProgress, "no-progress", false, "plain log lines instead of a progress bar")
	f.StringVar(&tf.prof.cpu, "cpu-profile", "", "write a CPU profile of the run to this file (go tool pprof)")
	f.StringVar(&tf.prof.mem, "mem-profile", "", "write a heap profile (allocations of the whole run) to this file at the end")
	return cmd
}

// trainGCPercent is the GOGC of a training run (see runTrain).
const trainGCPercent = 25

// runTrain resolves defaults, runs training and writes the outputs.
func (a *app) runTrain(cmd *cobra.Command, tf *trainFlags) error {
	c := &tf.cfg
	bundled := len(tf.data) == 0
	if bundled {
		if _, err := os.Stat(defaultTrain); err != nil {
			return usagef("--data: not given, and the bundled MNIST (%s) is not here: run pipe from the repository root or pass --data", defaultTrain)
		}
		tf.data = []string{defaultTrain}
		if c.Data.Feature.Target == "" {
			c.Data.Feature.Target = "label"
		}
		if len(tf.test) == 0 && c.ValSplit == 0 && len(c.Val) == 0 {
			tf.test = []string{defaultTest}
		}
		a.log.Info("no --data given: training on the bundled MNIST", zap.String("train", defaultTrain), zap.Strings("test", tf.test))
	}
	if c.Data.Feature.Target == "" {
		return usagef("--target: required with --data (the column to predict)")
	}
	if !cmd.Flags().Changed("epochs") {
		c.Data.Epochs = 10
		if bundled {
			c.Data.Epochs = 5
		}
	}
	if !cmd.Flags().Changed("lr") && bundled && c.Optimizer == "sgd" {
		c.LR, c.Momentum = 0.05, 0.9
		if c.Schedule == "" {
			c.Schedule = "cosine"
		}
	}
	c.Data.Paths = tf.data
	c.Data.Seed = tf.seed
	c.Data.Feature.Features = tf.features
	c.Data.Feature.Exclude = tf.exclude
	c.Data.Feature.Task = feature.Task(tf.task)
	if tf.memBudget != "" {
		n, err := parseBytes(tf.memBudget)
		if err != nil {
			return usagef("--memory-budget: %v", err)
		}
		c.Data.MemoryBudget = n
	}
	if err := c.Validate(); err != nil {
		return usageError{err}
	}
	if tf.gemmThreads < 0 {
		return usagef("--gemm-threads: must be >= 0, got %d", tf.gemmThreads)
	}
	ops.SetGemmThreads(tf.gemmThreads)
	// The update (gradient sum, divergence check, optimizer step) is the serial end of every
	// synchronous step, when the workers wait for the new parameters: it may use every core.
	optim.SetThreads(runtime.GOMAXPROCS(0))
	if tf.metrics != "" {
		if _, err := sink.FormatOf(tf.metrics); err != nil {
			return usagef("--metrics: %v", err)
		}
	}
	c.Logger = a.log
	// The Go heap may grow to twice its live size before a collection (GOGC=100). Training allocates
	// next to nothing in steady state (pooled record buffers, reused workspaces) and most of the live
	// heap is pointer-free data that costs the collector little to mark, so collecting at 1.25x the
	// live heap costs little time and keeps the peak resident size close to what the run holds. A
	// soft limit a little above an explicit memory budget keeps the process near it. GOGC and
	// GOMEMLIMIT, when set, win.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(trainGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" && c.Data.MemoryBudget > 0 {
		debug.SetMemoryLimit(c.Data.MemoryBudget + c.Data.MemoryBudget/4 + 128<<20)
	}
	rec := newRecorder(a, tf)
	c.OnStep = rec.step
	c.OnEpoch = rec.epoch
	if err := tf.prof.start(); err != nil {
		return err
	}
	start := time.Now()
	res, err := stages.Train(cmd.Context(), *c)
	rec.finish()
	if perr := tf.prof.stop(); err == nil {
		err = perr
	}
	if err != nil {
		if errors.Is(err, stages.ErrInterrupted) {
			msg := "interrupted"
			if c.CheckpointDir != "" {
				msg += fmt.Sprintf("; checkpoint written to %s: continue with the same flags plus --resume", c.CheckpointDir)
			}
			return interruptedError{errors.New(msg)}
		}
		return err
	}
	if err := res.Model.Save(tf.out); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "\ntrained %d steps in %s; model written to %s\n", res.Steps, time.Since(start).Round(time.Millisecond), tf.out)
	if res.Stopped != "" {
		fmt.Fprintf(a.stdout, "stopped: %s\n", res.Stopped)
	}
	if len(res.Bad) > 0 {
		fmt.Fprintf(a.stdout, "unreadable data left out (--skip-bad-shards %d): %d part(s)\n", c.Data.SkipBadShards, len(res.Bad))
		for _, b := range res.Bad {
			fmt.Fprintf(a.stdout, "  %s\n", b)
		}
	}
	if res.Skipped > 0 {
		fmt.Fprintf(a.stdout, "batches skipped by the divergence guard: %d\n", res.Skipped)
	}
	fmt.Fprintf(a.stdout, "\n%s\n", res.Report)
	if line := res.ComputeTime(); line != "" {
		fmt.Fprintf(a.stdout, "%s\n", line)
	}
	if hint := res.Hint(); hint != "" {
		fmt.Fprintf(a.stdout, "hint: %s\n", hint)
	}
	fmt.Fprintf(a.stdout, "\n%s", res.Memory)
	if len(tf.test) > 0 {
		r, err := stages.Evaluate(cmd.Context(), res.Model, stages.EvalConfig{Paths: tf.test, Readers: c.Data.Readers, Workers: c.Workers, Logger: a.log})
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "\ntest (%s): ", strings.Join(tf.test, ", "))
		if r.Task == "regression" {
			fmt.Fprintf(a.stdout, "rows %d, loss %.4f, rmse %.4f, r2 %.4f\n", r.Rows, r.Loss, deref(r.RMSE), deref(r.R2))
		} else {
			fmt.Fprintf(a.stdout, "rows %d, loss %.4f, accuracy %.2f%%\n", r.Rows, r.Loss, 100*r.Accuracy)
		}
	}
	if err := rec.write(tf.metrics, tf.plot); err != nil {
		return err
	}
	return nil
}

// parseBytes parses sizes such as 512MiB, 2GiB, 1e9.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mul    float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mul := 1.0
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mul = strings.TrimSuffix(s, u.suffix), u.mul
			break
		}
	}
	var v float64
	if _, err := fmt.Sscanf(strings.TrimSpace(s), "%g", &v); err != nil || v <= 0 || math.IsInf(v, 0) {
		return 0, fmt.Errorf("bad size %q (use e.g. 512MiB or 2GiB)", s)
	}
	return int64(v * mul), nil
}

// recorder shows progress and collects metrics during training.
type recorder struct {
	a         *app
	tf        *trainFlags
	tty       *os.File // the terminal for the progress bar, nil when stderr is not one
	bar       *progressbar.ProgressBar
	metrics   sink.Metrics
	last      time.Time // last plain log line
	first     time.Time // first step (samples/s leave out the start-up: pre-pass, buffer fill)
	firstRows int64
	steps     int64
	rows      int64
}

func newRecorder(a *app, tf *trainFlags) *recorder {
	r := &recorder{a: a, tf: tf, last: time.Now()}
	if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !tf.noProgress {
		r.tty = f
	}
	return r
}

func (r *recorder) step(s stages.StepInfo) {
	r.rows += int64(s.Rows)
	now := time.Now()
	if r.steps == 0 {
		r.first, r.firstRows = now, r.rows
	}
	r.steps++
	rate := 0.0
	if dt := now.Sub(r.first).Seconds(); dt > 0 {
		rate = float64(r.rows-r.firstRows) / dt
	}
	r.metrics.Steps = append(r.metrics.Steps, sink.StepRow{Step: s.Step, Epoch: s.Epoch + 1, Loss: s.Loss, LR: s.LR, SamplesPerSec: rate})
	if r.tty != nil {
		if r.bar == nil {
			r.bar = progressbar.NewOptions64(s.Total, progressbar.OptionSetWriter(r.tty), progressbar.OptionSetWidth(30),
				progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionShowElapsedTimeOnFinish(),
				progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		}
		r.bar.Describe(fmt.Sprintf("epoch %d  step %d  loss %.4f  %.0f samples/s", s.Epoch+1, s.Step, s.Loss, rate))
		_ = r.bar.Set64(s.Step)
		return
	}
	if now.Sub(r.last) >= 5*time.Second {
		eta := time.Duration(0)
		if rate > 0 && s.Total > s.Step {
			eta = time.Duration(float64(s.Total-s.Step) * float64(s.Rows) / rate * float64(time.Second)).Round(time.Second)
		}
		r.a.log.Info("training", zap.Int("epoch", s.Epoch+1), zap.Int64("step", s.Step), zap.Int64("of", s.Total),
			zap.Float64("loss", round4(s.Loss)), zap.Float64("lr", s.LR), zap.Float64("samples_per_s", math.Round(rate)),
			zap.Duration("eta", eta))
		r.last = now
	}
}

func (r *recorder) epoch(e stages.EpochInfo) {
	row := sink.EpochRow{Epoch: e.Epoch + 1, Step: e.Step, TrainLoss: e.TrainLoss, TrainAcc: e.TrainAcc, ValLoss: math.NaN(), ValAcc: math.NaN(),
		Seconds: e.Elapsed.Seconds()}
	fields := []zap.Field{zap.Int("epoch", e.Epoch+1), zap.Int64("step", e.Step), zap.Float64("train_loss", round4(e.TrainLoss))}
	if !math.IsNaN(e.TrainAcc) {
		fields = append(fields, zap.Float64("train_acc", round4(e.TrainAcc)))
	}
	if e.Val != nil {
		row.ValLoss = e.Val.Loss
		fields = append(fields, zap.Float64("val_loss", round4(e.Val.Loss)))
		if e.Val.Task != "regression" {
			row.ValAcc = e.Val.Accuracy
			fields = append(fields, zap.Float64("val_acc", round4(e.Val.Accuracy)))
		} else if e.Val.R2 != nil {
			fields = append(fields, zap.Float64("val_r2", round4(*e.Val.R2)))
		}
	}
	r.metrics.Epochs = append(r.metrics.Epochs, row)
	if r.bar != nil {
		_ = r.bar.Clear()
	}
	r.a.log.Info("epoch done", append(fields, zap.Duration("elapsed", e.Elapsed.Round(time.Millisecond)))...)
}

func (r *recorder) finish() {
	if r.bar != nil {
		_ = r.bar.Finish()
	}
}

// write saves the metrics file and the plot, if asked.
func (r *recorder) write(metricsPath, plotPath string) error {
	if metricsPath != "" {
		w, err := sink.NewMetricsWriter(metricsPath, nil)
		if err != nil {
			return err
		}
		for _, s := range r.metrics.Steps {
			if err := w.WriteStep(s); err != nil {
				w.Abort()
				return err
			}
		}
		for _, e := range r.metrics.Epochs {
			if err := w.WriteEpoch(e); err != nil {
				w.Abort()
				return err
			}
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
	if plotPath != "" {
		if err := sink.PlotCurves(plotPath, r.metrics); err != nil {
			return err
		}
	}
	return nil
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
