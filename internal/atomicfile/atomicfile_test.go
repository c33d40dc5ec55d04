package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// entries lists the names in dir, to prove that no temporary file is left.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestWriteFile(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		before  []byte // nil: no previous file
		write   func(w io.Writer) error
		want    []byte // content after WriteFile
		wantErr error
	}{
		{
			name:  "new file",
			write: func(w io.Writer) error { _, err := w.Write([]byte("hello")); return err },
			want:  []byte("hello"),
		},
		{
			name:   "replace",
			before: []byte("old content"),
			write:  func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err },
			want:   []byte("new"),
		},
		{
			name:   "empty",
			before: []byte("old"),
			write:  func(w io.Writer) error { return nil },
			want:   []byte{},
		},
		{
			name:   "larger than the buffer",
			before: []byte("old"),
			write: func(w io.Writer) error {
				_, err := w.Write(bytes.Repeat([]byte("0123456789abcdef"), 3*bufferSize/16+7))
				return err
			},
			want: bytes.Repeat([]byte("0123456789abcdef"), 3*bufferSize/16+7),
		},
		{
			name:   "error mid-way keeps the old content",
			before: []byte("previous"),
			write: func(w io.Writer) error {
				if _, err := w.Write(bytes.Repeat([]byte("x"), 2*bufferSize)); err != nil {
					return err
				}
				return errBoom
			},
			want:    []byte("previous"),
			wantErr: errBoom,
		},
		{
			name:    "error mid-way, no previous file",
			write:   func(w io.Writer) error { io.WriteString(w, "partial"); return errBoom },
			wantErr: errBoom,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.bin")
			if tt.before != nil {
				if err := os.WriteFile(path, tt.before, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := WriteFile(path, tt.write)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("WriteFile error = %v, want %v", err, tt.wantErr)
			}
			got, rerr := os.ReadFile(path)
			switch {
			case tt.want == nil && rerr == nil:
				t.Fatalf("target exists after a failed first write: %q", got)
			case tt.want == nil && !errors.Is(rerr, fs.ErrNotExist):
				t.Fatal(rerr)
			case tt.want != nil && rerr != nil:
				t.Fatal(rerr)
			case !bytes.Equal(got, tt.want):
				t.Fatalf("content = %.40q (%d bytes), want %.40q (%d bytes)", got, len(got), tt.want, len(tt.want))
			}
			if names := entries(t, dir); len(names) > 1 || (len(names) == 1 && names[0] != "out.bin") {
				t.Fatalf("directory holds %v, want only out.bin (or nothing)", names)
			}
		})
	}
}

func TestPermissions(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh")
	if err := WriteFile(fresh, func(w io.Writer) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != defaultPerm {
		t.Fatalf("new file mode = %v (err %v), want %v", fi.Mode().Perm(), err, defaultPerm)
	}
	kept := filepath.Join(dir, "kept")
	if err := os.WriteFile(kept, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(kept, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(kept, func(w io.Writer) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(kept); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("replaced file mode = %v (err %v), want 0640", fi.Mode().Perm(), err)
	}
}

func TestRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := WriteFile("rel.txt", func(w io.Writer) error { _, err := io.WriteString(w, "ok"); return err }); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile("rel.txt"); err != nil || string(got) != "ok" {
		t.Fatalf("read back %q, %v", got, err)
	}
}

func TestCreateErrors(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular")
	if err := os.WriteFile(regular, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		path  string
		errno error    // nil: no errno expected
		says  []string // substrings of the message
	}{
		{"empty path", "", nil, []string{"empty path"}},
		{"missing directory", filepath.Join(dir, "nope", "out.bin"), syscall.ENOENT,
			[]string{filepath.Join(dir, "nope", "out.bin"), "does not exist"}},
		{"parent is a file", filepath.Join(regular, "out.bin"), syscall.ENOTDIR,
			[]string{filepath.Join(regular, "out.bin"), "not a directory"}},
		{"target is a directory", dir, nil, []string{dir, "is a directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Create(tt.path)
			if err == nil {
				f.Abort()
				t.Fatal("Create succeeded")
			}
			if tt.errno != nil && !errors.Is(err, tt.errno) {
				t.Errorf("error %v is not %v", err, tt.errno)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || strings.Contains(msg, ".tmp-") {
				t.Errorf("error %q spans lines or names the temporary file", msg)
			}
			for _, s := range tt.says {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not contain %q", msg, s)
				}
			}
		})
	}
}

// TestUnwritableDirectory needs a directory the test cannot write: it makes one
// with chmod when not root and with a read-only tmpfs mount when root.
func TestUnwritableDirectory(t *testing.T) {
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		if err := exec.Command("mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", dir).Run(); err != nil {
			t.Skipf("root but cannot mount a read-only tmpfs: %v", err)
		}
		t.Cleanup(func() { exec.Command("umount", dir).Run() })
	} else {
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
	}
	path := filepath.Join(dir, "model.safetensors")
	err := WriteFile(path, func(w io.Writer) error { return nil })
	if err == nil {
		t.Fatal("WriteFile into an unwritable directory succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, path) || !(strings.Contains(msg, "not writable") || strings.Contains(msg, "read-only")) {
		t.Fatalf("error %q should name %s and say it is not writable", msg, path)
	}
	t.Log(msg)
}

// enospcWriter accepts limit bytes, then fails as a full disk does.
type enospcWriter struct {
	w     io.Writer
	limit int
}

func (e *enospcWriter) Write(p []byte) (int, error) {
	if len(p) > e.limit {
		n, _ := e.w.Write(p[:e.limit])
		e.limit = 0
		return n, &fs.PathError{Op: "write", Path: "/elsewhere/.tmp-123", Err: syscall.ENOSPC}
	}
	e.limit -= len(p)
	return e.w.Write(p)
}

// TestDiskFullSimulated swaps the temporary file for a size-limited writer, so
// the disk-full path runs on every machine.
func TestDiskFullSimulated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "metrics.csv")
	if err := os.WriteFile(path, []byte("previous"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.bw.Reset(&enospcWriter{w: f.tmp, limit: 1000})
	var werr error
	for range 100 {
		if _, werr = f.Write(bytes.Repeat([]byte("y"), 4096)); werr != nil {
			break
		}
	}
	if werr == nil {
		t.Fatal("no error writing 400 KB through a 1000-byte writer")
	}
	checkDiskFull(t, werr, path)
	if _, err := f.Write([]byte("more")); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Write after the error = %v, want the same disk-full error", err)
	}
	if err := f.Commit(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Commit after the error = %v, want the disk-full error", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "previous" {
		t.Fatalf("target = %q, want previous content", got)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Fatalf("directory holds %v, want only metrics.csv", names)
	}
}

func checkDiskFull(t *testing.T, err error, path string) {
	t.Helper()
	msg := err.Error()
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(msg, "disk full") || !strings.Contains(msg, path) ||
		strings.Contains(msg, ".tmp-") || strings.Contains(msg, "\n") {
		t.Fatalf("error %q: want one line naming %s and saying the disk is full (errors.Is ENOSPC)", msg, path)
	}
}

// TestDiskFullTmpfs fills a real 64 KiB tmpfs; it needs permission to mount.
func TestDiskFullTmpfs(t *testing.T) {
	dir := t.TempDir()
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).Run(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v", err)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount: %v: %s", err, out)
		}
	})
	path := filepath.Join(dir, "model.safetensors")
	if err := os.WriteFile(path, []byte("version 1"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(make([]byte, 1<<20))
		return err
	})
	if err == nil {
		t.Fatal("writing 1 MiB to a 64 KiB tmpfs succeeded")
	}
	checkDiskFull(t, err, path)
	t.Log(err)
	if got, _ := os.ReadFile(path); string(got) != "version 1" {
		t.Fatalf("target = %q, want previous content", got)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Fatalf("tmpfs holds %v, want only model.safetensors", names)
	}
	// The space is free again: a small write now succeeds.
	if err := WriteFile(path, func(w io.Writer) error { _, err := io.WriteString(w, "version 2"); return err }); err != nil {
		t.Fatalf("small write after the failure: %v", err)
	}
}

func TestLifecycle(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x")
	t.Run("abort", func(t *testing.T) {
		f, err := Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name() != path {
			t.Fatalf("Name() = %q, want %q", f.Name(), path)
		}
		fmt.Fprint(f, "data")
		if err := f.Abort(); err != nil {
			t.Fatal(err)
		}
		if err := f.Abort(); err != nil {
			t.Fatalf("second Abort: %v", err)
		}
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("target after Abort: %v", err)
		}
		if _, err := f.Write([]byte("x")); err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("Write after Abort = %v, want an error naming %s", err, path)
		}
		if err := f.Commit(); err == nil {
			t.Fatal("Commit after Abort succeeded")
		}
		if n := len(entries(t, dir)); n != 0 {
			t.Fatalf("%d files left after Abort", n)
		}
	})
	t.Run("commit then abort", func(t *testing.T) {
		f, err := Create(path)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(f, "kept")
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := f.Abort(); err != nil {
			t.Fatalf("Abort after Commit: %v", err)
		}
		if err := f.Commit(); err == nil {
			t.Fatal("second Commit succeeded")
		}
		if got, _ := os.ReadFile(path); string(got) != "kept" {
			t.Fatalf("content = %q, want kept", got)
		}
	})
	t.Run("uncommitted content is invisible", func(t *testing.T) {
		f, err := Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Abort()
		fmt.Fprint(f, "pending")
		if got, _ := os.ReadFile(path); string(got) != "kept" {
			t.Fatalf("target during the write = %q, want kept", got)
		}
	})
	t.Run("rename fails when the target became a directory", func(t *testing.T) {
		p := filepath.Join(dir, "later-dir")
		f, err := Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "child"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		err = f.Commit()
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Fatalf("Commit over a non-empty directory = %v, want an error naming %s", err, p)
		}
		for _, n := range entries(t, dir) {
			if strings.Contains(n, ".tmp-") {
				t.Fatalf("temporary file %s left after a failed Commit", n)
			}
		}
	})
}

func BenchmarkWriteFile(b *testing.B) {
	payload := bytes.Repeat([]byte{1, 2, 3, 4}, 256<<10) // 1 MiB
	dir := b.TempDir()
	b.Run("size=1MiB", func(b *testing.B) {
		// The reference is os.WriteFile plus one fsync: the least a durable write costs.
		ref := benchTime(b, func(path string) error {
			if err := os.WriteFile(path, payload, 0o644); err != nil {
				return err
			}
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			return f.Sync()
		}, filepath.Join(dir, "ref"), 5)
		path := filepath.Join(dir, "atomic")
		b.SetBytes(int64(len(payload)))
		b.ReportAllocs()
		start := time.Now()
		n := 0
		for b.Loop() {
			if err := WriteFile(path, func(w io.Writer) error { _, err := w.Write(payload); return err }); err != nil {
				b.Fatal(err)
			}
			n++
		}
		per := float64(time.Since(start).Nanoseconds()) / float64(n)
		b.ReportMetric(per/ref, "x-vs-ref")
	})
}

// benchTime returns the mean time in nanoseconds of reps calls of f(path).
func benchTime(b *testing.B, f func(string) error, path string, reps int) float64 {
	b.Helper()
	start := time.Now()
	for range reps {
		if err := f(path); err != nil {
			b.Fatal(err)
		}
	}
	return float64(time.Since(start).Nanoseconds()) / float64(reps)
}

func TestSymlinkReplaced(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	link := filepath.Join(dir, "link")
	if err := os.WriteFile(real, []byte("original"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	if err := WriteFile(link, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("link is now %v (%v), want a regular file", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(real); string(b) != "original" {
		t.Fatalf("the link's old target changed to %q", b)
	}
	if b, _ := os.ReadFile(link); string(b) != "new" {
		t.Fatalf("new file holds %q", b)
	}
}
