package stages

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/zap"

	"github.com/sgdpipe/sgdpipe/io/source"
	"github.com/sgdpipe/sgdpipe/pipeline"
	"github.com/sgdpipe/sgdpipe/stages/feature"
)

// shuffledRows is about the size of the records the shuffler emits (a multiple of the
// batch size): small enough that the zero-copy batches cut from them do not pin much
// memory downstream and that the records in flight between shuffler, normalizers and
// batcher fit the buffer pool's free lists (so the steady state allocates nothing: 256
// normalized MNIST rows are 800 KB), large enough to amortize the per-record costs.
const shuffledRows = 256

// Defaults of DataConfig, applied where a field is zero.
const (
	DefaultShuffle       = ShuffleBuffer
	DefaultShuffleBuffer = 65536   // rows
	DefaultMemoryBudget  = 1 << 29 // 512 MiB
	DefaultReaders       = 2
	DefaultNormalizers   = 2
	DefaultBatch         = 128
	DefaultQueue         = 2
)

// DataConfig configures the data path: read -> shuffle -> normalize -> batch. The
// zero value of every field but Paths and Epochs selects its default; Validate names
// the flag at fault. A DataConfig is only read.
type DataConfig struct {
	Paths  []string // --data: files, directories or globs (source.Open)
	Seed   uint64   // --seed: the run seed; the same seed gives the same order
	Epochs int      // --epochs: passes over the data; >= 1
	// Shuffle is the shuffle mode (--shuffle): "full", "buffer" (default),
	// "shards" or "none"; see ShuffleMode.
	Shuffle string
	// ShuffleBuffer is the row buffer of --shuffle=buffer, in rows (--shuffle-buffer,
	// default 65536, >= 1). If rows of the estimated width do not fit MemoryBudget,
	// the data path uses a smaller buffer and logs a warning.
	ShuffleBuffer int
	// MemoryBudget bounds the bytes of the records the shuffle buffer retains
	// (--memory-budget, default 512 MiB, >= 1 MiB). --shuffle=full needs the whole
	// projected data to fit. Edges hold at most Queue records more per stage.
	MemoryBudget int64
	Readers      int  // --readers: parallel shard decoders (default 2, 1..256)
	Normalizers  int  // --normalizers: parallel featurizers (default 2, 1..256)
	Batch        int  // --batch: rows per batch (default 128, >= 1)
	DropLast     bool // --drop-last: drop each epoch's last batch if it is partial
	Queue        int  // --queue: capacity of each edge of the path, in records (default 2, 0..1024)
	// ReadRows is the number of rows per record read from a shard (1..16777216); 0
	// (the default) leaves it to the source, which sizes records by the width of the
	// rows (about source.DefaultBatchValues values, at most source.DefaultBatchRows
	// rows). Decoding buffers scale with it: on MNIST-shaped rows (784 pixels stored
	// as a Parquet list) 8192 rows cost each reader about 100 MiB of transient memory,
	// the source's default of 667 rows about 4 MiB.
	ReadRows int
	// Feature says which columns make x and y (Fit runs on the data when Spec is nil).
	Feature feature.Config
	// Spec, when not nil, is used as is instead of fitting one (resume, predict).
	Spec *feature.Spec
	// AllowNoTarget lets the path run on data without the spec's target (predict):
	// batches then have no y. Otherwise a missing target is an error.
	AllowNoTarget bool
	// SkipBadShards is how many unreadable parts of the data (files whose metadata
	// cannot be read, shards that cannot be decoded) the run may leave out, each logged
	// (--skip-bad-shards, default 0: the first one is an error; >= 0). Most are found
	// before training (by the feature fit, or by one read of the data when Spec is
	// given), so the run, its statistics and a resume see the same smaller dataset. A
	// shard that fails during the run (an I/O error, a file changed or truncated since)
	// counts against the same budget, each shard once: the reader keeps the rows it
	// read before the failure, leaves out the rest of the shard and the whole shard in
	// later epochs, and the epoch goes on shorter (see Reader; the plan and the row
	// indices stay those of the whole data). A mid-epoch resume after such a failure is
	// not exact: see DataPath.CheckResume. DataPath.Bad lists every part left out. A
	// part more is an error naming it.
	SkipBadShards int
	Mem           memory.Allocator // allocator of every record (default memory.DefaultAllocator)
	Logger        *zap.Logger      // nil = zap.NewNop()

	leftOut []BadShard // with Spec: the unreadable parts fitSpec found (nil = find them)
	// prefilled: with Spec, the shard cache the fit read through (fitSpec). The data path
	// owns it: the reader replays it when the shard cache is on and it holds the columns
	// read, so the first epoch does not decode the data again; otherwise it is released.
	prefilled *shardCache
}

// Validate checks the configuration and returns an error naming the first flag at
// fault, or nil. Zero fields are valid (they take their defaults).
func (c DataConfig) Validate() error {
	switch {
	case len(c.Paths) == 0:
		return errors.New("--data: give at least one data file or directory")
	case c.Epochs < 1:
		return fmt.Errorf("--epochs: must be >= 1, got %d", c.Epochs)
	case c.ShuffleBuffer < 0:
		return fmt.Errorf("--shuffle-buffer: must be >= 1 rows, got %d", c.ShuffleBuffer)
	case c.MemoryBudget < 0 || c.MemoryBudget > 0 && c.MemoryBudget < 1<<20:
		return fmt.Errorf("--memory-budget: must be at least 1 MiB, got %d bytes", c.MemoryBudget)
	case c.Readers < 0 || c.Readers > 256:
		return fmt.Errorf("--readers: must be 1..256, got %d", c.Readers)
	case c.Normalizers < 0 || c.Normalizers > 256:
		return fmt.Errorf("--normalizers: must be 1..256, got %d", c.Normalizers)
	case c.Batch < 0:
		return fmt.Errorf("--batch: must be >= 1, got %d", c.Batch)
	case c.Queue < 0 || c.Queue > 1024:
		return fmt.Errorf("--queue: must be 0..1024, got %d", c.Queue)
	case c.ReadRows < 0 || c.ReadRows > 1<<24:
		return fmt.Errorf("DataConfig.ReadRows: must be 0 (the source's default) or 1..16777216, got %d", c.ReadRows)
	case c.SkipBadShards < 0:
		return fmt.Errorf("--skip-bad-shards: must be >= 0, got %d", c.SkipBadShards)
	}
	if c.Shuffle != "" {
		if _, err := ParseShuffleMode(c.Shuffle); err != nil {
			return err
		}
	}
	return nil
}

// withDefaults returns c with zero fields set to their defaults.
func (c DataConfig) withDefaults() DataConfig {
	if c.Shuffle == "" {
		c.Shuffle = string(DefaultShuffle)
	}
	if c.ShuffleBuffer == 0 {
		c.ShuffleBuffer = DefaultShuffleBuffer
	}
	if c.MemoryBudget == 0 {
		c.MemoryBudget = DefaultMemoryBudget
	}
	if c.Readers == 0 {
		c.Readers = DefaultReaders
	}
	if c.Normalizers == 0 {
		c.Normalizers = DefaultNormalizers
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	if c.Queue == 0 {
		c.Queue = DefaultQueue
	}
	if c.Mem == nil {
		c.Mem = memory.DefaultAllocator
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c
}

// DataPath is an opened data path: the dataset, the feature spec, the epoch plan and
// the shuffle quality collector, ready to add its stages to one pipeline.Graph.
//
// Use: OpenDataPath, then Add (or the pieces AddRead, AddShuffle, AddNormalize,
// AddBatch, to insert stages between them), then run the graph, then Close, which
// releases what the stages still hold when a run ended early and closes the dataset.
// A DataPath builds one graph; open another for another run.
//
// Ownership: the DataPath owns the dataset; the Batch stream's items belong to its
// consumer. Concurrency: build from one goroutine; Quality and Close are safe from
// any goroutine.
type DataPath struct {
	Dataset *source.Dataset
	Spec    *feature.Spec
	Plan    *Plan
	Quality *Quality
	// Bad lists the parts of the data left out as unreadable (DataConfig.SkipBadShards),
	// in the order found; nil when none. The parts found before the run come first; the
	// reader appends those it meets during the run (MidRun), so read Bad after the
	// graph's Run has returned, or call BadShards.
	Bad []BadShard

	cfg       DataConfig
	cols      []int // dataset columns read: features, then target
	hasTarget bool
	outRows   int // rows per shuffled record
	// cacheShards: the projected data fits half the memory budget, so the reader keeps decoded shards.
	cacheShards bool

	mu       sync.Mutex
	from     Position
	resume   *Resume
	read     bool // AddRead was called
	reader   *Reader
	shuffler *Shuffler
	batcher  *Batcher
	closed   bool
}

// OpenDataPath validates cfg, opens the data, fits the feature spec (unless cfg.Spec
// is given) and makes the epoch plan. It reads the data once when it fits the spec
// (with cfg.Readers workers), otherwise metadata only. Errors name the flag, file or
// column at fault.
func OpenDataPath(ctx context.Context, cfg DataConfig) (*DataPath, error) {
	var ds *source.Dataset
	var bad []BadShard
	var err error
	defer func() {
		if err != nil && cfg.prefilled != nil {
			cfg.prefilled.close()
		}
	}()
	if err = cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if cfg.SkipBadShards > 0 {
		ds, cfg.Spec, bad, err = openSkipping(ctx, cfg, cfg.SkipBadShards, cfg.ReadRows)
	} else {
		ds, err = source.Open(cfg.Paths, source.Options{Mem: cfg.Mem, BatchRows: cfg.ReadRows})
	}
	if err != nil {
		return nil, err
	}
	var d *DataPath
	if d, err = newDataPath(ctx, ds, cfg); err != nil {
		ds.Close()
		return nil, err
	}
	d.Bad = bad
	return d, nil
}

func newDataPath(ctx context.Context, ds *source.Dataset, cfg DataConfig) (*DataPath, error) {
	if ds.Rows == 0 {
		return nil, fmt.Errorf("--data: %s has no rows", describeFiles(ds))
	}
	spec := cfg.Spec
	if spec == nil {
		var err error
		if spec, err = feature.Fit(ctx, ds, cfg.Feature, cfg.Readers); err != nil {
			return nil, err
		}
	}
	cols, hasTarget, err := spec.Columns(ds.Schema)
	if err != nil {
		return nil, err
	}
	if spec.Target != "" && !hasTarget && !cfg.AllowNoTarget {
		return nil, fmt.Errorf("the model's target column %q is not in %s (columns: %s): give data with it", spec.Target, describeFiles(ds), columnNames(ds.Schema))
	}
	mode := ShuffleMode(cfg.Shuffle)
	rowBytes := estimateRowBytes(ds, cols)
	outRows := cfg.Batch * max(1, shuffledRows/cfg.Batch)
	buffer := cfg.ShuffleBuffer
	switch mode {
	case ShuffleFull:
		if need := rowBytes * ds.Rows; need > cfg.MemoryBudget {
			return nil, fmt.Errorf("--shuffle=full: %d rows of about %d bytes need about %s, more than --memory-budget %s; use --shuffle=buffer or raise --memory-budget",
				ds.Rows, rowBytes, formatBytes(need), formatBytes(cfg.MemoryBudget))
		}
	case ShuffleBuffer:
		// Retained rows stay under buffer + outRows + max(buffer/2, outRows, record)
		// + one record (see Shuffler): size the buffer so that they fit the budget.
		readRows := int64(cfg.ReadRows)
		if readRows == 0 {
			readRows = source.DefaultBatchRows // the most the source's default gives
		}
		fit := (cfg.MemoryBudget/rowBytes - 2*int64(outRows) - 2*readRows) * 2 / 3
		if fit < 1 {
			return nil, fmt.Errorf("--memory-budget %s: too small for a shuffle buffer of rows of about %d bytes read up to %d at a time; raise it",
				formatBytes(cfg.MemoryBudget), rowBytes, readRows)
		}
		if int64(buffer) > fit {
			cfg.Logger.Warn("shuffle buffer reduced to fit the memory budget",
				zap.Int("shuffle_buffer", buffer), zap.Int64("used", fit), zap.Int64("row_bytes", rowBytes),
				zap.Int64("memory_budget", cfg.MemoryBudget))
			buffer = int(fit)
		}
	}
	shardRows := make([]int64, len(ds.Shards))
	for i, s := range ds.Shards {
		shardRows[i] = s.Rows
	}
	plan, err := NewPlan(cfg.Seed, mode, buffer, shardRows)
	if err != nil {
		return nil, err
	}
	qc := QualityConfig{EpochRows: ds.Rows, Logger: cfg.Logger}
	if hasTarget {
		switch {
		case len(spec.Classes) > 0:
			qc.Classes = len(spec.Classes)
		case spec.TargetStats != nil:
			qc.TargetMin, qc.TargetMax = spec.TargetStats.Min(), spec.TargetStats.Max()
		}
	}
	// Data that fits half the budget is decoded once and kept for the later epochs (the shard cache).
	cacheShards := cfg.Epochs > 1 && rowBytes*ds.Rows <= cfg.MemoryBudget/2
	if p := cfg.prefilled; p != nil && (!cacheShards || !p.holds(cols)) {
		p.close()
		cfg.prefilled = nil
	}
	return &DataPath{Dataset: ds, Spec: spec, Plan: plan, Quality: NewQuality(qc), cfg: cfg, cols: cols,
		hasTarget: hasTarget, outRows: outRows, cacheShards: cacheShards}, nil
}

// CacheBytes returns the bytes of decoded records the reader's shard cache holds (0 when the data does
// not fit half the memory budget, or with a single epoch).
func (d *DataPath) CacheBytes() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.reader == nil {
		return 0
	}
	return d.reader.CacheBytes()
}

// BadShards returns a copy of Bad, never nil (so that a checkpoint's JSON tells "none" from
// "not recorded"). Safe to call while the graph runs (a checkpoint written during the run
// must use it rather than read Bad).
func (d *DataPath) BadShards() []BadShard {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append(make([]BadShard, 0, len(d.Bad)), d.Bad...)
}

// addBad appends a part the reader left out during the run.
func (d *DataPath) addBad(b BadShard) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.Bad = append(d.Bad, b)
}

// Config returns the configuration in use, defaults filled in.
func (d *DataPath) Config() DataConfig { return d.cfg }

// Columns returns the dataset columns the path reads (features, then the target when
// present). The caller owns the result.
func (d *DataPath) Columns() []int { return append([]int(nil), d.cols...) }

// Add adds the whole data path to g, starting at position from (the zero Position
// for a fresh run; a checkpoint's position to resume), and returns the stream of
// batches. It is AddRead, AddShuffle, AddNormalize and AddBatch in a row.
func (d *DataPath) Add(g *pipeline.Graph, from Position) (*pipeline.Stream[Batch], error) {
	read, err := d.AddRead(g, from)
	if err != nil {
		return nil, err
	}
	return d.AddBatch(g, d.AddNormalize(g, d.AddShuffle(g, read))), nil
}

// AddRead adds the plan source ("plan", emitting the shard tasks of the epochs from
// position from on) and the reader ("read", Readers workers, ordered) to g and
// returns the stream of records with RowColumn. A resume inside an epoch rebuilds the
// shuffle state from from by an index-only replay (Plan.Resume) and re-reads only the
// shards that still matter. It fails if from is outside the run or was already set.
// With DataConfig.SkipBadShards, an epoch of the stream delivers fewer rows than
// Plan.Rows() when a shard fails during the run (see Reader).
func (d *DataPath) AddRead(g *pipeline.Graph, from Position) (*pipeline.Stream[Chunk], error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.read {
		return nil, errors.New("stages: AddRead called twice: open a DataPath per graph")
	}
	if from.Epoch < 0 || from.Epoch > d.cfg.Epochs || from.Epoch == d.cfg.Epochs && from.Emitted != 0 {
		return nil, fmt.Errorf("resume position epoch %d is outside the run's %d epochs (--epochs)", from.Epoch, d.cfg.Epochs)
	}
	if from.Emitted%int64(d.cfg.Batch) != 0 {
		return nil, fmt.Errorf("resume position row %d of epoch %d is not a multiple of --batch %d: resume with the batch size of the checkpoint",
			from.Emitted, from.Epoch, d.cfg.Batch)
	}
	if from.Emitted > 0 {
		r, err := d.Plan.Resume(from)
		if err != nil {
			return nil, err
		}
		d.resume = r
	}
	d.from, d.read = from, true
	resume, plan, epochs := d.resume, d.Plan, d.cfg.Epochs
	tasks := pipeline.AddSource(g, "plan", pipeline.SourceFunc[ShardTask](func(ctx context.Context, emit func(ShardTask) error) error {
		for e := from.Epoch; e < epochs; e++ {
			list := plan.EpochTasks(e)
			if e == from.Epoch && resume != nil {
				list = resume.Tasks()
			}
			for _, t := range list {
				if err := emit(t); err != nil {
					return err
				}
			}
		}
		return nil
	}), pipeline.Capacity(d.cfg.Readers))
	d.reader = NewReader(d.Dataset, d.cols, d.cfg.Mem)
	if d.cacheShards {
		d.reader.EnableCache()
		if d.cfg.prefilled != nil {
			d.reader.cache, d.cfg.prefilled = d.cfg.prefilled, nil
		}
	}
	if d.cfg.SkipBadShards > 0 {
		d.reader.skip = newSkipLedger(d.cfg.SkipBadShards, len(d.Bad), d.cfg.Logger, d.addBad)
	}
	return pipeline.AddTransform(g, "read", tasks, pipeline.Transform[ShardTask, Chunk](d.reader),
		pipeline.Workers(d.cfg.Readers), pipeline.Ordered(), pipeline.Capacity(d.cfg.Queue), pipeline.Discard(Chunk.Release)), nil
}

// AddShuffle adds the shuffler ("shuffle", one worker) to g over the reader's stream
// and returns the stream of shuffled records. Call it after AddRead.
func (d *DataPath) AddShuffle(g *pipeline.Graph, in *pipeline.Stream[Chunk]) *pipeline.Stream[Chunk] {
	d.mu.Lock()
	defer d.mu.Unlock()
	var lost func(int) int64 // rows the reader left out during the run (SkipBadShards)
	if d.reader != nil {
		lost = d.reader.lostRows
	}
	d.shuffler = NewShuffler(d.Plan, ShufflerConfig{Mem: d.cfg.Mem, Rows: d.outRows, MemoryBudget: d.cfg.MemoryBudget,
		Pinned: d.cacheShards, Resume: d.resume, Quality: d.Quality, Logger: d.cfg.Logger, Lost: lost})
	return pipeline.AddTransform(g, "shuffle", in, pipeline.Transform[Chunk, Chunk](d.shuffler),
		pipeline.Capacity(d.cfg.Queue), pipeline.Discard(Chunk.Release))
}

// AddNormalize adds the normalizer ("normalize", Normalizers workers, ordered) to g
// and returns the stream of featurized records {x, y, __row}.
func (d *DataPath) AddNormalize(g *pipeline.Graph, in *pipeline.Stream[Chunk]) *pipeline.Stream[Chunk] {
	return pipeline.AddTransform(g, "normalize", in, pipeline.Transform[Chunk, Chunk](NewNormalizer(d.Spec, d.Dataset, d.cfg.Mem)),
		pipeline.Workers(d.cfg.Normalizers), pipeline.Ordered(), pipeline.Capacity(d.cfg.Queue), pipeline.Discard(Chunk.Release))
}

// AddBatch adds the batcher ("batch", one worker) to g and returns the stream of
// batches. Batch positions continue from the position given to AddRead; they count
// the shuffler's rows, so a stage inserted before the batcher must keep rows one for
// one (and in order, and pass end markers on) for Batch.Next to be a valid resume
// position.
func (d *DataPath) AddBatch(g *pipeline.Graph, in *pipeline.Stream[Chunk]) *pipeline.Stream[Batch] {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.batcher = NewBatcher(BatcherConfig{Rows: d.cfg.Batch, DropLast: d.cfg.DropLast, Start: d.from, Mem: d.cfg.Mem,
		Quality: d.Quality, Logger: d.cfg.Logger})
	return pipeline.AddTransform(g, "batch", in, pipeline.Transform[Chunk, Batch](d.batcher),
		pipeline.Capacity(d.cfg.Queue), pipeline.Discard(Batch.Release))
}

// Close releases the records the shuffler and the batcher still hold (after a run
// that ended by an error or a cancellation) and closes the dataset. Call it after
// the graph's Run has returned. Safe to call more than once.
func (d *DataPath) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	if d.reader != nil {
		d.reader.Close()
	}
	if d.cfg.prefilled != nil {
		d.cfg.prefilled.close()
	}
	if d.shuffler != nil {
		d.shuffler.Close()
	}
	if d.batcher != nil {
		d.batcher.Close()
	}
	return d.Dataset.Close()
}

// estimateRowBytes estimates the decoded bytes of one row over the columns read, plus
// RowColumn: exact for fixed-width types, 8 bytes of offsets plus the file bytes per
// row for variable-width ones (compressed bytes: a lower bound that the runtime
// check of the budget backs up).
func estimateRowBytes(ds *source.Dataset, cols []int) int64 {
	var fileBytes int64
	for _, f := range ds.Files {
		fileBytes += f.Size
	}
	perRow := fileBytes / max(ds.Rows, 1)
	n := int64(8) // RowColumn
	for _, c := range cols {
		n += typeBytes(ds.Schema.Field(c).Type, perRow)
	}
	return max(n, 1)
}

// typeBytes is the per-row size of a column of type dt (validity bitmaps ignored);
// varBytes stands for the unknown payload of a variable-width value.
func typeBytes(dt arrow.DataType, varBytes int64) int64 {
	switch t := dt.(type) {
	case *arrow.FixedSizeListType:
		return int64(t.Len()) * typeBytes(t.Elem(), varBytes)
	case *arrow.BooleanType:
		return 1
	case *arrow.DictionaryType:
		return int64(t.IndexType.(arrow.FixedWidthDataType).BitWidth() / 8)
	case arrow.FixedWidthDataType:
		return int64(max(t.BitWidth()/8, 1))
	}
	return 8 + varBytes
}

func describeFiles(ds *source.Dataset) string {
	switch len(ds.Files) {
	case 0:
		return "the data"
	case 1:
		return ds.Files[0].Path
	}
	return fmt.Sprintf("%s and %d more files", ds.Files[0].Path, len(ds.Files)-1)
}

func columnNames(s *arrow.Schema) string {
	names := ""
	for i, f := range s.Fields() {
		if i > 0 {
			names += ", "
		}
		names += f.Name
	}
	return names
}
