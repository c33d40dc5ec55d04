package stages

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sgdpipe/sgdpipe/pipeline"
)

// damageFile truncates path to half its size, as a file cut short during a run, and returns
// a function that puts the original bytes and modification time back: a read after it
// succeeds again, so a test can tell a shard the reader leaves out from one it fails to read.
func damageFile(t *testing.T, path string) (restore func()) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()/2); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if err := os.WriteFile(path, orig, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, st.ModTime(), st.ModTime()); err != nil {
			t.Fatal(err)
		}
	}
}

// collectBad is an onSkip hook that keeps the parts it is given.
type collectBad struct {
	mu    sync.Mutex
	parts []BadShard
}

func (c *collectBad) add(b BadShard) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.parts = append(c.parts, b)
}

// TestReaderSkipMidRun reads six shards (three files of two) after the middle file was truncated
// behind the dataset's back, with budgets of 0 to 3 parts of which some were left out before the
// run: while the budget lasts each failing shard is logged, recorded once and left out, the epoch
// goes on, and the next epoch does not read it again (the file is restored by then: a read would
// succeed); the part over the budget is an error naming it; with no budget the error is the read
// error as before.
func TestReaderSkipMidRun(t *testing.T) {
	for _, tc := range []struct {
		budget, used int
		wantErr      string // "" = the two epochs complete
		failShard    int    // the file's shard the error names
	}{
		{budget: 0, wantErr: "the data must not change during a run", failShard: -1}, // names the file only, as before
		{budget: 1, wantErr: "--skip-bad-shards 1: one unreadable part too many (1 left out already): epoch 0: ", failShard: 1},
		{budget: 2, used: 2, wantErr: "--skip-bad-shards 2: one unreadable part too many (2 left out already): epoch 0: "},
		{budget: 3, used: 2, wantErr: "--skip-bad-shards 3: one unreadable part too many (3 left out already): epoch 0: ", failShard: 1},
		{budget: 2},
		{budget: 5, used: 3},
	} {
		t.Run(fmt.Sprintf("budget=%d/used=%d", tc.budget, tc.used), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			paths := writeTable(t, t.TempDir(), 300, 100, 50, mod3) // part-a..c, shards 0-1, 2-3, 4-5
			ds := openTable(t, mem, paths, 20)
			restore := damageFile(t, paths[1])
			core, logs := observer.New(zapcore.WarnLevel)
			r := NewReader(ds, nil, mem)
			var bad collectBad
			if tc.budget > 0 {
				r.skip = newSkipLedger(tc.budget, tc.used, zap.New(core), bad.add)
			}
			for epoch := range 2 {
				var ids []int64
				for s := range 6 {
					got, _, err := readTask(t, r, ShardTask{Epoch: epoch, Shard: s})
					if err != nil {
						msg := err.Error()
						name := fmt.Sprintf("%s shard %d", paths[1], tc.failShard)
						if tc.failShard < 0 {
							name = paths[1]
						}
						if tc.wantErr == "" || !strings.Contains(msg, tc.wantErr) || !strings.Contains(msg, name) || strings.ContainsAny(msg, "\n\r") {
							t.Fatalf("epoch %d shard %d: err = %q, want one line with %q naming %s shard %d", epoch, s, msg, tc.wantErr, paths[1], tc.failShard)
						}
						return
					}
					ids = append(ids, got...)
				}
				if tc.wantErr != "" {
					t.Fatalf("epoch %d read without the error %q", epoch, tc.wantErr)
				}
				if want := slices.Concat(seq(0, 100), seq(200, 300)); !slices.Equal(ids, want) {
					t.Errorf("epoch %d: read %d rows %v..., want the 200 rows of %s and %s", epoch, len(ids), ids[:min(len(ids), 5)], paths[0], paths[2])
				}
				if n := r.lostRows(epoch); n != 100 {
					t.Errorf("epoch %d lost %d rows, want 100", epoch, n)
				}
				if epoch == 0 {
					restore() // readable again: the reader must not read it again all the same
				}
			}
			if len(bad.parts) != 2 {
				t.Fatalf("recorded %v, want the 2 shards of %s", bad.parts, paths[1])
			}
			for i, b := range bad.parts {
				want := BadShard{Path: paths[1], Shard: i, Rows: 50, MidRun: true, Epoch: 0, Read: 0, Err: b.Err}
				if b != want || !strings.HasPrefix(b.Err, paths[1]+" changed") {
					t.Errorf("part %d = %+v, want %+v with the read error naming the file", i, b, want)
				}
			}
			entries := logs.All()
			if len(entries) != 2 {
				t.Fatalf("%d warnings, want 2 (one per part): %v", len(entries), entries)
			}
			for i, e := range entries {
				f := e.ContextMap()
				if f["file"] != paths[1] || f["shard"] != int64(i) || f["epoch"] != int64(0) || f["rows_read"] != int64(0) ||
					f["left_out"] != int64(tc.used+i+1) || f["budget"] != int64(tc.budget) || !strings.Contains(fmt.Sprint(f["error"]), paths[1]) {
					t.Errorf("warning %d: %s %v", i, e.Message, f)
				}
			}
		})
	}
}

// TestReaderSkipMidRunTasks covers the task kinds on a shard that fails: a resume task that
// starts inside the shard counts its skipped rows as read, and a refill task (rows a resumed
// shuffle buffer needs) is always an error, even with budget left.
func TestReaderSkipMidRunTasks(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	paths := writeTable(t, t.TempDir(), 200, 100, 100, mod3)
	ds := openTable(t, mem, paths, 16)
	damageFile(t, paths[1])
	r := NewReader(ds, nil, mem)
	var bad collectBad
	r.skip = newSkipLedger(3, 0, zaptest.NewLogger(t), bad.add)
	if _, _, err := readTask(t, r, ShardTask{Epoch: 4, Shard: 1, Rows: []int64{2, 7}, Refill: true}); err == nil ||
		!strings.Contains(err.Error(), "resume of epoch 4: "+paths[1]) || !strings.Contains(err.Error(), "train again without --resume") {
		t.Errorf("refill of a failing shard: err = %v, want the resume error naming %s", err, paths[1])
	}
	if ids, _, err := readTask(t, r, ShardTask{Epoch: 4, Shard: 1, Skip: 30}); err != nil || len(ids) != 0 {
		t.Fatalf("resume task: %d rows, err %v", len(ids), err)
	}
	if n := r.lostRows(4); n != 70 {
		t.Errorf("epoch 4 lost %d rows, want the 70 after the skipped 30", n)
	}
	if len(bad.parts) != 1 || bad.parts[0].Read != 30 || bad.parts[0].Epoch != 4 || !bad.parts[0].MidRun {
		t.Errorf("recorded %+v, want shard 0 of %s read up to row 30 of epoch 4", bad.parts, paths[1])
	}
	// A later epoch: a refill of the left-out shard still reads (and fails), a plain task is left out.
	if _, _, err := readTask(t, r, ShardTask{Epoch: 5, Shard: 1, Rows: []int64{1}, Refill: true}); err == nil {
		t.Error("refill of a left-out shard: no error")
	}
	if ids, _, err := readTask(t, r, ShardTask{Epoch: 5, Shard: 1, Skip: 10}); err != nil || len(ids) != 0 || r.lostRows(5) != 90 {
		t.Errorf("later epoch: %d rows, err %v, lost %d; want 0, nil, 90", len(ids), err, r.lostRows(5))
	}
	if len(bad.parts) != 1 {
		t.Errorf("the shard was counted %d times", len(bad.parts))
	}
}

// writeRandomParquet writes one row group of n rows of the synthetic table with random x: about
// 11 bytes a row that do not compress, so that a reader streams the column chunk in pieces.
func writeRandomParquet(t *testing.T, path string, first, n int64) {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, tableSchema)
	defer b.Release()
	rng := rand.New(rand.NewPCG(uint64(first), 2))
	for id := first; id < first+n; id++ {
		b.Field(0).(*array.Int64Builder).Append(id)
		b.Field(1).(*array.Float64Builder).Append(rng.Float64())
		b.Field(2).(*array.Int64Builder).Append(id % 3)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	writeParquet(t, path, []arrow.RecordBatch{rec})
}

// TestReaderSkipPartialShard truncates a 300,000-row shard while the reader is half way through
// it (the decoder streams the column chunks, so the first records come out before it fails): the
// rows emitted stay, the rest of the shard is dropped and counted as lost, the shard cache keeps
// nothing of it, and the next epoch neither reads it nor replays it, while the other file is read
// once and replayed from the cache.
func TestReaderSkipPartialShard(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	big, small := filepath.Join(dir, "a.parquet"), filepath.Join(dir, "b.parquet")
	const bigRows = 300000
	writeRandomParquet(t, big, 0, bigRows)
	writeRandomParquet(t, small, bigRows, 1000)
	ds := openTable(t, mem, []string{big, small}, 4096)
	r := NewReader(ds, nil, mem)
	r.EnableCache()
	defer r.Close()
	var bad collectBad
	r.skip = newSkipLedger(1, 0, zaptest.NewLogger(t), bad.add)
	var restore func()
	var ids []int64
	err := r.Process(context.Background(), ShardTask{Shard: 0}, func(c Chunk) error {
		defer c.Release()
		if restore == nil {
			restore = damageFile(t, big)
		}
		got, err := rowIDs(c.Rec)
		ids = append(ids, got...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) == 0 || len(ids) == bigRows {
		t.Fatalf("the truncated shard emitted %d of %d rows before failing; the test needs a failure part way", len(ids), bigRows)
	}
	if !slices.Equal(ids, seq(0, int64(len(ids)))) {
		t.Errorf("the %d rows emitted before the failure are not the shard's first rows in order", len(ids))
	}
	if len(bad.parts) != 1 || bad.parts[0].Read != int64(len(ids)) || bad.parts[0].Rows != bigRows {
		t.Fatalf("recorded %+v, want %s shard 0 of %d rows, %d read", bad.parts, big, bigRows, len(ids))
	}
	if n := r.lostRows(0); n != bigRows-int64(len(ids)) {
		t.Errorf("epoch 0 lost %d rows, want %d", n, bigRows-len(ids))
	}
	if n := r.CacheBytes(); n != 0 {
		t.Errorf("the cache holds %d bytes after the failed shard, want none of it", n)
	}
	restore()
	for epoch := range 2 {
		got, _, err := readTask(t, r, ShardTask{Epoch: epoch + 1, Shard: 0})
		if err != nil || len(got) != 0 {
			t.Errorf("epoch %d: the left-out shard gave %d rows, err %v", epoch+1, len(got), err)
		}
		if got, _, err := readTask(t, r, ShardTask{Epoch: epoch + 1, Shard: 1}); err != nil || !slices.Equal(got, seq(bigRows, bigRows+1000)) {
			t.Errorf("epoch %d: the other file gave %d rows, err %v", epoch+1, len(got), err)
		}
		if n := r.lostRows(epoch + 1); n != bigRows {
			t.Errorf("epoch %d lost %d rows, want %d", epoch+1, n, bigRows)
		}
	}
	r.cache.mu.Lock()
	_, cached := r.cache.recs[0]
	shards := len(r.cache.recs)
	r.cache.mu.Unlock()
	if cached || shards != 1 || r.CacheBytes() == 0 {
		t.Errorf("cache: shard 0 cached %v, %d shards, %d bytes; want only the other file's shard", cached, shards, r.CacheBytes())
	}
}

// readEpochs runs r over the tasks of epochs of plan with workers readers, ordered, and
// returns the row ids of each epoch in the order emitted.
func readEpochs(t *testing.T, r *Reader, plan *Plan, epochs, workers int) (map[int][]int64, error) {
	t.Helper()
	g := pipeline.New(pipeline.Config{Logger: zaptest.NewLogger(t)})
	tasks := pipeline.AddSource(g, "plan", pipeline.SourceFunc[ShardTask](func(ctx context.Context, emit func(ShardTask) error) error {
		for e := range epochs {
			for _, task := range plan.EpochTasks(e) {
				if err := emit(task); err != nil {
					return err
				}
			}
		}
		return nil
	}))
	chunks := pipeline.AddTransform(g, "read", tasks, pipeline.Transform[ShardTask, Chunk](r),
		pipeline.Workers(workers), pipeline.Ordered(), pipeline.Discard(Chunk.Release))
	ids := map[int][]int64{}
	ended := -1
	pipeline.AddSink(g, "collect", chunks, pipeline.SinkFunc[Chunk](func(ctx context.Context, c Chunk) error {
		defer c.Release()
		if c.End {
			if c.Epoch != ended+1 {
				return fmt.Errorf("end of epoch %d after the end of epoch %d", c.Epoch, ended)
			}
			ended = c.Epoch
			return nil
		}
		got, err := rowIDs(c.Rec)
		ids[c.Epoch] = append(ids[c.Epoch], got...)
		return err
	}))
	return ids, g.Run(context.Background())
}

// TestReaderSkipMidRunConcurrent reads three epochs in a shuffled shard order with 1 and 3 ordered
// readers after one of four files (five shards) was truncated: every epoch delivers the rows of
// the other files in the plan's order, the same with either reader count, each failing shard is
// recorded once however many workers meet it, and each epoch counts the file's rows as lost.
func TestReaderSkipMidRunConcurrent(t *testing.T) {
	paths := writeTable(t, t.TempDir(), 1000, 250, 50, mod3)
	var first map[int][]int64
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprintf("readers=%d", workers), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			ds := openTable(t, mem, paths, 16)
			restore := damageFile(t, paths[2])
			defer restore()
			plan, err := NewPlan(3, ShuffleShards, 0, []int64{50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50})
			if err != nil {
				t.Fatal(err)
			}
			r := NewReader(ds, []int{0}, mem)
			var bad collectBad
			r.skip = newSkipLedger(5, 0, zaptest.NewLogger(t), bad.add)
			ids, err := readEpochs(t, r, plan, 3, workers)
			if err != nil {
				t.Fatal(err)
			}
			for e := range 3 {
				var want []int64
				for _, task := range plan.EpochTasks(e) {
					if !task.End && (task.Shard < 10 || task.Shard >= 15) {
						want = append(want, seq(int64(task.Shard)*50, int64(task.Shard+1)*50)...)
					}
				}
				if !slices.Equal(ids[e], want) {
					t.Errorf("epoch %d: %d rows, not the %d of the readable shards in plan order", e, len(ids[e]), len(want))
				}
				if n := r.lostRows(e); n != 250 {
					t.Errorf("epoch %d lost %d rows, want 250", e, n)
				}
			}
			slices.SortFunc(bad.parts, func(a, b BadShard) int { return a.Shard - b.Shard })
			if len(bad.parts) != 5 {
				t.Fatalf("recorded %d parts, want the 5 shards of %s once each: %v", len(bad.parts), paths[2], bad.parts)
			}
			for i, b := range bad.parts {
				if b.Path != paths[2] || b.Shard != i || !b.MidRun || b.Read != 0 {
					t.Errorf("part %d: %+v", i, b)
				}
			}
			if first == nil {
				first = ids
			} else if fmt.Sprint(ids) != fmt.Sprint(first) {
				t.Error("3 readers read other rows or another order than 1")
			}
		})
	}
}

// readPath opens a data path on cfg, calls damage (after the pre-pass, before the run), reads
// the epochs through the path's reader (AddRead) into a sink and returns the row ids of each
// epoch, the run's error and the data path, closed.
func readPath(t *testing.T, cfg DataConfig, damage func()) (map[int][]int64, error, *DataPath) {
	t.Helper()
	dp, err := OpenDataPath(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer dp.Close()
	damage()
	g := pipeline.New(pipeline.Config{Logger: cfg.Logger})
	read, err := dp.AddRead(g, Position{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[int][]int64{}
	pipeline.AddSink(g, "collect", read, pipeline.SinkFunc[Chunk](func(ctx context.Context, c Chunk) error {
		defer c.Release()
		if c.End {
			return nil
		}
		got, err := rowIDs(c.Rec)
		ids[c.Epoch] = append(ids[c.Epoch], got...)
		return err
	}))
	return ids, g.Run(context.Background()), dp
}

// TestDataPathSkipMidRun opens a data path over four files (one with a corrupt row group the
// pre-pass finds, in the "damaged" cases), truncates another file after the pre-pass and reads two
// epochs through the path's reader with 3 readers: with budget for the corrupt row group and the
// truncated file's five shards the epochs go on without them and DataPath.Bad lists the pre-pass
// part, then the five mid-run parts; one part less, or a budget the pre-pass used up, is an error
// naming the truncated file; with no budget the read error stops the run as before.
func TestDataPathSkipMidRun(t *testing.T) {
	for _, tc := range []struct {
		name    string
		damaged bool // a corrupt row group in part-a, found by the pre-pass
		budget  int
		wantErr string // "" = success
	}{
		{"no budget", false, 0, "the data must not change during a run"},
		{"clean/one short", false, 4, "--skip-bad-shards 4: one unreadable part too many (4 left out already): epoch "},
		{"clean/enough", false, 5, ""},
		{"damaged/used up before the run", true, 1, "--skip-bad-shards 1: one unreadable part too many (1 left out already): epoch "},
		{"damaged/enough", true, 6, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			paths := writeTable(t, t.TempDir(), 1000, 250, 50, mod3) // part-a..d, 5 shards each
			if tc.damaged {
				corruptRowGroupData(t, paths[0], 1, 1)
			}
			cfg := tableConfig(paths, mem)
			cfg.Readers, cfg.SkipBadShards, cfg.Logger = 3, tc.budget, zaptest.NewLogger(t)
			ids, err, dp := readPath(t, cfg, func() { damageFile(t, paths[2]) })
			if tc.wantErr != "" {
				name := paths[2] + " shard "
				if tc.budget == 0 {
					name = paths[2] // the read error as before: it names the file
				}
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), name) {
					t.Fatalf("err = %v, want %q naming %s", err, tc.wantErr, paths[2])
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The pre-pass leaves part-a's row group out of the dataset: part-c's rows come 50 earlier.
			rows, cFirst := int64(1000), int64(500)
			var wantBad []string
			if tc.damaged {
				rows, cFirst = 950, 450
				wantBad = append(wantBad, paths[0]+" shard 1 (50 rows)")
			}
			for i := range 5 {
				wantBad = append(wantBad, fmt.Sprintf("%s shard %d (50 rows, unreadable from epoch 0 after 0 rows)", paths[2], i))
			}
			for e := range 2 {
				got := slices.Clone(ids[e])
				slices.Sort(got)
				if want := slices.Concat(seq(0, cFirst), seq(cFirst+250, rows)); !slices.Equal(got, want) {
					t.Errorf("epoch %d: %d rows, want the %d outside %s once each", e, len(got), len(want), paths[2])
				}
				if n := dp.reader.lostRows(e); n != 250 {
					t.Errorf("epoch %d lost %d rows, want 250", e, n)
				}
			}
			// The pre-pass parts come first; the mid-run ones in the order the readers met them.
			parts := dp.BadShards()
			pre := len(wantBad) - 5
			slices.SortFunc(parts[pre:], func(a, b BadShard) int { return a.Shard - b.Shard })
			checkBad(t, parts, wantBad)
			if len(dp.Bad) != len(parts) {
				t.Errorf("Bad has %d parts, BadShards %d", len(dp.Bad), len(parts))
			}
		})
	}
}

// TestBadShardJSON checks that a part, mid-run or not, survives a checkpoint's JSON and prints
// on one line.
func TestBadShardJSON(t *testing.T) {
	for _, b := range []BadShard{
		{Path: "d/a.parquet", Shard: -1, Err: "d/a.parquet: not a Parquet file"},
		{Path: "d/b.parquet", Shard: 3, Rows: 250, Err: "d/b.parquet shard 3: corrupt page"},
		{Path: "d/c.parquet", Shard: 0, Rows: 50, Err: "d/c.parquet changed", MidRun: true, Epoch: 2, Read: 17},
	} {
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		var back BadShard
		if err := json.Unmarshal(js, &back); err != nil || back != b {
			t.Errorf("%s: read back %+v, %v", js, back, err)
		}
		if s := b.String(); !strings.HasPrefix(s, b.Path) || !strings.HasSuffix(s, ": "+b.Err) || strings.ContainsAny(s, "\n\r") {
			t.Errorf("String() = %q", s)
		}
	}
}

// TestCheckResume decides resumes over the parts the checkpointed run left out and those this
// run's pre-pass finds: exact resumes pass; an epoch boundary after a mid-run part passes with
// a warning; inside an epoch, a mid-run part of that epoch or before, or other pre-pass parts,
// is an error saying what to do.
func TestCheckResume(t *testing.T) {
	pre := BadShard{Path: "d/a.parquet", Shard: 1, Rows: 50, Err: "bad"}
	whole := BadShard{Path: "d/c.parquet", Shard: -1, Err: "truncated"}
	mid := func(epoch int) BadShard {
		return BadShard{Path: "d/c.parquet", Shard: 2, Rows: 50, Err: "changed", MidRun: true, Epoch: epoch, Read: 10}
	}
	for _, tc := range []struct {
		name    string
		written []BadShard
		now     []BadShard
		from    Position
		wantErr string
		warn    bool
	}{
		{"not recorded", nil, []BadShard{pre}, Position{Epoch: 1, Emitted: 64}, "", false},
		{"none", []BadShard{}, nil, Position{Epoch: 1, Emitted: 64}, "", false},
		{"same pre-pass parts", []BadShard{pre}, []BadShard{pre}, Position{Epoch: 1, Emitted: 64}, "", false},
		{"data changed inside an epoch", []BadShard{}, []BadShard{pre}, Position{Epoch: 1, Emitted: 64},
			"--resume: the checkpoint is inside epoch 1, and the unreadable data differs from when it was written (parts left out now: 1, then: 0): the rest of the epoch cannot be matched to the data; restore the data, or train again without --resume", false},
		{"data changed at a boundary", []BadShard{}, []BadShard{pre}, Position{Epoch: 2}, "", true},
		{"mid-run part inside its epoch", []BadShard{pre, mid(1)}, []BadShard{pre, whole}, Position{Epoch: 1, Emitted: 64},
			"--resume: the checkpoint is inside epoch 1, after d/c.parquet shard 2 became unreadable during epoch 1 of its run (--skip-bad-shards): the rest of that run's epoch cannot be matched to the data; train again without --resume", false},
		{"mid-run part before the epoch", []BadShard{mid(0)}, []BadShard{whole}, Position{Epoch: 1, Emitted: 64}, "became unreadable during epoch 0", false},
		{"mid-run part read ahead, data restored", []BadShard{pre, mid(2)}, []BadShard{pre}, Position{Epoch: 1, Emitted: 64}, "", false},
		{"mid-run part read ahead, data not restored", []BadShard{pre, mid(2)}, []BadShard{pre, whole}, Position{Epoch: 1, Emitted: 64},
			"(parts left out now: 2, then: 1, and 1 during the run, the first d/c.parquet shard 2)", false},
		{"mid-run part at a boundary", []BadShard{mid(0)}, []BadShard{whole}, Position{Epoch: 1}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zapcore.WarnLevel)
			d := &DataPath{Bad: tc.now, cfg: DataConfig{Logger: zap.New(core)}}
			err := d.CheckResume(tc.written, tc.from)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("err = %v, want none", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
			if got := logs.Len() > 0; got != tc.warn {
				t.Errorf("warned %v, want %v: %v", got, tc.warn, logs.All())
			}
		})
	}
}
