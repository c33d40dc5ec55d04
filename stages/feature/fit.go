package feature

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/sourcegraph/conc/panics"
	"github.com/sourcegraph/conc/pool"
)

// shardSet is what Fit needs from a dataset: a schema, shards it can read independently, and where
// each shard starts, for messages. *source.Dataset provides it through datasetShards.
type shardSet interface {
	schema() *arrow.Schema
	numShards() int
	// shard returns the file of shard i and the index, within that file, of the shard's first row.
	shard(i int) (file string, firstRow int64)
	// read passes the records of shard i, projected to cols in that order, to emit. A record belongs
	// to emit if emit returns nil; if emit fails, read releases it and returns emit's error.
	read(ctx context.Context, i int, cols []int, emit func(arrow.RecordBatch) error) error
	// describe names the data for messages ("a.parquet", "a.parquet and 3 more files").
	describe() string
}

// fitPlan is what Fit reads: the chosen feature columns, the target, and the projection.
type fitPlan struct {
	cfg    Config
	cols   []fitColumn
	target *fitColumn // nil without a target
	proj   []int      // dataset column indices: features, then target
}

// resolve chooses the feature columns and the target of schema under cfg (defaults applied).
func resolve(schema *arrow.Schema, cfg Config, data string) (*fitPlan, error) {
	p := &fitPlan{cfg: cfg}
	lookup := func(name, role string) (int, error) {
		idx := schema.FieldIndices(name)
		switch len(idx) {
		case 0:
			return -1, fmt.Errorf("feature: %s column %q is not in %s (its columns: %s)", role, name, data, columnList(schema))
		case 1:
			return idx[0], nil
		}
		return -1, fmt.Errorf("feature: %s column %q appears %d times in %s: rename the duplicates", role, name, len(idx), data)
	}
	if cfg.Target != "" {
		i, err := lookup(cfg.Target, "target")
		if err != nil {
			return nil, err
		}
		dt := schema.Field(i).Type
		if targetFamily(dt) == famNone {
			return nil, fmt.Errorf("feature: target column %q in %s has type %s: a target must be a number, a boolean or a string", cfg.Target, data, dt)
		}
		if !utf8.ValidString(cfg.Target) {
			return nil, fmt.Errorf("feature: target column name %q is not valid UTF-8", cfg.Target)
		}
		p.target = &fitColumn{name: cfg.Target, index: i, dt: dt}
	}
	names := cfg.Features
	if names == nil {
		for _, x := range cfg.Exclude {
			if _, err := lookup(x, "excluded"); err != nil {
				return nil, err
			}
		}
		for _, f := range schema.Fields() {
			if f.Name != cfg.Target && f.Name != RowColumn && !slices.Contains(cfg.Exclude, f.Name) {
				names = append(names, f.Name)
			}
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("feature: no feature columns left in %s once the target and excluded columns are set aside", data)
		}
	}
	for _, name := range names {
		if name == RowColumn {
			return nil, fmt.Errorf("feature: column %q holds row indices and cannot be a feature", RowColumn)
		}
		i, err := lookup(name, "feature")
		if err != nil {
			return nil, err
		}
		if !utf8.ValidString(name) {
			return nil, fmt.Errorf("feature: column name %q is not valid UTF-8", name)
		}
		dt := schema.Field(i).Type
		c := fitColumn{name: name, index: i, dt: dt}
		f, _, n := familyOf(dt)
		switch f {
		case famNumber, famBool:
			c.enc = Numeric
		case famString:
			c.enc = OneHot
			if cfg.HashBuckets > 0 {
				c.enc = Hash
			}
		case famTensor:
			c.enc, c.width = Tensor, n
			if _, fixed := dt.(*arrow.FixedSizeListType); fixed && (n <= 0 || n > MaxDim) {
				return nil, fmt.Errorf("feature: column %q in %s has type %s: a list feature needs 1..%d values per row", name, data, dt, MaxDim)
			}
		default:
			return nil, noEncoding(data, name, dt)
		}
		p.cols = append(p.cols, c)
		p.proj = append(p.proj, i)
	}
	if p.target != nil {
		p.proj = append(p.proj, p.target.index)
	}
	return p, nil
}

// columnList lists the column names of schema for messages, eliding long lists.
func columnList(schema *arrow.Schema) string {
	var names []string
	for i, f := range schema.Fields() {
		if i == 8 {
			names = append(names, fmt.Sprintf("and %d more", schema.NumFields()-i))
			break
		}
		names = append(names, fmt.Sprintf("%q", f.Name))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// shardAcc accumulates one shard.
type shardAcc struct {
	rows   int64
	cols   []*colAcc
	target *targetAcc
}

// newShardAcc returns an empty accumulator for the plan.
func newShardAcc(p *fitPlan) *shardAcc {
	a := &shardAcc{cols: make([]*colAcc, len(p.cols))}
	for i := range p.cols {
		a.cols[i] = newColAcc(&p.cols[i], p.cfg.AllowNonFinite)
	}
	if p.target != nil {
		a.target = newTargetAcc(p.target.name, p.target.dt, p.cfg.MaxClasses)
	}
	return a
}

// add accumulates one record of the shard; base is the index in file of the record's first row.
func (a *shardAcc) add(rec arrow.RecordBatch, p *fitPlan, file string, base int64) error {
	if int(rec.NumCols()) < len(p.proj) {
		return fmt.Errorf("feature: %sthe reader returned %d columns, want %d", inFile(file), rec.NumCols(), len(p.proj))
	}
	for k, c := range a.cols {
		w := where{file: file, col: c.col.name, base: base}
		if got := rec.ColumnName(k); got != c.col.name {
			return fmt.Errorf("feature: %sthe reader returned column %q where %q was asked for", inFile(file), got, c.col.name)
		}
		if err := c.add(rec.Column(k), w); err != nil {
			return err
		}
	}
	if a.target != nil {
		k := len(a.cols)
		if got := rec.ColumnName(k); got != a.target.name {
			return fmt.Errorf("feature: %sthe reader returned column %q where %q was asked for", inFile(file), got, a.target.name)
		}
		if err := a.target.add(rec.Column(k), where{file: file, col: a.target.name, base: base}); err != nil {
			return err
		}
	}
	a.rows += rec.NumRows()
	return nil
}

// merge adds b, the accumulator of the next shard, into a.
func (a *shardAcc) merge(b *shardAcc) error {
	a.rows += b.rows
	for k := range a.cols {
		if err := a.cols[k].merge(b.cols[k]); err != nil {
			return err
		}
	}
	if a.target != nil {
		a.target.merge(b.target)
	}
	return nil
}

// merger folds shard accumulators into one, strictly in shard order, as they complete: the result
// does not depend on which worker read which shard, and at most the shards finished ahead of the
// oldest one still being read are held.
type merger struct {
	mu      sync.Mutex
	next    int
	pending map[int]*shardAcc
	total   *shardAcc
	errs    map[int]error // by shard: the error reported is the one of the lowest shard
}

// put hands over the accumulator of shard i and merges every shard now in order.
func (m *merger) put(i int, a *shardAcc) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending[i] = a
	for {
		b, ok := m.pending[m.next]
		if !ok {
			return nil
		}
		delete(m.pending, m.next)
		if m.total == nil {
			m.total = b
		} else if err := m.total.merge(b); err != nil {
			m.errs[m.next] = err
			return err
		}
		m.next++
	}
}

// fail records the error of shard i.
func (m *merger) fail(i int, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.errs[i] = err
}

// firstError returns the error of the lowest shard that failed for a reason other than cancellation,
// else any cancellation error.
func (m *merger) firstError() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	best, bestCancel := -1, -1
	for i, err := range m.errs {
		cancel := errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
		switch {
		case !cancel && (best < 0 || i < best):
			best = i
		case cancel && (bestCancel < 0 || i < bestCancel):
			bestCancel = i
		}
	}
	if best >= 0 {
		return m.errs[best]
	}
	if bestCancel >= 0 {
		return m.errs[bestCancel]
	}
	return nil
}

// fit is Fit over any shardSet.
func fit(ctx context.Context, src shardSet, cfg Config, workers int) (*Spec, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	data := src.describe()
	p, err := resolve(src.schema(), cfg, data)
	if err != nil {
		return nil, err
	}
	nsh := src.numShards()
	if nsh == 0 {
		return nil, fmt.Errorf("feature: %s has no rows: nothing to fit", data)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, nsh)

	m := &merger{pending: map[int]*shardAcc{}, errs: map[int]error{}}
	var next atomic.Int64
	wp := pool.New().WithContext(ctx).WithCancelOnError()
	for range workers {
		wp.Go(func(ctx context.Context) error {
			for {
				i := int(next.Add(1) - 1)
				if i >= nsh {
					return nil
				}
				if err := ctx.Err(); err != nil {
					m.fail(i, err)
					return err
				}
				a, err := fitShard(ctx, src, p, i)
				if err != nil {
					m.fail(i, err)
					return err
				}
				if err := m.put(i, a); err != nil {
					return err
				}
			}
		})
	}
	werr := wp.Wait()
	if err := m.firstError(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("feature: fit of %s stopped: %w", data, ctx.Err())
		}
		return nil, err
	}
	if werr != nil {
		return nil, werr
	}
	if m.total == nil || m.next != nsh {
		return nil, fmt.Errorf("feature: internal: %d of %d shards merged", m.next, nsh)
	}
	if m.total.rows == 0 {
		return nil, fmt.Errorf("feature: %s has no rows: nothing to fit", data)
	}
	return finish(m.total, p)
}

// fitShard accumulates shard i, converting a panic into an error that names the shard.
func fitShard(ctx context.Context, src shardSet, p *fitPlan, i int) (a *shardAcc, err error) {
	file, base := src.shard(i)
	a = newShardAcc(p)
	r := panics.Try(func() {
		// emit owns rec only when it succeeds: on error the reader releases it.
		err = src.read(ctx, i, p.proj, func(rec arrow.RecordBatch) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := a.add(rec, p, file, base); err != nil {
				return err
			}
			base += rec.NumRows()
			rec.Release()
			return nil
		})
	})
	if r != nil {
		return nil, fmt.Errorf("feature: %sshard %d: panic: %v", inFile(file), i, r.Value)
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// finish turns the merged accumulator into a Spec.
func finish(t *shardAcc, p *fitPlan) (*Spec, error) {
	s := &Spec{Version: SpecVersion, Normalize: p.cfg.Normalize, AllowNonFinite: p.cfg.AllowNonFinite, Rows: t.rows}
	off := 0
	for _, a := range t.cols {
		c := Column{Name: a.col.name, Type: a.col.dt.String(), Encoding: a.col.enc, Offset: off,
			Nulls: a.nulls, NonFinite: a.nonFinite}
		switch a.col.enc {
		case Numeric:
			c.Width, c.Stats = 1, a.mom
		case Tensor:
			if a.width < 0 {
				return nil, fmt.Errorf("feature: column %q has only null rows: its list length is unknown; exclude it", c.Name)
			}
			c.Width, c.Stats = a.width, a.mom
			c.Nulls += a.nullRows * int64(a.width)
		case OneHot:
			c.Vocab = vocabulary(a.counts, p.cfg.MaxVocab)
			c.Distinct = int64(len(a.counts))
			c.Width = len(c.Vocab) + 2
		case Hash:
			c.Buckets = p.cfg.HashBuckets
			c.Width = c.Buckets + 1
		}
		for _, m := range c.Stats {
			if math.IsInf(m.m2, 0) || math.IsInf(m.mean, 0) {
				return nil, fmt.Errorf("feature: column %q: values too large for float64 statistics (the variance overflows): rescale the column", c.Name)
			}
		}
		if c.Width > MaxDim-off {
			return nil, fmt.Errorf("feature: column %q makes x wider than %d values: use fewer or narrower features", c.Name, MaxDim)
		}
		off += c.Width
		s.Features = append(s.Features, c)
	}
	s.Dim = off
	if t.target != nil {
		if err := t.target.finish(s, p.cfg.Task); err != nil {
			return nil, err
		}
	}
	if err := s.compile(); err != nil {
		return nil, err // statistics out of float32 range (else a bug: the spec is built consistent)
	}
	return s, nil
}

// vocabulary returns the (at most max) most frequent values, ties broken by byte order, sorted by
// byte order.
func vocabulary(counts map[string]*int64, max int) []string {
	type vc struct {
		v string
		n int64
	}
	all := make([]vc, 0, len(counts))
	for v, n := range counts {
		all = append(all, vc{v, *n})
	}
	slices.SortFunc(all, func(a, b vc) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	all = all[:min(len(all), max)]
	vocab := make([]string, len(all))
	for i, e := range all {
		vocab[i] = e.v
	}
	slices.Sort(vocab)
	return vocab
}
