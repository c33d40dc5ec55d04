package stages

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sgdpipe/sgdpipe/io/source"
)

// Reader is the reading stage, a pipeline.Transform[ShardTask, Chunk]. It decodes the
// shard a task names over the projected columns and appends RowColumn, the global
// row index (shard.First + offset), to every record. It leaves out the rows a resume
// task skips, keeps only those a refill task names, and turns an end task into an
// end marker. Run it with pipeline.Workers(R) and pipeline.Ordered(), so that its
// output order, and everything downstream, does not depend on R.
//
// With a skip ledger (DataPath sets one under DataConfig.SkipBadShards), a shard whose
// read fails during the run (a *source.ShardError: an I/O error, a file changed or
// truncated since Open) does not stop the run while the budget lasts: the reader logs
// it, records it (DataPath.Bad, MidRun), keeps the rows of the shard it has already
// emitted, drops the rest of the shard and goes on with the epoch; later epochs do not
// read the shard again (their tasks emit nothing), and the failure counts once. The
// rows an epoch lost this way are counted per epoch (lostRows), so that the consumer
// knows how many rows the epoch delivers. Beyond the budget the read error is an error
// naming the one part too many. Keeping the rows emitted before the failure (rather
// than the whole shard or none of it) costs nothing and stays deterministic for a
// given failure point: holding a shard back until it has read whole would cost a
// shard of memory per reader.
//
// Ownership: emitted chunks own their records. Errors name the file and shard
// (source.Dataset.ReadShard's messages). Safe for concurrent use by the engine's
// workers; the zero value is not usable.
type Reader struct {
	ds   *source.Dataset
	cols []int
	mem  memory.Allocator
	skip *skipLedger // nil: a shard that fails to read is an error

	once   sync.Once
	schema *arrow.Schema // output: projected columns + RowColumn

	// The shard cache (EnableCache): decoded records kept across epochs when the data fits the memory
	// budget, so that later epochs do not decode the files again; nil when off.
	cache *shardCache
}

// EnableCache makes the reader keep every shard's decoded records after its first read and replay
// them on later reads (later epochs). Call it before the run; Close releases the cache. The replayed
// records are the same records, so everything downstream sees exactly what a fresh read would give.
func (r *Reader) EnableCache() { r.cache = new(shardCache) }

// CacheBytes returns the bytes of the records the shard cache holds.
func (r *Reader) CacheBytes() int64 {
	if r.cache == nil {
		return 0
	}
	return r.cache.size()
}

// Close releases the shard cache. Call it after the run.
func (r *Reader) Close() {
	if r.cache != nil {
		r.cache.close()
	}
}

// NewReader returns a reading stage over ds for the given dataset columns (nil = all),
// allocating the row columns from mem (nil = memory.DefaultAllocator); the records
// themselves come from the dataset's allocator.
func NewReader(ds *source.Dataset, columns []int, mem memory.Allocator) *Reader {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	return &Reader{ds: ds, cols: columns, mem: mem}
}

// Process reads one task; see Reader.
func (r *Reader) Process(ctx context.Context, t ShardTask, emit func(Chunk) error) error {
	if t.End {
		return emit(Chunk{Epoch: t.Epoch, End: true})
	}
	if t.Shard < 0 || t.Shard >= len(r.ds.Shards) {
		return fmt.Errorf("stages: %s: no such shard (the dataset has %d)", t, len(r.ds.Shards))
	}
	if r.skip != nil && !t.Refill && r.skip.skipped(r.ds, t) {
		return nil // unreadable since an earlier read of this run
	}
	first := r.ds.Shards[t.Shard].First
	var start int64 // offset in the shard of the next record's first row
	rows := t.Rows  // refill: offsets still to take
	var g *gatherer
	var emitted int64   // rows emitted
	var emitFailed bool // the error is emit's (or the gather's), not the read's
	err := r.cache.read(ctx, r.ds, t.Shard, r.cols, func(rec arrow.RecordBatch) error {
		// A failed return leaves rec to ReadShard, which releases it.
		n := rec.NumRows()
		off := start
		start += n
		var part arrow.RecordBatch
		var ids []int64
		switch {
		case t.Rows != nil:
			var refs []rowRef
			h := newHeld(rec, nil)
			for len(rows) > 0 && rows[0] < off+n {
				refs = append(refs, rowRef{h: h, row: int32(rows[0] - off)})
				ids = append(ids, first+rows[0])
				rows = rows[1:]
			}
			if len(refs) == 0 {
				rec.Release()
				return nil
			}
			if g == nil {
				g = new(gatherer)
			}
			var err error
			if part, err = g.gather(ctx, r.mem, rec.Schema(), refs); err != nil {
				emitFailed = true
				return err
			}
		case t.Skip >= off+n:
			rec.Release()
			return nil
		case t.Skip > off:
			part = rec.NewSlice(t.Skip-off, n)
			off = t.Skip
		default:
			rec.Retain()
			part = rec
		}
		if ids == nil {
			ids = make([]int64, part.NumRows())
			for i := range ids {
				ids[i] = first + off + int64(i)
			}
		}
		out := r.withRows(part, ids)
		part.Release()
		got := out.NumRows()
		if err := emit(Chunk{Epoch: t.Epoch, Rec: out, Refill: t.Refill}); err != nil {
			out.Release()
			emitFailed = true
			return err
		}
		emitted += got
		rec.Release()
		return nil
	})
	if se := (*source.ShardError)(nil); err != nil && r.skip != nil && !emitFailed && errors.As(err, &se) {
		return r.skip.fail(r.ds, t, emitted, se)
	}
	if err == nil && len(rows) > 0 {
		f := r.ds.Files[r.ds.Shards[t.Shard].File]
		return fmt.Errorf("%s shard %d: ended after %d rows, before row %d a resume needs: has the data changed since the checkpoint?",
			f.Path, r.ds.Shards[t.Shard].Index, start, rows[0])
	}
	return err
}

// lostRows returns the rows of epoch that the reader left out as unreadable during the run
// (0 without a skip ledger): final once the epoch's end marker has been emitted.
func (r *Reader) lostRows(epoch int) int64 {
	if r.skip == nil {
		return 0
	}
	return r.skip.lostRows(epoch)
}

// withRows returns a new record: rec's columns plus RowColumn holding ids.
func (r *Reader) withRows(rec arrow.RecordBatch, ids []int64) arrow.RecordBatch {
	r.once.Do(func() {
		fields := append(rec.Schema().Fields(), arrow.Field{Name: RowColumn, Type: arrow.PrimitiveTypes.Int64})
		md := rec.Schema().Metadata()
		r.schema = arrow.NewSchema(fields, &md)
	})
	b := array.NewInt64Builder(r.mem)
	b.AppendValues(ids, nil)
	col := b.NewInt64Array()
	b.Release()
	cols := append(rec.Columns()[:rec.NumCols():rec.NumCols()], col)
	out := array.NewRecordBatch(r.schema, cols, rec.NumRows())
	col.Release()
	return out
}
