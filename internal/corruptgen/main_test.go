package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReproducible generates twice and compares the bytes, and checks the committed
// testdata/corrupt against the generator.
func TestReproducible(t *testing.T) {
	a, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) || len(a) < 60 {
		t.Fatalf("%d and %d cases", len(a), len(b))
	}
	names := map[string]bool{}
	for i := range a {
		if a[i].Name != b[i].Name || !bytes.Equal(a[i].data, b[i].data) {
			t.Errorf("case %d (%s) differs between runs", i, a[i].Name)
		}
		if names[a[i].Name] {
			t.Errorf("two cases named %s", a[i].Name)
		}
		names[a[i].Name] = true
	}
	dir := t.TempDir()
	if err := run([]string{"-out", dir}, io.Discard); err != nil {
		t.Fatal(err)
	}
	committed := filepath.Join("..", "..", "testdata", "corrupt")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		want, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		got, err := os.ReadFile(filepath.Join(committed, e.Name()))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("testdata/corrupt/%s is not what the generator writes (%v): run go generate ./internal/corruptgen", e.Name(), err)
		}
	}
	if got, _ := os.ReadDir(committed); len(got) != len(entries) {
		t.Errorf("testdata/corrupt has %d files, the generator writes %d", len(got), len(entries))
	}
}

// TestCases checks the clean files and the kinds of corruption the manifest promises.
func TestCases(t *testing.T) {
	cases, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, c := range cases {
		ext := filepath.Ext(c.Name)
		for _, kind := range []string{"clean", "truncated", "magic", "footer-flip", "pageheader", "message-flip", "typelie", "zero", "schema-only", "nulls"} {
			if strings.Contains(c.Name, kind) {
				count[kind+ext]++
			}
		}
		switch c.Expect {
		case Train, Fail, Either:
		default:
			t.Errorf("%s: unknown expectation %q", c.Name, c.Expect)
		}
	}
	for _, want := range []string{"clean.parquet", "clean.arrow", "clean.arrows", "truncated.parquet", "truncated.arrow", "truncated.arrows",
		"magic.parquet", "magic.arrow", "footer-flip.parquet", "footer-flip.arrow", "pageheader.parquet", "message-flip.arrow",
		"message-flip.arrows", "typelie.parquet", "typelie.arrow", "typelie.arrows", "zero.parquet", "zero.arrow", "schema-only.arrows",
		"nulls.parquet", "nulls.arrow"} {
		if count[want] == 0 {
			t.Errorf("no %s case", want)
		}
	}
}

func TestRunArgs(t *testing.T) {
	if err := run([]string{"extra"}, io.Discard); err == nil || !strings.Contains(err.Error(), "unexpected argument") {
		t.Errorf("err = %v", err)
	}
}
