package stages

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/zap"
)

// Batch is one training batch: Rows rows of epoch Epoch, as a record
// {x: FixedSizeList<float32>[d], y: int32 class or float32 target (when the data has
// a target), __row: int64}. Batches never span epochs.
//
// Ownership: a Batch received from a stream owns one reference to Rec; the receiver
// must call Release (or pass it on). X, Labels, Targets and RowIDs are zero-copy views
// valid until then. A plain value, safe to copy (copies share the reference); its
// zero value has no record.
type Batch struct {
	Epoch int
	Index int   // batch index within the epoch, from 0; a resumed epoch continues it
	Start int64 // position in the epoch's row order of the first row
	Rows  int
	// Last marks the last batch of the epoch (after it, the epoch's remaining rows,
	// if any, were dropped by DropLast).
	Last bool
	Rec  arrow.RecordBatch
}

// Release releases the batch's record. It is the Discard hook of a Batch stream:
// pipeline.Discard(Batch.Release).
func (b Batch) Release() {
	if b.Rec != nil {
		b.Rec.Release()
	}
}

// Next returns the data position after this batch: where a run that has trained on
// it resumes (the next epoch's start after the last batch).
func (b Batch) Next() Position {
	if b.Last {
		return Position{Epoch: b.Epoch + 1}
	}
	return Position{Epoch: b.Epoch, Emitted: b.Start + int64(b.Rows)}
}

// X returns the feature matrix as a zero-copy row-major view: data[r*cols+c] is
// feature c of row r, len(data) == rows*cols. It panics if the record has no
// FixedSizeList<float32> column "x" (a programmer error: batches come from Batcher).
func (b Batch) X() (data []float32, rows, cols int) {
	return xView(b.Rec)
}

// xView returns the zero-copy view of rec's x column, honouring slice offsets. It finds the column
// by a loop over the fields rather than Schema.FieldIndices, which allocates: the training step calls
// it once per micro-batch and allocates nothing.
func xView(rec arrow.RecordBatch) (data []float32, rows, cols int) {
	i := -1
	for c := range int(rec.NumCols()) {
		if rec.ColumnName(c) == "x" {
			i = c
			break
		}
	}
	if i < 0 {
		panic("stages: batch record has no x column")
	}
	fsl, ok := rec.Column(i).(*array.FixedSizeList)
	if !ok {
		panic("stages: batch column x is not a fixed-size list")
	}
	vals, ok := fsl.ListValues().(*array.Float32)
	if !ok {
		panic("stages: batch column x is not a list of float32")
	}
	cols = int(fsl.DataType().(*arrow.FixedSizeListType).Len())
	rows = fsl.Len()
	off := fsl.Offset() * cols
	return vals.Float32Values()[off : off+rows*cols], rows, cols
}

// Labels returns the class index of each row (zero-copy), or nil when y is absent or
// is not an int32 class column.
func (b Batch) Labels() []int32 {
	if y, ok := column(b.Rec, "y").(*array.Int32); ok {
		return y.Int32Values()
	}
	return nil
}

// Targets returns the regression target of each row (zero-copy), or nil when y is
// absent or is not a float32 target column.
func (b Batch) Targets() []float32 {
	if y, ok := column(b.Rec, "y").(*array.Float32); ok {
		return y.Float32Values()
	}
	return nil
}

// RowIDs returns the global row index of each row (zero-copy).
func (b Batch) RowIDs() []int64 {
	if r, ok := column(b.Rec, RowColumn).(*array.Int64); ok {
		return r.Int64Values()
	}
	return nil
}

// column returns rec's column named name, or nil.
func column(rec arrow.RecordBatch, name string) arrow.Array {
	if rec == nil {
		return nil
	}
	if i := rec.Schema().FieldIndices(name); len(i) == 1 {
		return rec.Column(i[0])
	}
	return nil
}

// BatcherConfig configures a Batcher.
type BatcherConfig struct {
	// Rows is the batch size B; >= 1.
	Rows int
	// DropLast drops the last batch of an epoch when it has fewer than Rows rows.
	DropLast bool
	// Start is the position the input starts at (a resume): the batch numbering
	// and the positions of the resumed epoch continue from it. Emitted should be a
	// multiple of Rows.
	Start Position
	// Mem allocates the batches that join rows of several records. Default
	// memory.DefaultAllocator.
	Mem memory.Allocator
	// Quality, when not nil, receives each batch's labels and row ids.
	Quality *Quality
	// Logger; nil = zap.NewNop().
	Logger *zap.Logger
}

// Batcher is the batching stage, a pipeline.Accumulator[Chunk, Batch] run by one
// worker. It re-chunks the normalized records into batches of exactly Rows rows;
// at an epoch's end marker it emits or drops (DropLast) the partial last batch, so
// no batch spans two epochs. A batch that lies inside one input record is a
// zero-copy slice of it; a batch that joins several records is a copy. The batcher
// holds back the last complete batch until it knows whether it ends the epoch
// (Batch.Last), so it retains at most one batch plus the rows of the next one.
//
// Ownership: Process owns the chunk it receives on every path; emitted batches are
// owned by the receiver. If the run ends by an error or a cancellation, Close
// releases what the batcher still holds (DataPath.Close does).
// Concurrency: a mutex guards the state, so the methods are safe for concurrent use;
// run the stage with one worker and call Close after Run returns. The zero value is
// not usable: use NewBatcher. Cost: a zero-copy batch costs a record slice; a joined
// one copies its rows (array.Concatenate per column).
type Batcher struct {
	rows     int
	dropLast bool
	mem      memory.Allocator
	quality  *Quality
	log      *zap.Logger

	mu     sync.Mutex
	start  Position
	epoch  int // epoch in progress; -1 before the first chunk
	ended  bool
	index  int   // index of the next batch
	pos    int64 // epoch position of the next batch's first row
	parts  []arrow.RecordBatch
	n      int    // rows in parts
	ready  *Batch // last complete batch, not yet emitted
	closed bool
}

// NewBatcher returns a batching stage. It panics if cfg.Rows < 1 (DataConfig.Validate
// reports it as a flag error first).
func NewBatcher(cfg BatcherConfig) *Batcher {
	if cfg.Rows < 1 {
		panic("stages: batch rows must be >= 1")
	}
	if cfg.Mem == nil {
		cfg.Mem = memory.DefaultAllocator
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	return &Batcher{rows: cfg.Rows, dropLast: cfg.DropLast, mem: cfg.Mem, quality: cfg.Quality, log: cfg.Logger,
		start: cfg.Start, epoch: -1}
}

// Process takes in one normalized chunk; see Batcher.
func (b *Batcher) Process(ctx context.Context, c Chunk, emit func(Batch) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		c.Release()
		return errors.New("stages: batcher used after Close")
	}
	if c.Epoch != b.epoch {
		if b.epoch >= 0 && !b.ended || c.Epoch < b.epoch {
			c.Release()
			return fmt.Errorf("stages: chunk of epoch %d while epoch %d is in progress", c.Epoch, b.epoch)
		}
		b.epoch, b.ended, b.index, b.pos = c.Epoch, false, 0, 0
		if c.Epoch == b.start.Epoch {
			b.pos = b.start.Emitted
			b.index = int(b.start.Emitted / int64(b.rows))
		}
	} else if b.ended {
		c.Release()
		return fmt.Errorf("stages: chunk of epoch %d after its end marker", c.Epoch)
	}
	if c.End {
		return b.endEpoch(emit)
	}
	if c.Rec == nil {
		return fmt.Errorf("stages: chunk of epoch %d without a record", c.Epoch)
	}
	rec := c.Rec
	if err := checkBatchSchema(rec.Schema()); err != nil {
		rec.Release()
		return err
	}
	for off := int64(0); off < rec.NumRows(); {
		take := min(int64(b.rows-b.n), rec.NumRows()-off)
		if off == 0 && take == rec.NumRows() {
			rec.Retain()
			b.parts = append(b.parts, rec)
		} else {
			b.parts = append(b.parts, rec.NewSlice(off, off+take))
		}
		b.n += int(take)
		off += take
		if b.n == b.rows {
			if err := b.cut(emit); err != nil {
				rec.Release()
				return err
			}
		}
	}
	rec.Release()
	return nil
}

// cut turns the accumulated parts into a batch and emits the batch held back before it.
func (b *Batcher) cut(emit func(Batch) error) error {
	rec, err := b.join()
	if err != nil {
		return err
	}
	next := &Batch{Epoch: b.epoch, Index: b.index, Start: b.pos, Rows: int(rec.NumRows()), Rec: rec}
	b.index++
	b.pos += rec.NumRows()
	if b.quality != nil {
		b.quality.observeBatch(next.Epoch, next.Start, next.RowIDs(), next.Labels(), next.Targets())
	}
	prev := b.ready
	b.ready = next
	if prev != nil {
		if err := emit(*prev); err != nil {
			prev.Release()
			return err
		}
	}
	return nil
}

// join returns the parts as one record (the part itself when there is one) and
// clears them.
func (b *Batcher) join() (arrow.RecordBatch, error) {
	defer func() {
		for _, p := range b.parts {
			p.Release()
		}
		clear(b.parts)
		b.parts, b.n = b.parts[:0], 0
	}()
	if len(b.parts) == 1 {
		b.parts[0].Retain()
		return b.parts[0], nil
	}
	schema := b.parts[0].Schema()
	cols := make([]arrow.Array, schema.NumFields())
	chunks := make([]arrow.Array, len(b.parts))
	for c := range cols {
		for i, p := range b.parts {
			chunks[i] = p.Column(c)
		}
		col, err := array.Concatenate(chunks, b.mem)
		if err != nil {
			for _, done := range cols[:c] {
				done.Release()
			}
			return nil, fmt.Errorf("stages: join batch column %q: %w", schema.Field(c).Name, err)
		}
		cols[c] = col
	}
	rec := array.NewRecordBatch(schema, cols, int64(b.n))
	for _, col := range cols {
		col.Release()
	}
	return rec, nil
}

// endEpoch emits the held-back batch and the partial last one (or drops it), marking
// the epoch's last batch.
func (b *Batcher) endEpoch(emit func(Batch) error) error {
	b.ended = true
	if b.n > 0 && b.dropLast {
		for _, p := range b.parts {
			p.Release()
		}
		clear(b.parts)
		b.parts, b.n = b.parts[:0], 0
	}
	if b.n > 0 {
		if err := b.cut(emit); err != nil {
			return err
		}
	}
	if b.quality != nil {
		b.quality.endEpoch(b.epoch)
	}
	if last := b.ready; last != nil {
		b.ready = nil
		last.Last = true
		if err := emit(*last); err != nil {
			last.Release()
			return err
		}
	}
	return nil
}

// Flush is called when the input ends. After a complete epoch nothing is left; if
// the input stopped inside an epoch (a soft stop), it emits the complete batch it
// held back and drops the partial one: a resume from the last batch's Next position
// gives those rows again.
func (b *Batcher) Flush(ctx context.Context, emit func(Batch) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.epoch >= 0 && !b.ended && b.quality != nil {
		b.quality.stop()
	}
	b.releaseParts()
	if last := b.ready; last != nil {
		b.ready = nil
		if err := emit(*last); err != nil {
			last.Release()
			return err
		}
	}
	return nil
}

// Close releases what the batcher still holds; later calls to Process fail. Safe to
// call more than once.
func (b *Batcher) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.releaseParts()
	if b.ready != nil {
		b.ready.Release()
		b.ready = nil
	}
	b.closed = true
}

func (b *Batcher) releaseParts() {
	for _, p := range b.parts {
		p.Release()
	}
	clear(b.parts)
	b.parts, b.n = b.parts[:0], 0
}

// checkBatchSchema checks that a normalized record has the columns a batch needs.
func checkBatchSchema(s *arrow.Schema) error {
	i := s.FieldIndices("x")
	if len(i) != 1 {
		return fmt.Errorf("stages: batcher input has no x column (columns: %v)", s)
	}
	fsl, ok := s.Field(i[0]).Type.(*arrow.FixedSizeListType)
	if !ok || fsl.Elem().ID() != arrow.FLOAT32 {
		return fmt.Errorf("stages: batcher input column x is %s, want fixed_size_list<float32>", s.Field(i[0]).Type)
	}
	if i := s.FieldIndices(RowColumn); len(i) != 1 || s.Field(i[0]).Type.ID() != arrow.INT64 {
		return fmt.Errorf("stages: batcher input has no int64 %q column", RowColumn)
	}
	return nil
}
