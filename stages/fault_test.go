package stages

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"go.uber.org/goleak"

	"github.com/sgdpipe/sgdpipe/io/safetensors"
	"github.com/sgdpipe/sgdpipe/io/source"
	"github.com/sgdpipe/sgdpipe/pipeline"
	"github.com/sgdpipe/sgdpipe/stages/feature"
)

// errInjected is the error the fault-injection stages return.
var errInjected = errors.New("injected fault")

// faultStage is a pass-through stage that fails at its at-th item (1-based): with errInjected, a
// panic, or by cancelling the run's context. Run with several workers it must be Ordered: the
// stages after it need the items (and the end-of-epoch markers) in order.
type faultStage[T any] struct {
	at      int64
	kind    string // "error", "panic" or "cancel"
	cancel  context.CancelFunc
	release func(T)
	n       atomic.Int64
}

func (f *faultStage[T]) Process(ctx context.Context, v T, emit func(T) error) error {
	if f.n.Add(1) == f.at {
		switch f.kind {
		case "error":
			f.release(v)
			return fmt.Errorf("item %d: %w", f.at, errInjected)
		case "panic":
			f.release(v)
			panic(fmt.Sprintf("injected panic at item %d", f.at))
		case "cancel":
			f.cancel()
		}
	}
	if err := emit(v); err != nil {
		f.release(v)
		return err
	}
	return nil
}

// TestFailingStage injects an error, a panic and a cancellation at a random item into a training
// graph, between the normalizer and the batcher or after the batcher: Train returns the fault naming
// the stage, every goroutine exits and every record is released.
func TestFailingStage(t *testing.T) {
	path := writeBlobs(t, 3000, 200)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for _, where := range []string{"chunks", "batches"} {
		for _, kind := range []string{"error", "panic", "cancel"} {
			for _, readers := range []int{1, 2} {
				// Chunks are records of about 1024 rows (3 per epoch); batches are 32 rows (94 per epoch).
				limit := int64(6)
				if where == "batches" {
					limit = 180
				}
				at := 1 + rng.Int64N(limit)
				t.Run(fmt.Sprintf("%s/%s/readers=%d/item=%d", where, kind, readers, at), func(t *testing.T) {
					defer goleak.VerifyNone(t)
					mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
					defer mem.AssertSize(t, 0)
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					c := blobCfg(t, mem, path)
					c.Data.Readers, c.Data.Normalizers, c.Workers = readers, readers, 2
					c.Data.ShuffleBuffer = 500
					c.CheckpointDir = t.TempDir()
					c.BuildData = func(g *pipeline.Graph, dp *DataPath, from Position) (*pipeline.Stream[Batch], error) {
						read, err := dp.AddRead(g, from)
						if err != nil {
							return nil, err
						}
						norm := dp.AddNormalize(g, dp.AddShuffle(g, read))
						if where == "chunks" {
							norm = pipeline.AddTransform(g, "fault", norm,
								pipeline.Transform[Chunk, Chunk](&faultStage[Chunk]{at: at, kind: kind, cancel: cancel, release: Chunk.Release}),
								pipeline.Workers(readers), pipeline.Ordered(), pipeline.Discard(Chunk.Release))
						}
						batches := dp.AddBatch(g, norm)
						if where == "batches" {
							batches = pipeline.AddTransform(g, "fault", batches,
								pipeline.Transform[Batch, Batch](&faultStage[Batch]{at: at, kind: kind, cancel: cancel, release: Batch.Release}),
								pipeline.Workers(readers), pipeline.Ordered(), pipeline.Discard(Batch.Release))
						}
						return batches, nil
					}
					res, err := Train(ctx, c)
					if err == nil {
						t.Fatalf("Train succeeded after %d steps despite the fault", res.Steps)
					}
					msg := err.Error()
					switch kind {
					case "error":
						if !errors.Is(err, errInjected) || !strings.Contains(msg, `stage "fault"`) {
							t.Errorf("err = %v, want errInjected from stage \"fault\"", err)
						}
					case "panic":
						if !strings.Contains(msg, `stage "fault": panic: injected panic at item`) {
							t.Errorf("err = %v, want the panic named by its stage", err)
						}
					case "cancel":
						if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) {
							t.Errorf("err = %v, want ErrInterrupted and context.Canceled", err)
						}
						// An interrupted run writes a checkpoint, which must be readable.
						if _, err := LoadModel(filepath.Join(c.CheckpointDir, CheckpointFile)); err != nil {
							t.Errorf("checkpoint after the interrupt: %v", err)
						}
					}
					// errors.Join makes ErrInterrupted two lines; the CLI prints its own line for it.
					if kind != "cancel" && strings.ContainsAny(msg, "\n\r") {
						t.Errorf("error is not one line: %q", msg)
					}
				})
			}
		}
	}
}

// TestFileModifiedDuringTraining rewrites one data file (same size, other bytes) after the first
// training step, while later row groups are still unread: Train fails with an error naming the file,
// instead of training on whatever the decoder makes of the new bytes.
func TestFileModifiedDuringTraining(t *testing.T) {
	changes := []struct {
		name   string
		change func(t *testing.T, path string)
		want   string
	}{
		// Caught as modified (same size, new time) or, if a read meets the rewrite half done, as resized.
		{"rewritten in place", flipFileMiddle, "the data must not change during a run"},
		{"truncated", func(t *testing.T, p string) {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(p, st.Size()/2); err != nil {
				t.Fatal(err)
			}
		}, "the data must not change during a run"},
	}
	for _, tc := range changes {
		t.Run(tc.name, func(t *testing.T) {
			defer goleak.VerifyNone(t)
			paths := writeTable(t, t.TempDir(), 20000, 10000, 500, mod3)
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			c := trainCfg(t, mem, "label", paths...)
			c.Model, c.Data.Epochs = "linear", 1
			c.Data.Shuffle = "shards" // no row buffer: reads stay a few row groups ahead of training
			c.Data.Queue = 1
			time.Sleep(30 * time.Millisecond) // let the clock tick past the files' modification time
			var changed atomic.Bool
			c.OnStep = func(s StepInfo) {
				if s.Step == 1 && changed.CompareAndSwap(false, true) {
					tc.change(t, paths[1])
				}
			}
			res, err := Train(context.Background(), c)
			if err == nil {
				t.Fatalf("Train succeeded (%d steps) on a file changed under it", res.Steps)
			}
			if msg := err.Error(); !strings.Contains(msg, paths[1]) || !strings.Contains(msg, tc.want) {
				t.Errorf("err = %q, want it to name %s and say %q", msg, paths[1], tc.want)
			}
		})
	}
}

// flipFileMiddle rewrites the middle third of a file in place: same size, new bytes.
func flipFileMiddle(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(b) / 3; i < 2*len(b)/3; i++ {
		b[i] ^= 0x5a
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// mountTmpfs mounts a tmpfs of size bytes on a new temporary directory and unmounts it at the end of
// the test; it skips the test when mounting is not permitted (not root, or no CAP_SYS_ADMIN).
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a %d-byte tmpfs to fill (needs root and CAP_SYS_ADMIN): %v: %s", size, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// TestCheckpointDiskFull writes checkpoints to a tmpfs that holds one checkpoint but not two (the
// atomic write needs room for the new file next to the old one): the second checkpoint fails, Train
// says the disk is full, and the first checkpoint survives byte for byte, loads, and resumes to the
// uninterrupted run's model.
func TestCheckpointDiskFull(t *testing.T) {
	path := writeBlobs(t, 3000, 400)
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	c := blobCfg(t, mem, path)
	c.Model = "mlp:256,128" // about 280 KB of parameters and momentum
	c.Momentum = 0.9
	whole, err := Train(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	want := saveBytes(t, whole.Model)

	// The size of one checkpoint, measured.
	probe := c
	probe.CheckpointDir, probe.MaxSteps = t.TempDir(), 5
	if _, err := Train(context.Background(), probe); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(probe.CheckpointDir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	pages := (st.Size() + page - 1) / page
	dir := mountTmpfs(t, (pages+pages/2)*page) // one checkpoint and a half

	full := c
	full.CheckpointDir, full.CheckpointEvery = dir, 5
	ckpt := filepath.Join(dir, CheckpointFile)
	var first []byte
	full.OnStep = func(s StepInfo) {
		if s.Step == 6 { // the checkpoint of step 5 is written
			var rerr error
			if first, rerr = os.ReadFile(ckpt); rerr != nil {
				t.Errorf("checkpoint of step 5: %v", rerr)
			}
		}
	}
	_, err = Train(context.Background(), full)
	switch {
	case err == nil:
		t.Fatal("Train succeeded on a full disk")
	case !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), ckpt):
		t.Fatalf("err = %v, want ENOSPC saying the disk is full and naming %s", err, ckpt)
	}
	t.Logf("checkpoint %d bytes, tmpfs %d bytes: %v", st.Size(), (pages+pages/2)*page, err)
	got, rerr := os.ReadFile(ckpt)
	if rerr != nil || first == nil || string(got) != string(first) {
		t.Fatalf("the checkpoint of step 5 did not survive intact (read error %v, %d bytes, %d before)", rerr, len(got), len(first))
	}
	if f, err := safetensors.ReadFile(ckpt); err != nil {
		t.Fatal(err)
	} else if len(f.Names()) == 0 {
		t.Fatal("checkpoint has no tensors")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the full disk holds %d files, want only the checkpoint (no temporary file left): %v", len(entries), entries)
	}
	// The surviving checkpoint resumes to the uninterrupted run's model.
	again := c
	again.CheckpointDir, again.Resume = t.TempDir(), true
	copyFile(t, ckpt, filepath.Join(again.CheckpointDir, CheckpointFile))
	resumed, err := Train(context.Background(), again)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Steps != whole.Steps || string(saveBytes(t, resumed.Model)) != string(want) {
		t.Error("the run resumed from the surviving checkpoint differs from the uninterrupted run")
	}
}

// corruptRowGroupData overwrites the start of column col's chunk in row group rg of a Parquet file
// with garbage, leaving the footer intact: Open succeeds, reading that column of that row group fails.
func corruptRowGroupData(t *testing.T, path string, rg, col int) {
	t.Helper()
	r, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := r.MetaData().RowGroup(rg).ColumnChunk(col)
	if err != nil {
		t.Fatal(err)
	}
	off := cc.DataPageOffset()
	if d := cc.DictionaryPageOffset(); d > 0 && d < off {
		off = d
	}
	r.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte{0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 0xff, 0x7f}, off); err != nil {
		t.Fatal(err)
	}
}

// truncateFile cuts a file to half its size (its footer is gone: Open fails on it).
func truncateFile(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()/2); err != nil {
		t.Fatal(err)
	}
}

// TestOpenSkipping finds the unreadable parts of a four-file dataset (a row group with corrupt
// pages, a truncated file) by fitting and by scanning (resume): the same parts both ways, in the
// same order, and one too many for the budget is an error naming it.
func TestOpenSkipping(t *testing.T) {
	dir := t.TempDir()
	paths := writeTable(t, dir, 4000, 1000, 250, mod3) // part-a..d, 4 row groups each
	corruptRowGroupData(t, paths[1], 2, 1)             // column x
	truncateFile(t, paths[3])
	want := []string{paths[3] + " (whole file)", paths[1] + " shard 2 (250 rows)"}
	for _, budget := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("budget=%d", budget), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			cfg := DataConfig{Paths: []string{dir}, Epochs: 1, Mem: mem}
			cfg.Feature.Target = "label"
			cfg = cfg.withDefaults()
			ds, spec, bad, err := openSkipping(context.Background(), cfg, budget, cfg.ReadRows)
			if budget < 2 {
				if err == nil || !strings.Contains(err.Error(), "--skip-bad-shards 1: one unreadable part too many") ||
					!strings.Contains(err.Error(), paths[1]+" shard 2") {
					t.Fatalf("err = %v, want the budget error naming %s shard 2", err, paths[1])
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkBad(t, bad, want)
			if ds.Rows != 2750 || len(ds.Shards) != 11 || spec.Rows != 2750 {
				t.Errorf("dataset of %d rows in %d shards, spec fitted on %d rows; want 2750, 11, 2750", ds.Rows, len(ds.Shards), spec.Rows)
			}
			// A resume has the spec: the scan finds the same parts.
			cfg.Spec = spec
			ds2, spec2, bad2, err := openSkipping(context.Background(), cfg, budget, cfg.ReadRows)
			if err != nil {
				t.Fatal(err)
			}
			checkBad(t, bad2, want)
			if spec2 != spec || ds2.Rows != ds.Rows || len(ds2.Shards) != len(ds.Shards) {
				t.Errorf("scan: %d rows in %d shards, want %d in %d", ds2.Rows, len(ds2.Shards), ds.Rows, len(ds.Shards))
			}
			for i := range ds.Shards {
				if ds.Shards[i] != ds2.Shards[i] {
					t.Errorf("shard %d: %+v by fitting, %+v by scanning", i, ds.Shards[i], ds2.Shards[i])
				}
			}
		})
	}
}

func checkBad(t *testing.T, bad []BadShard, want []string) {
	t.Helper()
	if len(bad) != len(want) {
		t.Fatalf("left out %v, want %d parts", bad, len(want))
	}
	for i, b := range bad {
		if s := b.String(); !strings.HasPrefix(s, want[i]+": "+b.Path) || strings.ContainsAny(s, "\n\r") {
			t.Errorf("left out %q, want %q followed by the error naming the file", s, want[i])
		}
	}
}

// countingAlloc counts the allocations it forwards.
type countingAlloc struct {
	memory.Allocator
	n atomic.Int64
}

func (c *countingAlloc) Allocate(size int) []byte { c.n.Add(1); return c.Allocator.Allocate(size) }

// badAndCleanTables writes a table of 4,000 rows as four Parquet files (part-a..d, row groups of
// 250 rows) into bad, with row group 2 of part-b corrupt (column x) and part-d truncated, and into
// clean the same data without those two parts (part-a, part-b without its row group 2, part-c). It
// returns both directories and the paths of the files in bad.
func badAndCleanTables(t *testing.T) (bad, clean string, paths []string) {
	t.Helper()
	bad = t.TempDir()
	paths = writeTable(t, bad, 4000, 1000, 250, mod3)
	corruptRowGroupData(t, paths[1], 2, 1)
	truncateFile(t, paths[3])
	clean = t.TempDir()
	copyFile(t, paths[0], filepath.Join(clean, "part-a.parquet"))
	var recs []arrow.RecordBatch
	for _, first := range []int64{1000, 1250, 1750} { // part-b without its row group 2
		recs = append(recs, tableRecord(memory.DefaultAllocator, first, 250, mod3))
	}
	writeParquet(t, filepath.Join(clean, "part-b.parquet"), recs)
	for _, r := range recs {
		r.Release()
	}
	copyFile(t, paths[2], filepath.Join(clean, "part-c.parquet"))
	return bad, clean, paths
}

// TestSkipBadShardsDataPath runs the data path over four files, one with a corrupt row group and one
// truncated, with SkipBadShards 2, and over the same data with the bad parts removed by hand: the
// spec and every batch (row values, in order, both epochs) are the same, and the left-out parts are
// reported. With the spec and the parts fitSpec found, OpenDataPath reads no data to find them again.
func TestSkipBadShardsDataPath(t *testing.T) {
	bad, clean, paths := badAndCleanTables(t)

	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	want := runPath(t, tableConfig([]string{clean}, mem), Position{}, 0, false)
	if want.err != nil {
		t.Fatal(want.err)
	}
	cfg := tableConfig([]string{bad}, mem)
	if r := runPath(t, cfg, Position{}, 0, false); r.err == nil || !strings.Contains(r.err.Error(), paths[3]) {
		t.Fatalf("without --skip-bad-shards: err = %v, want one naming %s (the truncated file, found first)", r.err, paths[3])
	}
	cfg.SkipBadShards = 2
	got := runPath(t, cfg, Position{}, 0, false)
	if got.err != nil {
		t.Fatal(got.err)
	}
	for e := range 2 {
		if len(got.x[e]) != 2750 || fmt.Sprint(got.x[e]) != fmt.Sprint(want.x[e]) {
			t.Errorf("epoch %d: %d x values skipping the bad parts, %d over the clean copy, or they differ", e, len(got.x[e]), len(want.x[e]))
		}
	}

	// OpenDataPath reports the parts; given fitSpec's findings it reads nothing to find them again.
	spec, found, err := fitSpec(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkBad(t, found, []string{paths[3] + " (whole file)", paths[1] + " shard 2 (250 rows)"})
	counted := &countingAlloc{Allocator: mem}
	known := cfg
	known.Spec, known.leftOut, known.Mem = spec, found, counted
	dp, err := OpenDataPath(context.Background(), known)
	if err != nil {
		t.Fatal(err)
	}
	defer dp.Close()
	if n := counted.n.Load(); n != 0 {
		t.Errorf("OpenDataPath allocated %d buffers: it read data to find parts it was given", n)
	}
	if len(dp.Bad) != 2 || dp.Dataset.Rows != 2750 {
		t.Errorf("data path of %d rows leaving out %v, want 2750 rows and 2 parts", dp.Dataset.Rows, dp.Bad)
	}
	// Without the findings (a resume), it scans and finds the same.
	known.leftOut = nil
	dp2, err := OpenDataPath(context.Background(), known)
	if err != nil {
		t.Fatal(err)
	}
	defer dp2.Close()
	checkBad(t, dp2.Bad, []string{paths[3] + " (whole file)", paths[1] + " shard 2 (250 rows)"})
	if c := (DataConfig{Paths: paths, Epochs: 1, SkipBadShards: -1}); c.Validate() == nil ||
		!strings.Contains(c.Validate().Error(), "--skip-bad-shards: must be >= 0") {
		t.Errorf("Validate accepts SkipBadShards -1: %v", c.Validate())
	}
}

// TestFitSpecMatchesFit checks that fitSpec (the pre-pass that can leave out bad parts) fits the
// same spec as a plain fit over the data, whatever the read size and with or without a budget for
// bad parts, so a trainer can switch to it without changing any model.
func TestFitSpecMatchesFit(t *testing.T) {
	path := writeBlobs(t, 3000, 400)
	ds, err := source.Open([]string{path}, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	fc := feature.Config{Target: "label"}
	plain, err := feature.Fit(context.Background(), ds, fc, 1)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(plain)
	for _, tc := range []struct{ readRows, skip, readers int }{{7, 0, 1}, {0, 0, 2}, {333, 3, 2}} {
		cfg := DataConfig{Paths: []string{path}, Epochs: 1, ReadRows: tc.readRows, SkipBadShards: tc.skip, Readers: tc.readers, Feature: fc}
		spec, bad, err := fitSpec(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := json.Marshal(spec); string(got) != string(want) || len(bad) != 0 {
			t.Errorf("%+v: spec differs from a plain fit's (or %d parts left out):\n%s\n%s", tc, len(bad), got, want)
		}
	}
}

// TestSkipBadShardsTrain trains over four files, one with a corrupt row group and one truncated,
// with SkipBadShards 2, uninterrupted and stopped and resumed: both give the model trained on the
// same data with the bad parts removed by hand, and the result reports the two parts.
func TestSkipBadShardsTrain(t *testing.T) {
	bad, clean, paths := badAndCleanTables(t)
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	cfg := func(dir string) TrainConfig {
		c := trainCfg(t, mem, "label", dir)
		c.Model, c.Dropout, c.Data.Epochs, c.Data.Batch = "mlp:8", 0.1, 2, 32
		c.Data.Shuffle, c.Data.ShuffleBuffer = "buffer", 300
		return c
	}
	ref, err := Train(context.Background(), cfg(clean))
	if err != nil {
		t.Fatal(err)
	}
	want := saveBytes(t, ref.Model)
	c := cfg(bad)
	if _, err := Train(context.Background(), c); err == nil || !strings.Contains(err.Error(), paths[3]) {
		t.Fatalf("without SkipBadShards: err = %v, want one naming %s", err, paths[3])
	}
	c.Data.SkipBadShards = 2
	got, err := Train(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	checkBad(t, got.Bad, []string{paths[3] + " (whole file)", paths[1] + " shard 2 (250 rows)"})
	if string(saveBytes(t, got.Model)) != string(want) {
		t.Fatal("the model trained past the bad parts differs from the one trained on the data without them")
	}
	// Stopped mid-run and resumed (the resume finds the parts by a scan): the same model.
	c.CheckpointDir, c.MaxSteps = t.TempDir(), 40
	if _, err := Train(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	c.MaxSteps, c.Resume = 0, true
	resumed, err := Train(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	checkBad(t, resumed.Bad, []string{paths[3] + " (whole file)", paths[1] + " shard 2 (250 rows)"})
	if string(saveBytes(t, resumed.Model)) != string(want) {
		t.Fatal("the stopped and resumed run differs from the uninterrupted one")
	}
	c.Data.SkipBadShards, c.Resume, c.CheckpointDir = 1, false, ""
	if _, err := Train(context.Background(), c); err == nil || !strings.Contains(err.Error(), "--skip-bad-shards 1: one unreadable part too many") {
		t.Errorf("budget 1 of 2: err = %v", err)
	}
}
