package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// coarseClock is longer than the kernel's file-time granularity (a clock tick), so that a write after it
// gets another modification time.
const coarseClock = 30 * time.Millisecond

// TestReadShardNoticesChange changes a file between Open and ReadShard (or during the read) in every way
// a run can meet: the read must fail with a ShardError naming the file, never return other data.
func TestReadShardNoticesChange(t *testing.T) {
	formats := []struct {
		name  string
		write func(t *testing.T, path string)
	}{
		{"d.parquet", func(t *testing.T, p string) { writeParquetFixture(t, p, 1000, 250, compress.Codecs.Snappy) }},
		{"d.arrow", func(t *testing.T, p string) { writeIPCFixture(t, p, 1000, 250, false) }},
		{"d.csv", func(t *testing.T, p string) {
			var b strings.Builder
			b.WriteString("id,x\n")
			for i := range 1000 {
				fmt.Fprintf(&b, "%d,%d.5\n", i, i)
			}
			writeFile(t, p, b.String())
		}},
	}
	changes := []struct {
		name   string
		during bool // change the file after the first record of the read, not before the read
		change func(t *testing.T, path string)
		want   string
	}{
		{name: "rewritten in place, same size", change: flipMiddle, want: "was modified since it was opened"},
		{name: "truncated", change: func(t *testing.T, p string) { truncateHalf(t, p) }, want: "changed since it was opened (size"},
		{name: "appended to", change: appendJunk, want: "changed since it was opened (size"},
		{name: "replaced by a copy (rename)", change: replaceByCopy, want: "was replaced by another file"},
		{name: "deleted", change: func(t *testing.T, p string) { must(t, os.Remove(p)) }, want: "no such file"},
		{name: "rewritten while read", during: true, change: flipMiddle, want: "while it was read"},
		{name: "truncated while read", during: true, change: func(t *testing.T, p string) { truncateHalf(t, p) }, want: "while it was read"},
	}
	for _, f := range formats {
		for _, c := range changes {
			t.Run(f.name+"/"+c.name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), f.name)
				f.write(t, path)
				mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
				defer mem.AssertSize(t, 0)
				d, err := Open([]string{path}, Options{Mem: mem, BatchRows: 50, CSV: CSVOptions{ChunkRows: 250}})
				must(t, err)
				defer d.Close()
				time.Sleep(coarseClock)
				if !c.during {
					c.change(t, path)
				}
				n := 0
				err = d.ReadShard(context.Background(), 1, nil, func(rec arrow.RecordBatch) error {
					rec.Release()
					if n++; n == 1 && c.during {
						c.change(t, path)
					}
					return nil
				})
				var se *ShardError
				switch {
				case err == nil:
					t.Fatal("ReadShard succeeded on a changed file")
				case !errors.As(err, &se):
					t.Fatalf("error %q (%T) is not a *ShardError", err, err)
				case se.Shard != 1 || se.Path != path:
					t.Errorf("ShardError names shard %d of %s, want shard 1 of %s", se.Shard, se.Path, path)
				}
				msg := err.Error()
				if !strings.HasPrefix(msg, path) || !strings.Contains(msg, c.want) || strings.ContainsAny(msg, "\r\n") {
					t.Errorf("error %q: want one line starting with the path and containing %q", msg, c.want)
				}
			})
		}
	}
}

// TestReadShardUnchangedFile checks that reading the same file twice, and touching nothing, passes the
// change checks (no false alarm).
func TestReadShardUnchangedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.parquet")
	writeParquetFixture(t, path, 1000, 250, compress.Codecs.Zstd)
	d, err := Open([]string{path}, Options{})
	must(t, err)
	for range 2 {
		rows, _ := collect(t, d, nil)
		if rows != 1000 {
			t.Fatalf("read %d rows, want 1000", rows)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// flipMiddle rewrites the middle bytes of a file in place (same size, new modification time).
func flipMiddle(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	for i := len(b) / 3; i < 2*len(b)/3; i++ {
		b[i] ^= 0x5a
	}
	must(t, os.WriteFile(path, b, 0o644))
}

func truncateHalf(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	must(t, err)
	must(t, os.Truncate(path, st.Size()/2))
}

func appendJunk(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteString("junk")
	must(t, err)
	must(t, f.Close())
}

// replaceByCopy renames a byte-identical copy over the file: same size and content, another file.
func replaceByCopy(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	st, err := os.Stat(path)
	must(t, err)
	tmp := path + ".new"
	must(t, os.WriteFile(tmp, b, 0o644))
	must(t, os.Chtimes(tmp, st.ModTime(), st.ModTime())) // only the identity differs
	must(t, os.Rename(tmp, path))
}

// TestShardErrorOfCorruptShard corrupts the data of one row group: its read fails with a ShardError
// naming that shard, and the others read.
func TestShardErrorOfCorruptShard(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.parquet")
	writeParquetFixture(t, path, 1000, 250, compress.Codecs.Uncompressed)
	corruptRowGroup(t, path, 2)
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	d, err := Open([]string{path}, Options{Mem: mem})
	must(t, err)
	for i := range d.Shards {
		err := d.ReadShard(context.Background(), i, nil, func(rec arrow.RecordBatch) error { rec.Release(); return nil })
		var se *ShardError
		switch {
		case i != 2 && err != nil:
			t.Errorf("shard %d: %v", i, err)
		case i == 2 && !errors.As(err, &se):
			t.Errorf("shard 2: error %v (%T), want a *ShardError", err, err)
		case i == 2 && (se.Shard != 2 || !strings.HasPrefix(err.Error(), path+" shard 2")):
			t.Errorf("shard 2: ShardError %+v, message %q", se, err)
		}
	}
}

// corruptRowGroup overwrites the first bytes of the first column chunk of row group rg with garbage,
// leaving the footer intact.
func corruptRowGroup(t *testing.T, path string, rg int) {
	t.Helper()
	r, err := file.OpenParquetFile(path, false)
	must(t, err)
	cc, err := r.MetaData().RowGroup(rg).ColumnChunk(0)
	must(t, err)
	off := cc.DataPageOffset()
	if dp := cc.DictionaryPageOffset(); dp > 0 && dp < off {
		off = dp
	}
	r.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	must(t, err)
	_, err = f.WriteAt([]byte{0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 0xff, 0x7f}, off)
	must(t, err)
	must(t, f.Close())
}

// TestWithout leaves shards out of a two-file dataset and checks the counts, the renumbered rows and that
// every remaining shard reads its own rows.
func TestWithout(t *testing.T) {
	dir := t.TempDir()
	writeParquetFixture(t, filepath.Join(dir, "a.parquet"), 1000, 250, compress.Codecs.Snappy) // shards 0-3
	writeParquetFixture(t, filepath.Join(dir, "b.parquet"), 500, 250, compress.Codecs.Snappy)  // shards 4-5
	d, err := Open([]string{dir}, Options{})
	must(t, err)
	tests := []struct {
		name      string
		drop      []int
		rows      int64
		fileRows  []int64
		fileShard []int
		firstIDs  []int64 // value of column id in each remaining shard's first row
	}{
		{"none", nil, 1500, []int64{1000, 500}, []int{4, 2}, []int64{0, 250, 500, 750, 0, 250}},
		{"one in the middle", []int{1}, 1250, []int64{750, 500}, []int{3, 2}, []int64{0, 500, 750, 0, 250}},
		{"repeats and out of range ignored", []int{5, 5, -1, 99, 0}, 1000, []int64{750, 250}, []int{3, 1}, []int64{250, 500, 750, 0}},
		{"a whole file", []int{4, 5}, 1000, []int64{1000, 0}, []int{4, 0}, []int64{0, 250, 500, 750}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := d.Without(tc.drop)
			if w.Rows != tc.rows || len(w.Shards) != len(tc.firstIDs) {
				t.Fatalf("rows %d shards %d, want %d and %d", w.Rows, len(w.Shards), tc.rows, len(tc.firstIDs))
			}
			var first int64
			for i, sh := range w.Shards {
				if sh.First != first {
					t.Errorf("shard %d: First %d, want %d", i, sh.First, first)
				}
				first += sh.Rows
				var got []int64
				must(t, w.ReadShard(context.Background(), i, []int{0}, func(rec arrow.RecordBatch) error {
					got = append(got, rec.Column(0).(*array.Int64).Value(0))
					rec.Release()
					return nil
				}))
				if got[0] != tc.firstIDs[i] {
					t.Errorf("shard %d starts with id %d, want %d", i, got[0], tc.firstIDs[i])
				}
			}
			for i, f := range w.Files {
				if f.Rows != tc.fileRows[i] || f.Shards != tc.fileShard[i] {
					t.Errorf("file %d: %d rows in %d shards, want %d in %d", i, f.Rows, f.Shards, tc.fileRows[i], tc.fileShard[i])
				}
			}
			if d.Rows != 1500 || len(d.Shards) != 6 || d.Files[0].Rows != 1000 {
				t.Error("Without modified the original dataset")
			}
		})
	}
}

// TestOnBadFile opens a directory holding a truncated file, with and without the hook.
func TestOnBadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "a.parquet")
	writeParquetFixture(t, good, 300, 100, compress.Codecs.Snappy)
	bad := filepath.Join(dir, "b.parquet")
	writeParquetFixture(t, bad, 300, 100, compress.Codecs.Snappy)
	truncateHalf(t, bad)
	errStop := errors.New("too many bad files")
	var seen []string
	tests := []struct {
		name  string
		paths []string
		hook  func(path string, err error) error
		rows  int64
		want  string // error substring; "" = success
	}{
		{name: "no hook", paths: []string{dir}, want: bad},
		{name: "skip", paths: []string{dir}, rows: 300, hook: func(p string, err error) error {
			seen = append(seen, p+": "+err.Error())
			return nil
		}},
		{name: "hook refuses", paths: []string{dir}, want: errStop.Error(), hook: func(string, error) error { return errStop }},
		{name: "every file bad", paths: []string{bad}, want: "no readable data files: all 1 were left out",
			hook: func(string, error) error { return nil }},
		{name: "missing file is not bad", paths: []string{filepath.Join(dir, "none.parquet")}, want: "no such file",
			hook: func(string, error) error { return nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen = nil
			d, err := Open(tc.paths, Options{OnBadFile: tc.hook})
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want one containing %q", err, tc.want)
				}
				return
			}
			must(t, err)
			if d.Rows != tc.rows || len(d.Files) != 1 || d.Files[0].Path != good {
				t.Errorf("dataset of %d rows, files %v; want %d rows of %s", d.Rows, d.Files, tc.rows, good)
			}
			if len(seen) != 1 || !strings.HasPrefix(seen[0], bad+": "+bad) {
				t.Errorf("hook calls %q, want one naming %s with its error", seen, bad)
			}
		})
	}
}
