package stages

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/zap/zaptest"
)

// synthSchema has one column of each layout the gather must handle.
var synthSchema = arrow.NewSchema([]arrow.Field{
	{Name: "v", Type: arrow.PrimitiveTypes.Int64},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "img", Type: arrow.FixedSizeListOf(3, arrow.PrimitiveTypes.Uint8)},
	{Name: "f", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	{Name: RowColumn, Type: arrow.PrimitiveTypes.Int64},
}, nil)

// synthRecord builds the rows ids of synthSchema: every value derives from the id, so
// a test can check that each output row is intact.
func synthRecord(mem memory.Allocator, ids []int64) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, synthSchema)
	defer b.Release()
	img := b.Field(2).(*array.FixedSizeListBuilder)
	for _, id := range ids {
		b.Field(0).(*array.Int64Builder).Append(id * 3)
		if id%7 == 0 {
			b.Field(1).AppendNull()
			b.Field(3).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append("row" + strconv.FormatInt(id, 10))
			b.Field(3).(*array.Float32Builder).Append(float32(id) / 2)
		}
		img.Append(true)
		for k := range 3 {
			img.ValueBuilder().(*array.Uint8Builder).Append(uint8(id + int64(k)))
		}
		b.Field(4).(*array.Int64Builder).Append(id)
	}
	return b.NewRecordBatch()
}

// checkSynth verifies that every row of rec is the intact synthetic row of its id
// and returns the ids.
func checkSynth(t *testing.T, rec arrow.RecordBatch) []int64 {
	t.Helper()
	ids, err := rowIDs(rec)
	if err != nil {
		t.Fatal(err)
	}
	v := rec.Column(0).(*array.Int64)
	s := rec.Column(1).(*array.String)
	img := rec.Column(2).(*array.FixedSizeList)
	imgv := img.ListValues().(*array.Uint8)
	f := rec.Column(3).(*array.Float32)
	for i, id := range ids {
		ok := v.Value(i) == id*3
		if id%7 == 0 {
			ok = ok && s.IsNull(i) && f.IsNull(i)
		} else {
			ok = ok && s.Value(i) == "row"+strconv.FormatInt(id, 10) && f.Value(i) == float32(id)/2
		}
		start := (img.Offset() + i) * 3
		for k := range 3 {
			ok = ok && imgv.Value(start+k) == uint8(id+int64(k))
		}
		if !ok {
			t.Fatalf("row %d (id %d) is not intact", i, id)
		}
	}
	return slices.Clone(ids)
}

// fakeRead turns tasks into chunks as the reader stage does, cutting each shard into
// records of random sizes drawn from rng.
func fakeRead(mem memory.Allocator, p *Plan, tasks []ShardTask, rng *rand.Rand, maxRec int) []Chunk {
	var out []Chunk
	for _, task := range tasks {
		if task.End {
			out = append(out, Chunk{Epoch: task.Epoch, End: true})
			continue
		}
		var offs []int64
		if task.Rows != nil {
			offs = task.Rows
		} else {
			for off := task.Skip; off < p.ShardRows(task.Shard); off++ {
				offs = append(offs, off)
			}
		}
		for len(offs) > 0 {
			n := min(len(offs), 1+rng.IntN(maxRec))
			ids := make([]int64, n)
			for i, off := range offs[:n] {
				ids[i] = p.ShardFirst(task.Shard) + off
			}
			offs = offs[n:]
			out = append(out, Chunk{Epoch: task.Epoch, Rec: synthRecord(mem, ids), Refill: task.Refill})
		}
	}
	return out
}

// runShuffler feeds chunks to s and returns the emitted ids of each epoch, checking
// every row and that no record spans epochs.
func runShuffler(t *testing.T, s *Shuffler, chunks []Chunk) map[int][]int64 {
	t.Helper()
	got := map[int][]int64{}
	ended := map[int]bool{}
	emit := func(c Chunk) error {
		defer c.Release()
		if ended[c.Epoch] {
			t.Fatalf("chunk of epoch %d after its end", c.Epoch)
		}
		if c.End {
			ended[c.Epoch] = true
			return nil
		}
		got[c.Epoch] = append(got[c.Epoch], checkSynth(t, c.Rec)...)
		return nil
	}
	ctx := context.Background()
	for i, c := range chunks {
		if err := s.Process(ctx, c, emit); err != nil {
			for _, rest := range chunks[i+1:] {
				rest.Release()
			}
			t.Fatal(err)
		}
	}
	if err := s.Flush(ctx, emit); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestShufflerFollowsPlan(t *testing.T) {
	shards := []int64{50, 3, 0, 77, 120, 41}
	for _, tc := range []struct {
		mode   ShuffleMode
		buffer int
		rows   int
		maxRec int
	}{
		{ShuffleNone, 0, 16, 40},
		{ShuffleShards, 0, 16, 40},
		{ShuffleBuffer, 1, 16, 40},
		{ShuffleBuffer, 32, 7, 5},
		{ShuffleBuffer, 32, 64, 100},
		{ShuffleBuffer, 500, 100, 33},
		{ShuffleFull, 0, 50, 60},
	} {
		t.Run(fmt.Sprintf("%s/buffer=%d/rows=%d/rec=%d", tc.mode, tc.buffer, tc.rows, tc.maxRec), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			p := mustPlan(t, 11, tc.mode, tc.buffer, shards)
			// Two different record cuttings must give the same order, and so must a
			// pinned shuffler (inputs held by a shard cache), which never copies.
			for cut := range uint64(4) {
				pinned := cut >= 2
				var chunks []Chunk
				rng := rand.New(rand.NewPCG(cut%2, 99))
				for e := range 3 {
					chunks = append(chunks, fakeRead(mem, p, p.EpochTasks(e), rng, tc.maxRec)...)
				}
				s := NewShuffler(p, ShufflerConfig{Mem: mem, Rows: tc.rows, Pinned: pinned, Logger: zaptest.NewLogger(t)})
				got := runShuffler(t, s, chunks)
				s.Close()
				for e := range 3 {
					if want := p.Order(e); !slices.Equal(got[e], want) {
						t.Fatalf("cut %d (pinned %v) epoch %d: shuffler order differs from the plan\n got %v\nwant %v", cut, pinned, e, got[e], want)
					}
				}
				if pinned && s.copied != 0 {
					t.Errorf("pinned shuffler copied %d rows in compactions, want 0", s.copied)
				}
			}
		})
	}
}

func TestShufflerResume(t *testing.T) {
	shards := []int64{50, 3, 0, 77, 120, 41}
	for _, tc := range []struct {
		mode   ShuffleMode
		buffer int
	}{{ShuffleNone, 0}, {ShuffleShards, 0}, {ShuffleBuffer, 1}, {ShuffleBuffer, 40}, {ShuffleBuffer, 1000}, {ShuffleFull, 0}} {
		t.Run(fmt.Sprintf("%s/%d", tc.mode, tc.buffer), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			p := mustPlan(t, 5, tc.mode, tc.buffer, shards)
			rng := rand.New(rand.NewPCG(1, 2))
			for _, at := range []int64{0, 1, 39, 40, 41, 150, 290, p.Rows() - 1, p.Rows()} {
				r, err := p.Resume(Position{Epoch: 1, Emitted: at})
				if err != nil {
					t.Fatal(err)
				}
				chunks := fakeRead(mem, p, r.Tasks(), rng, 30)
				chunks = append(chunks, fakeRead(mem, p, p.EpochTasks(2), rng, 30)...)
				s := NewShuffler(p, ShufflerConfig{Mem: mem, Rows: 13, Resume: r})
				got := runShuffler(t, s, chunks)
				s.Close()
				if want := p.Order(1)[at:]; !slices.Equal(got[1], want) {
					t.Fatalf("resumed at %d: got %v, want %v", at, got[1], want)
				}
				if want := p.Order(2); !slices.Equal(got[2], want) {
					t.Fatalf("resumed at %d: next epoch differs", at)
				}
			}
		})
	}
}

func TestShufflerCompactionBoundsMemory(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	const k, rows = 1000, 100
	p := mustPlan(t, 1, ShuffleBuffer, k, shardSizes(100_000, 5000))
	s := NewShuffler(p, ShufflerConfig{Mem: mem, Rows: rows})
	defer s.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	var peak int64
	emit := func(c Chunk) error { c.Release(); return nil }
	ctx := context.Background()
	tasks := p.EpochTasks(0)
	for _, task := range tasks {
		for _, c := range fakeRead(mem, p, []ShardTask{task}, rng, 2000) {
			if err := s.Process(ctx, c, emit); err != nil {
				t.Fatal(err)
			}
			_, r := s.Retained()
			peak = max(peak, r)
		}
	}
	// Bound from the Shuffler doc: live (k + rows) + slack (max(k/2, rows, largest
	// record)) + the record that triggered the compaction.
	bound := int64(k + rows + 2000 + 2000)
	if peak > bound {
		t.Errorf("peak retained rows %d > bound %d", peak, bound)
	}
	t.Logf("peak retained rows %d for a buffer of %d rows (bound %d); compactions copied %.2f rows per input row",
		peak, k, bound, float64(s.copied)/float64(p.Rows()))
	if s.copied > 3*p.Rows() {
		t.Errorf("compactions copied %d rows for %d input rows: not O(1) per row", s.copied, p.Rows())
	}
	if b, r := s.Retained(); b != 0 || r != 0 {
		t.Errorf("after the epoch: %d bytes, %d rows retained", b, r)
	}
}

func TestShufflerBudget(t *testing.T) {
	for _, tc := range []struct {
		mode   ShuffleMode
		buffer int
		want   string
	}{
		{ShuffleFull, 0, "--shuffle=full: the data does not fit --memory-budget 16.0 KiB"},
		{ShuffleBuffer, 2000, "--shuffle-buffer 2000: the buffer holds"},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			p := mustPlan(t, 1, tc.mode, tc.buffer, shardSizes(5000, 500))
			s := NewShuffler(p, ShufflerConfig{Mem: mem, Rows: 100, MemoryBudget: 16 << 10})
			defer s.Close()
			var err error
			chunks := fakeRead(mem, p, p.EpochTasks(0), rand.New(rand.NewPCG(1, 1)), 200)
			for i, c := range chunks {
				if err = s.Process(context.Background(), c, func(c Chunk) error { c.Release(); return nil }); err != nil {
					for _, rest := range chunks[i+1:] {
						rest.Release()
					}
					break
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
			t.Log(err)
		})
	}
}

func TestShufflerEmitErrorAndClose(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	p := mustPlan(t, 1, ShuffleBuffer, 50, shardSizes(400, 100))
	for _, failAt := range []int{0, 1, 3} {
		s := NewShuffler(p, ShufflerConfig{Mem: mem, Rows: 20})
		boom := errors.New("boom")
		n := 0
		emit := func(c Chunk) error {
			if n == failAt {
				return boom // not delivered: the shuffler still owns c
			}
			n++
			c.Release()
			return nil
		}
		chunks := fakeRead(mem, p, p.EpochTasks(0), rand.New(rand.NewPCG(1, 1)), 64)
		var err error
		for i, c := range chunks {
			if err = s.Process(context.Background(), c, emit); err != nil {
				for _, rest := range chunks[i+1:] {
					rest.Release()
				}
				break
			}
		}
		if !errors.Is(err, boom) {
			t.Fatalf("error = %v, want boom", err)
		}
		s.Close()
		s.Close()
		c := Chunk{Rec: synthRecord(mem, []int64{0})}
		if err := s.Process(context.Background(), c, emit); err == nil {
			t.Fatal("Process after Close: no error")
		}
	}
}

func TestShufflerBadInput(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	p := mustPlan(t, 1, ShuffleBuffer, 10, []int64{20, 20})
	other := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
	noRow := func() arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, other)
		defer b.Release()
		b.Field(0).(*array.Int64Builder).Append(1)
		return b.NewRecordBatch()
	}
	for _, tc := range []struct {
		name   string
		chunks func() []Chunk
		want   string
	}{
		{"no row column", func() []Chunk { return []Chunk{{Rec: noRow()}} }, `no trailing "__row"`},
		{"epoch goes back", func() []Chunk {
			return append(fakeRead(mem, p, p.EpochTasks(1), rand.New(rand.NewPCG(1, 1)), 8), Chunk{Epoch: 0, Rec: synthRecord(mem, []int64{0})})
		}, "while epoch 1 is in progress"},
		{"short epoch", func() []Chunk {
			return fakeRead(mem, p, []ShardTask{{Shard: 0}, {Shard: -1, End: true}}, rand.New(rand.NewPCG(1, 1)), 8)
		}, "epoch 0 delivered 20 rows, the dataset has 40"},
		{"after end", func() []Chunk {
			return append(fakeRead(mem, p, p.EpochTasks(0), rand.New(rand.NewPCG(1, 1)), 8), Chunk{Epoch: 0, Rec: synthRecord(mem, []int64{0})})
		}, "after its end marker"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewShuffler(p, ShufflerConfig{Mem: mem, Rows: 4})
			defer s.Close()
			chunks := tc.chunks()
			var err error
			for i, c := range chunks {
				if err = s.Process(context.Background(), c, func(c Chunk) error { c.Release(); return nil }); err != nil {
					for _, rest := range chunks[i+1:] {
						rest.Release()
					}
					break
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
