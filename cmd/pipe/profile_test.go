package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProfiles trains with --cpu-profile and --mem-profile and checks that both files
// are pprof profiles (gzip-compressed protocol buffers); a profile path that cannot be
// created is a usage error naming the flag.
func TestProfiles(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof")
	code, stdout, stderr := runPipe(t, "train", "--data", shared+"iris.parquet", "--target", "label", "--epochs", "2",
		"--model", "mlp:8", "--out", filepath.Join(dir, "m.safetensors"), "--no-progress", "--log-level", "error",
		"--cpu-profile", cpu, "--mem-profile", mem)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, p := range []string{cpu, mem} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			t.Errorf("%s: not a gzip-compressed profile (%d bytes)", p, len(b))
		}
	}
	code, _, stderr = runPipe(t, "train", "--data", shared+"iris.parquet", "--target", "label", "--epochs", "1",
		"--out", filepath.Join(dir, "m2.safetensors"), "--no-progress", "--cpu-profile", filepath.Join(dir, "no", "such", "dir", "cpu.pprof"))
	if code != exitUsage || !strings.Contains(stderr, "--cpu-profile") {
		t.Errorf("unwritable --cpu-profile: exit %d, stderr %q; want %d naming the flag", code, stderr, exitUsage)
	}
}
