package stages

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/zap"
)

// ShufflerConfig configures a Shuffler.
type ShufflerConfig struct {
	// Mem allocates the shuffled records. Default memory.DefaultAllocator.
	Mem memory.Allocator
	// Rows is the size of the records the row buffer emits (the last of an epoch
	// may be smaller). Default 4096; >= 1.
	Rows int
	// MemoryBudget bounds the bytes of the records the buffer retains: over it, the
	// shuffler compacts, and if the rows it must hold still do not fit, Process
	// fails with an error naming --memory-budget. 0 = no bound.
	MemoryBudget int64
	// Resume, when not nil, is the state the first epoch continues from (its
	// epoch must be the first one the shuffler sees).
	Resume *Resume
	// Pinned says the input records stay alive elsewhere for the whole run (the
	// reader's shard cache holds them): compacting would copy rows without freeing
	// anything, so a pinned shuffler never compacts, and MemoryBudget does not apply
	// (the cache was admitted under the budget). Its buffer then costs references
	// only.
	Pinned bool
	// Quality, when not nil, receives the peak bytes and rows the buffer retains.
	Quality *Quality
	// Logger; nil = zap.NewNop().
	Logger *zap.Logger
	// Lost, when not nil, returns the rows of an epoch that its input left out: shards
	// that failed during the run under DataConfig.SkipBadShards (the reader's count). The
	// end of an epoch then expects Plan.Rows() minus them. It is called when the epoch's
	// end marker arrives, after every chunk of the epoch, so the count is final.
	Lost func(epoch int) int64
}

// Shuffler is the row-shuffle stage, a pipeline.Accumulator[Chunk, Chunk] run by one
// worker. It takes the reader's chunks in plan order and emits the epoch's rows in
// the order of its Plan: unchanged when the plan has no row buffer (ShuffleShards,
// ShuffleNone), drawn from a row buffer of Plan.Buffer rows otherwise, in records of
// Rows rows gathered from the retained ones. The order is a function of the seed,
// the epoch and the shard sizes only; it never depends on timing, on the number of
// readers or on record boundaries (one draw per row). End markers are passed on after
// the buffer is drained, so no batch spans two epochs.
//
// Memory: the buffer retains whole input records while any of their rows is
// buffered (without care, about Buffer*ln(record rows) rows), so it compacts: when the
// retained rows exceed the live ones by more than the slack, max(Buffer/2, Rows,
// largest input record), it copies the live rows of the sparsest records into one new
// record until the excess is at most half the slack. Retained rows thus stay under
// Buffer + Rows + slack + one input record (about 1.5*Buffer), and since at least
// slack/2 rows arrive between compactions, each row is copied about twice at most:
// O(1) per row. Over MemoryBudget it compacts everything it can, then fails.
//
// Cost: about one sequential copy of the rows. On MNIST-shaped rows (784 bytes) it
// takes 0.85-1.0x the time of array.Concatenate of the same records
// (BenchmarkShuffler: about 1M rows/s on a busy 2-core machine); the direct gather
// covers fixed-width columns, other types go through compute.Take (slower).
//
// Ownership: Process owns the chunk it receives on every path; emitted chunks are
// new records owned by the receiver. If the run ends by an error or a cancellation,
// records may remain in the buffer: Close releases them, and the owner of the run
// must call it after pipeline.Graph.Run returns (DataPath.Close does).
// Concurrency: a mutex guards the state, so the methods are safe for concurrent use;
// run the stage with one worker (the order is sequential by nature) and call Close
// after Run returns. The zero value is not usable: use NewShuffler.
type Shuffler struct {
	plan    *Plan
	mem     memory.Allocator
	rows    int
	budget  int64
	pinned  bool
	quality *Quality
	log     *zap.Logger
	lost    func(epoch int) int64

	mu       sync.Mutex
	resume   *Resume // consumed by the first epoch
	epoch    int     // epoch in progress; -1 before the first chunk
	ended    bool    // the End marker of epoch was seen
	buf      rowBuffer[rowRef]
	held     []*held
	pending  []rowRef // rows drawn, not yet gathered
	refill   []int32  // resume: slot of each re-read row, in ascending id order
	refillID []int64  // resume: id of each re-read row, ascending
	refilled int
	emitted  int64 // rows emitted in epoch (from the resume position on a resume)
	schema   *arrow.Schema
	maxRec   int   // largest input record seen, rows
	retRows  int64 // rows of the retained records
	retBytes int64 // bytes of the retained records
	copied   int64 // rows copied by compactions (tests check the amortized cost)
	g        gatherer
	closed   bool
}

// NewShuffler returns the shuffle stage of plan.
func NewShuffler(plan *Plan, cfg ShufflerConfig) *Shuffler {
	if cfg.Mem == nil {
		cfg.Mem = memory.DefaultAllocator
	}
	if cfg.Rows < 1 {
		cfg.Rows = 4096
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	return &Shuffler{plan: plan, mem: cfg.Mem, rows: cfg.Rows, budget: cfg.MemoryBudget, quality: cfg.Quality,
		log: cfg.Logger, resume: cfg.Resume, lost: cfg.Lost, epoch: -1, pinned: cfg.Pinned}
}

// Process takes in one chunk; see Shuffler.
func (s *Shuffler) Process(ctx context.Context, c Chunk, emit func(Chunk) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Release()
		return errors.New("stages: shuffler used after Close")
	}
	if c.Epoch != s.epoch {
		if err := s.startEpoch(c.Epoch); err != nil {
			c.Release()
			return err
		}
	} else if s.ended {
		c.Release()
		return fmt.Errorf("stages: chunk of epoch %d after its end marker", c.Epoch)
	}
	if c.End {
		c.Release()
		return s.endEpoch(ctx, emit)
	}
	if c.Rec == nil {
		return fmt.Errorf("stages: chunk of epoch %d without a record", c.Epoch)
	}
	if s.plan.buffer == 0 {
		if c.Refill {
			c.Release()
			return errors.New("stages: refill chunk without a row buffer")
		}
		n := c.Rec.NumRows()
		if err := emit(c); err != nil {
			c.Release()
			return err
		}
		s.emitted += n
		return nil
	}
	return s.take(ctx, c, emit)
}

// startEpoch begins epoch e, from the resume state if it is the resumed one.
func (s *Shuffler) startEpoch(e int) error {
	if e < s.epoch || (s.epoch >= 0 && !s.ended) {
		return fmt.Errorf("stages: chunk of epoch %d while epoch %d is in progress", e, s.epoch)
	}
	s.releaseAll()
	s.epoch, s.ended, s.emitted = e, false, 0
	s.refill, s.refillID, s.refilled = s.refill[:0], s.refillID[:0], 0
	if r := s.resume; r != nil {
		s.resume = nil
		if r.pos.Epoch != e {
			return fmt.Errorf("stages: resume state is for epoch %d, the input starts at epoch %d", r.pos.Epoch, e)
		}
		s.emitted = r.pos.Emitted
		if s.plan.buffer == 0 {
			return nil
		}
		buf, err := r.rowBuffer()
		if err != nil {
			return err
		}
		s.buf = buf
		order := make([]int32, len(r.slots))
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(r.slots[a], r.slots[b]) })
		s.refill = order
		for _, slot := range order {
			s.refillID = append(s.refillID, r.slots[slot])
		}
		return nil
	}
	if s.plan.buffer > 0 {
		s.buf = rowBuffer[rowRef]{k: s.plan.buffer, rng: rand.New(s.plan.pcg(e, streamRows)), slots: s.buf.slots[:0]}
	}
	return nil
}

// take adds the rows of c to the buffer, emitting the rows it draws.
func (s *Shuffler) take(ctx context.Context, c Chunk, emit func(Chunk) error) error {
	rec := c.Rec
	ids, err := rowIDs(rec)
	if err != nil {
		rec.Release()
		return err
	}
	if s.schema == nil {
		s.schema = rec.Schema()
	} else if !s.schema.Equal(rec.Schema()) {
		rec.Release()
		return fmt.Errorf("stages: shuffler input changed schema from %v to %v", s.schema, rec.Schema())
	}
	h := newHeld(rec, ids)
	h.at = len(s.held)
	s.held = append(s.held, h)
	s.retRows += int64(len(ids))
	s.retBytes += h.bytes
	s.maxRec = max(s.maxRec, len(ids))
	s.observe()
	if c.Refill {
		for i, id := range ids {
			if s.refilled == len(s.refillID) || id != s.refillID[s.refilled] {
				return s.refillError(id)
			}
			s.buf.slots[s.refill[s.refilled]] = rowRef{h: h, row: int32(i)}
			h.live++
			s.refilled++
		}
		if h.live == 0 {
			s.drop(h)
		}
		return s.compact(ctx)
	}
	if s.refilled < len(s.refillID) {
		return s.refillError(ids[0])
	}
	for i := range ids {
		h.live++
		if out, ok := s.buf.push(rowRef{h: h, row: int32(i)}); ok {
			s.pending = append(s.pending, out)
			if len(s.pending) == s.rows {
				if err := s.flush(ctx, emit); err != nil {
					return err
				}
			}
		}
	}
	return s.compact(ctx)
}

func (s *Shuffler) refillError(id int64) error {
	want := "no more re-read rows"
	if s.refilled < len(s.refillID) {
		want = fmt.Sprintf("row %d", s.refillID[s.refilled])
	}
	return fmt.Errorf("resume of epoch %d: got row %d, want %s: has the data changed since the checkpoint?", s.epoch, id, want)
}

// endEpoch drains the buffer and passes on the end marker.
func (s *Shuffler) endEpoch(ctx context.Context, emit func(Chunk) error) error {
	if s.refilled < len(s.refillID) {
		return fmt.Errorf("resume of epoch %d: %d of %d buffered rows were re-read: has the data changed since the checkpoint?",
			s.epoch, s.refilled, len(s.refillID))
	}
	if s.plan.buffer > 0 {
		for out, ok := s.buf.pop(); ok; out, ok = s.buf.pop() {
			s.pending = append(s.pending, out)
			if len(s.pending) == s.rows {
				if err := s.flush(ctx, emit); err != nil {
					return err
				}
			}
		}
		if err := s.flush(ctx, emit); err != nil {
			return err
		}
	}
	var lost int64
	if s.lost != nil {
		lost = s.lost(s.epoch)
	}
	if s.emitted != s.plan.total-lost {
		return fmt.Errorf("stages: epoch %d delivered %d rows, the dataset has %d, %d of them left out during the run", s.epoch, s.emitted, s.plan.total, lost)
	}
	if err := emit(Chunk{Epoch: s.epoch, End: true}); err != nil {
		return err
	}
	s.ended = true
	return nil
}

// flush gathers the pending rows into one record and emits it.
func (s *Shuffler) flush(ctx context.Context, emit func(Chunk) error) error {
	if len(s.pending) == 0 {
		return nil
	}
	rec, err := s.g.gather(ctx, s.mem, s.schema, s.pending)
	if err != nil {
		return err
	}
	for i, r := range s.pending {
		r.h.live--
		if r.h.live == 0 {
			s.drop(r.h)
		}
		s.pending[i] = rowRef{}
	}
	n := len(s.pending)
	s.pending = s.pending[:0]
	if err := emit(Chunk{Epoch: s.epoch, Rec: rec}); err != nil {
		rec.Release()
		return err
	}
	s.emitted += int64(n)
	return nil
}

// drop releases a held record none of whose rows remain.
func (s *Shuffler) drop(h *held) {
	last := len(s.held) - 1
	s.held[h.at] = s.held[last]
	s.held[h.at].at = h.at
	s.held[last] = nil
	s.held = s.held[:last]
	s.retRows -= int64(len(h.ids))
	s.retBytes -= h.bytes
	h.rec.Release()
	h.rec, h.ids = nil, nil
}

// compact bounds the rows the retained records hold: when they exceed the live rows
// (buffered or pending) by more than the slack, max(Buffer/2, Rows, largest input
// record), it copies the live rows of the sparsest records into one new record and
// releases those, until the excess is at most half the slack. Over MemoryBudget it
// compacts every record with dead rows. See Shuffler for the bounds this gives.
func (s *Shuffler) compact(ctx context.Context) error {
	if s.pinned {
		return nil
	}
	live := int64(len(s.buf.slots) + len(s.pending))
	slack := max(int64(s.plan.buffer)/2, int64(s.rows), int64(s.maxRec))
	overBudget := s.budget > 0 && s.retBytes > s.budget
	if !overBudget && s.retRows <= live+slack {
		return nil
	}
	cands := make([]*held, 0, len(s.held))
	for _, h := range s.held {
		if h.live < len(h.ids) {
			cands = append(cands, h)
		}
	}
	// Sparsest first: live/len ascending.
	slices.SortFunc(cands, func(a, b *held) int {
		return cmp.Compare(int64(a.live)*int64(len(b.ids)), int64(b.live)*int64(len(a.ids)))
	})
	rows := s.retRows
	n := 0
	for _, h := range cands {
		if !overBudget && rows <= live+slack/2 {
			break
		}
		h.compact = true
		rows -= int64(len(h.ids) - h.live)
		n++
	}
	var refs []rowRef
	var where []*rowRef
	for _, list := range [][]rowRef{s.buf.slots, s.pending} {
		for i := range list {
			if r := &list[i]; r.h != nil && r.h.compact {
				refs = append(refs, *r)
				where = append(where, r)
			}
		}
	}
	for _, h := range cands[:n] {
		h.compact = false
	}
	if len(refs) > 0 {
		rec, err := s.g.gather(ctx, s.mem, s.schema, refs)
		if err != nil {
			return err
		}
		s.copied += int64(len(refs))
		ids, _ := rowIDs(rec)
		h := newHeld(rec, ids)
		h.live = len(refs)
		for i, r := range where {
			old := r.h
			*r = rowRef{h: h, row: int32(i)}
			old.live--
			if old.live == 0 {
				s.drop(old)
			}
		}
		h.at = len(s.held)
		s.held = append(s.held, h)
		s.retRows += int64(len(ids))
		s.retBytes += h.bytes
	}
	if s.budget > 0 && s.retBytes > s.budget {
		return s.budgetError()
	}
	return nil
}

func (s *Shuffler) budgetError() error {
	if s.plan.mode == ShuffleFull {
		return fmt.Errorf("--shuffle=full: the data does not fit --memory-budget %s (%s held for %d of %d rows); use --shuffle=buffer or raise --memory-budget",
			formatBytes(s.budget), formatBytes(s.retBytes), s.retRows, s.plan.total)
	}
	perRow := s.retBytes / max(s.retRows, 1)
	fit := s.budget / max(2*perRow, 1)
	return fmt.Errorf("--shuffle-buffer %d: the buffer holds %s (%d rows of about %d bytes), more than --memory-budget %s; lower --shuffle-buffer to about %d or raise --memory-budget",
		s.plan.buffer, formatBytes(s.retBytes), s.retRows, perRow, formatBytes(s.budget), fit)
}

// observe reports the retained bytes and rows to the quality collector.
func (s *Shuffler) observe() {
	if s.quality != nil {
		s.quality.observeBuffer(s.epoch, s.retBytes, s.retRows)
	}
}

// Flush is called when the input ends. After a complete epoch nothing is left; if
// the input stopped inside an epoch (a soft stop), the buffered rows are released
// unemitted: a resume from the last emitted position rebuilds them.
func (s *Shuffler) Flush(ctx context.Context, emit func(Chunk) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.epoch >= 0 && !s.ended {
		s.log.Info("input stopped inside an epoch; buffered rows dropped",
			zap.Int("epoch", s.epoch), zap.Int64("emitted", s.emitted), zap.Int("buffered", len(s.buf.slots)))
	}
	s.releaseAll()
	return nil
}

// Close releases the records the shuffler still holds; later calls to Process fail.
// Safe to call more than once.
func (s *Shuffler) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseAll()
	s.closed = true
}

// Retained returns the bytes and rows of the records the buffer holds now. Safe for
// concurrent use.
func (s *Shuffler) Retained() (bytes, rows int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.retBytes, s.retRows
}

// releaseAll drops every retained record and buffered row.
func (s *Shuffler) releaseAll() {
	for _, h := range s.held {
		h.rec.Release()
	}
	clear(s.held)
	s.held = s.held[:0]
	clear(s.buf.slots)
	s.buf.slots = s.buf.slots[:0]
	clear(s.pending)
	s.pending = s.pending[:0]
	s.retRows, s.retBytes = 0, 0
}

// formatBytes prints n in binary units for people.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
