package stages

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/zap/zaptest"
)

const testDim = 3

// normSchema is the normalizer's output for a classification target.
var normSchema = arrow.NewSchema([]arrow.Field{
	{Name: "x", Type: arrow.FixedSizeListOf(testDim, arrow.PrimitiveTypes.Float32)},
	{Name: "y", Type: arrow.PrimitiveTypes.Int32},
	{Name: RowColumn, Type: arrow.PrimitiveTypes.Int64},
}, nil)

// normRecord builds normalized rows: x = (id, id+0.5, -id), y = id % classes.
func normRecord(mem memory.Allocator, ids []int64, classes int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, normSchema)
	defer b.Release()
	x := b.Field(0).(*array.FixedSizeListBuilder)
	xv := x.ValueBuilder().(*array.Float32Builder)
	for _, id := range ids {
		x.Append(true)
		xv.AppendValues([]float32{float32(id), float32(id) + 0.5, -float32(id)}, nil)
		b.Field(1).(*array.Int32Builder).Append(int32(id % int64(classes)))
		b.Field(2).(*array.Int64Builder).Append(id)
	}
	return b.NewRecordBatch()
}

// normChunks cuts the given epoch orders into records of random sizes, with an end
// marker after each epoch.
func normChunks(mem memory.Allocator, orders map[int][]int64, epochs []int, rng *rand.Rand, maxRec, classes int) []Chunk {
	var out []Chunk
	for _, e := range epochs {
		ids := orders[e]
		for len(ids) > 0 {
			n := min(len(ids), 1+rng.IntN(maxRec))
			out = append(out, Chunk{Epoch: e, Rec: normRecord(mem, ids[:n], classes)})
			ids = ids[n:]
		}
		out = append(out, Chunk{Epoch: e, End: true})
	}
	return out
}

func seq(from, to int64) []int64 {
	s := make([]int64, 0, to-from)
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// collectBatches runs b over chunks and returns the batches' metadata and ids, checking
// each batch's x against its ids.
func collectBatches(t *testing.T, b *Batcher, chunks []Chunk) []Batch {
	t.Helper()
	var got []Batch
	emit := func(bt Batch) error {
		defer bt.Release()
		data, rows, cols := bt.X()
		ids := bt.RowIDs()
		if rows != bt.Rows || cols != testDim || len(data) != rows*cols || len(ids) != rows {
			t.Fatalf("batch %d/%d: X is %dx%d (%d values), %d ids, Rows %d", bt.Epoch, bt.Index, rows, cols, len(data), len(ids), bt.Rows)
		}
		for r, id := range ids {
			if data[r*cols] != float32(id) || data[r*cols+1] != float32(id)+0.5 || data[r*cols+2] != -float32(id) {
				t.Fatalf("batch %d/%d row %d: x = %v, want the row of id %d", bt.Epoch, bt.Index, r, data[r*cols:r*cols+3], id)
			}
			if bt.Labels()[r] != int32(id%10) {
				t.Fatalf("batch %d/%d row %d: label %d, want %d", bt.Epoch, bt.Index, r, bt.Labels()[r], id%10)
			}
		}
		cp := bt
		cp.Rec = nil
		got = append(got, cp)
		return nil
	}
	ctx := context.Background()
	for i, c := range chunks {
		if err := b.Process(ctx, c, emit); err != nil {
			for _, rest := range chunks[i+1:] {
				rest.Release()
			}
			t.Fatal(err)
		}
	}
	if err := b.Flush(ctx, emit); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestBatcher(t *testing.T) {
	for _, tc := range []struct {
		rows, batch, maxRec int
		dropLast            bool
	}{
		{100, 10, 7, false},
		{100, 10, 50, true},
		{105, 10, 50, false},
		{105, 10, 50, true},
		{5, 10, 3, false},
		{5, 10, 3, true}, // every batch dropped
		{64, 64, 1000, false},
		{1, 1, 1, false},
	} {
		t.Run(fmt.Sprintf("rows=%d/B=%d/rec=%d/drop=%v", tc.rows, tc.batch, tc.maxRec, tc.dropLast), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			orders := map[int][]int64{}
			for e := range 3 {
				for _, v := range rand.New(rand.NewPCG(uint64(e), 0)).Perm(tc.rows) {
					orders[e] = append(orders[e], int64(v))
				}
			}
			q := NewQuality(QualityConfig{Classes: 10, EpochRows: int64(tc.rows), Logger: zaptest.NewLogger(t)})
			b := NewBatcher(BatcherConfig{Rows: tc.batch, DropLast: tc.dropLast, Mem: mem, Quality: q})
			defer b.Close()
			got := collectBatches(t, b, normChunks(mem, orders, []int{0, 1, 2}, rand.New(rand.NewPCG(7, 7)), tc.maxRec, 10))
			full, rest := tc.rows/tc.batch, tc.rows%tc.batch
			perEpoch := full
			if rest > 0 && !tc.dropLast {
				perEpoch++
			}
			if len(got) != 3*perEpoch {
				t.Fatalf("%d batches, want %d", len(got), 3*perEpoch)
			}
			for i, bt := range got {
				e, idx := i/perEpoch, i%perEpoch
				wantRows := tc.batch
				if idx == full {
					wantRows = rest
				}
				if bt.Epoch != e || bt.Index != idx || bt.Rows != wantRows || bt.Start != int64(idx*tc.batch) || bt.Last != (idx == perEpoch-1) {
					t.Errorf("batch %d: %+v; want epoch %d index %d rows %d last %v", i, bt, e, idx, wantRows, idx == perEpoch-1)
				}
				next := bt.Next()
				if bt.Last && next != (Position{Epoch: e + 1}) || !bt.Last && next != (Position{Epoch: e, Emitted: int64((idx + 1) * tc.batch)}) {
					t.Errorf("batch %d: Next() = %+v", i, next)
				}
			}
			eq := q.Epochs()
			if len(eq) != 3 {
				t.Fatalf("%d epochs of quality figures, want 3", len(eq))
			}
			for _, e := range eq {
				if !e.Complete || e.Batches != perEpoch {
					t.Errorf("quality %+v: want complete with %d batches", e, perEpoch)
				}
			}
		})
	}
}

func TestBatcherZeroCopy(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	b := NewBatcher(BatcherConfig{Rows: 4, Mem: mem})
	defer b.Close()
	rec := normRecord(mem, seq(0, 8), 10)
	before := mem.CurrentAlloc()
	var batches []Batch
	emit := func(bt Batch) error { batches = append(batches, bt); return nil }
	if err := b.Process(context.Background(), Chunk{Rec: rec}, emit); err != nil {
		t.Fatal(err)
	}
	if err := b.Process(context.Background(), Chunk{End: true}, emit); err != nil {
		t.Fatal(err)
	}
	if mem.CurrentAlloc() != before {
		t.Errorf("batches inside one record allocated %d bytes", mem.CurrentAlloc()-before)
	}
	if len(batches) != 2 || batches[1].RowIDs()[0] != 4 {
		t.Fatalf("batches: %+v", batches)
	}
	data, _, _ := batches[1].X()
	if data[0] != 4 {
		t.Errorf("second batch starts with x %v, want 4 (slice offset ignored?)", data[0])
	}
	for _, bt := range batches {
		bt.Release()
	}
}

func TestBatcherResumeNumbering(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	b := NewBatcher(BatcherConfig{Rows: 10, Mem: mem, Start: Position{Epoch: 2, Emitted: 30}})
	defer b.Close()
	orders := map[int][]int64{2: seq(30, 55), 3: seq(0, 25)}
	got := collectBatches(t, b, normChunks(mem, orders, []int{2, 3}, rand.New(rand.NewPCG(1, 1)), 9, 10))
	want := []struct {
		epoch, index int
		start        int64
	}{{2, 3, 30}, {2, 4, 40}, {2, 5, 50}, {3, 0, 0}, {3, 1, 10}, {3, 2, 20}}
	if len(got) != len(want) {
		t.Fatalf("%d batches, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Epoch != w.epoch || got[i].Index != w.index || got[i].Start != w.start {
			t.Errorf("batch %d: %+v, want %+v", i, got[i], w)
		}
	}
}

func TestBatcherErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	boom := errors.New("boom")
	for _, failAt := range []int{0, 1, 2} {
		b := NewBatcher(BatcherConfig{Rows: 5, Mem: mem})
		n := 0
		emit := func(bt Batch) error {
			if n == failAt {
				return boom
			}
			n++
			bt.Release()
			return nil
		}
		chunks := normChunks(mem, map[int][]int64{0: seq(0, 23)}, []int{0}, rand.New(rand.NewPCG(1, 1)), 4, 10)
		var err error
		for i, c := range chunks {
			if err = b.Process(context.Background(), c, emit); err != nil {
				for _, rest := range chunks[i+1:] {
					rest.Release()
				}
				break
			}
		}
		if !errors.Is(err, boom) {
			t.Fatalf("fail at %d: error %v, want boom", failAt, err)
		}
		b.Close()
	}

	bad := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Float32}}, nil)
	bb := array.NewRecordBuilder(mem, bad)
	bb.Field(0).(*array.Float32Builder).Append(1)
	rec := bb.NewRecordBatch()
	bb.Release()
	b := NewBatcher(BatcherConfig{Rows: 5, Mem: mem})
	defer b.Close()
	err := b.Process(context.Background(), Chunk{Rec: rec}, func(bt Batch) error { bt.Release(); return nil })
	if err == nil {
		t.Fatal("batcher took a record without fixed-size-list x")
	}
}

func TestBatcherSoftStop(t *testing.T) {
	// The input stops inside an epoch: the held-back complete batch is emitted, the
	// partial one dropped, and the quality figures are filed as incomplete.
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	q := NewQuality(QualityConfig{Classes: 10, EpochRows: 100, Logger: zaptest.NewLogger(t)})
	b := NewBatcher(BatcherConfig{Rows: 10, Mem: mem, Quality: q})
	defer b.Close()
	chunks := normChunks(mem, map[int][]int64{0: seq(0, 25)}, []int{0}, rand.New(rand.NewPCG(1, 1)), 25, 10)
	got := collectBatches(t, b, chunks[:len(chunks)-1]) // no end marker
	if len(got) != 2 || got[1].Last {
		t.Fatalf("batches %+v: want two complete ones, none last", got)
	}
	eq := q.Epochs()
	if len(eq) != 1 || eq[0].Complete || eq[0].Batches != 2 {
		t.Fatalf("quality %+v", eq)
	}
}

func TestQualityFigures(t *testing.T) {
	// File order: displacement 0; batches of one class each: TV near 1 - 1/classes.
	q := NewQuality(QualityConfig{Classes: 4, EpochRows: 400, Logger: zaptest.NewLogger(t)})
	for b := range 40 {
		ids := seq(int64(b*10), int64(b*10+10))
		labels := make([]int32, 10)
		for i := range labels {
			labels[i] = int32(b % 4)
		}
		q.observeBatch(0, int64(b*10), ids, labels, nil)
	}
	cur, ok := q.Current()
	if !ok || cur.Batches != 40 || cur.MeanDisplacement != 0 {
		t.Fatalf("Current() = %+v, %v", cur, ok)
	}
	q.endEpoch(0)
	e := q.Epochs()[0]
	if math.Abs(e.MeanTV-0.75) > 1e-12 || e.MaxTV != e.MeanTV {
		t.Errorf("single-class batches: TV %v (max %v), want 0.75", e.MeanTV, e.MaxTV)
	}
	if e.ExpectedTV <= 0 || e.ExpectedTV >= 0.5 {
		t.Errorf("expected TV %v for batches of 10 over 4 balanced classes", e.ExpectedTV)
	}
	if math.Abs(e.ExpectedDisplacement-(400*400-1)/(3*400*400.0)) > 1e-12 {
		t.Errorf("expected displacement %v", e.ExpectedDisplacement)
	}

	// Reversed order: mean |pos - row| / N = mean |N-1-2i| / N = 1/2 for even N.
	q = NewQuality(QualityConfig{TargetMin: 0, TargetMax: 1, EpochRows: 100})
	ids := make([]int64, 100)
	targets := make([]float32, 100)
	for i := range ids {
		ids[i] = int64(99 - i)
		targets[i] = float32(i % 2)
	}
	q.observeBatch(3, 0, ids[:50], nil, targets[:50])
	q.observeBatch(3, 50, ids[50:], nil, targets[50:])
	q.endEpoch(3)
	e = q.Epochs()[0]
	if math.Abs(e.MeanDisplacement-0.5) > 1e-12 || e.Epoch != 3 {
		t.Errorf("reversed order: displacement %v, want 0.5", e.MeanDisplacement)
	}
	// Targets alternate 0, 1: every batch has the epoch's histogram (bins 0 and 15).
	if e.Bins != RegressionBins || e.MeanTV != 0 || e.ExpectedTV <= 0 {
		t.Errorf("balanced regression batches: %d bins, TV %v (expected %v), want 16 bins and TV 0", e.Bins, e.MeanTV, e.ExpectedTV)
	}
}

// TestExpectedTV checks the closed form against a simulation of uniform batches.
func TestExpectedTV(t *testing.T) {
	counts := []int64{500, 300, 150, 50}
	var pop []int
	for c, n := range counts {
		for range n {
			pop = append(pop, c)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const size, trials = 32, 20000
	var sum float64
	for range trials {
		rng.Shuffle(len(pop), func(i, j int) { pop[i], pop[j] = pop[j], pop[i] })
		var h [4]float64
		for _, c := range pop[:size] {
			h[c]++
		}
		var d float64
		for c := range h {
			d += math.Abs(h[c]/size - float64(counts[c])/1000)
		}
		sum += d / 2
	}
	sim, exact := sum/trials, ExpectedTV(counts, size)
	if math.Abs(sim-exact) > 0.003 {
		t.Errorf("ExpectedTV = %.4f, simulation %.4f", exact, sim)
	}
	if ExpectedTV(counts, 1000) > 1e-9 {
		t.Errorf("a batch of the whole population has TV %v, want 0", ExpectedTV(counts, 1000))
	}
}
