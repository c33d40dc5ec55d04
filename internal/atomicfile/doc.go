// Package atomicfile writes files so that readers see either the old content or
// the complete new content, never a partial file.
//
// # Overview
//
// [Create] opens a temporary file in the target's directory; the caller writes to
// it and calls [File.Commit], which flushes, fsyncs the file, renames it over the
// target and fsyncs the directory. [File.Abort] (or any failed step) removes the
// temporary file and leaves the target untouched. [WriteFile] wraps the three
// calls around a callback, which is the usual way to write a small file:
//
//	err := atomicfile.WriteFile("model.safetensors", func(w io.Writer) error {
//		_, err := w.Write(payload)
//		return err
//	})
//
// Errors name the target file (never the temporary name) and say what to do. A
// full disk (ENOSPC or EDQUOT) gives "write PATH: disk full (no space left on
// device): free some space or write to another directory", and errors.Is(err,
// syscall.ENOSPC) holds.
//
// New files get mode 0644; a file that replaces an existing regular file keeps
// that file's permission bits. A symbolic link at the target path is replaced
// by the new file, not followed.
//
// # Ownership
//
// A [File] owns its temporary file until Commit or Abort returns; afterwards it
// holds nothing and further writes fail. Bytes passed to Write are copied into an
// internal 64 KiB buffer and are not retained.
//
// # Concurrency
//
// A [File] is not safe for concurrent use: one goroutine writes and commits it.
// Distinct Files, even for the same target, may be used concurrently; the last
// Commit wins and each reader sees one complete version. The package starts no
// goroutines.
package atomicfile
