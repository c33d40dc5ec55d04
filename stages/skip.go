package stages

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"go.uber.org/zap"

	"github.com/sgdpipe/sgdpipe/io/source"
	"github.com/sgdpipe/sgdpipe/stages/feature"
)

// BadShard is a part of the data a run left out because it could not be read (see
// DataConfig.SkipBadShards). It is plain data.
type BadShard struct {
	Path string // the file
	// Shard is the shard's index within the file (Parquet row group, IPC record batch,
	// CSV chunk), or -1 for a whole file whose metadata cannot be read.
	Shard int
	Rows  int64  // rows left out; 0 for a whole file (unknown)
	Err   string // the read error: one line naming the file
}

// String describes the left-out part for people.
func (b BadShard) String() string {
	if b.Shard < 0 {
		return fmt.Sprintf("%s (whole file): %s", b.Path, b.Err)
	}
	return fmt.Sprintf("%s shard %d (%d rows): %s", b.Path, b.Shard, b.Rows, b.Err)
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
	tooMany := func(what error) error {
		return fmt.Errorf("--skip-bad-shards %d: one unreadable part too many (%d left out already): %w", budget, budget, what)
	}
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
			return tooMany(err)
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
			return tooMany(se)
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
// default size, whatever cfg.ReadRows, so the spec does not depend on --read-rows). With
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
	ds, err := source.Open(cfg.Paths, source.Options{Mem: cfg.Mem})
	if err != nil {
		return nil, nil, err
	}
	defer ds.Close()
	spec, err := feature.Fit(ctx, ds, cfg.Feature, cfg.Readers)
	return spec, nil, err
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
