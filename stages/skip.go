package stages

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"go.uber.org/zap"

	"github.com/sgdpipe/sgdpipe/io/source"
	"github.com/sgdpipe/sgdpipe/stages/feature"
)

// BadShard is a part of the data a run left out because it could not be read (see
// DataConfig.SkipBadShards). It is plain data (JSON-marshalable, for checkpoints).
type BadShard struct {
	Path string `json:"path"` // the file
	// Shard is the shard's index within the file (Parquet row group, IPC record batch,
	// CSV chunk), or -1 for a whole file whose metadata cannot be read.
	Shard int    `json:"shard"`
	Rows  int64  `json:"rows"`  // the shard's rows, all left out when found before the run; 0 for a whole file (unknown)
	Err   string `json:"error"` // the read error: one line naming the file
	// MidRun marks a shard that failed during the run (the reader met the error), not
	// before it: its first Read rows of epoch Epoch were trained on, the rest of that
	// epoch and every later epoch left it out.
	MidRun bool  `json:"mid_run,omitempty"`
	Epoch  int   `json:"epoch,omitempty"` // MidRun: the epoch whose read failed first
	Read   int64 `json:"read,omitempty"`  // MidRun: rows of the shard epoch Epoch read before the failure
}

// String describes the left-out part for people.
func (b BadShard) String() string {
	switch {
	case b.Shard < 0:
		return fmt.Sprintf("%s (whole file): %s", b.Path, b.Err)
	case b.MidRun:
		return fmt.Sprintf("%s shard %d (%d rows, unreadable from epoch %d after %d rows): %s", b.Path, b.Shard, b.Rows, b.Epoch, b.Read, b.Err)
	}
	return fmt.Sprintf("%s shard %d (%d rows): %s", b.Path, b.Shard, b.Rows, b.Err)
}

// tooManyParts is the error of an unreadable part over the budget of --skip-bad-shards.
func tooManyParts(budget int, what error) error {
	return fmt.Errorf("--skip-bad-shards %d: one unreadable part too many (%d left out already): %w", budget, budget, what)
}

// openSkipping opens cfg.Paths and finds the files and shards that cannot be read, up to
// budget of them (DataConfig.SkipBadShards; more is an error naming the one too many), and returns the
// dataset without them, the feature spec (cfg.Spec, or fitted on that dataset) and the
// parts left out, in the order found. cfg has its defaults.
//
// Unreadable files are found by source.Open (their metadata). Unreadable shards are found
// before training starts, so that the epoch plan, the row indices, the statistics and a
// resume all see the same smaller dataset whatever the timing: when the spec is fitted,
// by the fit itself (a fit that fails on a shard is run again without it); when cfg.leftOut
// lists them (fitSpec found them a moment ago), from that list; otherwise (a resume, whose
// spec comes from the checkpoint) by reading every shard over the spec's columns once. The
// set found is the same every way, so a resumed run is exact.
//
// Cost: nothing more than the fit when the data is clean; one more (partial) fit per bad
// shard; one read of the data when the spec is given.
//
// batchRows is the dataset's source.Options.BatchRows: the fitted statistics depend on the
// record boundaries of the fit (in their last bits), so a caller passes what its plain fit
// uses.
func openSkipping(ctx context.Context, cfg DataConfig, budget, batchRows int) (ds *source.Dataset, spec *feature.Spec, bad []BadShard, err error) {
	leaveOut := func(b BadShard) {
		bad = append(bad, b)
		if cfg.leftOut != nil {
			return // logged when fitSpec found it
		}
		cfg.Logger.Warn("unreadable data left out (--skip-bad-shards)", zap.String("file", b.Path), zap.Int("shard", b.Shard),
			zap.Int64("rows", b.Rows), zap.String("error", b.Err), zap.Int("left_out", len(bad)), zap.Int("budget", budget))
	}
	opts := source.Options{Mem: cfg.Mem, BatchRows: batchRows, OnBadFile: func(path string, err error) error {
		if len(bad) == budget {
			return tooManyParts(budget, err)
		}
		leaveOut(BadShard{Path: path, Shard: -1, Err: err.Error()})
		return nil
	}}
	all, err := source.Open(cfg.Paths, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	defer func() {
		if err != nil {
			all.Close()
		}
	}()
	var dropped []int // indices into all.Shards
	drop := func(shard int, se *source.ShardError) error {
		if len(bad) == budget {
			return tooManyParts(budget, se)
		}
		sh := all.Shards[shard]
		leaveOut(BadShard{Path: all.Files[sh.File].Path, Shard: sh.Index, Rows: sh.Rows, Err: se.Error()})
		dropped = append(dropped, shard)
		return nil
	}
	ds, spec = all, cfg.Spec
	if spec == nil {
		for {
			spec, err = feature.Fit(ctx, ds, cfg.Feature, cfg.Readers)
			var se *source.ShardError
			if err == nil || !errors.As(err, &se) {
				break
			}
			if err := drop(originalShard(all, ds, se.Shard), se); err != nil {
				return nil, nil, nil, err
			}
			ds = all.Without(dropped)
		}
		if err != nil {
			return nil, nil, nil, err
		}
	} else if cfg.leftOut != nil { // found by fitSpec a moment ago
		for _, b := range cfg.leftOut {
			if b.Shard >= 0 {
				leaveOut(b)
			}
		}
		if dropped, err = leaveOutKnown(all, cfg.leftOut); err != nil {
			return nil, nil, nil, err
		}
		if len(bad) > budget {
			return nil, nil, nil, fmt.Errorf("--skip-bad-shards %d: %d unreadable parts", budget, len(bad))
		}
		if len(dropped) > 0 {
			ds = all.Without(dropped)
		}
	} else {
		cols, _, err := spec.Columns(all.Schema)
		if err != nil {
			return nil, nil, nil, err
		}
		errs, err := scanShards(ctx, all, cols, cfg.Readers)
		if err != nil {
			return nil, nil, nil, err
		}
		for i, se := range errs { // in shard order: the same parts as a fit would find
			if se == nil {
				continue
			}
			if err := drop(i, se); err != nil {
				return nil, nil, nil, err
			}
		}
		if len(dropped) > 0 {
			ds = all.Without(dropped)
		}
	}
	if len(bad) > 0 && cfg.leftOut == nil {
		cfg.Logger.Warn("training without unreadable data", zap.Int("parts", len(bad)), zap.Int64("rows", ds.Rows))
	}
	return ds, spec, bad, nil
}

// fitSpec opens cfg.Paths and fits the feature spec on cfg.Feature, as the pre-pass of a
// training run does before the data path is opened (reading records of the source's
// default size, whatever cfg.ReadRows, so the spec does not depend on ReadRows). With
// cfg.SkipBadShards > 0 it leaves out unreadable parts as openSkipping does and returns
// them: give them to OpenDataPath as cfg.leftOut (with the spec as cfg.Spec) and it leaves
// out the same parts without reading the data again. cfg need not have its defaults.
func fitSpec(ctx context.Context, cfg DataConfig) (*feature.Spec, []BadShard, error) {
	cfg = cfg.withDefaults()
	if cfg.SkipBadShards > 0 {
		ds, spec, bad, err := openSkipping(ctx, cfg, cfg.SkipBadShards, 0)
		if err != nil {
			return nil, nil, err
		}
		ds.Close()
		return spec, bad, nil
	}
	spec, _, err := fitCaching(ctx, cfg, false)
	return spec, nil, err
}

// fitCaching fits the feature spec of cfg's data (without SkipBadShards). With keep, and when
// training could keep the decoded data (more than one epoch, the default record size, and all its
// columns within half the memory budget), the fit reads through a shard cache and returns it, for
// the data path to replay in the first epoch instead of decoding the files again (DataConfig.
// prefilled); the caller owns it. Otherwise the cache is nil.
func fitCaching(ctx context.Context, cfg DataConfig, keep bool) (*feature.Spec, *shardCache, error) {
	ds, err := source.Open(cfg.Paths, source.Options{Mem: cfg.Mem})
	if err != nil {
		return nil, nil, err
	}
	defer ds.Close()
	all := make([]int, ds.Schema.NumFields())
	for i := range all {
		all[i] = i
	}
	if !keep || cfg.Epochs < 2 || cfg.ReadRows != 0 || estimateRowBytes(ds, all)*ds.Rows > cfg.MemoryBudget/2 {
		spec, err := feature.Fit(ctx, ds, cfg.Feature, cfg.Readers)
		return spec, nil, err
	}
	cache := new(shardCache)
	spec, err := feature.FitWith(ctx, ds, cfg.Feature, cfg.Readers, func(ctx context.Context, i int, cols []int, emit func(arrow.RecordBatch) error) error {
		return cache.read(ctx, ds, i, cols, emit)
	})
	if err != nil {
		cache.close()
		return nil, nil, err
	}
	return spec, cache, nil
}

// leaveOutKnown returns the shards of all (indices) that known lists, or an error if
// one is not in all (the data changed since they were found).
func leaveOutKnown(all *source.Dataset, known []BadShard) ([]int, error) {
	var out []int
	for _, b := range known {
		if b.Shard < 0 {
			continue // a whole file: source.Open left it out again
		}
		found := false
		for i, sh := range all.Shards {
			if all.Files[sh.File].Path == b.Path && sh.Index == b.Shard {
				out = append(out, i)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("%s shard %d was unreadable a moment ago and is gone now: has the data changed?", b.Path, b.Shard)
		}
	}
	return out, nil
}

// originalShard maps shard i of view (all.Without(...)) back to its index in all.
func originalShard(all, view *source.Dataset, i int) int {
	want := view.Shards[i]
	for j, sh := range all.Shards {
		if sh.File == want.File && sh.Index == want.Index {
			return j
		}
	}
	panic("stages: shard of a Without view not in its dataset")
}

// scanShards reads every shard of ds over cols with up to workers goroutines and returns
// the read error of each shard (nil if it read), or the first other error (a cancelled
// ctx). It returns after every goroutine has.
func scanShards(ctx context.Context, ds *source.Dataset, cols []int, workers int) ([]*source.ShardError, error) {
	errs := make([]*source.ShardError, len(ds.Shards))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(max(workers, 1), len(ds.Shards)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ds.Shards) || ctx.Err() != nil {
					return
				}
				err := ds.ReadShard(ctx, i, cols, func(rec arrow.RecordBatch) error {
					rec.Release()
					return nil
				})
				var se *source.ShardError
				switch {
				case err == nil:
				case errors.As(err, &se):
					errs[i] = se
				default:
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return errs, nil
}

// skipLedger counts the unreadable parts of one run against the budget of --skip-bad-shards
// for the reader, which meets shards that fail during the run (after the pre-pass of
// openSkipping): it decides whether the run goes on without such a shard, remembers the
// shards left out so that later epochs do not read them again, and counts the rows each
// epoch lost so that the consumer of the reader's stream knows how short the epoch is.
//
// Concurrency: safe for concurrent use by the reader's workers. onSkip is called under
// the ledger's lock (so parts arrive in the order counted): it must not call back.
type skipLedger struct {
	budget int
	log    *zap.Logger
	onSkip func(BadShard) // nil = none

	mu     sync.Mutex
	parts  int           // parts left out: before the run and during it
	failed map[int]bool  // dataset shards left out during the run
	lost   map[int]int64 // epoch -> rows of its tasks the reader did not emit
}

// newSkipLedger returns the ledger of a run that may leave out budget parts, used of which
// were left out before the run.
func newSkipLedger(budget, used int, log *zap.Logger, onSkip func(BadShard)) *skipLedger {
	if log == nil {
		log = zap.NewNop()
	}
	return &skipLedger{budget: budget, log: log, onSkip: onSkip, parts: used, failed: map[int]bool{}, lost: map[int]int64{}}
}

// skipped reports whether shard was left out earlier in the run. If so, it counts the rows
// task would have read as lost to task's epoch: the reader then emits nothing for it.
func (l *skipLedger) skipped(ds *source.Dataset, t ShardTask) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.failed[t.Shard] {
		return false
	}
	l.lost[t.Epoch] += taskRows(ds, t)
	return true
}

// fail takes the read error se of task t after read rows of the shard were emitted (from
// t.Skip on): while the budget lasts it logs the part, records it and returns nil (the
// epoch goes on without the rest of the shard); over the budget it returns the error
// naming the one part too many. A shard that failed before (a read of a later epoch that
// started before the first failure was known) is not counted again. A refill task's rows
// are those a resume's shuffle buffer needs, so its failure is always an error.
func (l *skipLedger) fail(ds *source.Dataset, t ShardTask, read int64, se *source.ShardError) error {
	if t.Refill {
		return fmt.Errorf("resume of epoch %d: %w: the checkpoint's shuffle buffer holds %d of its rows, which --skip-bad-shards cannot leave out; restore the file, or train again without --resume",
			t.Epoch, se, len(t.Rows))
	}
	sh := ds.Shards[t.Shard]
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failed[t.Shard] {
		l.lost[t.Epoch] += taskRows(ds, t) - read
		return nil
	}
	path := ds.Files[sh.File].Path
	if l.parts >= l.budget {
		var what error = se
		if name := fmt.Sprintf("%s shard %d", path, sh.Index); !strings.HasPrefix(se.Error(), name) {
			what = fmt.Errorf("%s: %w", name, se) // "file changed" errors name the file only
		}
		return tooManyParts(l.budget, fmt.Errorf("epoch %d: %w", t.Epoch, what))
	}
	l.parts++
	l.failed[t.Shard] = true
	l.lost[t.Epoch] += taskRows(ds, t) - read
	b := BadShard{Path: path, Shard: sh.Index, Rows: sh.Rows, Err: se.Error(), MidRun: true, Epoch: t.Epoch, Read: t.Skip + read}
	l.log.Warn("shard unreadable during the run: left out from here on (--skip-bad-shards)", zap.String("file", b.Path),
		zap.Int("shard", b.Shard), zap.Int("epoch", b.Epoch), zap.Int64("rows_read", b.Read), zap.Int64("rows", b.Rows),
		zap.String("error", b.Err), zap.Int("left_out", l.parts), zap.Int("budget", l.budget))
	if l.onSkip != nil {
		l.onSkip(b)
	}
	return nil
}

// lostRows returns the rows of epoch's tasks the reader left out so far. Once the reader has
// emitted the epoch's end marker (every task of the epoch is done), the count is final.
func (l *skipLedger) lostRows(epoch int) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost[epoch]
}

// taskRows returns the rows task t reads when its shard reads whole: the shard's rows after
// t.Skip (t is not a refill).
func taskRows(ds *source.Dataset, t ShardTask) int64 {
	return ds.Shards[t.Shard].Rows - t.Skip
}

// CheckResume says whether a run may resume at from over this data path, given the parts
// of the data the checkpointed run had left out when it wrote the checkpoint (written:
// its DataPath.BadShards; nil means the checkpoint does not record them, and nothing is
// checked). Call it after OpenDataPath, before the run.
//
// A resume is exact when the data left out before this run is what the checkpointed run
// left out before its own, and that run met no unreadable shard during it. A shard that
// failed during the run (MidRun) is found again by this run's pre-pass and left out from
// the start, so this run's plan (shard order, row indices) is not the checkpointed run's:
//   - At an epoch boundary (from.Emitted == 0) the resume goes on: every remaining epoch
//     reads each readable row once, in another order than the uninterrupted run would
//     have (and a --val-split holds out other rows). It logs a warning.
//   - Inside an epoch, the rows that epoch already trained on cannot be told apart in the
//     new plan, and resuming would skip other rows or repeat them: it is an error that
//     says what to do. The same holds when the parts left out before the run differ (the
//     data changed since the checkpoint). A MidRun part of a later epoch than from's (the
//     reader reads ahead of training) does not matter if the data was restored since.
func (d *DataPath) CheckResume(written []BadShard, from Position) error {
	if written == nil {
		return nil
	}
	type part struct {
		path  string
		shard int
	}
	before := map[part]bool{}
	var mid []BadShard
	for _, b := range written {
		if b.MidRun {
			mid = append(mid, b)
		} else {
			before[part{b.Path, b.Shard}] = true
		}
	}
	now := map[part]bool{}
	for _, b := range d.BadShards() {
		now[part{b.Path, b.Shard}] = true
	}
	same := maps.Equal(before, now)
	if from.Emitted > 0 {
		for _, b := range mid {
			if b.Epoch <= from.Epoch {
				return fmt.Errorf("--resume: the checkpoint is inside epoch %d, after %s shard %d became unreadable during epoch %d of its run (--skip-bad-shards): the rest of that run's epoch cannot be matched to the data; train again without --resume (the unreadable parts are then left out from the start)",
					from.Epoch, b.Path, b.Shard, b.Epoch)
			}
		}
		if !same {
			return fmt.Errorf("--resume: the checkpoint is inside epoch %d, and the unreadable data differs from when it was written (parts left out now: %d, then: %d%s): the rest of the epoch cannot be matched to the data; restore the data, or train again without --resume",
				from.Epoch, len(now), len(before), midNote(mid))
		}
		return nil
	}
	if !same || len(mid) > 0 {
		d.cfg.Logger.Warn("resuming over other data than the checkpoint's run: the remaining epochs read every readable row once, in another order than an uninterrupted run",
			zap.Int("epoch", from.Epoch), zap.Int("left_out_now", len(now)), zap.Int("left_out_before_run", len(before)), zap.Int("left_out_during_run", len(mid)))
	}
	return nil
}

// midNote describes the parts a run left out during it, for CheckResume's errors.
func midNote(mid []BadShard) string {
	if len(mid) == 0 {
		return ""
	}
	return fmt.Sprintf(", and %d during the run, the first %s shard %d", len(mid), mid[0].Path, mid[0].Shard)
}
