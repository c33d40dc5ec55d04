package stages

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/sgdpipe/sgdpipe/ops"
)

// FuzzLoadModel feeds LoadModel mutations of real model files (a classifier, a regressor, a binary
// classifier, trained here, and a checkpoint, which LoadModel also reads). LoadModel must return a model
// or an error, never panic; it must not allocate much more than the file holds (a model's parameters
// are in the file, 4 bytes each); its errors are one line naming the file; and a model it returns must
// be usable: as many parameters as its net, an input as wide as its feature spec, an output as wide as
// its task needs (what predict and eval index by), and a forward pass that gives one row of that width.
func FuzzLoadModel(f *testing.F) {
	dir := f.TempDir()
	for i, s := range []struct {
		target, model, activation, optimizer, data string
		dropout                                    float64
		checkpoint                                 bool
	}{
		{"label", "mlp:8,4", "", "sgd", "../testdata/shared/iris.parquet", 0, false},        // classification, 3 classes
		{"petal_width_cm", "linear", "", "sgd", "../testdata/shared/iris.csv", 0, false},    // regression
		{"label", "mlp:4", "", "sgd", "../testdata/shared/breast_cancer.parquet", 0, false}, // binary
		{"label", "mlp:6", "tanh", "adam", "../testdata/shared/iris.parquet", 0.1, true},    // checkpoint (Adam's state, dropout)
	} {
		path := seedModel(f, filepath.Join(dir, strconv.Itoa(i)), s.target, s.data, TrainConfig{
			Model: s.model, Activation: s.activation, Dropout: s.dropout, Optimizer: s.optimizer}, s.checkpoint)
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "m.safetensors")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m, err := LoadModel(path)
		runtime.ReadMemStats(&after)
		// Reading the file, its header and metadata (JSON), and copying the parameters out: a few times
		// the file; a model that needs more than the file holds must be refused before its vector is made.
		if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(16<<20+64*len(data)); got > limit {
			t.Fatalf("LoadModel of a %d-byte file allocated %d bytes (limit %d); error: %v", len(data), got, limit, err)
		}
		if err != nil {
			if msg := err.Error(); !strings.Contains(msg, path) || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("error is not one line naming the file: %q", msg)
			}
			return
		}
		if got, want := len(m.Params), m.Net.NumParams(); got != want {
			t.Fatalf("loaded %d parameters for a net of %d", got, want)
		}
		if got, want := m.Net.InDim(), m.Features.Dim; got != want {
			t.Fatalf("net input width %d, feature spec %d", got, want)
		}
		if out, err := outputs(m.Features); err != nil || out != m.Net.OutDim() {
			t.Fatalf("net output width %d, the feature spec's task %q needs %d (%v)", m.Net.OutDim(), m.Features.Task, out, err)
		}
		in := m.Net.InDim()
		ws := m.Net.NewWorkspace(1)
		y := m.Net.Forward(ws, m.Params, ops.Matrix{Rows: 1, Cols: in, Stride: in, Data: make([]float32, in)}, false, 0)
		if y.Rows != 1 || y.Cols != m.Net.OutDim() {
			t.Fatalf("forward pass gave %dx%d, want 1x%d", y.Rows, y.Cols, m.Net.OutDim())
		}
	})
}

// seedModel trains a small model of target on data for two epochs, with c's model, activation, dropout
// and optimizer, and returns the path of its model file, or of its checkpoint when checkpoint is set.
func seedModel(f *testing.F, dir, target, data string, c TrainConfig, checkpoint bool) string {
	f.Helper()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	c.LR, c.Workers = 0.05, 1
	c.Data.Paths = []string{data}
	c.Data.Feature.Target = target
	c.Data.Seed, c.Data.Epochs, c.Data.Batch = 7, 2, 16
	c.Data.Readers, c.Data.Normalizers, c.Data.Mem = 1, 1, mem
	if checkpoint {
		c.CheckpointDir = dir
	}
	res, err := Train(context.Background(), c)
	if err != nil {
		f.Fatalf("training the seed model %s of %s: %v", c.Model, data, err)
	}
	if got := mem.CurrentAlloc(); got != 0 {
		f.Fatalf("training the seed model %s of %s left %d bytes allocated", c.Model, data, got)
	}
	if checkpoint {
		return filepath.Join(dir, CheckpointFile)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(dir, "model.safetensors")
	if err := res.Model.Save(path); err != nil {
		f.Fatal(err)
	}
	return path
}
