package stages

import (
	"context"
	"encoding/json"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sgdpipe/sgdpipe/io/safetensors"
	"github.com/sgdpipe/sgdpipe/stages/feature"
)

// TestLoadModelLyingMetadata rewrites the metadata of a real model file so that it no
// longer matches its tensors or itself: LoadModel refuses each with one line naming the
// mismatch, and a metadata that claims a huge layer does not make it allocate for it.
func TestLoadModelLyingMetadata(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	c := trainCfg(t, mem, "label", "../testdata/shared/iris.parquet")
	c.Model, c.Data.Epochs = "mlp:8,4", 1
	res, err := Train(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	orig := filepath.Join(dir, "m.safetensors")
	if err := res.Model.Save(orig); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	var tensors []safetensors.Tensor
	for _, name := range f.Names() {
		tt, err := f.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		tensors = append(tensors, tt)
	}
	rewrite := func(edit func(meta map[string]string)) string {
		meta := f.Metadata()
		edit(meta)
		p := filepath.Join(dir, "edited.safetensors")
		if err := safetensors.WriteFile(p, tensors, meta); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, want string
		edit       func(meta map[string]string)
	}{
		{"huge first layer", `tensor "0.weight" has 32 values, the model needs 4194304`, func(meta map[string]string) {
			meta[metaModel] = strings.Replace(meta[metaModel], `"units":8`, `"units":1048576`, 1)
		}},
		{"fewer classes than outputs", "output width 3 does not match the feature spec", func(meta map[string]string) {
			var fs feature.Spec
			if err := json.Unmarshal([]byte(meta[metaFeatures]), &fs); err != nil {
				t.Fatal(err)
			}
			fs.Classes = fs.Classes[:2]
			b, err := json.Marshal(&fs)
			if err != nil {
				t.Fatal(err)
			}
			meta[metaFeatures] = string(b)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := rewrite(tc.edit)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := LoadModel(p)
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line containing %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("the error does not name the file: %v", err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
				t.Errorf("LoadModel allocated %d bytes for a %d-tensor file", got, len(tensors))
			}
		})
	}
}
