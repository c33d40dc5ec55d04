package stages

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestValidationCache evaluates a model twice through one evaluator: with a cache budget
// the second pass replays the decoded records (it still works after the files are gone)
// and gives the same result; without one it reads the files again.
func TestValidationCache(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	paths := writeTable(t, dir, 1200, 600, 200, mod3)
	c := trainCfg(t, mem, "label", dir)
	c.Model, c.Data.Epochs = "mlp:8", 1
	res, err := Train(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		budget int64
		cached bool
	}{{"cache", 1 << 30, true}, {"too small", 1000, false}, {"off", 0, false}} {
		t.Run(tc.name, func(t *testing.T) {
			vdir := t.TempDir()
			var vpaths []string
			for _, p := range paths {
				vpaths = append(vpaths, filepath.Join(vdir, filepath.Base(p)))
				copyFile(t, p, vpaths[len(vpaths)-1])
			}
			e, err := newEvaluator(res.Model, EvalConfig{Paths: []string{vdir}, Mem: mem, Batch: 64, CacheBytes: tc.budget}, false)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if (e.cache != nil) != tc.cached {
				t.Fatalf("cache %v, want %v", e.cache != nil, tc.cached)
			}
			first, err := e.evaluate(context.Background(), res.Model.Params)
			if err != nil {
				t.Fatal(err)
			}
			if first.Rows != 1200 {
				t.Fatalf("%d rows evaluated, want 1200", first.Rows)
			}
			if tc.cached && e.cache.size() == 0 {
				t.Error("the cache holds nothing after the first pass")
			}
			for _, p := range vpaths {
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
			}
			second, err := e.evaluate(context.Background(), res.Model.Params)
			if !tc.cached {
				if err == nil {
					t.Fatal("the second pass without a cache read nothing from the (removed) files")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(first, second) {
				t.Errorf("cached pass %+v differs from the first %+v", second, first)
			}
		})
	}
}

// TestValSplitSkipsBadShards trains with a validation split on data with an unreadable
// file and an unreadable row group (--skip-bad-shards 2): the validation split leaves
// out the same parts as training, so the run works and matches the run on a clean copy
// of the data without those parts, validation figures included.
func TestValSplitSkipsBadShards(t *testing.T) {
	bad, clean, paths := badAndCleanTables(t)
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	cfg := func(dir string) TrainConfig {
		c := trainCfg(t, mem, "label", dir)
		c.Model, c.Data.Epochs, c.Data.Batch, c.ValSplit = "mlp:8", 2, 32, 0.2
		return c
	}
	ref, err := Train(context.Background(), cfg(clean))
	if err != nil {
		t.Fatal(err)
	}
	c := cfg(bad)
	c.Data.SkipBadShards = 2
	got, err := Train(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Bad) != 2 {
		t.Fatalf("%d parts left out, want 2: %v", len(got.Bad), got.Bad)
	}
	if string(saveBytes(t, got.Model)) != string(saveBytes(t, ref.Model)) {
		t.Error("the model differs from the one trained on the clean copy")
	}
	if len(got.Epochs) != len(ref.Epochs) {
		t.Fatalf("%d epochs, want %d", len(got.Epochs), len(ref.Epochs))
	}
	for i := range got.Epochs {
		g, r := got.Epochs[i].Val, ref.Epochs[i].Val
		if g == nil || r == nil || g.Rows != r.Rows || g.Loss != r.Loss || g.Accuracy != r.Accuracy {
			t.Errorf("epoch %d: validation %+v, want %+v", i+1, g, r)
		}
	}
	c.Data.SkipBadShards = 0
	if _, err := Train(context.Background(), c); err == nil || !strings.Contains(err.Error(), paths[3]) {
		t.Errorf("without --skip-bad-shards: err = %v, want one naming %s", err, paths[3])
	}
}

// TestValSplitSkipsMidRunShards changes a file after the first step of a run with a
// validation split and --skip-bad-shards: the parts the reader leaves out during the run
// are left out of the validation passes that follow too, so the run finishes, and the
// evaluations after the change see fewer held-out rows than the one before would have.
func TestValSplitSkipsMidRunShards(t *testing.T) {
	paths := writeTable(t, t.TempDir(), 8000, 4000, 500, mod3)
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	full := func() int64 { // held-out rows of the intact data
		c := trainCfg(t, mem, "label", paths...)
		c.Model, c.Data.Epochs, c.ValSplit = "linear", 1, 0.2
		res, err := Train(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		return res.Epochs[0].Val.Rows
	}()
	c := trainCfg(t, mem, "label", paths...)
	c.Model, c.Data.Epochs, c.ValSplit = "linear", 2, 0.2
	c.Data.Shuffle, c.Data.Queue, c.Data.SkipBadShards = "shards", 1, 20
	time.Sleep(30 * time.Millisecond) // let the clock tick past the files' modification time
	var changed atomic.Bool
	c.OnStep = func(s StepInfo) {
		if s.Step == 1 && changed.CompareAndSwap(false, true) {
			truncateFile(t, paths[1])
		}
	}
	res, err := Train(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Bad) == 0 {
		t.Fatal("no part left out: the change came after the file was read")
	}
	for _, e := range res.Epochs {
		if e.Val == nil || e.Val.Rows == 0 || e.Val.Rows >= full {
			t.Errorf("epoch %d: validation %+v, want fewer than the %d held-out rows of the intact data", e.Epoch+1, e.Val, full)
		}
	}
}
