package stages

import (
	"context"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/sgdpipe/sgdpipe/io/source"
)

// shardCache keeps the decoded records of a dataset's shards after their first read and
// replays them on later reads, so that data read again and again (the training data of
// every epoch, the validation data of every evaluation) is decoded once. Records are
// immutable and reference counted: the cache holds one reference per record and hands
// out more, so what a reader downstream sees is exactly what a fresh read would give.
// Safe for concurrent use; the zero value is an empty cache.
//
// A cache keeps one projection: the columns of its first read. A read of other columns
// goes to the file and is not kept.
type shardCache struct {
	mu      sync.Mutex
	recs    map[int][]arrow.RecordBatch
	bytes   int64
	cols    []int // the projection the records hold
	colsSet bool
}

// holds reports whether the cache keeps records of the projection cols (or nothing yet).
func (c *shardCache) holds(cols []int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.colsSet || slices.Equal(c.cols, cols)
}

// read is ds.ReadShard(ctx, shard, cols, emit) with the cache in front of it; emit has
// ReadShard's contract (a failed emit leaves the record to read, which releases it). A
// shard whose read fails is not kept, so its next read goes to the file again. A nil cache reads
// the file every time.
func (c *shardCache) read(ctx context.Context, ds *source.Dataset, shard int, cols []int, emit func(arrow.RecordBatch) error) error {
	if c == nil {
		return ds.ReadShard(ctx, shard, cols, emit)
	}
	c.mu.Lock()
	if !c.colsSet {
		c.cols, c.colsSet = slices.Clone(cols), true
	}
	same := slices.Equal(c.cols, cols)
	recs, ok := c.recs[shard]
	c.mu.Unlock()
	if !same {
		return ds.ReadShard(ctx, shard, cols, emit)
	}
	if ok {
		for _, rec := range recs {
			if err := ctx.Err(); err != nil {
				return err
			}
			rec.Retain()
			if err := emit(rec); err != nil {
				rec.Release()
				return err
			}
		}
		return nil
	}
	var got []arrow.RecordBatch
	var bytes int64
	err := ds.ReadShard(ctx, shard, cols, func(rec arrow.RecordBatch) error {
		rec.Retain() // the cache's reference
		got = append(got, rec)
		bytes += recordBytes(rec)
		return emit(rec)
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil || c.recs[shard] != nil {
		for _, rec := range got {
			rec.Release()
		}
		return err
	}
	if c.recs == nil {
		c.recs = make(map[int][]arrow.RecordBatch)
	}
	c.recs[shard] = got
	c.bytes += bytes
	return nil
}

// size returns the bytes of the records the cache holds.
func (c *shardCache) size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// close releases every record the cache holds; the cache is empty (and usable) after.
func (c *shardCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, recs := range c.recs {
		for _, rec := range recs {
			rec.Release()
		}
		delete(c.recs, k)
	}
	c.bytes = 0
}
