package stages

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/zap/zaptest"

	"github.com/sgdpipe/sgdpipe/pipeline"
	"github.com/sgdpipe/sgdpipe/stages/feature"
)

// TestDataPathSkipMidRunShuffled runs the whole data path (shuffler, normalizer, batcher) in
// every shuffle mode with 1 and 3 readers over four files, one of them truncated after the
// pre-pass: both epochs deliver every row of the other three files once, in batches, the
// same order with either reader count, and the truncated file's five shards are recorded.
func TestDataPathSkipMidRunShuffled(t *testing.T) {
	paths := writeTable(t, t.TempDir(), 1000, 250, 50, mod3)
	want := slices.Concat(seq(0, 500), seq(750, 1000))
	for _, mode := range []string{"full", "buffer", "shards", "none"} {
		t.Run(mode, func(t *testing.T) {
			var first map[int][]int64
			for _, readers := range []int{1, 3} {
				mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
				cfg := tableConfig(paths, mem)
				cfg.Shuffle, cfg.Readers, cfg.SkipBadShards, cfg.Logger = mode, readers, 5, zaptest.NewLogger(t)
				dp, err := OpenDataPath(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				restore := damageFile(t, paths[2])
				g := pipeline.New(pipeline.Config{Logger: cfg.Logger})
				batches, err := dp.Add(g, Position{})
				if err != nil {
					t.Fatal(err)
				}
				ids := map[int][]int64{}
				pipeline.AddSink(g, "collect", batches, pipeline.SinkFunc[Batch](func(ctx context.Context, b Batch) error {
					defer b.Release()
					ids[b.Epoch] = append(ids[b.Epoch], b.RowIDs()...)
					if b.Last != (len(ids[b.Epoch]) == 750) {
						return fmt.Errorf("epoch %d batch %d: Last %v after %d rows", b.Epoch, b.Index, b.Last, len(ids[b.Epoch]))
					}
					return nil
				}))
				err = g.Run(context.Background())
				dp.Close()
				restore()
				mem.AssertSize(t, 0)
				if err != nil {
					t.Fatalf("readers %d: %v", readers, err)
				}
				for e := range 2 {
					got := slices.Clone(ids[e])
					slices.Sort(got)
					if !slices.Equal(got, want) {
						t.Errorf("readers %d epoch %d: %d rows, want the 750 outside %s once each", readers, e, len(got), paths[2])
					}
				}
				if len(dp.Bad) != 5 {
					t.Errorf("readers %d: %d parts left out, want 5: %v", readers, len(dp.Bad), dp.Bad)
				}
				if first == nil {
					first = ids
				} else if fmt.Sprint(ids) != fmt.Sprint(first) {
					t.Errorf("3 readers gave another order than 1")
				}
			}
		})
	}
}

// skipCfg is a small training run over dir, normalized by min and max (so that leaving out the
// middle of the id range does not change the spec) and read in file order unless changed.
func skipCfg(t *testing.T, mem memory.Allocator, dir string) TrainConfig {
	c := trainCfg(t, mem, "label", dir)
	c.Model, c.Data.Epochs, c.Data.Batch, c.Data.Shuffle = "mlp:8", 2, 32, "none"
	c.Data.Feature = feature.Config{Target: "label", Features: []string{"x"}, Normalize: feature.NormMinMax}
	return c
}

// damageIn returns a BuildData that truncates path after the pre-pass, before the run starts.
func damageIn(t *testing.T, path string) func(g *pipeline.Graph, dp *DataPath, from Position) (*pipeline.Stream[Batch], error) {
	return func(g *pipeline.Graph, dp *DataPath, from Position) (*pipeline.Stream[Batch], error) {
		truncateFile(t, path)
		return dp.Add(g, from)
	}
}

// TestSkipMidRunTrain trains over four files, one truncated after the pre-pass, in file order:
// with budget for its five shards the model is the one trained on the other three files alone,
// the result lists the five parts as mid-run, and 3 readers with a shuffle buffer give the model
// of 1 reader; without budget, with one part too few, or with the budget used up by a corrupt row
// group the pre-pass found, Train fails naming the truncated file.
func TestSkipMidRunTrain(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	src := writeTable(t, t.TempDir(), 1000, 250, 50, mod3)
	clean := t.TempDir()
	for _, i := range []int{0, 1, 3} {
		copyFile(t, src[i], filepath.Join(clean, filepath.Base(src[i])))
	}
	ref, err := Train(context.Background(), skipCfg(t, mem, clean))
	if err != nil {
		t.Fatal(err)
	}
	fresh := func() []string { // a new copy of the four files, to truncate one of
		dir := t.TempDir()
		for _, p := range src {
			copyFile(t, p, filepath.Join(dir, filepath.Base(p)))
		}
		return []string{dir, filepath.Join(dir, "part-a.parquet"), filepath.Join(dir, "part-c.parquet")}
	}
	d := fresh()
	c := skipCfg(t, mem, d[0])
	c.Data.SkipBadShards, c.BuildData = 5, damageIn(t, d[2])
	got, err := Train(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	// The specs differ in the rows they were fitted on (the model files too), not in the parameters.
	if !slices.Equal(got.Model.Params, ref.Model.Params) || got.Steps != ref.Steps || got.Steps != 2*24 {
		t.Errorf("trained %d steps past the truncated file, %d without it (want 48), or the parameters differ", got.Steps, ref.Steps)
	}
	var want []string
	for i := range 5 {
		want = append(want, fmt.Sprintf("%s shard %d (50 rows, unreadable from epoch 0 after 0 rows)", d[2], i))
	}
	checkBad(t, got.Bad, want)

	// Determinism: a shuffle buffer, 1 or 3 readers, the same model.
	var models []string
	for _, readers := range []int{1, 3} {
		d := fresh()
		c := skipCfg(t, mem, d[0])
		c.Data.Shuffle, c.Data.ShuffleBuffer, c.Data.Readers = "buffer", 300, readers
		c.Data.SkipBadShards, c.BuildData = 5, damageIn(t, d[2])
		res, err := Train(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, string(saveBytes(t, res.Model)))
	}
	if models[0] != models[1] {
		t.Error("with a shuffle buffer, 3 readers trained another model than 1")
	}

	for _, tc := range []struct {
		name    string
		budget  int
		corrupt bool
		wantErr string
	}{
		{"no budget", 0, false, "the data must not change during a run"},
		{"one too few", 4, false, "--skip-bad-shards 4: one unreadable part too many (4 left out already): epoch 0: "},
		{"used up before the run", 5, true, "--skip-bad-shards 5: one unreadable part too many (5 left out already): epoch 0: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := fresh()
			if tc.corrupt {
				corruptRowGroupData(t, d[1], 1, 1)
			}
			c := skipCfg(t, mem, d[0])
			c.Data.SkipBadShards, c.BuildData = tc.budget, damageIn(t, d[2])
			// Without --skip-bad-shards the first epoch replays what the pre-pass decoded
			// (TestPrePassDecodesOnce); records of another size make it read the files.
			c.Data.ReadRows = 40
			if _, err := Train(context.Background(), c); err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), d[2]) {
				t.Errorf("err = %v, want %q naming %s", err, tc.wantErr, d[2])
			}
		})
	}
}

// TestPrePassDecodesOnce checks that training replays the records the feature pre-pass decoded
// instead of decoding the files again: a file truncated after the pre-pass changes nothing, the
// model is the one of an undamaged run, byte for byte. With --skip-bad-shards, or records of a
// size of their own, the first epoch reads the files (TestSkipMidRunTrain).
func TestPrePassDecodesOnce(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	src := writeTable(t, t.TempDir(), 1000, 250, 50, mod3)
	fresh := func() []string {
		dir := t.TempDir()
		for _, p := range src {
			copyFile(t, p, filepath.Join(dir, filepath.Base(p)))
		}
		return []string{dir, filepath.Join(dir, "part-c.parquet")}
	}
	d := fresh()
	ref, err := Train(context.Background(), skipCfg(t, mem, d[0]))
	if err != nil {
		t.Fatal(err)
	}
	d = fresh()
	c := skipCfg(t, mem, d[0])
	c.BuildData = damageIn(t, d[1])
	got, err := Train(context.Background(), c)
	if err != nil {
		t.Fatalf("a file truncated after the pre-pass: %v (the first epoch read it again)", err)
	}
	if string(saveBytes(t, got.Model)) != string(saveBytes(t, ref.Model)) {
		t.Error("the model differs from the undamaged run's")
	}
	if got.Memory.Lines[0].Peak == 0 {
		t.Error("no shard cache in the ledger")
	}
}

// TestSkipMidRunResume stops a run that left out a truncated file's shards during epoch 0: stopped
// at the end of epoch 0, it resumes (its pre-pass now leaves the whole file out) to the model of
// the uninterrupted run, since in file order epoch 1 reads the same rows either way; stopped
// inside epoch 1, the resume is refused with an error that says to train again.
func TestSkipMidRunResume(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	src := writeTable(t, t.TempDir(), 1000, 250, 50, mod3)
	run := func(maxSteps int64) (TrainConfig, string) {
		dir := t.TempDir()
		for _, p := range src {
			copyFile(t, p, filepath.Join(dir, filepath.Base(p)))
		}
		c := skipCfg(t, mem, dir)
		c.Data.SkipBadShards, c.BuildData = 5, damageIn(t, filepath.Join(dir, "part-c.parquet"))
		c.CheckpointDir, c.MaxSteps = t.TempDir(), maxSteps
		res, err := Train(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		c.BuildData, c.MaxSteps, c.Resume = nil, 0, true
		if maxSteps > 0 {
			return c, ""
		}
		return c, string(saveBytes(t, res.Model))
	}
	_, whole := run(0)
	c, _ := run(24) // the last step of epoch 0
	resumed, err := Train(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if string(saveBytes(t, resumed.Model)) != whole || resumed.Steps != 48 {
		t.Errorf("resumed at the epoch boundary: %d steps, or another model than the uninterrupted run's", resumed.Steps)
	}
	if len(resumed.Bad) != 1 || resumed.Bad[0].Shard != -1 || resumed.Bad[0].MidRun {
		t.Errorf("the resumed run left out %v, want the truncated file, found before the run", resumed.Bad)
	}
	c, _ = run(30) // inside epoch 1
	if _, err := Train(context.Background(), c); err == nil || !strings.Contains(err.Error(), "--resume: the checkpoint is inside epoch 1, after ") ||
		!strings.Contains(err.Error(), "train again without --resume") {
		t.Errorf("resume inside epoch 1: err = %v, want the refusal", err)
	}
}

// TestFileModifiedDuringTrainingSkipped is TestFileModifiedDuringTraining with a budget for the
// changed file's twenty shards: the run goes on past the shards read after the change, lists them
// as mid-run parts of that file, and makes one step per batch of the rows that were read.
func TestFileModifiedDuringTrainingSkipped(t *testing.T) {
	for _, change := range []string{"rewritten in place", "truncated"} {
		t.Run(change, func(t *testing.T) {
			paths := writeTable(t, t.TempDir(), 20000, 10000, 500, mod3)
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			c := trainCfg(t, mem, "label", paths...)
			c.Model, c.Data.Epochs = "linear", 2
			c.Data.Shuffle, c.Data.Queue, c.Data.SkipBadShards = "shards", 1, 20
			time.Sleep(30 * time.Millisecond) // let the clock tick past the files' modification time
			var changed atomic.Bool
			c.OnStep = func(s StepInfo) {
				if s.Step == 1 && changed.CompareAndSwap(false, true) {
					if change == "truncated" {
						truncateFile(t, paths[1])
					} else {
						flipFileMiddle(t, paths[1])
					}
				}
			}
			res, err := Train(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Bad) == 0 {
				t.Fatal("no part left out: the change came after the file was read")
			}
			rows := [2]int64{20000, 20000}
			for _, b := range res.Bad {
				if b.Path != paths[1] || !b.MidRun || b.Rows != 500 || b.Read < 0 || b.Read > 500 {
					t.Errorf("left out %+v", b)
				}
				for e := b.Epoch; e < 2; e++ {
					rows[e] -= 500
				}
				rows[b.Epoch] += b.Read
			}
			if want := (rows[0]+15)/16 + (rows[1]+15)/16; res.Steps != want {
				t.Errorf("%d steps, want %d for epochs of %v rows", res.Steps, want, rows)
			}
			t.Logf("%d parts left out, epochs of %v rows", len(res.Bad), rows)
		})
	}
}
