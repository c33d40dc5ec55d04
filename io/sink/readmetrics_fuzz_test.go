package sink

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FuzzReadMetricsCSV feeds arbitrary text to the metrics CSV parser. It must
// not panic; what it accepts must survive a write and read round trip.
func FuzzReadMetricsCSV(f *testing.F) {
	header := "kind,step,epoch,loss,lr,samples_per_s,train_loss,train_acc,val_loss,val_acc,seconds\n"
	f.Add([]byte(header))
	f.Add([]byte(header + "step,1,1,2.5,0.1,1000,,,,,\nstep,2,1,1.25,0.1,,,,,,\nepoch,2,1,,,,1.5,0.75,,,3\n"))
	f.Add([]byte(header + "step,9223372036854775807,-1,+Inf,-Inf,NaN,,,,,\n"))
	f.Add([]byte(header + "epoch,1,1,,,,1e999,\"0.5\",,,\r\n"))
	f.Add([]byte(header + "step,1,1,1,,,0.5,,,,\n"))
	f.Add([]byte("kind,step\n"))
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := readMetricsCSV(bytes.NewReader(b))
		if err != nil {
			return
		}
		path := filepath.Join(dir, "m.csv")
		w, err := NewMetricsWriter(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Abort()
		for _, s := range m.Steps {
			if err := w.WriteStep(s); err != nil {
				t.Fatal(err)
			}
		}
		for _, e := range m.Epochs {
			if err := w.WriteEpoch(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		again, err := ReadMetrics(path, nil)
		if err != nil {
			t.Fatalf("cannot read back what was parsed: %v", err)
		}
		same := func(a, b float64) bool {
			return a == b && math.Signbit(a) == math.Signbit(b) || math.IsNaN(a) && math.IsNaN(b)
		}
		if !slices.EqualFunc(m.Steps, again.Steps, func(a, b StepRow) bool {
			return a.Step == b.Step && a.Epoch == b.Epoch && same(a.Loss, b.Loss) && same(a.LR, b.LR) && same(a.SamplesPerSec, b.SamplesPerSec)
		}) || !slices.EqualFunc(m.Epochs, again.Epochs, func(a, b EpochRow) bool {
			return a.Step == b.Step && a.Epoch == b.Epoch && same(a.TrainLoss, b.TrainLoss) && same(a.TrainAcc, b.TrainAcc) &&
				same(a.ValLoss, b.ValLoss) && same(a.ValAcc, b.ValAcc) && same(a.Seconds, b.Seconds)
		}) {
			t.Fatalf("round trip changed the metrics:\n%v\n%v", m, again)
		}
	})
}

// FuzzReadMetricsParquet feeds mutated metrics Parquet files to the reader. It
// must return an error or metrics and never panic (the decoder's panics are
// recovered and become errors).
func FuzzReadMetricsParquet(f *testing.F) {
	dir := f.TempDir()
	for i, m := range []Metrics{
		{},
		{Steps: []StepRow{{Step: 1, Epoch: 1, Loss: 2, LR: 0.1, SamplesPerSec: math.NaN()}},
			Epochs: []EpochRow{{Epoch: 1, Step: 1, TrainLoss: 1, TrainAcc: 0.5, ValLoss: math.NaN(), ValAcc: math.NaN(), Seconds: 2}}},
	} {
		path := filepath.Join(dir, fmt.Sprintf("seed%d.parquet", i))
		w, err := NewMetricsWriter(path, nil)
		if err != nil {
			f.Fatal(err)
		}
		for _, s := range m.Steps {
			w.WriteStep(s)
		}
		for _, e := range m.Epochs {
			w.WriteEpoch(e)
		}
		if err := w.Close(); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		m, err := readMetricsParquet(bytes.NewReader(b), mem)
		if err == nil && len(m.Steps)+len(m.Epochs) > len(b) {
			t.Fatalf("%d rows from %d bytes", len(m.Steps)+len(m.Epochs), len(b))
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("error spans lines: %q", err)
		}
	})
}
