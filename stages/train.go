package stages

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/sgdpipe/sgdpipe/internal/bufpool"
	"github.com/sgdpipe/sgdpipe/io/source"
	"github.com/sgdpipe/sgdpipe/ops"
	"github.com/sgdpipe/sgdpipe/optim"
	"github.com/sgdpipe/sgdpipe/pipeline"
	"github.com/sgdpipe/sgdpipe/stages/feature"
)

// TrainConfig is the whole recipe of a training run: the data path, the model, the loss, the update
// rule and its schedule, the parallelism and the side work. The zero value of each field is its
// documented default; Validate reports a bad value naming its CLI flag.
type TrainConfig struct {
	Data DataConfig // files, target/features, shuffling, normalization, batch size, readers, ...

	Val       []string // --val: validation files; nil = none (or ValSplit)
	ValSplit  float64  // --val-split: fraction of the training rows held out (seeded), in [0, 1)
	EvalEvery int      // --eval-every: validate every N steps; 0 = at the end of every epoch
	Patience  int      // --patience: stop after this many evaluations without a better validation loss; 0 = off

	Model      string  // --model: "linear" or "mlp:256,128" (default "mlp:256,128")
	Activation string  // --activation (default relu)
	Dropout    float64 // --dropout
	Init       string  // --init (default "default": PyTorch nn.Linear's)
	Loss       string  // --loss; "" = from the task (cross-entropy, bce, mse)

	Optimizer   string  // --optimizer: rule name with options, e.g. "adam:beta2=0.99" (default sgd)
	LR          float64 // --lr; 0 = the rule's default
	Momentum    float64 // --momentum (sgd, rmsprop)
	Nesterov    bool    // --nesterov (sgd)
	WeightDecay float64 // --weight-decay
	Schedule    string  // --schedule, optim.ParseSchedule syntax (default constant)
	Warmup      int     // --warmup: linear warm-up steps before the schedule
	ClipNorm    float64 // --clip-norm: clip the gradient's global L2 norm; 0 = off
	ClipValue   float64 // --clip-value: clip each gradient element to [-v, v]; 0 = off
	SWAStart    int     // --swa-start: average the parameters at the end of every epoch from this epoch (1-based); 0 = off

	Workers    int // --workers: workers running the forward and backward passes (default 2)
	MicroBatch int // --micro-batch: rows per micro-batch (default: batch/2); fixes the gradient summation order
	Staleness  int // --staleness: max parameter versions a worker may lag (0 = synchronous, deterministic)
	// SplitPasses (--split-passes) runs the forward and the backward pass of a micro-batch in
	// two stages of Workers workers each ("forward", "backward"), so that they overlap across
	// micro-batches, followed by a "reduce" and an "optimize" stage. By default one stage
	// ("compute") runs both passes of a micro-batch on one goroutine, and the worker that
	// completes a step reduces and applies it: that saves a hand-off per micro-batch and two per
	// step, which on 2 cores is worth more than the overlap. Results are the same.
	SplitPasses bool
	MaxSteps    int64 // stop after this many steps (0 = run all epochs)

	CheckpointDir   string // --checkpoint: directory of the checkpoint file; "" = none
	CheckpointEvery int    // --checkpoint-every: steps between checkpoints (0 = only at epoch ends and on interrupt)
	Resume          bool   // --resume: continue from the checkpoint in CheckpointDir

	OnNonFinite string // --on-nonfinite: stop (default), skip or backoff

	// BuildData, when set, builds the data part of the graph instead of dp.Add(g, from): a custom graph
	// can insert its own stages, e.g. between the normalizer and the batcher, with dp.AddRead,
	// dp.AddShuffle, dp.AddNormalize and dp.AddBatch. It must start at from (a resumed position).
	BuildData func(g *pipeline.Graph, dp *DataPath, from Position) (*pipeline.Stream[Batch], error)

	Logger  *zap.Logger
	OnStep  func(StepInfo)  // called after every step, in step order, by the goroutine that applied it; must be quick
	OnEpoch func(EpochInfo) // called after every evaluation point / epoch
}

// withDefaults returns c with zero values replaced by defaults.
func (c TrainConfig) withDefaults() TrainConfig {
	if c.Model == "" {
		c.Model = "mlp:256,128"
	}
	if c.Init == "" {
		c.Init = "default"
	}
	if c.Optimizer == "" {
		c.Optimizer = "sgd"
	}
	if c.Workers == 0 {
		c.Workers = 2
	}
	if c.OnNonFinite == "" {
		c.OnNonFinite = "stop"
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.Data.Mem == nil {
		// Records of the data path and of validation are made and dropped every batch: a pool
		// that reuses their buffers keeps the steady state free of garbage (and the heap flat).
		c.Data.Mem = bufpool.New(0)
	}
	return c
}

// Validate checks the configuration and names the flag at fault.
func (c TrainConfig) Validate() error {
	c = c.withDefaults()
	if err := c.Data.Validate(); err != nil {
		return err
	}
	switch {
	case c.ValSplit < 0 || c.ValSplit >= 1 || math.IsNaN(c.ValSplit):
		return fmt.Errorf("--val-split: must be in [0, 1), got %v", c.ValSplit)
	case c.ValSplit > 0 && len(c.Val) > 0:
		return errors.New("--val and --val-split: give one or the other")
	case c.EvalEvery < 0:
		return fmt.Errorf("--eval-every: must be >= 0, got %d", c.EvalEvery)
	case c.Patience < 0:
		return fmt.Errorf("--patience: must be >= 0, got %d", c.Patience)
	case c.Patience > 0 && len(c.Val) == 0 && c.ValSplit == 0:
		return errors.New("--patience: early stopping needs validation data (--val or --val-split)")
	case c.LR < 0 || math.IsNaN(c.LR) || math.IsInf(c.LR, 0):
		return fmt.Errorf("--lr: must be > 0, got %v", c.LR)
	case c.Warmup < 0:
		return fmt.Errorf("--warmup: must be >= 0, got %d", c.Warmup)
	case c.ClipNorm < 0 || math.IsNaN(c.ClipNorm):
		return fmt.Errorf("--clip-norm: must be >= 0, got %v", c.ClipNorm)
	case c.ClipValue < 0 || math.IsNaN(c.ClipValue):
		return fmt.Errorf("--clip-value: must be >= 0, got %v", c.ClipValue)
	case c.SWAStart < 0:
		return fmt.Errorf("--swa-start: must be >= 0, got %d", c.SWAStart)
	case c.Workers < 1 || c.Workers > 256:
		return fmt.Errorf("--workers: must be in [1, 256], got %d", c.Workers)
	case c.MicroBatch < 0:
		return fmt.Errorf("--micro-batch: must be >= 0, got %d", c.MicroBatch)
	case c.Staleness < 0 || c.Staleness > 64:
		return fmt.Errorf("--staleness: must be in [0, 64], got %d", c.Staleness)
	case c.CheckpointEvery < 0:
		return fmt.Errorf("--checkpoint-every: must be >= 0, got %d", c.CheckpointEvery)
	case c.Resume && c.CheckpointDir == "":
		return errors.New("--resume: needs --checkpoint DIR")
	}
	switch c.OnNonFinite {
	case "stop", "skip", "backoff":
	default:
		return fmt.Errorf("--on-nonfinite: unknown policy %q (choose stop, skip or backoff)", c.OnNonFinite)
	}
	if _, err := ops.ParseSpec(c.Model, c.Activation, c.Dropout); err != nil {
		return err
	}
	if err := ops.CheckInit(c.Init); err != nil {
		return err
	}
	if c.Loss != "" {
		if _, err := ops.ParseLoss(c.Loss); err != nil {
			return err
		}
	}
	// Parse the update rule and the schedule on a stand-in size, so that a typo is a usage error before
	// any data is read.
	opt, err := optim.ParseOptimizer(c.Optimizer, optim.Config{N: 1, LR: c.LR, Momentum: c.Momentum, WeightDecay: c.WeightDecay, Options: c.ruleOptions()})
	if err != nil {
		return err
	}
	if learnsRate(opt) && (c.scheduleSpec() != "" && c.scheduleSpec() != "constant") {
		return fmt.Errorf("--schedule: %s learns its own learning rate; run it without --schedule and --warmup", opt.Name())
	}
	if _, err := optim.ParseSchedule(c.scheduleSpec(), opt.LR(), 1000); err != nil {
		return err
	}
	return nil
}

// learnsRate reports whether the rule adapts its own learning rate (hypergradient descent), so that no
// schedule may set it.
func learnsRate(opt optim.Optimizer) bool { return strings.HasSuffix(opt.Name(), "-hd") }

// ruleOptions returns the optimizer options given by dedicated flags (--nesterov).
func (c TrainConfig) ruleOptions() map[string]string {
	if c.Nesterov {
		return map[string]string{"nesterov": "true"}
	}
	return nil
}

// scheduleSpec returns the --schedule spec with --warmup folded in.
func (c TrainConfig) scheduleSpec() string {
	spec := c.Schedule
	if c.Warmup > 0 {
		if spec == "" {
			spec = "constant"
		}
		spec = fmt.Sprintf("warmup:%d+%s", c.Warmup, spec)
	}
	return spec
}

// recipe is the part of the configuration that decides the trained model (not the concurrency knobs,
// which never change the result at staleness 0), stored in the model file.
func (c TrainConfig) recipe() string {
	r := map[string]any{
		"model": c.Model, "activation": c.Activation, "dropout": c.Dropout, "init": c.Init, "loss": c.Loss,
		"optimizer": c.Optimizer, "lr": c.LR, "momentum": c.Momentum, "nesterov": c.Nesterov,
		"weight_decay": c.WeightDecay, "schedule": c.Schedule, "warmup": c.Warmup, "clip_norm": c.ClipNorm,
		"clip_value": c.ClipValue, "swa_start": c.SWAStart, "micro_batch": c.MicroBatch,
		"staleness": c.Staleness, "seed": c.Data.Seed, "epochs": c.Data.Epochs, "batch": c.Data.Batch,
		"shuffle": c.Data.Shuffle, "shuffle_buffer": c.Data.ShuffleBuffer, "val_split": c.ValSplit,
	}
	b, _ := json.Marshal(r) // map keys are sorted: deterministic
	return string(b)
}

// trainState is the optimizer stage's progress, saved in checkpoints.
type trainState struct {
	Step     int64
	Pos      Position // data position after the last applied step
	LRScale  float64  // backoff factor applied to the schedule's rate
	Skipped  int64    // batches dropped by the divergence guard
	BestVal  float64  // best validation loss so far (early stopping)
	BadEvals int      // evaluations since the best one

	epochLoss    float64
	epochCorrect int64
	epochRows    int64
}

// Result is what a training run produced.
type Result struct {
	Model   *Model
	Steps   int64
	Epochs  []EpochInfo
	Report  pipeline.Report
	Skipped int64
	Stopped string // "", "early-stop", "max-steps"
	Memory  MemoryLedger
	Bad     []BadShard // unreadable parts of the data left out (--skip-bad-shards)
	// ParamWait is the time the workers spent waiting for the parameters of their step (the
	// staleness bound), summed over workers. The engine counts it as the busy time of the stage
	// that runs the forward pass ("compute", or "forward" with SplitPasses).
	ParamWait time.Duration
	// StepTime is the time spent reducing the gradients of the steps and applying them (update,
	// divergence guard, publish, and the per-step and per-epoch side work: metrics, validation,
	// checkpoints). With fused passes the compute workers do it, and the engine counts it as their
	// busy time; with SplitPasses it is the reduce and optimize stages' and StepTime is 0.
	StepTime time.Duration
	// AssistTime is the part of ParamWait the waiting workers spent computing a share of the
	// step's update (optim.Assist; staleness 0 with more than one worker).
	AssistTime time.Duration
}

// Hint returns a one-line suggestion of which flag to raise, from the report and the time the forward
// workers spent waiting for parameters: when they mostly waited, the serial end of each step (reduce,
// update, publish) is the limit, not the workers.
func (r *Result) Hint() string {
	if b := r.Report.Bottleneck; b == "forward" || b == "compute" {
		for _, s := range r.Report.Stages {
			if s.Name == b && s.Busy > 0 && float64(r.ParamWait) > 0.5*float64(s.Busy) {
				return fmt.Sprintf("the %s workers spent %.0f%% of their busy time waiting for the previous step's parameters (synchronous SGD): the serial reduce and update limit the speed; raise --batch, or allow --staleness 1",
					b, 100*float64(r.ParamWait)/float64(s.Busy))
			}
		}
	}
	return Hint(r.Report)
}

// ComputeTime returns a line splitting the compute workers' busy time into the passes, the serial
// step end (reducing and applying steps) and the wait for the parameters of their step, or "" when
// the run had no compute stage or applied its steps in stages of their own (SplitPasses).
func (r *Result) ComputeTime() string {
	if r.StepTime <= 0 {
		return ""
	}
	for _, s := range r.Report.Stages {
		if s.Name != "compute" || s.Busy <= 0 {
			continue
		}
		pct := func(d time.Duration) float64 { return 100 * float64(d) / float64(s.Busy) }
		passes := max(0, s.Busy-r.StepTime-r.ParamWait)
		assist := min(r.AssistTime, r.ParamWait)
		return fmt.Sprintf("compute time: %.0f%% forward and backward passes, %.0f%% reducing and applying steps, %.0f%% helping another worker apply one, %.0f%% waiting for the parameters of the step (the data path runs meanwhile)",
			pct(passes), pct(r.StepTime), pct(assist), pct(r.ParamWait-assist))
	}
	return ""
}

// Trainer owns one training run's shared state. It is created by Train.
type Trainer struct {
	cfg      TrainConfig
	log      *zap.Logger
	dp       *DataPath
	ds       *source.Dataset
	batch    int // rows per batch
	features *feature.Spec
	spec     ops.Spec
	net      *ops.Net
	loss     ops.Loss
	classify bool
	seed     uint64

	params     []float32 // the optimizer's master copy
	backup     []float32 // params before the step in progress (skip/backoff policies only)
	opt        optim.Optimizer
	learnsRate bool // sgd-hd, adam-hd: no schedule
	sched      optim.Schedule
	avg        *optim.Averager
	store      *ParamStore

	actPool   freeList[*activation]
	gradPool  freeList[[]float32]
	paramWait atomic.Int64 // ns workers spent waiting for parameter snapshots before their forward pass
	actsMade  atomic.Int64 // workspaces the pool made (memory ledger)
	gradsMade atomic.Int64 // gradient buffers the pool made

	memBudget  int64 // --memory-budget, whole run
	dataBudget int64 // the data path's share

	state          trainState
	start          time.Time
	epochStart     time.Time
	epochs         []EpochInfo
	lastCheckpoint string
	// staleTempsRemoved: the first checkpoint of the run has cleared temp files of killed writes.
	staleTempsRemoved bool
	val               *evaluator
}

// microSeed derives the random seed of a micro-batch's dropout masks from the run seed, the step and
// the micro-batch index, so masks do not depend on which worker runs it.
func (t *Trainer) microSeed(m Micro) uint64 {
	return mix64(t.seed ^ mix64(uint64(m.Step)<<8|uint64(m.Index)))
}

func (t *Trainer) onStep(info StepInfo) {
	if t.cfg.OnStep != nil {
		t.cfg.OnStep(info)
	}
}

// newTrainer prepares everything but the pipeline: data set, features, model, optimizer, checkpoint.
func newTrainer(ctx context.Context, cfg TrainConfig) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	t := &Trainer{cfg: cfg, log: cfg.Logger, seed: cfg.Data.Seed}
	var ck *checkpoint
	if cfg.Resume {
		var err error
		if ck, err = loadCheckpoint(cfg.CheckpointDir); err != nil {
			return nil, err
		}
	}
	// The feature spec first (a checkpoint's, or the pre-pass over the data): the model's size, and so
	// its share of the memory budget, follows from it.
	// One memory budget: the model side takes what its pools can hold, the data path the rest.
	t.memBudget = cfg.Data.MemoryBudget
	if t.memBudget == 0 {
		t.memBudget = defaultMemoryBudget()
	}
	var spec *feature.Spec
	var leftOut []BadShard    // unreadable parts the pre-pass found (--skip-bad-shards)
	var prefilled *shardCache // what the pre-pass decoded, for the first epoch to replay
	switch {
	case ck != nil:
		spec = ck.model.Features
	case cfg.Data.SkipBadShards == 0:
		var err error
		dc := cfg.Data.withDefaults()
		dc.MemoryBudget = t.memBudget // the whole budget: the data's share is not known yet
		if spec, prefilled, err = fitCaching(ctx, dc, true); err != nil {
			return nil, err
		}
	default:
		var err error
		if spec, leftOut, err = fitSpec(ctx, cfg.Data); err != nil {
			return nil, err
		}
	}
	// Until OpenDataPath takes it over, the pre-pass's cache is released on every error.
	defer func() {
		if prefilled != nil {
			prefilled.close()
		}
	}()
	t.features = spec
	t.batch = cfg.Data.Batch
	if t.batch == 0 {
		t.batch = DefaultBatch
	}
	if err := t.buildModel(ck); err != nil {
		return nil, err
	}
	acts, grads, snaps := t.modelMemory()
	t.dataBudget = t.memBudget - acts - grads - snaps
	if t.dataBudget < 1<<20 {
		return nil, fmt.Errorf("--memory-budget %s: the model needs %s for activations, gradients and parameter snapshots, leaving too little for the data; raise it or lower --workers, --micro-batch or --staleness",
			formatBytes(t.memBudget), formatBytes(acts+grads+snaps))
	}
	dcfg := cfg.Data
	dcfg.Logger = t.log
	dcfg.Spec = spec
	dcfg.leftOut = leftOut
	dcfg.MemoryBudget = t.dataBudget
	dcfg.prefilled, prefilled = prefilled, nil
	dp, err := OpenDataPath(ctx, dcfg)
	if err != nil {
		return nil, err
	}
	t.dp, t.ds = dp, dp.Dataset
	if err := t.buildOptimizer(ck); err != nil {
		dp.Close()
		return nil, err
	}
	if ck != nil {
		if err := dp.CheckResume(ck.state.Bad, t.state.Pos); err != nil {
			dp.Close()
			return nil, err
		}
	}
	if cfg.Staleness == 0 {
		t.store = NewInPlaceParamStore(t.params, t.state.Step)
		if cfg.Workers > 1 {
			// The workers waiting for a step's parameters compute part of its update.
			t.store.SetAssist(optim.Assist)
		}
	} else {
		t.store = NewParamStore(t.params, cfg.Staleness, t.state.Step)
	}
	if cfg.OnNonFinite != "stop" {
		t.backup = make([]float32, len(t.params))
	}
	outDim := t.net.OutDim()
	maxMicro := t.microRows()
	t.actPool.make = counted(&t.actsMade, func() *activation {
		return &activation{ws: t.net.NewWorkspace(maxMicro), dOut: make([]float32, maxMicro*outDim)}
	})
	n := t.net.NumParams()
	t.gradPool.make = counted(&t.gradsMade, func() []float32 { return make([]float32, n) })
	return t, nil
}

// microRows is the fixed micro-batch size.
func (t *Trainer) microRows() int {
	if t.cfg.MicroBatch > 0 {
		return min(t.cfg.MicroBatch, t.batch)
	}
	return max(1, (t.batch+1)/2)
}

// outputs returns the width of the network's output layer for the task.
func outputs(fs *feature.Spec) (int, error) {
	switch fs.Task {
	case feature.Classification:
		if len(fs.Classes) < 2 {
			return 0, fmt.Errorf("--target %q: classification needs at least 2 classes, found %d", fs.Target, len(fs.Classes))
		}
		return len(fs.Classes), nil
	case feature.Binary, feature.Regression:
		return 1, nil
	}
	return 0, fmt.Errorf("--target: no target column: training needs one (--target NAME)")
}

// defaultLoss returns the loss for a task.
func defaultLoss(task feature.Task) string {
	switch task {
	case feature.Classification:
		return "crossentropy"
	case feature.Binary:
		return "bce"
	default:
		return "mse"
	}
}

func (t *Trainer) buildModel(ck *checkpoint) error {
	cfg := t.cfg
	out, err := outputs(t.features)
	if err != nil {
		return err
	}
	if ck != nil {
		m := ck.model
		t.spec, t.net, t.loss = m.Spec, m.Net, m.Loss
		t.params = m.Params
	} else {
		t.spec, err = ops.ParseSpec(cfg.Model, cfg.Activation, cfg.Dropout)
		if err != nil {
			return err
		}
		t.net, err = ops.NewNet(t.spec, t.features.Dim, out)
		if err != nil {
			return fmt.Errorf("--model: %w", err)
		}
		lossName := cfg.Loss
		if lossName == "" {
			lossName = defaultLoss(t.features.Task)
		}
		if t.loss, err = ops.ParseLoss(lossName); err != nil {
			return err
		}
		t.params = t.net.Layout().NewVector()
		rng := rand.New(rand.NewPCG(t.seed, 0x5eed1417))
		if err := t.net.Init(t.params, cfg.Init, rng); err != nil {
			return err
		}
	}
	t.classify = t.features.Task != feature.Regression
	if t.loss.Link() == ops.LinkSigmoid && out != 1 {
		return fmt.Errorf("--loss %s needs a binary target, but %q has %d classes", t.loss, t.features.Target, out)
	}
	return nil
}

// stepsPerEpoch returns the number of optimizer steps in one epoch: one per batch (a validation split
// removes rows from batches, not batches).
func (t *Trainer) stepsPerEpoch() int {
	rows, b := t.ds.Rows, int64(t.batch)
	if t.cfg.Data.DropLast {
		return int(max(rows/b, 1))
	}
	return int(max((rows+b-1)/b, 1))
}

// inValSplit reports whether global row r belongs to the seeded validation split.
func inValSplit(seed uint64, r int64, frac float64) bool {
	h := mix64(seed ^ 0x7a11d ^ mix64(uint64(r)))
	return float64(h>>11)/(1<<53) < frac
}

func (t *Trainer) buildOptimizer(ck *checkpoint) error {
	cfg := t.cfg
	n := t.net.NumParams()
	opt, err := optim.ParseOptimizer(cfg.Optimizer, optim.Config{N: n, LR: cfg.LR, Momentum: cfg.Momentum, WeightDecay: cfg.WeightDecay, Options: cfg.ruleOptions()})
	if err != nil {
		return err
	}
	t.opt = opt
	t.learnsRate = learnsRate(opt)
	lr0 := opt.LR()
	total := t.stepsPerEpoch() * cfg.Data.Epochs
	t.sched, err = optim.ParseSchedule(cfg.scheduleSpec(), lr0, total)
	if err != nil {
		return err
	}
	if cfg.SWAStart > 0 {
		spe := t.stepsPerEpoch()
		t.avg, err = optim.NewAverager(n, optim.AveragerConfig{From: (cfg.SWAStart) * spe, Every: spe})
		if err != nil {
			return fmt.Errorf("--swa-start: %w", err)
		}
	}
	t.state.LRScale = 1
	t.state.BestVal = math.Inf(1)
	if ck != nil {
		if err := ck.restore(t); err != nil {
			return err
		}
	}
	return nil
}
