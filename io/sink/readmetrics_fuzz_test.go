package sink

import (
	"bytes"
	"math"
	"path/filepath"
	"slices"
	"testing"
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
