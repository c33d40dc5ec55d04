package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// formatByExt maps lower-case file extensions to formats.
var formatByExt = map[string]Format{
	".parquet": Parquet,
	".pq":      Parquet,
	".arrow":   IPCFile,
	".feather": IPCFile,
	".ipc":     IPCFile,
	".arrows":  IPCStream,
	".stream":  IPCStream,
	".csv":     CSV,
	".tsv":     CSV,
}

// Open expands paths (files; directories = all data files inside, recursively, sorted by name; glob
// patterns), detects each file's format by extension (.parquet/.pq, .arrow/.feather/.ipc, .arrows/.stream,
// .csv/.tsv) or, failing that, by magic bytes (PAR1, ARROW1, an IPC stream's continuation marker), reads
// metadata (not data), and checks that all files share a schema: column names, order and types must match
// (a mismatch is an error naming both files and the column); a column is nullable in the dataset if it is
// in any file. Inside directories, files that are neither named nor shaped like data files are skipped
// (READMEs, hidden files); a file named explicitly must be a data file.
//
// Errors are one line naming the file: empty path list, no data files, unreadable, empty, truncated or
// corrupt files, unknown formats. Open never panics on bad files (a panic inside arrow-go becomes an
// error). The returned Dataset holds no open file. Cost: a stat and a metadata read per file; CSV files are
// scanned once in full to find their row count and chunk boundaries (about 1 GB/s).
func Open(paths []string, opts Options) (*Dataset, error) {
	autoRows := opts.BatchRows == 0
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, errors.New("no data files given: pass one or more files, directories or glob patterns")
	}
	files, err := expand(paths, opts.Format)
	if err != nil {
		return nil, err
	}
	d := &Dataset{opts: opts, autoRows: autoRows}
	var first string
	skipped := 0
	for _, pf := range files {
		r, info, err := openFile(pf.path, pf.format, &d.opts)
		if err != nil && opts.OnBadFile != nil {
			if err = opts.OnBadFile(pf.path, err); err == nil {
				skipped++
				continue
			}
		}
		if err != nil {
			return nil, err
		}
		if d.Schema == nil {
			d.Schema = info.schema
			first = pf.path
		} else if d.Schema, err = mergeSchema(d.Schema, first, info.schema, pf.path); err != nil {
			return nil, err
		}
		fi := len(d.Files)
		f := File{Path: pf.path, Format: pf.format, Size: info.size, Shards: len(info.shardRows), Meta: info.meta}
		for i, n := range info.shardRows {
			d.Shards = append(d.Shards, Shard{File: fi, Index: i, Rows: n, First: d.Rows})
			d.Rows += n
			f.Rows += n
		}
		d.Files = append(d.Files, f)
		d.readers = append(d.readers, r)
		d.stats = append(d.stats, info.stat)
	}
	if len(d.Files) == 0 {
		return nil, fmt.Errorf("no readable data files: all %d were left out as unreadable", skipped)
	}
	return d, nil
}

// normalize applies defaults and validates the options.
func (o *Options) normalize() error {
	if o.Mem == nil {
		o.Mem = memory.DefaultAllocator
	}
	if o.BatchRows == 0 {
		o.BatchRows = DefaultBatchRows
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.CSV.ChunkRows == 0 {
		o.CSV.ChunkRows = DefaultCSVChunkRows
	}
	if o.CSV.InferRows == 0 {
		o.CSV.InferRows = DefaultCSVInferRows
	}
	switch {
	case o.BatchRows < 0 || o.BatchRows > maxCSVFieldsOrBatch:
		return fmt.Errorf("source: Options.BatchRows must be in 1..%d, got %d", maxCSVFieldsOrBatch, o.BatchRows)
	case o.MaxBytes < 0:
		return fmt.Errorf("source: Options.MaxBytes must be > 0, got %d", o.MaxBytes)
	case o.CSV.ChunkRows < 0 || o.CSV.ChunkRows > maxCSVFieldsOrBatch:
		return fmt.Errorf("source: CSVOptions.ChunkRows must be in 1..%d, got %d", maxCSVFieldsOrBatch, o.CSV.ChunkRows)
	case o.CSV.InferRows < 0 || o.CSV.InferRows > maxCSVFieldsOrBatch:
		return fmt.Errorf("source: CSVOptions.InferRows must be in 1..%d, got %d", maxCSVFieldsOrBatch, o.CSV.InferRows)
	case o.CSV.Comma == '"' || o.CSV.Comma == '\r' || o.CSV.Comma == '\n' || o.CSV.Comma == 0xFFFD || o.CSV.Comma < 0:
		return fmt.Errorf("source: CSVOptions.Comma %q cannot separate fields", o.CSV.Comma)
	case o.Format > CSV:
		return fmt.Errorf("source: Options.Format %d is not a format", o.Format)
	}
	return nil
}

type pathFormat struct {
	path   string
	format Format
}

// expand turns the user's paths into data files with their formats, in order, without duplicates.
func expand(paths []string, force Format) ([]pathFormat, error) {
	var out []pathFormat
	seen := make(map[string]bool)
	add := func(p string, f Format) {
		if key := filepath.Clean(p); !seen[key] {
			seen[key] = true
			out = append(out, pathFormat{p, f})
		}
	}
	for _, p := range paths {
		if p == "" {
			return nil, errors.New("empty path in the list of data files")
		}
		st, err := os.Stat(p)
		if err != nil && errors.Is(err, fs.ErrNotExist) && strings.ContainsAny(p, "*?[") {
			matches, gerr := filepath.Glob(p)
			if gerr != nil {
				return nil, fmt.Errorf("bad glob pattern %q: %v", p, gerr)
			}
			if len(matches) == 0 {
				return nil, fmt.Errorf("no file matches %s", p)
			}
			n := len(out)
			for _, m := range matches {
				if err := expandOne(m, force, true, add); err != nil {
					return nil, err
				}
			}
			if len(out) == n {
				return nil, fmt.Errorf("no data file matches %s (looked for .parquet, .arrow, .arrows, .csv, .tsv and similar)", p)
			}
			continue
		}
		if err != nil {
			return nil, statError(p, err)
		}
		n := len(out)
		if err := expandOne(p, force, false, add); err != nil {
			return nil, err
		}
		if st.IsDir() && len(out) == n {
			return nil, fmt.Errorf("%s: no data files in this directory (looked for .parquet, .arrow, .arrows, .csv, .tsv and similar)", p)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no data files found")
	}
	return out, nil
}

// expandOne adds p (a file, or a directory walked recursively in name order). Files found inside
// directories or globs are skipped unless they look like data files; a file named directly must be one.
func expandOne(p string, force Format, lenient bool, add func(string, Format)) error {
	st, err := os.Stat(p)
	if err != nil {
		return statError(p, err)
	}
	if !st.IsDir() {
		f, err := detect(p, force)
		if err != nil {
			if lenient {
				return nil
			}
			return err
		}
		add(p, f)
		return nil
	}
	return filepath.WalkDir(p, func(q string, de fs.DirEntry, err error) error {
		if err != nil {
			return statError(q, err)
		}
		name := de.Name()
		if q != p && strings.HasPrefix(name, ".") {
			if de.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if de.IsDir() || !de.Type().IsRegular() && de.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		if f, err := detect(q, force); err == nil {
			add(q, f)
		}
		return nil
	})
}

func statError(p string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: no such file or directory", p)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s: permission denied", p)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", p, pe.Err)
	}
	return fmt.Errorf("%s: %v", p, err)
}

// detect returns the format of p: force if set, else by extension, else by magic bytes.
func detect(p string, force Format) (Format, error) {
	if force != 0 {
		return force, nil
	}
	if f, ok := formatByExt[strings.ToLower(filepath.Ext(p))]; ok {
		return f, nil
	}
	f, err := sniff(p)
	if err != nil {
		return 0, err
	}
	if f == 0 {
		return 0, fmt.Errorf("%s: unknown data format: name it .parquet, .arrow, .arrows, .csv or .tsv, or set the format explicitly", p)
	}
	return f, nil
}

var (
	parquetMagic = []byte("PAR1")
	arrowMagic   = []byte("ARROW1")
	streamMagic  = []byte{0xff, 0xff, 0xff, 0xff}
)

// sniff detects Parquet, Arrow IPC file and (post-0.15) IPC stream files by their first bytes; it returns
// 0 for anything else.
func sniff(p string) (Format, error) {
	fh, err := os.Open(p)
	if err != nil {
		return 0, statError(p, err)
	}
	defer fh.Close()
	var head [8]byte
	n, err := io.ReadFull(fh, head[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("%s: %v", p, err)
	}
	b := head[:n]
	switch {
	case bytes.HasPrefix(b, parquetMagic):
		return Parquet, nil
	case bytes.HasPrefix(b, arrowMagic):
		return IPCFile, nil
	case bytes.HasPrefix(b, streamMagic) && n == 8:
		return IPCStream, nil
	}
	return 0, nil
}

// fileInfo is what a format's opener learns from a file's metadata.
type fileInfo struct {
	schema    *arrow.Schema
	size      int64
	shardRows []int64
	meta      map[string]string
	stat      os.FileInfo
}

// openFile reads the metadata of one file, turning panics into errors naming it.
func openFile(path string, format Format, opts *Options) (r fileReader, info fileInfo, err error) {
	mem := newBudget(opts.Mem, opts.MaxBytes)
	defer func() {
		if rec := recover(); rec != nil {
			logPanic(rec)
			r, err = nil, fmt.Errorf("%s: corrupt %s file: the decoder failed: %s", path, formatNoun(format), panicText(rec))
		}
		if err != nil && mem.exceeded() {
			err = fmt.Errorf("%s: reading the metadata needs more than %s (Options.MaxBytes): the file may be corrupt, or raise the limit", path, formatBytes(opts.MaxBytes))
		}
		if err != nil {
			mem.reclaim() // arrow-go may leave buffers behind on its error paths
			err = fmt.Errorf("%s", oneLine(err.Error()))
		}
	}()
	fh, err := os.Open(path)
	if err != nil {
		return nil, info, statError(path, err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, info, statError(path, err)
	}
	if st.IsDir() {
		return nil, info, fmt.Errorf("%s: is a directory", path)
	}
	info.size, info.stat = st.Size(), st
	if info.size == 0 {
		return nil, info, fmt.Errorf("%s: empty file (0 bytes), not %s file", path, withArticle(formatNoun(format)))
	}
	switch format {
	case Parquet:
		r, err = openParquet(fh, path, &info, opts, mem)
	case IPCFile:
		r, err = openIPCFile(fh, path, &info, opts, mem)
	case IPCStream:
		r, err = openIPCStream(fh, path, &info, opts, mem)
	case CSV:
		r, err = openCSV(fh, path, &info, opts, mem)
	default:
		err = fmt.Errorf("%s: unknown format %v", path, format)
	}
	if err != nil {
		if !strings.HasPrefix(err.Error(), path) {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return nil, info, err
	}
	if info.schema == nil || info.schema.NumFields() == 0 {
		return nil, info, fmt.Errorf("%s: the file has no columns", path)
	}
	if info.schema.NumFields() > maxColumnsPerDataset {
		return nil, info, fmt.Errorf("%s: %d columns is more than this reader supports (%d)", path, info.schema.NumFields(), maxColumnsPerDataset)
	}
	return r, info, nil
}

// withArticle puts "a" or "an" before a format's noun.
func withArticle(noun string) string {
	if noun != "" && strings.ContainsRune("AEIOU", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}

func formatNoun(f Format) string {
	switch f {
	case Parquet:
		return "Parquet"
	case IPCFile:
		return "Arrow IPC"
	case IPCStream:
		return "Arrow IPC stream"
	case CSV:
		return "CSV"
	}
	return f.String()
}

// mergeSchema checks that sc (of file path) matches the dataset schema so far (first seen in file first)
// and returns the merged schema: same names, order and types; nullable if nullable in either.
func mergeSchema(have *arrow.Schema, first string, sc *arrow.Schema, path string) (*arrow.Schema, error) {
	if have.NumFields() != sc.NumFields() {
		// Name the first column one file has and the other lacks.
		for _, f := range have.Fields() {
			if !sc.HasField(f.Name) {
				return nil, fmt.Errorf("schema mismatch: %s has %d columns and %s has %d: column %q is missing from %s",
					first, have.NumFields(), path, sc.NumFields(), f.Name, path)
			}
		}
		for _, f := range sc.Fields() {
			if !have.HasField(f.Name) {
				return nil, fmt.Errorf("schema mismatch: %s has %d columns and %s has %d: column %q is not in %s",
					first, have.NumFields(), path, sc.NumFields(), f.Name, first)
			}
		}
		return nil, fmt.Errorf("schema mismatch: %s has %d columns and %s has %d", first, have.NumFields(), path, sc.NumFields())
	}
	var fields []arrow.Field
	for i, a := range have.Fields() {
		b := sc.Field(i)
		if a.Name != b.Name {
			return nil, fmt.Errorf("schema mismatch: column %d is %q in %s but %q in %s", i, a.Name, first, b.Name, path)
		}
		if !arrow.TypeEqual(a.Type, b.Type) {
			return nil, fmt.Errorf("schema mismatch: column %q is %s in %s but %s in %s", a.Name, a.Type, first, b.Type, path)
		}
		if b.Nullable && !a.Nullable {
			if fields == nil {
				fields = slices.Clone(have.Fields())
			}
			fields[i].Nullable = true
		}
	}
	if fields == nil {
		return have, nil
	}
	md := have.Metadata()
	return arrow.NewSchema(fields, &md), nil
}

// metaMap returns Arrow metadata as a map, without the keys that only encode the schema itself.
func metaMap(md arrow.Metadata) map[string]string {
	if md.Len() == 0 {
		return nil
	}
	m := make(map[string]string, md.Len())
	for i, k := range md.Keys() {
		if k == "ARROW:schema" {
			continue
		}
		m[k] = md.Values()[i]
	}
	if len(m) == 0 {
		return nil
	}
	return m
}
