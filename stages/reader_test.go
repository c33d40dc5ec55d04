package stages

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sgdpipe/sgdpipe/io/source"
)

func openTable(t *testing.T, mem memory.Allocator, paths []string, batchRows int) *source.Dataset {
	t.Helper()
	ds, err := source.Open(paths, source.Options{Mem: mem, BatchRows: batchRows})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	return ds
}

// readTask runs one task through r and returns the ids it emitted, checking that each
// row's columns agree with its __row.
func readTask(t *testing.T, r *Reader, task ShardTask) (ids []int64, end bool, err error) {
	t.Helper()
	err = r.Process(context.Background(), task, func(c Chunk) error {
		defer c.Release()
		if c.Epoch != task.Epoch || c.Refill != task.Refill {
			t.Fatalf("chunk epoch %d refill %v for task %+v", c.Epoch, c.Refill, task)
		}
		if c.End {
			end = true
			return nil
		}
		rows, err := rowIDs(c.Rec)
		if err != nil {
			t.Fatal(err)
		}
		idCol := c.Rec.Column(0).(*array.Int64)
		for i, id := range rows {
			if idCol.Value(i) != id {
				t.Fatalf("row %d: __row %d but id column %d", i, id, idCol.Value(i))
			}
		}
		ids = append(ids, rows...)
		return nil
	})
	return ids, end, err
}

func TestReader(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	paths := writeTable(t, t.TempDir(), 130, 60, 25, mod3) // files of 60 rows: groups 25+25+10, ...
	ds := openTable(t, mem, paths, 7)
	r := NewReader(ds, []int{0, 2}, mem)
	if len(ds.Shards) != 7 {
		t.Fatalf("%d shards, want 7", len(ds.Shards))
	}
	for _, tc := range []struct {
		name string
		task ShardTask
		want []int64
	}{
		{"whole shard", ShardTask{Epoch: 2, Shard: 4}, seq(85, 110)},
		{"second file", ShardTask{Shard: 3}, seq(60, 85)},
		{"skip inside a record", ShardTask{Shard: 1, Skip: 10}, seq(35, 50)},
		{"skip on a record boundary", ShardTask{Shard: 1, Skip: 14}, seq(39, 50)},
		{"skip all", ShardTask{Shard: 2, Skip: 10}, nil},
		{"refill rows", ShardTask{Shard: 0, Rows: []int64{0, 6, 7, 8, 20, 24}, Refill: true}, []int64{0, 6, 7, 8, 20, 24}},
		{"refill one", ShardTask{Shard: 6, Rows: []int64{9}, Refill: true}, []int64{129}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids, end, err := readTask(t, r, tc.task)
			if err != nil || end {
				t.Fatalf("err %v, end %v", err, end)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("ids %v, want %v", ids, tc.want)
			}
		})
	}
	if _, end, err := readTask(t, r, ShardTask{Epoch: 1, Shard: -1, End: true}); !end || err != nil {
		t.Errorf("end task: end %v, err %v", end, err)
	}
	if _, _, err := readTask(t, r, ShardTask{Shard: 0, Rows: []int64{3, 40}}); err == nil || !strings.Contains(err.Error(), "before row 40") {
		t.Errorf("refill past the shard's end: %v", err)
	}
	if _, _, err := readTask(t, r, ShardTask{Shard: 9}); err == nil {
		t.Error("shard out of range: no error")
	}
}

func TestReaderEmitFailure(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	ds := openTable(t, mem, writeTable(t, t.TempDir(), 50, 50, 50, mod3), 8)
	boom := errors.New("boom")
	for _, task := range []ShardTask{{Shard: 0}, {Shard: 0, Skip: 3}, {Shard: 0, Rows: []int64{1, 30}}} {
		for failAt := range 3 {
			n := 0
			err := NewReader(ds, nil, mem).Process(context.Background(), task, func(c Chunk) error {
				if n == failAt {
					return boom // not delivered
				}
				n++
				c.Release()
				return nil
			})
			if !errors.Is(err, boom) && !(task.Rows != nil && failAt == 2 && err == nil) {
				t.Errorf("task %+v fail at %d: %v", task, failAt, err)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := NewReader(ds, nil, mem).Process(ctx, ShardTask{Shard: 0}, func(c Chunk) error { c.Release(); return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
