package stages

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/zap"

	"github.com/sgdpipe/sgdpipe/io/source"
	"github.com/sgdpipe/sgdpipe/ops"
	"github.com/sgdpipe/sgdpipe/pipeline"
	"github.com/sgdpipe/sgdpipe/stages/feature"
)

// EvalResult holds a model's metrics over a data set.
type EvalResult struct {
	Rows     int64   `json:"rows"`
	Loss     float64 `json:"loss"`
	Task     string  `json:"task"`
	Accuracy float64 `json:"accuracy,omitempty"` // classification and binary

	Classes   []string  `json:"classes,omitempty"`
	Confusion [][]int64 `json:"confusion,omitempty"` // [true][predicted]
	Precision []float64 `json:"precision,omitempty"` // per class
	Recall    []float64 `json:"recall,omitempty"`    // per class
	AUC       *float64  `json:"auc,omitempty"`       // binary

	RMSE *float64 `json:"rmse,omitempty"` // regression
	MAE  *float64 `json:"mae,omitempty"`
	R2   *float64 `json:"r2,omitempty"`
}

// evalPart is the contribution of one record to an EvalResult.
type evalPart struct {
	rows      int64
	loss      float64
	confusion []int64 // k*k, flattened [true*k+pred]
	scores    []float32
	labels    []int32
	sumY      float64
	sumY2     float64
	sumAbs    float64
	sumSq     float64
	out       arrow.RecordBatch // predictions (predict mode)
}

// EvalConfig configures an evaluation or prediction pass.
type EvalConfig struct {
	Paths   []string
	Readers int // concurrent shard readers (default 1)
	Workers int // featurize+forward workers (default 2)
	Batch   int // rows per forward pass (default 512)
	Mem     memory.Allocator
	Logger  *zap.Logger
	// Filter keeps only the rows whose global row index passes (validation split); nil keeps all.
	Filter func(row int64) bool
	// Keep lists input columns copied to predictions (Predict only).
	Keep []string
	// CacheBytes lets an evaluator that runs more than once (validation after every epoch)
	// keep the decoded records of its data from the first run to the next when their
	// estimated size is at most CacheBytes; 0 = read the files every time.
	CacheBytes int64

	// leftOut lists parts of the data to leave out as unreadable (a validation split of
	// a run with --skip-bad-shards sees the same smaller dataset as training).
	leftOut []BadShard
	// skipNow, when not nil, is asked before each shard is read (file path and shard index
	// within the file): true leaves it out of this pass (a part training found unreadable
	// during the run).
	skipNow func(path string, shard int) bool
	// readFailed, when not nil, is told of a shard whose read fails (a *source.ShardError):
	// true leaves the rest of the shard out of this pass instead of failing it.
	readFailed func(path string, shard int, err error) bool
}

func (c *EvalConfig) defaults() {
	if c.Readers < 1 {
		c.Readers = 1
	}
	if c.Workers < 1 {
		c.Workers = 2
	}
	if c.Batch < 1 {
		c.Batch = 512
	}
	if c.Mem == nil {
		c.Mem = memory.DefaultAllocator
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
}

// evaluator runs a model over a data set in file order: read shards -> featurize + forward (ordered,
// N workers) -> accumulate metrics or write predictions.
type evaluator struct {
	cfg     EvalConfig
	model   *Model
	ds      *source.Dataset
	cols    []int
	hasY    bool
	keep    []int // indices of Keep columns within the projected record
	predict bool
	params  []float32 // parameters of the pass in progress
	wsPool  freeList[*evalWorkspace]
	cache   *shardCache // nil: read the files every run
}

type evalWorkspace struct {
	ws   *ops.Workspace
	pred []float32
}

// newEvaluator opens the data and checks it against the model's feature spec.
func newEvaluator(model *Model, cfg EvalConfig, predict bool) (*evaluator, error) {
	cfg.defaults()
	ds, err := openLeavingOut(cfg.Paths, cfg.Mem, cfg.leftOut)
	if err != nil {
		return nil, err
	}
	e := &evaluator{cfg: cfg, model: model, ds: ds, predict: predict}
	e.cols, e.hasY, err = model.Features.Columns(ds.Schema)
	if err != nil {
		ds.Close()
		return nil, fmt.Errorf("%s: %w", ds.Files[0].Path, err)
	}
	if !predict && !e.hasY {
		ds.Close()
		return nil, fmt.Errorf("%s: target column %q not found: evaluation needs the target", ds.Files[0].Path, model.Features.Target)
	}
	for _, name := range cfg.Keep {
		i, err := ds.ColumnIndex(name)
		if err != nil {
			ds.Close()
			return nil, fmt.Errorf("--keep: %w", err)
		}
		e.keep = append(e.keep, len(e.cols))
		e.cols = append(e.cols, i)
	}
	if cfg.CacheBytes > 0 && estimateRowBytes(ds, e.cols)*ds.Rows <= cfg.CacheBytes {
		e.cache = new(shardCache)
	}
	width := model.Net.OutDim()
	e.wsPool.make = func() *evalWorkspace {
		return &evalWorkspace{ws: model.Net.NewWorkspace(cfg.Batch), pred: make([]float32, cfg.Batch*width)}
	}
	return e, nil
}

// openLeavingOut opens paths without the files and shards listed in leftOut (found unreadable
// a moment ago by a training run's pre-pass), so that global row indices match that run's.
func openLeavingOut(paths []string, mem memory.Allocator, leftOut []BadShard) (*source.Dataset, error) {
	opts := source.Options{Mem: mem}
	if len(leftOut) > 0 {
		opts.OnBadFile = func(path string, err error) error {
			for _, b := range leftOut {
				if b.Shard < 0 && b.Path == path {
					return nil
				}
			}
			return err
		}
	}
	ds, err := source.Open(paths, opts)
	if err != nil || len(leftOut) == 0 {
		return ds, err
	}
	drop, err := leaveOutKnown(ds, leftOut)
	if err != nil {
		ds.Close()
		return nil, err
	}
	return ds.Without(drop), nil
}

func (e *evaluator) Close() error {
	if e.cache != nil {
		e.cache.close()
	}
	return e.ds.Close()
}

// shardRec is a record of one shard with the global index of its first row.
type shardRec struct {
	rec   arrow.RecordBatch
	first int64
}

// run evaluates the model with the given parameters; with predict, parts carry prediction records
// handed to sink in input order.
func (e *evaluator) run(ctx context.Context, params []float32, sink func(*evalPart) error) (pipeline.Report, error) {
	cfg := e.cfg
	g := pipeline.New(pipeline.Config{Logger: cfg.Logger})
	shards := pipeline.AddSource(g, "eval-shards", pipeline.SourceFunc[int](func(ctx context.Context, emit func(int) error) error {
		for i := range e.ds.Shards {
			if err := emit(i); err != nil {
				return err
			}
		}
		return nil
	}))
	recs := pipeline.AddTransform(g, "eval-read", shards, pipeline.TransformFunc[int, shardRec](
		func(ctx context.Context, i int, emit func(shardRec) error) error {
			if sh := e.ds.Shards[i]; cfg.skipNow != nil && cfg.skipNow(e.ds.Files[sh.File].Path, sh.Index) {
				return nil
			}
			first := e.ds.Shards[i].First
			var emitFailed bool
			err := e.cache.read(ctx, e.ds, i, e.cols, func(rec arrow.RecordBatch) error {
				// Parts of at most cfg.Batch rows and of equal size (a 667-row record is cut 334+333,
				// not 512+155): the ordered forward stage keeps one part per worker in flight, so a
				// short part's worker would wait for the long one before it took the next.
				rows := rec.NumRows()
				k := (rows + int64(cfg.Batch) - 1) / int64(cfg.Batch)
				for j := range k {
					off, end := j*rows/k, (j+1)*rows/k
					part := rec.NewSlice(off, end)
					if err := emit(shardRec{rec: part, first: first + off}); err != nil {
						part.Release()
						rec.Release()
						emitFailed = true
						return err
					}
				}
				first += rec.NumRows()
				rec.Release()
				return nil
			})
			var se *source.ShardError
			if err != nil && !emitFailed && cfg.readFailed != nil && errors.As(err, &se) {
				sh := e.ds.Shards[i]
				if cfg.readFailed(e.ds.Files[sh.File].Path, sh.Index, err) {
					return nil
				}
			}
			return err
		}), pipeline.Workers(cfg.Readers), pipeline.Ordered(), pipeline.Capacity(2),
		pipeline.Discard(func(s shardRec) { s.rec.Release() }))
	parts := pipeline.AddTransform(g, "eval-forward", recs, pipeline.TransformFunc[shardRec, *evalPart](
		func(ctx context.Context, s shardRec, emit func(*evalPart) error) error {
			p, err := e.forward(s)
			s.rec.Release()
			if err != nil {
				return err
			}
			if err := emit(p); err != nil {
				if p.out != nil {
					p.out.Release()
				}
				return err
			}
			return nil
		}), pipeline.Workers(cfg.Workers), pipeline.Ordered(), pipeline.Capacity(2),
		pipeline.Discard(func(p *evalPart) {
			if p.out != nil {
				p.out.Release()
			}
		}))
	pipeline.AddSink(g, "eval-sink", parts, pipeline.SinkFunc[*evalPart](func(ctx context.Context, p *evalPart) error {
		return sink(p)
	}))
	e.params = params
	err := g.Run(ctx)
	return g.Report(), err
}

// forward featurizes one record, runs the model in eval mode and computes the record's metrics part.
func (e *evaluator) forward(s shardRec) (*evalPart, error) {
	m := e.model
	nfeat := len(e.cols) - len(e.keep)
	proj, err := projectRecord(s.rec, nfeat)
	if err != nil {
		return nil, err
	}
	fx, err := m.Features.Transform(proj, e.cfg.Mem)
	proj.Release()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.describeRow(s.first), err)
	}
	defer fx.Release()
	data, rows, cols := xView(fx)
	x := ops.Matrix{Rows: rows, Cols: cols, Stride: cols, Data: data}
	w := e.wsPool.get()
	defer e.wsPool.put(w)
	width := m.Net.OutDim()
	out := m.Net.Forward(w.ws, e.params, x, false, 0)
	p := &evalPart{}
	keepRow := func(i int) bool { return e.cfg.Filter == nil || e.cfg.Filter(s.first+int64(i)) }
	if e.hasY {
		y := targetsOf(fx, 0, rows)
		if err := e.accumulate(p, out, y, keepRow); err != nil {
			return nil, fmt.Errorf("%s: %w", e.describeRow(s.first), err)
		}
	}
	if e.predict {
		pred := ops.Matrix{Rows: rows, Cols: width, Stride: width, Data: w.pred[:rows*width]}
		m.Net.Predict(pred, w.ws, e.params, x, m.Loss.Link())
		p.out, err = e.predictionRecord(s.rec, pred)
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// describeRow names the file and row of a global row index for error messages.
func (e *evaluator) describeRow(global int64) string {
	for _, sh := range e.ds.Shards {
		if global >= sh.First && global < sh.First+sh.Rows {
			f := e.ds.Files[sh.File]
			var fileFirst int64
			for _, s2 := range e.ds.Shards {
				if s2.File == sh.File {
					fileFirst = s2.First
					break
				}
			}
			return fmt.Sprintf("%s (rows from %d)", f.Path, global-fileFirst)
		}
	}
	return e.ds.Files[0].Path
}

// accumulate adds the loss and task metrics of the kept rows of one forward pass to p.
func (e *evaluator) accumulate(p *evalPart, out ops.Matrix, y ops.Targets, keep func(int) bool) error {
	m := e.model
	task := m.Features.Task
	k := len(m.Features.Classes)
	if task == feature.Classification && p.confusion == nil {
		p.confusion = make([]int64, k*k)
	}
	for i := range out.Rows {
		if !keep(i) {
			continue
		}
		row := ops.Matrix{Rows: 1, Cols: out.Cols, Stride: out.Cols, Data: out.Data[i*out.Stride : i*out.Stride+out.Cols]}
		var yi ops.Targets
		if y.Labels != nil {
			yi.Labels = y.Labels[i : i+1]
		} else {
			yi.Values = ops.Matrix{Rows: 1, Cols: y.Values.Cols, Stride: y.Values.Cols, Data: y.Values.Data[i*y.Values.Stride : i*y.Values.Stride+y.Values.Cols]}
		}
		l, err := m.Loss.Eval(ops.Matrix{}, row, yi, 1)
		if err != nil {
			return err
		}
		p.loss += l
		p.rows++
		switch task {
		case feature.Classification:
			pred := argmax(row.Data)
			p.confusion[int(yi.Labels[0])*k+pred]++
		case feature.Binary:
			p.scores = append(p.scores, row.Data[0])
			p.labels = append(p.labels, yi.Labels[0])
		case feature.Regression:
			t := float64(yi.Values.Data[0])
			r := float64(row.Data[0]) - t
			p.sumY += t
			p.sumY2 += t * t
			p.sumAbs += math.Abs(r)
			p.sumSq += r * r
		}
	}
	return nil
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// evalTotals merges parts (in input order, so sums are deterministic) into an EvalResult.
type evalTotals struct {
	task                       feature.Task
	classes                    []string
	rows                       int64
	loss                       float64
	confusion                  []int64
	scores                     []float32
	labels                     []int32
	sumY, sumY2, sumAbs, sumSq float64
}

func (t *evalTotals) add(p *evalPart) {
	t.rows += p.rows
	t.loss += p.loss
	if p.confusion != nil {
		if t.confusion == nil {
			t.confusion = make([]int64, len(p.confusion))
		}
		for i, v := range p.confusion {
			t.confusion[i] += v
		}
	}
	t.scores = append(t.scores, p.scores...)
	t.labels = append(t.labels, p.labels...)
	t.sumY += p.sumY
	t.sumY2 += p.sumY2
	t.sumAbs += p.sumAbs
	t.sumSq += p.sumSq
}

func (t *evalTotals) result() *EvalResult {
	r := &EvalResult{Rows: t.rows, Task: string(t.task)}
	if t.rows == 0 {
		return r
	}
	n := float64(t.rows)
	r.Loss = t.loss / n
	switch t.task {
	case feature.Classification:
		k := len(t.classes)
		r.Classes = t.classes
		r.Confusion = make([][]int64, k)
		r.Precision = make([]float64, k)
		r.Recall = make([]float64, k)
		var correct int64
		for i := range k {
			r.Confusion[i] = slices.Clone(t.confusion[i*k : (i+1)*k])
			correct += t.confusion[i*k+i]
		}
		for c := range k {
			var predC, trueC int64
			for i := range k {
				predC += t.confusion[i*k+c]
				trueC += t.confusion[c*k+i]
			}
			r.Precision[c] = ratio(t.confusion[c*k+c], predC)
			r.Recall[c] = ratio(t.confusion[c*k+c], trueC)
		}
		r.Accuracy = float64(correct) / n
	case feature.Binary:
		r.Classes = t.classes
		var correct int64
		conf := make([]int64, 4)
		for i, s := range t.scores {
			pred := int32(0)
			if s > 0 {
				pred = 1
			}
			if pred == t.labels[i] {
				correct++
			}
			conf[t.labels[i]*2+pred]++
		}
		r.Accuracy = float64(correct) / n
		r.Confusion = [][]int64{conf[0:2], conf[2:4]}
		r.Precision = []float64{ratio(conf[0], conf[0]+conf[2]), ratio(conf[3], conf[1]+conf[3])}
		r.Recall = []float64{ratio(conf[0], conf[0]+conf[1]), ratio(conf[3], conf[2]+conf[3])}
		auc := rocAUC(t.scores, t.labels)
		r.AUC = &auc
	case feature.Regression:
		rmse := math.Sqrt(t.sumSq / n)
		mae := t.sumAbs / n
		ssTot := t.sumY2 - t.sumY*t.sumY/n
		r2 := 1 - t.sumSq/ssTot
		if ssTot <= 0 {
			r2 = math.NaN()
		}
		r.RMSE, r.MAE = &rmse, &mae
		if !math.IsNaN(r2) {
			r.R2 = &r2
		}
	}
	return r
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// rocAUC is the area under the ROC curve by the rank statistic (ties count one half).
func rocAUC(scores []float32, labels []int32) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var pos, neg float64
	var rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		avgRank := float64(i+j+1) / 2 // ranks are 1-based
		for _, id := range idx[i:j] {
			if labels[id] == 1 {
				rankSum += avgRank
				pos++
			} else {
				neg++
			}
		}
		i = j
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// Evaluate computes the model's loss and task metrics over the files in cfg.Paths.
func Evaluate(ctx context.Context, model *Model, cfg EvalConfig) (*EvalResult, error) {
	e, err := newEvaluator(model, cfg, false)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	return e.evaluate(ctx, model.Params)
}

func (e *evaluator) evaluate(ctx context.Context, params []float32) (*EvalResult, error) {
	tot := &evalTotals{task: e.model.Features.Task, classes: e.model.Features.Classes}
	_, err := e.run(ctx, params, func(p *evalPart) error {
		tot.add(p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return tot.result(), nil
}
