package source

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// robustnessDir is the corpus of parquet-testing and arrow-testing files, many malformed on purpose.
var robustnessDir = filepath.Join("..", "..", "testdata", "robustness")

// folderFormat forces the format of the fuzz folders, whose files have no extension.
var folderFormat = map[string]Format{
	"csv-fuzz":        CSV,
	"ipc-stream-fuzz": IPCStream,
	"ipc-file-fuzz":   IPCFile,
	"parquet-fuzz":    Parquet,
}

// notData are files of the corpus that are documentation or expected values, not inputs.
func notData(name string) bool {
	return strings.HasSuffix(name, ".md") || strings.HasSuffix(name, ".txt") || strings.HasSuffix(name, ".json.gz")
}

type outcome struct {
	rows int64
	err  error
}

// readFile opens one file and reads every shard over every column, with a fresh checked allocator.
func readFile(t testing.TB, path string, format Format) outcome {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	d, err := Open([]string{path}, Options{Mem: mem, Format: format})
	if err != nil {
		return outcome{err: err}
	}
	defer d.Close()
	var rows int64
	for i := range d.Shards {
		err := d.ReadShard(context.Background(), i, nil, func(r arrow.RecordBatch) error {
			rows += r.NumRows()
			r.Release()
			return nil
		})
		if err != nil {
			return outcome{rows: rows, err: err}
		}
	}
	return outcome{rows: rows}
}

// expectation is what a folder MANIFEST says of one file.
type expectation struct {
	readable bool
	rows     int64 // -1 if not stated
}

var (
	tableRow    = regexp.MustCompile(`^\| ([^|]+?) \| (\d+) \| (.*)\|$`)
	sectionHead = regexp.MustCompile(`^## (\S+)/`)
)

// loadExpectations parses the per-file tables of the two folder MANIFESTs. parquet-testing has an
// "expected" column; arrow-testing states "Expected: **readable**" per integration folder and rows as
// "rows / batches".
func loadExpectations(t *testing.T) map[string]expectation {
	out := make(map[string]expectation)
	// parquet-testing: | file | bytes | expected | DuckDB | arrow-go | rows | row groups | codec |
	f, err := os.Open(filepath.Join(robustnessDir, "parquet-testing", "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := tableRow.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		cols := strings.Split(m[3], "|")
		if len(cols) < 5 || strings.TrimSpace(cols[0]) != "readable" {
			continue
		}
		rows, err := strconv.ParseInt(strings.TrimSpace(cols[3]), 10, 64)
		if err != nil {
			rows = -1
		}
		out[filepath.Join("parquet-testing", filepath.FromSlash(m[1]))] = expectation{readable: true, rows: rows}
	}
	f.Close()
	// arrow-testing: sections "## integration/<gen>/" then "Expected: **readable**", then
	// | file | bytes | what | JS | arrow-go | rows / batches | sha256 |
	f, err = os.Open(filepath.Join(robustnessDir, "arrow-testing", "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc = bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var section string
	var readable bool
	for sc.Scan() {
		line := sc.Text()
		if m := sectionHead.FindStringSubmatch(line); m != nil {
			section, readable = strings.TrimPrefix(line, "## "), false
			continue
		}
		if strings.Contains(line, "Expected: **readable**") {
			readable = true
		}
		m := tableRow.FindStringSubmatch(line)
		if m == nil || !readable || notData(m[1]) {
			continue
		}
		cols := strings.Split(m[3], "|")
		if len(cols) < 4 {
			continue
		}
		rb := strings.SplitN(strings.TrimSpace(cols[3]), " / ", 2)
		rows, err := strconv.ParseInt(rb[0], 10, 64)
		if err != nil {
			rows = -1
		}
		out[filepath.Join("arrow-testing", filepath.FromSlash(section), m[1])] = expectation{readable: true, rows: rows}
	}
	return out
}

// knownUnreadable lists MANIFEST-"readable" files that arrow-go v18.8.0 itself cannot read (its MANIFEST
// column says so); a clear error is accepted for them.
var knownUnreadable = map[string]string{
	"parquet-testing/datapage_v2_empty_datapage.snappy.parquet": "arrow-go v18.8.0 errors on an empty V2 data page",
}

// manifestRows corrects a rows column of a MANIFEST table that reports the footer's num_rows where the
// file's row group holds more (its detail section says both DuckDB and arrow-go read 6 rows).
var manifestRows = map[string]int64{
	"parquet-testing/repeated_no_annotation.parquet": 6,
}

// TestRobustnessCorpus reads every file of testdata/robustness: each must be read fully or refused with one
// clear error line naming the file, within 10 s, never a panic, never a leak; files the MANIFESTs call
// readable must be read with the rows they state.
func TestRobustnessCorpus(t *testing.T) {
	expect := loadExpectations(t)
	if len(expect) < 50 {
		t.Fatalf("parsed only %d readable entries from the MANIFESTs", len(expect))
	}
	seen := 0
	var read, refused int
	err := filepath.WalkDir(robustnessDir, func(path string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() || notData(de.Name()) {
			return err
		}
		rel, _ := filepath.Rel(robustnessDir, path)
		format := folderFormat[filepath.Base(filepath.Dir(path))]
		done := make(chan outcome, 1)
		start := time.Now()
		go func() { done <- readFile(t, path, format) }()
		var o outcome
		select {
		case o = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: not read or refused within 10 s", rel)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Logf("%s: took %v", rel, d)
		}
		ex, listed := expect[filepath.ToSlash(rel)]
		if o.err != nil {
			refused++
			msg := o.err.Error()
			if strings.ContainsAny(msg, "\n\r") {
				t.Errorf("%s: error is not one line: %q", rel, msg)
			}
			if !strings.Contains(msg, path) {
				t.Errorf("%s: error does not name the file: %q", rel, msg)
			}
			if len(msg) > 400 {
				t.Errorf("%s: error is %d bytes long: %q", rel, len(msg), msg)
			}
			if listed && ex.readable {
				if why, ok := knownUnreadable[filepath.ToSlash(rel)]; ok {
					t.Logf("%s: refused (%s): %v", rel, why, o.err)
				} else {
					t.Errorf("%s: MANIFEST says readable, got %v", rel, o.err)
				}
			}
			if testing.Verbose() {
				t.Logf("refused %s: %v", rel, msg)
			}
		} else {
			read++
			if n, ok := manifestRows[filepath.ToSlash(rel)]; ok {
				ex.rows = n
			}
			if listed && ex.rows >= 0 && o.rows != ex.rows {
				t.Errorf("%s: read %d rows, MANIFEST says %d", rel, o.rows, ex.rows)
			}
		}
		seen++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 350 {
		t.Errorf("walked %d data files, want the whole corpus (about 400)", seen)
	}
	for rel := range expect {
		if _, err := os.Stat(filepath.Join(robustnessDir, rel)); err != nil {
			t.Errorf("MANIFEST lists %s, which is missing: %v", rel, err)
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%d files: %d read, %d refused; Go heap high-water %d MiB", seen, read, refused, ms.Sys>>20)
	if ms.Sys > 1<<30 {
		t.Errorf("memory obtained from the OS reached %d MiB, want < 1 GiB", ms.Sys>>20)
	}
}
