package stages

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/sgdpipe/sgdpipe/io/source"
	"github.com/sgdpipe/sgdpipe/pipeline"
	"github.com/sgdpipe/sgdpipe/stages/feature"
)

// pathRun is what a data-path run produced.
type pathRun struct {
	batches []Batch           // metadata only (Rec nil)
	ids     map[int][]int64   // row ids in order, by epoch
	x       map[int][]float32 // x values in order, by epoch
	err     error
	quality []EpochQuality
}

// runPath opens a data path on cfg, runs it from position from into a collecting sink
// and closes it. stopAfter > 0 cancels the run (cancel) or soft-stops it (soft) after
// that many batches. It checks that every batch is well formed.
func runPath(t *testing.T, cfg DataConfig, from Position, stopAfter int, soft bool) pathRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if cfg.Logger == nil {
		cfg.Logger = zaptest.NewLogger(t)
	}
	d, err := OpenDataPath(ctx, cfg)
	if err != nil {
		return pathRun{err: err}
	}
	defer d.Close()
	g := pipeline.New(pipeline.Config{Logger: cfg.Logger})
	batches, err := d.Add(g, from)
	if err != nil {
		return pathRun{err: err}
	}
	run := pathRun{ids: map[int][]int64{}, x: map[int][]float32{}}
	pipeline.AddSink(g, "collect", batches, pipeline.SinkFunc[Batch](func(ctx context.Context, b Batch) error {
		defer b.Release()
		data, rows, cols := b.X()
		if rows != b.Rows || cols != d.Spec.Dim || len(b.RowIDs()) != rows {
			return fmt.Errorf("batch %d/%d: X %dx%d, %d ids, Rows %d", b.Epoch, b.Index, rows, cols, len(b.RowIDs()), b.Rows)
		}
		run.ids[b.Epoch] = append(run.ids[b.Epoch], b.RowIDs()...)
		run.x[b.Epoch] = append(run.x[b.Epoch], data...)
		meta := b
		meta.Rec = nil
		run.batches = append(run.batches, meta)
		if stopAfter > 0 && len(run.batches) == stopAfter {
			if soft {
				g.Stop()
			} else {
				cancel()
			}
		}
		return nil
	}))
	run.err = g.Run(ctx)
	run.quality = d.Quality.Epochs()
	return run
}

func tableConfig(paths []string, mem memory.Allocator) DataConfig {
	return DataConfig{Paths: paths, Seed: 9, Epochs: 2, Batch: 16, ReadRows: 13, ShuffleBuffer: 100,
		Feature: feature.Config{Target: "label", Features: []string{"x"}}, Mem: mem}
}

func TestDataPathOrder(t *testing.T) {
	paths := writeTable(t, t.TempDir(), 1000, 400, 90, mod3)
	for _, mode := range []string{"full", "buffer", "shards", "none"} {
		t.Run(mode, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			var first pathRun
			for i, rn := range [][2]int{{1, 1}, {2, 3}, {4, 2}} {
				cfg := tableConfig(paths, mem)
				cfg.Shuffle, cfg.Readers, cfg.Normalizers = mode, rn[0], rn[1]
				run := runPath(t, cfg, Position{}, 0, false)
				if run.err != nil {
					t.Fatal(run.err)
				}
				if i == 0 {
					first = run
					d, err := OpenDataPath(context.Background(), cfg)
					if err != nil {
						t.Fatal(err)
					}
					for e := range 2 {
						if want := d.Plan.Order(e); !slices.Equal(run.ids[e], want) {
							t.Fatalf("epoch %d: path order differs from the plan's", e)
						}
					}
					d.Close()
					continue
				}
				for e := range 2 {
					if !slices.Equal(run.ids[e], first.ids[e]) || !slices.Equal(run.x[e], first.x[e]) {
						t.Fatalf("readers %d normalizers %d: epoch %d differs from readers 1 normalizers 1", rn[0], rn[1], e)
					}
				}
			}
			if mode != "none" && slices.Equal(first.ids[0], first.ids[1]) {
				t.Error("epochs 0 and 1 have the same order")
			}
			// Batches: exact size but the last of each epoch (1000 = 62*16 + 8).
			if len(first.batches) != 2*63 {
				t.Fatalf("%d batches, want 126", len(first.batches))
			}
			for i, b := range first.batches {
				want := 16
				if i%63 == 62 {
					want = 8
				}
				if b.Rows != want || b.Last != (i%63 == 62) {
					t.Errorf("batch %d: %+v", i, b)
				}
			}
		})
	}
}

// TestDataPathFullShuffleUniform runs 1,000 epochs of 100 rows through the data path
// with --shuffle=full and checks that each row's position is uniform.
func TestDataPathFullShuffleUniform(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	const rows, epochs = 100, 1000
	cfg := tableConfig(writeTable(t, t.TempDir(), rows, 60, 25, mod3), mem)
	cfg.Shuffle, cfg.Epochs, cfg.Batch, cfg.Seed = "full", epochs, 25, 123
	cfg.Logger = zap.NewNop() // one quality line per epoch is too much for the test log
	run := runPath(t, cfg, Position{}, 0, false)
	if run.err != nil {
		t.Fatal(run.err)
	}
	orders := make([][]int64, epochs)
	for e := range orders {
		orders[e] = run.ids[e]
		if !isPermutation(orders[e], rows) {
			t.Fatalf("epoch %d is not a permutation: %v", e, orders[e])
		}
	}
	checkUniformPositions(t, orders, rows)
}

func TestDataPathSeeds(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	paths := writeTable(t, t.TempDir(), 500, 500, 50, mod3)
	cfg := tableConfig(paths, mem)
	a := runPath(t, cfg, Position{}, 0, false)
	b := runPath(t, cfg, Position{}, 0, false)
	cfg.Seed = 10
	c := runPath(t, cfg, Position{}, 0, false)
	for _, r := range []pathRun{a, b, c} {
		if r.err != nil {
			t.Fatal(r.err)
		}
	}
	if !slices.Equal(a.ids[0], b.ids[0]) || !slices.Equal(a.ids[1], b.ids[1]) {
		t.Error("same seed, different orders")
	}
	if slices.Equal(a.ids[0], c.ids[0]) || slices.Equal(a.ids[1], c.ids[1]) {
		t.Error("seeds 9 and 10 give the same order")
	}
}

// TestDataPathResume checks, for each mode, that a run resumed from a position gives
// the tail of an uninterrupted run, row for row and value for value, with the same
// batch numbering.
func TestDataPathResume(t *testing.T) {
	paths := writeTable(t, t.TempDir(), 600, 250, 40, mod3)
	for _, mode := range []string{"full", "buffer", "shards", "none"} {
		t.Run(mode, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			cfg := tableConfig(paths, mem)
			cfg.Shuffle, cfg.Epochs, cfg.Readers, cfg.Normalizers = mode, 3, 2, 2
			full := runPath(t, cfg, Position{}, 0, false)
			if full.err != nil {
				t.Fatal(full.err)
			}
			for _, k := range []int{1, 7, 37, 38, 60, 75} { // resume after batch k-1
				from := full.batches[k-1].Next()
				res := runPath(t, cfg, from, 0, false)
				if res.err != nil {
					t.Fatalf("resume at %+v: %v", from, res.err)
				}
				tail := full.batches[k:]
				if len(res.batches) != len(tail) {
					t.Fatalf("resume at %+v: %d batches, want %d", from, len(res.batches), len(tail))
				}
				for i := range tail {
					if res.batches[i] != tail[i] {
						t.Fatalf("resume at %+v: batch %d is %+v, want %+v", from, i, res.batches[i], tail[i])
					}
				}
				for e := from.Epoch; e < cfg.Epochs; e++ {
					skip := 0
					if e == from.Epoch {
						skip = int(from.Emitted)
					}
					if !slices.Equal(res.ids[e], full.ids[e][skip:]) || !slices.Equal(res.x[e], full.x[e][skip*d1:]) {
						t.Fatalf("resume at %+v: epoch %d differs from the uninterrupted run", from, e)
					}
				}
			}
		})
	}
}

// fittedTableConfig is tableConfig(paths, mem) with the feature spec fitted on paths, so that later
// runs over other (damaged) files keep it.
func fittedTableConfig(t *testing.T, paths []string, mem memory.Allocator) DataConfig {
	t.Helper()
	cfg := tableConfig(paths, mem)
	d, err := OpenDataPath(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Spec = d.Spec
	d.Close()
	return cfg
}

const d1 = 1 // x width of tableConfig: one numeric feature

// TestDataPathStopAndResume stops a run softly in the middle, resumes from the last
// batch it delivered, and checks that the two runs together equal one uninterrupted run.
func TestDataPathStopAndResume(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	paths := writeTable(t, t.TempDir(), 700, 700, 64, mod3)
	cfg := tableConfig(paths, mem)
	// Three epochs: what is in flight when the stop comes (the shuffler may hold a whole
	// epoch, and the tasks of the next may be queued) is drained, so the stop must come
	// more than an epoch before the end to cut the run short.
	cfg.Epochs = 3
	full := runPath(t, cfg, Position{}, 0, false)
	first := runPath(t, cfg, Position{}, 20, true)
	if full.err != nil || first.err != nil {
		t.Fatal(full.err, first.err)
	}
	if len(first.batches) < 20 || len(first.batches) >= len(full.batches) {
		t.Fatalf("soft stop after 20 batches delivered %d of %d", len(first.batches), len(full.batches))
	}
	last := first.batches[len(first.batches)-1]
	second := runPath(t, cfg, last.Next(), 0, false)
	if second.err != nil {
		t.Fatal(second.err)
	}
	joined := append(slices.Clone(first.batches), second.batches...)
	if !slices.Equal(joined, full.batches) {
		t.Fatalf("stopped + resumed runs give %d batches, uninterrupted %d (or they differ)", len(joined), len(full.batches))
	}
}

func TestDataPathCancelAndErrors(t *testing.T) {
	dir := t.TempDir()
	paths := writeTable(t, dir, 2000, 1000, 100, mod3)
	t.Run("cancel mid-stream", func(t *testing.T) {
		for _, mode := range []string{"full", "buffer", "none"} {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			cfg := tableConfig(paths, mem)
			cfg.Shuffle, cfg.Readers, cfg.Normalizers, cfg.Queue = mode, 3, 3, 4
			run := runPath(t, cfg, Position{}, 30, false)
			if !errors.Is(run.err, context.Canceled) {
				t.Errorf("%s: error %v, want context.Canceled", mode, run.err)
			}
			mem.AssertSize(t, 0)
		}
	})
	t.Run("missing target", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		defer mem.AssertSize(t, 0)
		cfg := tableConfig(paths, mem)
		cfg.Feature.Target = "species"
		run := runPath(t, cfg, Position{}, 0, false)
		if run.err == nil || !strings.Contains(run.err.Error(), `"species"`) || !strings.Contains(run.err.Error(), "part-a.parquet") {
			t.Errorf("error %v: want one naming the column and the file", run.err)
		}
		t.Log(run.err)
		// A model's spec (resume, predict) on data without its target.
		cfg.Feature.Target = "label"
		d, err := OpenDataPath(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		d.Close()
		noLabel := filepath.Join(t.TempDir(), "nolabel.parquet")
		rec := tableRecord(memory.DefaultAllocator, 0, 10, mod3)
		writeParquet(t, noLabel, []arrow.RecordBatch{renameLast(rec, "other")})
		_, err = OpenDataPath(context.Background(), DataConfig{Paths: []string{noLabel}, Epochs: 1, Spec: d.Spec})
		if err == nil || !strings.Contains(err.Error(), `"label"`) || !strings.Contains(err.Error(), "nolabel.parquet") {
			t.Errorf("spec target missing from the data: %v", err)
		}
		t.Log(err)
		dp, err := OpenDataPath(context.Background(), DataConfig{Paths: []string{noLabel}, Epochs: 1, Spec: d.Spec, AllowNoTarget: true})
		if err != nil {
			t.Errorf("AllowNoTarget: %v", err)
		} else {
			dp.Close()
		}
	})
	t.Run("corrupt shard mid-run", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		defer mem.AssertSize(t, 0)
		// Fit reads the intact files; then the second file's data is damaged.
		cfg := fittedTableConfig(t, paths, mem)
		bad := filepath.Join(t.TempDir(), "part-b.parquet")
		copyFile(t, paths[1], bad)
		corruptRowGroupData(t, bad, 3, 1) // column x of the file's fourth row group
		cfg.Paths = []string{paths[0], bad}
		cfg.Shuffle = "none" // the intact file's 1000 rows flow first
		run := runPath(t, cfg, Position{}, 0, false)
		if run.err == nil || !strings.Contains(run.err.Error(), "part-b.parquet") || strings.Contains(run.err.Error(), "\n") {
			t.Errorf("error %v: want one line naming part-b.parquet", run.err)
		}
		t.Log(run.err)
	})
	t.Run("bad value mid-run", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		defer mem.AssertSize(t, 0)
		cfg := fittedTableConfig(t, paths, mem)
		// A second file whose row 37 has x = NaN, read after the intact one.
		b := array.NewRecordBuilder(memory.DefaultAllocator, tableSchema)
		for id := int64(1000); id < 1100; id++ {
			b.Field(0).(*array.Int64Builder).Append(id)
			x := float64(id) / 10
			if id == 1037 {
				x = math.NaN()
			}
			b.Field(1).(*array.Float64Builder).Append(x)
			b.Field(2).(*array.Int64Builder).Append(id % 3)
		}
		rec := b.NewRecordBatch()
		b.Release()
		bad := filepath.Join(t.TempDir(), "nan.parquet")
		writeParquet(t, bad, []arrow.RecordBatch{rec})
		rec.Release()
		cfg.Paths = []string{paths[0], bad}
		for _, mode := range []string{"none", "buffer"} {
			cfg.Shuffle = mode
			run := runPath(t, cfg, Position{}, 0, false)
			if run.err == nil || !strings.Contains(run.err.Error(), "nan.parquet (row 37 of the file)") || !strings.Contains(run.err.Error(), `"x"`) {
				t.Errorf("%s: error %v: want one naming nan.parquet, its row 37 and column x", mode, run.err)
			}
			t.Log(run.err)
		}
	})
	t.Run("sink error", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		defer mem.AssertSize(t, 0)
		cfg := tableConfig(paths, mem)
		d, err := OpenDataPath(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		g := pipeline.New(pipeline.Config{})
		batches, err := d.Add(g, Position{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		boom := errors.New("boom")
		pipeline.AddSink(g, "fail", batches, pipeline.SinkFunc[Batch](func(ctx context.Context, b Batch) error {
			b.Release()
			if n++; n == 5 {
				return boom
			}
			return nil
		}))
		if err := g.Run(context.Background()); !errors.Is(err, boom) {
			t.Errorf("error %v, want boom", err)
		}
	})
	t.Run("full does not fit", func(t *testing.T) {
		cfg := tableConfig(paths, nil)
		cfg.Shuffle, cfg.MemoryBudget = "full", 1<<20
		big := writeTable(t, t.TempDir(), 50_000, 50_000, 10_000, mod3)
		cfg.Paths = big
		run := runPath(t, cfg, Position{}, 0, false)
		if run.err == nil || !strings.Contains(run.err.Error(), "--shuffle=full") {
			t.Errorf("error %v, want one about --shuffle=full", run.err)
		}
	})
	t.Run("bad resume position", func(t *testing.T) {
		cfg := tableConfig(paths, nil)
		for _, from := range []Position{{Epoch: 0, Emitted: 5}, {Epoch: 3}, {Epoch: -1}} {
			if run := runPath(t, cfg, from, 0, false); run.err == nil {
				t.Errorf("resume at %+v: no error", from)
			}
		}
	})
}

func TestDataConfigValidate(t *testing.T) {
	ok := DataConfig{Paths: []string{"a.parquet"}, Epochs: 1}
	if err := ok.Validate(); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
	for _, tc := range []struct {
		edit func(*DataConfig)
		flag string
	}{
		{func(c *DataConfig) { c.Paths = nil }, "--data"},
		{func(c *DataConfig) { c.Epochs = 0 }, "--epochs"},
		{func(c *DataConfig) { c.Shuffle = "random" }, "--shuffle"},
		{func(c *DataConfig) { c.ShuffleBuffer = -1 }, "--shuffle-buffer"},
		{func(c *DataConfig) { c.MemoryBudget = 1000 }, "--memory-budget"},
		{func(c *DataConfig) { c.Readers = -2 }, "--readers"},
		{func(c *DataConfig) { c.Readers = 1000 }, "--readers"},
		{func(c *DataConfig) { c.Normalizers = -1 }, "--normalizers"},
		{func(c *DataConfig) { c.Batch = -1 }, "--batch"},
		{func(c *DataConfig) { c.Queue = -1 }, "--queue"},
		{func(c *DataConfig) { c.ReadRows = 1 << 25 }, "DataConfig.ReadRows"},
	} {
		c := ok
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.flag+":") && !strings.HasPrefix(err.Error(), tc.flag+" ") {
			t.Errorf("%+v: error %v, want one naming %s", c, err, tc.flag)
		}
	}
}

// renameLast returns rec with its last column renamed (rec is released).
func renameLast(rec arrow.RecordBatch, name string) arrow.RecordBatch {
	defer rec.Release()
	fields := rec.Schema().Fields()
	fields[len(fields)-1].Name = name
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), rec.Columns(), rec.NumRows())
}

// mnistTrain is the committed MNIST training set (60000 rows, 6 row groups).
const mnistTrain = "../testdata/mnist/train.parquet"

// writeSortedMNIST writes MNIST train sorted by label (stable) to dir, in row groups
// of groupRows rows, and returns its path.
func writeSortedMNIST(t testing.TB, dir string, groupRows int) string {
	t.Helper()
	mem := memory.DefaultAllocator
	ds, err := source.Open([]string{mnistTrain}, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	var hs []*held
	var refs []rowRef
	for s := range ds.Shards {
		err := ds.ReadShard(context.Background(), s, nil, func(rec arrow.RecordBatch) error {
			h := newHeld(rec, nil)
			hs = append(hs, h)
			for i := range int(rec.NumRows()) {
				refs = append(refs, rowRef{h: h, row: int32(i)})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, h := range hs {
			h.rec.Release()
		}
	}()
	label := ds.Schema.FieldIndices("label")[0]
	labelOf := func(r rowRef) uint64 {
		col := r.h.rec.Column(label)
		switch c := col.(type) {
		case *array.Uint8:
			return uint64(c.Value(int(r.row)))
		case *array.Int64:
			return uint64(c.Value(int(r.row)))
		}
		t.Fatalf("label column is %s", col.DataType())
		return 0
	}
	slices.SortStableFunc(refs, func(a, b rowRef) int { return cmp.Compare(labelOf(a), labelOf(b)) })
	var g gatherer
	var groups []arrow.RecordBatch
	for len(refs) > 0 {
		n := min(groupRows, len(refs))
		rec, err := g.gather(context.Background(), mem, ds.Schema, refs[:n])
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, rec)
		refs = refs[n:]
	}
	path := filepath.Join(dir, "mnist-sorted.parquet")
	writeParquet(t, path, groups)
	for _, r := range groups {
		r.Release()
	}
	return path
}

// TestShuffleQualityMNIST runs the data path over MNIST train sorted by label (row
// groups of 1000 rows: each shard holds one class) and checks the batches of 128:
// with the default buffer their label histograms are as close to the epoch's as a
// uniform shuffle's (mean TV within 25% of its expected value), while shards and none
// fail that bound by far, so the test can fail.
func TestShuffleQualityMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("reads MNIST train five times")
	}
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	sorted := writeSortedMNIST(t, t.TempDir(), 1000)
	base := DataConfig{Paths: []string{sorted}, Seed: 1, Epochs: 1, Batch: 128, Feature: feature.Config{Target: "label"}, Mem: mem}
	d, err := OpenDataPath(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	base.Spec = d.Spec
	d.Close()
	const bound = 1.25
	for _, tc := range []struct {
		name   string
		mode   string
		buffer int
		pass   bool // meets the bound
	}{
		{"buffer default", "", 0, true},
		{"full", "full", 0, true},
		{"buffer 16384", "buffer", 16384, false},
		{"shards", "shards", 0, false},
		{"none", "none", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			cfg.Shuffle, cfg.ShuffleBuffer = tc.mode, tc.buffer
			run := runPath(t, cfg, Position{}, 0, false)
			if run.err != nil {
				t.Fatal(run.err)
			}
			q := run.quality[0]
			t.Logf("mean TV %.3f (max %.3f), uniform shuffle %.3f; displacement %.3f (uniform %.3f); buffer %.1f MiB, %d rows",
				q.MeanTV, q.MaxTV, q.ExpectedTV, q.MeanDisplacement, q.ExpectedDisplacement, float64(q.BufferBytes)/(1<<20), q.BufferRows)
			if q.Bins != 10 || q.Rows != 60000 || q.ExpectedTV < 0.09 || q.ExpectedTV > 0.12 {
				t.Fatalf("quality figures %+v", q)
			}
			if got := q.MeanTV <= bound*q.ExpectedTV; got != tc.pass {
				t.Errorf("mean TV %.3f <= %.2f x expected %.3f is %v, want %v", q.MeanTV, bound, q.ExpectedTV, got, tc.pass)
			}
		})
	}
}
