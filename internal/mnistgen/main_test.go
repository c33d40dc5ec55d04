package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// TestReproducible regenerates both files and checks they are byte-identical to the committed ones, so the
// generator is deterministic and testdata/mnist is what it produces.
func TestReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerates 15 MB of Parquet")
	}
	out := t.TempDir()
	var log bytes.Buffer
	if err := run([]string{"-out", out}, &log); err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	for _, s := range sets {
		got, err := os.ReadFile(filepath.Join(out, s.out))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("..", "..", "testdata", "mnist", s.out))
		if err != nil {
			t.Fatalf("committed file: %v (run go generate ./internal/mnistgen)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: regenerated file (%d bytes) differs from testdata/mnist/%s (%d bytes)", s.out, len(got), s.out, len(want))
		}
	}
}

// TestCommittedFiles reads the committed files back and checks their schema, row groups and a few known values.
func TestCommittedFiles(t *testing.T) {
	tests := []struct {
		name      string
		rows      int64
		rowGroups int
		label0    uint8 // label of the first image
		labelLast uint8
	}{
		{"train.parquet", 60000, 6, 5, 8},
		{"test.parquet", 10000, 1, 7, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			pf, err := file.OpenParquetFile(filepath.Join("..", "..", "testdata", "mnist", tc.name), false)
			if err != nil {
				t.Fatal(err)
			}
			defer pf.Close()
			if got := pf.NumRows(); got != tc.rows {
				t.Errorf("rows = %d, want %d", got, tc.rows)
			}
			if got := pf.NumRowGroups(); got != tc.rowGroups {
				t.Errorf("row groups = %d, want %d", got, tc.rowGroups)
			}
			fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 4096}, mem)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := fr.Schema()
			if err != nil {
				t.Fatal(err)
			}
			if sc.NumFields() != 2 || sc.Field(0).Name != "pixels" || sc.Field(1).Name != "label" {
				t.Fatalf("schema = %v, want pixels, label", sc)
			}
			if fl, ok := sc.Field(0).Type.(*arrow.FixedSizeListType); !ok || fl.Len() != Pixels || fl.Elem().ID() != arrow.UINT8 {
				t.Errorf("pixels type = %v, want fixed_size_list<uint8>[784]", sc.Field(0).Type)
			}
			if sc.Field(1).Type.ID() != arrow.UINT8 {
				t.Errorf("label type = %v, want uint8", sc.Field(1).Type)
			}
			if v, _ := sc.Metadata().GetValue("class_names"); v != "0,1,2,3,4,5,6,7,8,9" {
				t.Errorf("class_names = %q", v)
			}
			tbl, err := fr.ReadTable(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer tbl.Release()
			labels := tbl.Column(1).Data().Chunks()
			first := labels[0].(*array.Uint8).Value(0)
			lastChunk := labels[len(labels)-1].(*array.Uint8)
			last := lastChunk.Value(lastChunk.Len() - 1)
			if first != tc.label0 || last != tc.labelLast {
				t.Errorf("first/last label = %d/%d, want %d/%d", first, last, tc.label0, tc.labelLast)
			}
			var counts [10]int64
			var pixelSum uint64
			for _, c := range labels {
				for _, v := range c.(*array.Uint8).Uint8Values() {
					counts[v]++
				}
			}
			for _, c := range tbl.Column(0).Data().Chunks() {
				fl := c.(*array.FixedSizeList)
				if fl.DataType().(*arrow.FixedSizeListType).Len() != Pixels {
					t.Fatalf("pixels list size = %v", fl.DataType())
				}
				for _, v := range fl.ListValues().(*array.Uint8).Uint8Values() {
					pixelSum += uint64(v)
				}
			}
			var total int64
			for _, c := range counts {
				if c == 0 {
					t.Errorf("label counts %v: a digit is missing", counts)
				}
				total += c
			}
			if total != tc.rows {
				t.Errorf("labels counted = %d, want %d", total, tc.rows)
			}
			// MNIST's mean intensity is about 33.3 of 255 in both sets.
			if mean := float64(pixelSum) / float64(tc.rows*Pixels); mean < 32 || mean > 35 {
				t.Errorf("mean pixel = %.2f, want about 33.3", mean)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing data folder", []string{"-data", "does-not-exist", "-out", "OUT"}, "reading does-not-exist/train-images-idx3-ubyte.gz"},
		{"stray argument", []string{"extra"}, `unexpected argument "extra"`},
		{"bad flag", []string{"-nope"}, "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			for i, a := range args {
				if a == "OUT" {
					args[i] = t.TempDir()
				}
			}
			var log bytes.Buffer
			err := run(args, &log)
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
