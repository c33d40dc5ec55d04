package sink_test

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sgdpipe/sgdpipe/io/sink"
)

// sameFloat treats NaN as equal to NaN.
func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

func sameStep(a, b sink.StepRow) bool {
	return a.Step == b.Step && a.Epoch == b.Epoch && sameFloat(a.Loss, b.Loss) && sameFloat(a.LR, b.LR) &&
		sameFloat(a.SamplesPerSec, b.SamplesPerSec)
}

func sameEpoch(a, b sink.EpochRow) bool {
	return a.Epoch == b.Epoch && a.Step == b.Step && sameFloat(a.TrainLoss, b.TrainLoss) &&
		sameFloat(a.TrainAcc, b.TrainAcc) && sameFloat(a.ValLoss, b.ValLoss) && sameFloat(a.ValAcc, b.ValAcc) &&
		sameFloat(a.Seconds, b.Seconds)
}

func sameMetrics(t *testing.T, got, want sink.Metrics) {
	t.Helper()
	if !slices.EqualFunc(got.Steps, want.Steps, sameStep) {
		t.Fatalf("steps differ: got %d rows (first %v), want %d (first %v)", len(got.Steps), first(got.Steps), len(want.Steps), first(want.Steps))
	}
	if !slices.EqualFunc(got.Epochs, want.Epochs, sameEpoch) {
		t.Fatalf("epochs differ:\n got %v\nwant %v", got.Epochs, want.Epochs)
	}
}

func first[T any](s []T) any {
	if len(s) == 0 {
		return nil
	}
	return s[0]
}

func TestMetricsRoundTrip(t *testing.T) {
	odd := sink.Metrics{
		Steps: []sink.StepRow{
			{Step: 1, Epoch: 1, Loss: math.Inf(1), LR: 1e-300, SamplesPerSec: math.NaN()},
			{Step: 2, Epoch: 1, Loss: -0.0, LR: math.MaxFloat64, SamplesPerSec: 1},
			{Step: math.MaxInt64, Epoch: -1, Loss: math.NaN(), LR: math.Inf(-1), SamplesPerSec: 5e-324},
		},
		Epochs: []sink.EpochRow{
			{Epoch: 1, Step: 2, TrainLoss: 0.5, TrainAcc: math.NaN(), ValLoss: math.NaN(), ValAcc: math.NaN(), Seconds: 0.1},
		},
	}
	tests := []struct {
		name string
		m    sink.Metrics
	}{
		{"empty", sink.Metrics{}},
		{"run", sampleMetrics(10000, 7)}, // more than one 4096-row flush
		{"extreme values", odd},
	}
	for _, tt := range tests {
		for _, ext := range []string{".csv", ".parquet"} {
			t.Run(tt.name+ext, func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
				defer mem.AssertSize(t, 0)
				dir := t.TempDir()
				path := filepath.Join(dir, "metrics"+ext)
				w, err := sink.NewMetricsWriter(path, mem)
				if err != nil {
					t.Fatal(err)
				}
				defer w.Abort()
				// Interleave as training does: the epoch row after its steps.
				e := 0
				for _, s := range tt.m.Steps {
					for e < len(tt.m.Epochs) && tt.m.Epochs[e].Step < s.Step {
						if err := w.WriteEpoch(tt.m.Epochs[e]); err != nil {
							t.Fatal(err)
						}
						e++
					}
					if err := w.WriteStep(s); err != nil {
						t.Fatal(err)
					}
				}
				for ; e < len(tt.m.Epochs); e++ {
					if err := w.WriteEpoch(tt.m.Epochs[e]); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
					t.Fatal("metrics file visible before Close")
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				noTemps(t, dir, "metrics"+ext)
				got, err := sink.ReadMetrics(path, mem)
				if err != nil {
					t.Fatal(err)
				}
				sameMetrics(t, got, tt.m)
			})
		}
	}
}

// TestMetricsCSVText pins the exact CSV layout: long format, kind column,
// nulls as empty fields.
func TestMetricsCSVText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.csv")
	w, err := sink.NewMetricsWriter(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteStep(sink.StepRow{Step: 1, Epoch: 1, Loss: 2.5, LR: 0.1, SamplesPerSec: 1000})
	w.WriteStep(sink.StepRow{Step: 2, Epoch: 1, Loss: 1.25, LR: 0.1, SamplesPerSec: math.NaN()})
	w.WriteEpoch(sink.EpochRow{Epoch: 1, Step: 2, TrainLoss: 1.5, TrainAcc: 0.75, ValLoss: math.NaN(), ValAcc: math.NaN(), Seconds: 3})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := `kind,step,epoch,loss,lr,samples_per_s,train_loss,train_acc,val_loss,val_acc,seconds
step,1,1,2.5,0.1,1000,,,,,
step,2,1,1.25,0.1,,,,,,
epoch,2,1,,,,1.5,0.75,,,3
`
	if string(got) != want {
		t.Fatalf("CSV:\n%s\nwant:\n%s", got, want)
	}
}

func TestMetricsWriterConcurrent(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	path := filepath.Join(t.TempDir(), "m.parquet")
	w, err := sink.NewMetricsWriter(path, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	const writers, perWriter = 4, 3000
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range perWriter {
				if g%2 == 0 {
					w.WriteStep(sink.StepRow{Step: int64(g*perWriter + i), Loss: float64(i)})
				} else {
					w.WriteEpoch(sink.EpochRow{Step: int64(g*perWriter + i), TrainLoss: float64(i)})
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	m, err := sink.ReadMetrics(path, mem)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Steps) != writers/2*perWriter || len(m.Epochs) != writers/2*perWriter {
		t.Fatalf("%d steps and %d epochs, want %d each", len(m.Steps), len(m.Epochs), writers/2*perWriter)
	}
	seen := map[int64]bool{}
	for _, s := range m.Steps {
		seen[s.Step] = true
	}
	for _, e := range m.Epochs {
		seen[e.Step] = true
	}
	if len(seen) != writers*perWriter {
		t.Fatalf("%d distinct rows, want %d", len(seen), writers*perWriter)
	}
}

func TestMetricsWriterLifecycle(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	path := filepath.Join(dir, "m.csv")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := sink.NewMetricsWriter(path, mem)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5000 {
		if err := w.WriteStep(sink.StepRow{Step: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("Abort changed the previous file: %q", b)
	}
	noTemps(t, dir, "m.csv")
	oneLine(t, w.WriteStep(sink.StepRow{}), path, "after Close or Abort")
	oneLine(t, w.Close(), path, "Close after Abort")

	w, err = sink.NewMetricsWriter(path, mem)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort after Close: %v", err)
	}
	oneLine(t, w.WriteEpoch(sink.EpochRow{}), path, "after Close or Abort")
	if m, err := sink.ReadMetrics(path, mem); err != nil || len(m.Steps)+len(m.Epochs) != 0 {
		t.Fatalf("empty metrics file read back as %v, %v", m, err)
	}

	_, err = sink.NewMetricsWriter(filepath.Join(dir, "m.json"), mem)
	oneLine(t, err, "m.json", "unknown extension")
	_, err = sink.NewMetricsWriter(filepath.Join(dir, "missing", "m.csv"), mem)
	oneLine(t, err, filepath.Join(dir, "missing", "m.csv"), "does not exist")
}

func TestReadMetricsErrors(t *testing.T) {
	header := "kind,step,epoch,loss,lr,samples_per_s,train_loss,train_acc,val_loss,val_acc,seconds\n"
	tests := []struct {
		name string
		text string
		says string
	}{
		{"empty", "", "empty file"},
		{"wrong header", "kind,step\n", `header is "kind,step"`},
		{"reordered header", strings.Replace(header, "loss,lr", "lr,loss", 1), "want"},
		{"short row", header + "step,1,1\n", "wrong number of fields"},
		{"bad quote", header + "\"step,1,1,,,,,,,,\n", "malformed CSV"},
		{"unknown kind", header + "batch,1,1,,,,,,,,\n", `line 2: column "kind": "batch" is not a row kind`},
		{"empty kind", header + ",1,1,,,,,,,,\n", `column "kind": "" is not a row kind`},
		{"step not an integer", header + "step,1.5,1,,,,,,,,\n", `line 2: column "step": "1.5" is not an integer`},
		{"missing epoch", header + "step,1,,,,,,,,,\n", `column "epoch": "" is not an integer`},
		{"loss not a number", header + "step,1,1,abc,,,,,,,\n", `column "loss": "abc" is not a number`},
		{"epoch column in a step row", header + "step,1,1,1,,,0.5,,,,\n", `column "train_loss": "0.5" is set in a step row`},
		{"step column in an epoch row", header + "epoch,1,1,,0.1,,,,,,\n", `column "lr": "0.1" is set in an epoch row`},
		{"error on line 3", header + "step,1,1,1,,,,,,,\nstep,x,1,1,,,,,,,\n", "line 3:"},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("m%d.csv", i))
			if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := sink.ReadMetrics(path, nil)
			oneLine(t, err, "metrics file "+path, tt.says)
		})
	}
	// Overflowing numbers are kept as ±Inf rather than rejected.
	path := filepath.Join(dir, "big.csv")
	os.WriteFile(path, []byte(header+"step,1,1,1e999,-1e999,,,,,,\n"), 0o600)
	if m, err := sink.ReadMetrics(path, nil); err != nil || !math.IsInf(m.Steps[0].Loss, 1) || !math.IsInf(m.Steps[0].LR, -1) {
		t.Fatalf("overflow: %v, %v", m, err)
	}

	t.Run("parquet", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		defer mem.AssertSize(t, 0)
		notParquet := filepath.Join(dir, "bad.parquet")
		os.WriteFile(notParquet, []byte("PAR1 this is not parquet PAR1"), 0o600)
		_, err := sink.ReadMetrics(notParquet, mem)
		oneLine(t, err, "metrics file "+notParquet)

		// A predictions file is Parquet, but not a metrics table.
		preds := filepath.Join(dir, "preds.parquet")
		w, err := sink.NewPredictionWriter(preds, predSchema(t), mem, sink.PredictionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		_, err = sink.ReadMetrics(preds, mem)
		oneLine(t, err, "metrics file "+preds, "columns are id, city, prediction")
	})
	_, err := sink.ReadMetrics(filepath.Join(dir, "absent.csv"), nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	_, err = sink.ReadMetrics(filepath.Join(dir, "m.txt"), nil)
	oneLine(t, err, "m.txt", "unknown extension")
}

func ExampleMetricsWriter() {
	dir, err := os.MkdirTemp("", "sink-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "metrics.csv")

	w, err := sink.NewMetricsWriter(path, nil)
	if err != nil {
		panic(err)
	}
	defer w.Abort()
	w.WriteStep(sink.StepRow{Step: 1, Epoch: 1, Loss: 2.3, LR: 0.05, SamplesPerSec: 61000})
	w.WriteStep(sink.StepRow{Step: 2, Epoch: 1, Loss: 1.9, LR: 0.05, SamplesPerSec: 63500})
	w.WriteEpoch(sink.EpochRow{Epoch: 1, Step: 2, TrainLoss: 2.1, TrainAcc: 0.42,
		ValLoss: 1.8, ValAcc: 0.5, Seconds: 0.004})
	if err := w.Close(); err != nil {
		panic(err)
	}
	out, _ := os.ReadFile(path)
	fmt.Print(string(out))

	m, err := sink.ReadMetrics(path, nil)
	fmt.Println(len(m.Steps), "steps,", len(m.Epochs), "epoch,", err)
	// Output:
	// kind,step,epoch,loss,lr,samples_per_s,train_loss,train_acc,val_loss,val_acc,seconds
	// step,1,1,2.3,0.05,61000,,,,,
	// step,2,1,1.9,0.05,63500,,,,,
	// epoch,2,1,,,,2.1,0.42,1.8,0.5,0.004
	// 2 steps, 1 epoch, <nil>
}
