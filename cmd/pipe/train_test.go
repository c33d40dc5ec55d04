package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sgdpipe/sgdpipe/io/source"
)

const shared = "../../testdata/shared/"

// readColumn reads one column of a data file as strings, in file order.
func readColumn(t *testing.T, path, col string) []string {
	t.Helper()
	ds, err := source.Open([]string{path}, source.Options{Mem: memory.DefaultAllocator})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	idx, err := ds.ColumnIndex(col)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := range ds.Shards {
		err := ds.ReadShard(context.Background(), i, []int{idx}, func(rec arrow.RecordBatch) error {
			defer rec.Release()
			c := rec.Column(0)
			for r := range c.Len() {
				out = append(out, c.ValueStr(r))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestTrainEvalPredict(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "iris.safetensors")
	metrics := filepath.Join(dir, "metrics.csv")
	plot := filepath.Join(dir, "curves.png")
	code, stdout, stderr := runPipe(t, "train", "--data", shared+"iris.parquet", "--target", "label",
		"--model", "mlp:16", "--optimizer", "adam", "--lr", "0.01", "--epochs", "60", "--batch", "16",
		"--val-split", "0.2", "--shuffle", "full", "--out", model, "--metrics", metrics, "--plot", plot, "--no-progress")
	if code != exitOK {
		t.Fatalf("train: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"model written to", "bottleneck", "hint:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("train output lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range []string{model, metrics, plot} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}

	code, stdout, stderr = runPipe(t, "eval", "--model", model, "--data", shared+"iris.csv", "--json")
	if code != exitOK {
		t.Fatalf("eval: exit %d\n%s", code, stderr)
	}
	var ev struct {
		Rows      int64
		Loss      float64
		Accuracy  float64
		Confusion [][]int64
	}
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatalf("eval --json: %v\n%s", err, stdout)
	}
	if ev.Rows != 150 || ev.Accuracy < 0.9 || len(ev.Confusion) != 3 {
		t.Errorf("eval: rows %d accuracy %.3f confusion %v", ev.Rows, ev.Accuracy, ev.Confusion)
	}
	code, stdout, _ = runPipe(t, "eval", "--model", model, "--data", shared+"iris.arrow")
	if code != exitOK || !strings.Contains(stdout, "confusion matrix") || !strings.Contains(stdout, "precision") {
		t.Errorf("eval text output:\n%s", stdout)
	}

	preds := filepath.Join(dir, "preds.parquet")
	code, stdout, stderr = runPipe(t, "predict", "--model", model, "--data", shared+"iris.arrow", "--out", preds, "--keep", "label")
	if code != exitOK {
		t.Fatalf("predict: exit %d\n%s", code, stderr)
	}
	labels := readColumn(t, preds, "label")
	want := readColumn(t, shared+"iris.arrow", "label")
	if strings.Join(labels, ",") != strings.Join(want, ",") {
		t.Fatal("predictions are not in input order (kept label column differs)")
	}
	pred := readColumn(t, preds, "prediction")
	agree := 0
	for i := range pred {
		if pred[i] == want[i] {
			agree++
		}
	}
	if got := float64(agree) / float64(len(pred)); got != ev.Accuracy {
		t.Errorf("predictions agree with labels on %.4f of rows, eval says accuracy %.4f", got, ev.Accuracy)
	}
	for _, c := range []string{"prob_0", "prob_1", "prob_2"} {
		if len(readColumn(t, preds, c)) != 150 {
			t.Errorf("column %s missing or short", c)
		}
	}
}

func TestTrainBadInput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "keep.safetensors")
	if err := os.WriteFile(out, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"missing target column", []string{"train", "--data", shared + "iris.parquet", "--target", "species"}, exitRuntime, `"species"`},
		{"no target", []string{"train", "--data", shared + "iris.parquet"}, exitUsage, "--target"},
		{"unknown optimizer", []string{"train", "--data", shared + "iris.parquet", "--target", "label", "--optimizer", "adamz"}, exitUsage, "--optimizer"},
		{"bad model", []string{"train", "--data", shared + "iris.parquet", "--target", "label", "--model", "mlp:0"}, exitUsage, "--model"},
		{"bad shuffle", []string{"train", "--data", shared + "iris.parquet", "--target", "label", "--shuffle", "random"}, exitUsage, "--shuffle"},
		{"negative lr", []string{"train", "--data", shared + "iris.parquet", "--target", "label", "--lr", "-1"}, exitUsage, "--lr"},
		{"bad schedule", []string{"train", "--data", shared + "iris.parquet", "--target", "label", "--schedule", "zigzag"}, exitUsage, "--schedule"},
		{"missing data file", []string{"train", "--data", "nope.parquet", "--target", "label"}, exitRuntime, "nope.parquet"},
		{"eval without model", []string{"eval", "--data", shared + "iris.csv"}, exitUsage, "--model"},
		{"eval model not found", []string{"eval", "--model", filepath.Join(dir, "none.safetensors"), "--data", shared + "iris.csv"}, exitRuntime, "none.safetensors"},
		{"eval not a model", []string{"eval", "--model", out, "--data", shared + "iris.csv"}, exitRuntime, "keep.safetensors"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "--out", out)
			if tc.args[0] != "train" {
				args = tc.args
			}
			code, stdout, stderr := runPipe(t, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			first := strings.SplitN(strings.TrimSpace(stderr), "\n", 2)[0]
			if !strings.HasPrefix(first, "pipe: ") || !strings.Contains(first, tc.stderr) {
				t.Errorf("first stderr line %q does not name %q", first, tc.stderr)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Errorf("stderr shows a panic:\n%s", stderr)
			}
			if b, _ := os.ReadFile(out); string(b) != "precious" {
				t.Error("the existing --out file was overwritten")
			}
		})
	}
}

func TestPredictRefusesOtherFeatureSchema(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "bc.safetensors")
	code, _, stderr := runPipe(t, "train", "--data", shared+"breast_cancer.parquet", "--target", "label", "--model", "linear",
		"--epochs", "1", "--out", model, "--no-progress")
	if code != exitOK {
		t.Fatalf("train: %s", stderr)
	}
	preds := filepath.Join(dir, "preds.parquet")
	if err := os.WriteFile(preds, []byte("old predictions"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runPipe(t, "predict", "--model", model, "--data", shared+"iris.parquet", "--out", preds)
	if code != exitRuntime {
		t.Fatalf("exit %d, want 1: %s", code, stderr)
	}
	if !strings.Contains(stderr, "mean_radius") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("error should be one line naming the missing column: %q", stderr)
	}
	if b, _ := os.ReadFile(preds); string(b) != "old predictions" {
		t.Error("predict overwrote the existing output after an error")
	}
}

// TestInterruptExits130 runs the real binary, sends SIGINT mid-training, and checks that pipe exits
// with code 130 within 2 seconds after writing a checkpoint.
func TestInterruptExits130(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the pipe binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "pipe")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ckpt := filepath.Join(dir, "ckpt")
	cmd := exec.Command(bin, "train", "--data", "../../testdata/mnist/test.parquet", "--target", "label",
		"--epochs", "500", "--checkpoint", ckpt, "--out", filepath.Join(dir, "m.safetensors"), "--shuffle-buffer", "1000")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until training steps are running (the first epoch is done: 500 take half a minute or more).
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(stderr.String(), "epoch done") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("pipe did not exit 10 s after SIGINT\n%s", stderr.String())
	}
	took := time.Since(sent)
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("exit code %d, want 130\n%s", code, stderr.String())
	}
	t.Logf("exited %v after SIGINT", took)
	if took > 2*time.Second {
		t.Errorf("took %v to exit after SIGINT, want < 2 s", took)
	}
	if _, err := os.Stat(filepath.Join(ckpt, "checkpoint.safetensors")); err != nil {
		t.Errorf("no checkpoint after SIGINT: %v", err)
	}
	if !strings.Contains(stderr.String(), "--resume") {
		t.Errorf("message does not say how to resume:\n%s", stderr.String())
	}
}

func TestSkipBadShards(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(shared + "iris.parquet")
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"a.parquet": good, "b.parquet": good, "c.parquet": good[:len(good)/2]} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "m.safetensors")
	code, _, stderr := runPipe(t, "train", "--data", dir, "--target", "label", "--epochs", "2", "--out", out)
	if code != exitRuntime || !strings.Contains(stderr, "c.parquet") {
		t.Fatalf("default: exit %d, %s; want 1 naming c.parquet", code, stderr)
	}
	code, stdout, stderr := runPipe(t, "train", "--data", dir, "--target", "label", "--epochs", "2", "--out", out, "--skip-bad-shards", "1")
	if code != exitOK {
		t.Fatalf("--skip-bad-shards 1: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "left out (--skip-bad-shards 1): 1 part(s)") || !strings.Contains(stdout, "c.parquet") {
		t.Errorf("the report does not count the bad file:\n%s", stdout)
	}
}
