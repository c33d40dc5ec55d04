package stages

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// writeBlobs writes a 3-class Gaussian-blobs Parquet file of rows rows in row groups of group rows.
func writeBlobs(t *testing.T, rows, group int) string {
	t.Helper()
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "f0", Type: arrow.PrimitiveTypes.Float64}, {Name: "f1", Type: arrow.PrimitiveTypes.Float64},
		{Name: "f2", Type: arrow.PrimitiveTypes.Float32}, {Name: "f3", Type: arrow.PrimitiveTypes.Int32},
		{Name: "label", Type: arrow.BinaryTypes.String},
	}, nil)
	path := filepath.Join(t.TempDir(), "blobs.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(schema, f, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(int64(group))), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	names := []string{"alpha", "beta", "gamma"}
	for i := range rows {
		c := (i * 7) % 3
		h := float64((i*2654435761)%1000)/1000 - 0.5
		b.Field(0).(*array.Float64Builder).Append(float64(c)*1.5 + h)
		b.Field(1).(*array.Float64Builder).Append(math.Sin(float64(i)) + float64(c))
		b.Field(2).(*array.Float32Builder).Append(float32(h * 3))
		b.Field(3).(*array.Int32Builder).Append(int32(i%5 + c))
		b.Field(4).(*array.StringBuilder).Append(names[c])
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// blobCfg is a run over the blobs file with dropout and a buffer shuffle, so every source of
// nondeterminism is exercised.
func blobCfg(t *testing.T, mem memory.Allocator, path string) TrainConfig {
	c := trainCfg(t, mem, "label", path)
	c.Model = "mlp:16,8"
	c.Dropout = 0.1
	c.Data.Epochs = 2
	c.Data.Batch = 32
	c.Data.Shuffle = "buffer"
	c.Data.ShuffleBuffer = 1000
	c.LR = 0.05
	return c
}

func saveBytes(t *testing.T, m *Model) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTrainDeterministicAcrossReadersAndWorkers(t *testing.T) {
	path := writeBlobs(t, 3000, 400)
	var ref []byte
	for _, readers := range []int{1, 2} {
		for _, workers := range []int{1, 2, 3} {
			for _, split := range []bool{false, true} { // passes fused in one stage, or two stages
				mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
				c := blobCfg(t, mem, path)
				c.Data.Readers, c.Data.Normalizers, c.Workers, c.SplitPasses = readers, readers, workers, split
				res, err := Train(context.Background(), c)
				if err != nil {
					t.Fatal(err)
				}
				got := saveBytes(t, res.Model)
				mem.AssertSize(t, 0)
				if ref == nil {
					ref = got
					continue
				}
				if string(got) != string(ref) {
					t.Errorf("readers=%d workers=%d split passes %v: model file differs from readers=1 workers=1", readers, workers, split)
				}
			}
		}
	}
	// The comparison can fail: another seed gives another model file.
	c := blobCfg(t, memory.DefaultAllocator, path)
	c.Data.Seed++
	res, err := Train(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if string(saveBytes(t, res.Model)) == string(ref) {
		t.Error("a different seed gave the same model file")
	}
}

// TestMaxStepsExactAcrossLayouts checks that a run stopped by MaxSteps applies exactly that many
// steps, and the same ones, whether the compute workers apply the steps themselves (fused passes) or
// the reducer and optimizer stages do (split passes), with several micro-batches per step in flight
// on several workers, synchronous or with staleness 1 (steps may then complete out of order).
func TestMaxStepsExactAcrossLayouts(t *testing.T) {
	path := writeBlobs(t, 3000, 400)
	for _, staleness := range []int{0, 1} {
		var ref []byte
		for _, tc := range []struct {
			workers int
			split   bool
		}{{1, true}, {1, false}, {3, false}, {3, true}} {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			c := blobCfg(t, mem, path)
			c.Workers, c.SplitPasses, c.Staleness = tc.workers, tc.split, staleness
			c.MicroBatch = 8 // four micro-batches per step
			c.MaxSteps = 41
			res, err := Train(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			if res.Steps != 41 || res.Stopped != "max-steps" {
				t.Fatalf("staleness %d workers %d split %v: stopped after %d steps (%q), want 41",
					staleness, tc.workers, tc.split, res.Steps, res.Stopped)
			}
			got := saveBytes(t, res.Model)
			mem.AssertSize(t, 0)
			if ref == nil {
				ref = got
			} else if staleness == 0 && string(got) != string(ref) {
				// With staleness 1 the parameters a micro-batch reads depend on timing; only
				// synchronous runs are bitwise reproducible across layouts.
				t.Errorf("workers %d split %v: model differs from workers 1 split", tc.workers, tc.split)
			}
		}
	}
}

func TestResumeMidEpochIsExact(t *testing.T) {
	path := writeBlobs(t, 3000, 400)
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	c := blobCfg(t, mem, path)
	c.Data.ShuffleBuffer = 2000
	whole, err := Train(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	want := saveBytes(t, whole.Model)

	dir := t.TempDir()
	c.CheckpointDir = dir
	c.MaxSteps = 37 // mid-epoch 0 (94 steps per epoch)
	part, err := Train(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if part.Steps != 37 || part.Stopped != "max-steps" {
		t.Fatalf("stopped after %d steps (%q), want 37", part.Steps, part.Stopped)
	}
	st, err := os.Stat(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	c.MaxSteps = 0
	c.Resume = true
	resumed, err := Train(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if got := saveBytes(t, resumed.Model); string(got) != string(want) {
		t.Fatal("resumed run's model file differs from the uninterrupted run's")
	}

	// The checkpoint holds row positions, not buffered rows: its size does not depend on the buffer.
	dir2 := t.TempDir()
	c2 := blobCfg(t, mem, path)
	c2.Data.ShuffleBuffer = 9000
	c2.CheckpointDir, c2.MaxSteps = dir2, 37
	if _, err := Train(context.Background(), c2); err != nil {
		t.Fatal(err)
	}
	st2, err := os.Stat(filepath.Join(dir2, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != st2.Size() {
		t.Errorf("checkpoint is %d bytes with a 2000-row buffer and %d with 9000", st.Size(), st2.Size())
	}
}

func TestInterruptWritesCheckpoint(t *testing.T) {
	path := writeBlobs(t, 3000, 400)
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	c := blobCfg(t, mem, path)
	c.CheckpointDir = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.OnStep = func(s StepInfo) {
		if s.Step == 50 {
			cancel()
		}
	}
	_, err := Train(ctx, c)
	if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrInterrupted and context.Canceled", err)
	}
	ck, err := loadCheckpoint(c.CheckpointDir)
	if err != nil {
		t.Fatal(err)
	}
	if ck.state.Step < 50 {
		t.Fatalf("checkpoint at step %d, want >= 50", ck.state.Step)
	}
	// Resuming finishes the run and gives the uninterrupted run's model.
	c.OnStep = nil
	c.Resume = true
	resumed, err := Train(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	c.Resume, c.CheckpointDir = false, ""
	whole, err := Train(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if string(saveBytes(t, resumed.Model)) != string(saveBytes(t, whole.Model)) {
		t.Fatal("interrupted and resumed run differs from the uninterrupted run")
	}
}
