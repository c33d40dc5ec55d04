package stages

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestModelFileIsPlainSafetensors reads a saved model with a tiny reader written from the safetensors
// format description alone (8-byte little-endian header length, JSON header, raw little-endian data),
// as PyTorch's safetensors loader would, and checks names, dtypes, shapes, offsets and values against
// the model's layout.
func TestModelFileIsPlainSafetensors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	c := trainCfg(t, mem, "label", "../testdata/shared/iris.parquet")
	c.Model, c.Data.Epochs = "mlp:8,4", 2
	res, err := Train(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := res.Model.Save(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(raw[:8])
	if n%8 != 0 || 8+n > uint64(len(raw)) {
		t.Fatalf("header length %d (file %d bytes)", n, len(raw))
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &header); err != nil {
		t.Fatalf("header is not JSON: %v", err)
	}
	data := raw[8+n:]
	var meta map[string]string
	if err := json.Unmarshal(header["__metadata__"], &meta); err != nil {
		t.Fatalf("__metadata__: %v", err)
	}
	for _, k := range []string{"sgdpipe.format", "sgdpipe.model", "sgdpipe.features", "sgdpipe.loss"} {
		if meta[k] == "" {
			t.Errorf("metadata %s missing", k)
		}
	}
	lay := res.Model.Net.Layout()
	if len(header)-1 != len(lay.Tensors) {
		t.Fatalf("%d tensors in the file, %d in the model", len(header)-1, len(lay.Tensors))
	}
	type span struct{ begin, end uint64 }
	var spans []span
	for _, ti := range lay.Tensors {
		var e struct {
			Dtype   string   `json:"dtype"`
			Shape   []int    `json:"shape"`
			Offsets []uint64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(header[ti.Name], &e); err != nil {
			t.Fatalf("tensor %q: %v", ti.Name, err)
		}
		if e.Dtype != "F32" || len(e.Shape) != len(ti.Shape) || len(e.Offsets) != 2 {
			t.Fatalf("tensor %q: dtype %s shape %v, want F32 %v", ti.Name, e.Dtype, e.Shape, ti.Shape)
		}
		for i := range e.Shape {
			if e.Shape[i] != ti.Shape[i] {
				t.Fatalf("tensor %q: shape %v, want %v", ti.Name, e.Shape, ti.Shape)
			}
		}
		if e.Offsets[1]-e.Offsets[0] != uint64(4*ti.Size) || e.Offsets[1] > uint64(len(data)) {
			t.Fatalf("tensor %q: offsets %v for %d values", ti.Name, e.Offsets, ti.Size)
		}
		want := ti.Of(res.Model.Params)
		for i := range ti.Size {
			got := math.Float32frombits(binary.LittleEndian.Uint32(data[e.Offsets[0]+uint64(4*i):]))
			if got != want[i] {
				t.Fatalf("tensor %q value %d: %v, want %v", ti.Name, i, got, want[i])
			}
		}
		spans = append(spans, span{e.Offsets[0], e.Offsets[1]})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].begin < spans[j].begin })
	var at uint64
	for _, s := range spans {
		if s.begin != at {
			t.Fatalf("data has a hole or overlap at byte %d", at)
		}
		at = s.end
	}
	if at != uint64(len(data)) {
		t.Fatalf("data is %d bytes, tensors cover %d", len(data), at)
	}

	// The file loads back into the same model.
	m, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range m.Params {
		if p != res.Model.Params[i] {
			t.Fatal("loaded parameters differ")
		}
	}
}

// TestEvalAgreesWithValidation checks that `pipe eval` on the validation files reports exactly what
// training's validation pass reported for the final parameters.
func TestEvalAgreesWithValidation(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	c := trainCfg(t, mem, "label", "../testdata/shared/iris.parquet")
	c.Model, c.Data.Epochs = "mlp:8", 5
	c.Val = []string{"../testdata/shared/iris.csv"}
	res, err := Train(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	val := res.Epochs[len(res.Epochs)-1].Val
	ev, err := Evaluate(context.Background(), res.Model, EvalConfig{Paths: c.Val, Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Rows != val.Rows || ev.Loss != val.Loss || ev.Accuracy != val.Accuracy {
		t.Fatalf("eval rows %d loss %v acc %v; validation rows %d loss %v acc %v", ev.Rows, ev.Loss, ev.Accuracy, val.Rows, val.Loss, val.Accuracy)
	}
}

// TestStalenessTrains checks bounded-staleness asynchronous training: workers may use parameters up to S
// versions old, the reported staleness respects the bound and is sometimes > 0, and the model still
// learns as well as the synchronous run.
func TestStalenessTrains(t *testing.T) {
	path := writeBlobs(t, 3000, 400)
	acc := map[int]float64{}
	for _, s := range []int{0, 2} {
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		c := blobCfg(t, mem, path)
		c.Staleness, c.Workers, c.Dropout = s, 2, 0
		c.MicroBatch = 8
		c.Data.Epochs = 3
		c.ValSplit = 0.2
		var maxStale int64
		c.OnStep = func(si StepInfo) { maxStale = max(maxStale, si.Staleness) }
		res, err := Train(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		mem.AssertSize(t, 0)
		if maxStale > int64(s) {
			t.Errorf("staleness %d observed with bound %d", maxStale, s)
		}
		acc[s] = res.Epochs[len(res.Epochs)-1].Val.Accuracy
		t.Logf("staleness bound %d: max observed %d, held-out accuracy %.4f", s, maxStale, acc[s])
	}
	if acc[2] < acc[0]-0.02 {
		t.Errorf("asynchronous accuracy %.4f is more than 2 points below synchronous %.4f", acc[2], acc[0])
	}
}

func TestCheckpointClearsStaleTemps(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	stale := filepath.Join(dir, "."+CheckpointFile+".tmp-12345")
	if err := os.WriteFile(stale, []byte("half a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := trainCfg(t, mem, "label", "../testdata/shared/iris.parquet")
	c.Model, c.Data.Epochs, c.CheckpointDir = "linear", 2, dir
	if _, err := Train(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("a killed write's temporary file is still there")
	}
	if _, err := loadCheckpoint(dir); err != nil {
		t.Fatal(err)
	}
}
