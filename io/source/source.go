package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Format is the on-disk format of a data file. The zero value means "detect it" where a Format is an
// option; a File always carries one of the named formats.
type Format uint8

// The formats Open reads.
const (
	Parquet   Format = iota + 1 // Apache Parquet: one shard per row group
	IPCFile                     // Arrow IPC file (Feather v2): one shard per record batch
	IPCStream                   // Arrow IPC stream: one shard per file, read sequentially
	CSV                         // CSV or TSV with a header line: one shard per CSVOptions.ChunkRows rows
)

// String returns the format's name as users write it ("parquet", "arrow", "arrow-stream", "csv").
func (f Format) String() string {
	switch f {
	case Parquet:
		return "parquet"
	case IPCFile:
		return "arrow"
	case IPCStream:
		return "arrow-stream"
	case CSV:
		return "csv"
	case 0:
		return "auto"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// Defaults of Options and CSVOptions, applied where a field is zero.
const (
	// DefaultBatchRows is the most rows per record when Options.BatchRows is 0. Records of wide rows have
	// fewer, about DefaultBatchValues values each (see Options.BatchRows).
	DefaultBatchRows = 8192
	// DefaultBatchValues is about the most values a record holds when Options.BatchRows is 0: a Parquet
	// record of rows of v leaf values (a list of 784 pixels counts 784) has DefaultBatchValues/v rows
	// (between 1 and DefaultBatchRows), a CSV record of c columns DefaultBatchValues/c. Decoding holds
	// memory in proportion to the values of a record (Parquet lists: levels, decoded values, builders that
	// double). On MNIST (785 values per row) records of 8192 rows held 64 MiB through Options.Mem, the
	// Go heap peaked at 176 MiB and a pass allocated 890 MB; the default, 667 rows, holds 4 MiB, peaks at
	// 17 MiB, allocates 300 MB and reads 10% faster (BenchmarkMNISTReadRows, medians of 5 runs). Rows of
	// up to 64 values keep DefaultBatchRows.
	DefaultBatchValues   = 1 << 19
	DefaultMaxBytes      = 1 << 30
	DefaultCSVChunkRows  = 65536
	DefaultCSVInferRows  = 1000
	maxCSVFieldsOrBatch  = 1 << 24 // sanity bound on ChunkRows, BatchRows, InferRows
	maxColumnsPerDataset = 1 << 20
)

// CSVOptions configures CSV (and TSV) files. The zero value selects every default.
type CSVOptions struct {
	ChunkRows int                       // rows per shard (default 65536; valid 1..16777216)
	InferRows int                       // rows sampled to infer column types (default 1000; valid 1..16777216)
	Types     map[string]arrow.DataType // per-column overrides of the inferred type (by header name)
	Comma     rune                      // field separator (default ',' and '\t' for .tsv files)
}

// Options configures Open. The zero value selects every default.
type Options struct {
	Mem memory.Allocator // allocator of every record (default memory.DefaultAllocator)
	// BatchRows is the most rows per record ReadShard emits (valid 1..16777216), honoured as given. The
	// default 0 bounds the values per record instead: Parquet row groups and CSV chunks are decoded in
	// records of about DefaultBatchValues values, at most DefaultBatchRows rows, so that wide rows (long
	// lists, many columns) do not make decoding buffers of hundreds of MB; IPC records are the file's
	// record batches cut to at most DefaultBatchRows rows. The rows per record depend only on the file's
	// metadata and the columns read, so they are the same at every read.
	BatchRows int
	CSV       CSVOptions
	// MaxBytes bounds the memory that decoding one shard may allocate through Mem (default 1 GiB). A shard
	// that needs more, usually because the file lies in its metadata, fails with an error instead of
	// exhausting memory. Declared sizes (Parquet column chunks, IPC bodies) are checked against it before
	// anything is read, and so is the Go heap that decoding an IPC schema needs (at Open and each read).
	MaxBytes int64
	// Format forces the format of every file (default 0: detect from the extension, then the magic bytes).
	Format Format
	// OnBadFile, when not nil, is called by Open for each file whose metadata cannot be read (corrupt,
	// truncated, empty, unreadable) with the file and the one-line error: returning nil leaves the file out
	// of the dataset, returning an error makes Open fail with it. Schema mismatches and missing paths are
	// not bad files: they always fail Open. Default nil: the first bad file fails Open.
	OnBadFile func(path string, err error) error
}

// File describes one data file of a Dataset. It is plain data (JSON-marshalable).
type File struct {
	Path   string            `json:"path"`
	Format Format            `json:"-"`
	Size   int64             `json:"size"`
	Rows   int64             `json:"rows"`
	Shards int               `json:"shards"`         // row groups / IPC file record batches / CSV chunks (an IPC stream is one shard)
	Meta   map[string]string `json:"meta,omitempty"` // Parquet key/value or Arrow schema metadata (e.g. class_names)
}

// MarshalJSON writes File with its format as a name.
func (f File) MarshalJSON() ([]byte, error) {
	type plain File
	return json.Marshal(struct {
		plain
		Format string `json:"format"`
	}{plain(f), f.Format.String()})
}

// Shard is the unit of random access: a Parquet row group, an IPC file record batch, a CSV chunk or a
// whole IPC stream.
type Shard struct {
	File  int   // index into Dataset.Files
	Index int   // row group / batch / chunk index within the file
	Rows  int64 // rows in the shard, from the file's metadata (CSV: from the scan done by Open)
	First int64 // global row index of the shard's first row (file order over the whole dataset)
}

// Dataset is a set of data files sharing one schema, cut into shards. Open builds it from metadata alone;
// ReadShard decodes shards on demand.
//
// A Dataset is immutable after Open: its exported fields must not be modified, and all its methods are safe
// for concurrent use. It holds no open file between calls (each ReadShard opens its file), so a dataset of
// many files costs no file descriptors while idle. The zero value is an empty dataset that reads nothing.
type Dataset struct {
	Schema *arrow.Schema // common schema of all files (a column is nullable if it is in any file)
	Files  []File
	Shards []Shard // in file order
	Rows   int64

	opts     Options       // normalized: BatchRows is set
	autoRows bool          // the caller left Options.BatchRows at 0: records are bounded in values (readCall.recordRows)
	readers  []fileReader  // one per file
	stats    []os.FileInfo // one per file: what Open saw, to notice a file that changes under a run
	closed   atomic.Bool
}

// fileReader decodes the shards of one file.
type fileReader interface {
	// read decodes shard index of the file over the given top-level fields (ascending, unique) and calls
	// sink with records whose columns are those fields in that order; sink takes ownership.
	read(ctx context.Context, rc *readCall, index int, fields []int, sink func(arrow.RecordBatch) error) error
}

// readCall is the state of one ReadShard call shared with the format readers.
type readCall struct {
	path      string
	mem       *budget // budget-limited allocator of this call
	batchRows int     // Options.BatchRows (normalized)
	autoRows  bool    // Options.BatchRows was 0: see recordRows
	maxBytes  int64
	size      int64       // file size seen by Open
	stat      os.FileInfo // the file as Open saw it (nil: only the size is checked)
	opts      *Options
}

// ErrClosed is returned by ReadShard after Close.
var ErrClosed = errors.New("source: dataset is closed")

// Close releases the dataset. It is safe to call more than once and concurrently with ReadShard (calls in
// flight finish; later ones fail with ErrClosed). It never fails today; the error is for future sources.
func (d *Dataset) Close() error {
	d.closed.Store(true)
	return nil
}

// ColumnIndex returns the index of the first column named name in d.Schema, or an error naming the column,
// the dataset and the available columns. It costs a linear scan of the schema.
func (d *Dataset) ColumnIndex(name string) (int, error) {
	if d.Schema != nil {
		for i, f := range d.Schema.Fields() {
			if f.Name == name {
				return i, nil
			}
		}
	}
	return -1, fmt.Errorf("column %q not found in %s (columns: %s)", name, d.describe(), d.columnList())
}

// describe names the dataset for error messages: its only file, or the first file and a count.
func (d *Dataset) describe() string {
	switch len(d.Files) {
	case 0:
		return "an empty dataset"
	case 1:
		return d.Files[0].Path
	}
	return fmt.Sprintf("%s and %d other files", d.Files[0].Path, len(d.Files)-1)
}

func (d *Dataset) columnList() string {
	if d.Schema == nil || d.Schema.NumFields() == 0 {
		return "none"
	}
	const maxListed = 20
	names := make([]string, 0, min(d.Schema.NumFields(), maxListed+1))
	for i, f := range d.Schema.Fields() {
		if i == maxListed {
			names = append(names, fmt.Sprintf("... %d more", d.Schema.NumFields()-maxListed))
			break
		}
		names = append(names, f.Name)
	}
	return strings.Join(names, ", ")
}

// ReadShard decodes shard shard (an index into d.Shards) over the projected columns (indices into
// d.Schema, nil = all; result records carry those columns in that order, repeats allowed) and calls emit
// with records of at most BatchRows rows, in row order. Every record has the schema of d.Schema projected
// on columns.
//
// Each record is owned by the receiver. If emit returns an error, ReadShard returns it unchanged: emit's
// contract is that a failed emit did not take ownership, so ReadShard releases that record. ReadShard is
// safe for concurrent use on different or the same shards; it checks ctx between records and returns
// ctx.Err() when it is done. It never panics on bad data: a panic inside the decoder becomes an error naming
// the file and shard. Unread columns are not decoded for Parquet (column projection) and are decoded but
// dropped for IPC and CSV. Decoding allocates through Options.Mem, at most Options.MaxBytes live bytes per
// call (else an error). Cost: the decoder's own (see the package benchmarks), plus one file open per call.
func (d *Dataset) ReadShard(ctx context.Context, shard int, columns []int, emit func(arrow.RecordBatch) error) (err error) {
	if d.closed.Load() {
		return ErrClosed
	}
	if shard < 0 || shard >= len(d.Shards) {
		return fmt.Errorf("shard %d out of range: %s has %d shards", shard, d.describe(), len(d.Shards))
	}
	sh := d.Shards[shard]
	f := &d.Files[sh.File]
	nf := d.Schema.NumFields()
	if columns == nil {
		columns = make([]int, nf)
		for i := range columns {
			columns[i] = i
		}
	}
	for _, c := range columns {
		if c < 0 || c >= nf {
			return fmt.Errorf("column index %d out of range: %s has %d columns", c, d.describe(), nf)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Unique fields in ascending order, and the position of each requested column among them.
	need := make([]bool, nf)
	for _, c := range columns {
		need[c] = true
	}
	fields := make([]int, 0, len(columns))
	pos := make([]int, nf)
	for i, ok := range need {
		if ok {
			pos[i] = len(fields)
			fields = append(fields, i)
		}
	}
	outFields := make([]arrow.Field, len(columns))
	pick := make([]int, len(columns))
	for j, c := range columns {
		outFields[j] = d.Schema.Field(c)
		pick[j] = pos[c]
	}
	md := d.Schema.Metadata()
	out := &projector{
		schema:    arrow.NewSchema(outFields, &md),
		pick:      pick,
		batchRows: int64(d.opts.BatchRows),
		emit:      emit,
		ctx:       ctx,
	}
	b := newBudget(d.opts.Mem, d.opts.MaxBytes)
	out.budget = b
	rc := &readCall{path: f.Path, mem: b, batchRows: d.opts.BatchRows, autoRows: d.autoRows, maxBytes: d.opts.MaxBytes, size: f.Size, opts: &d.opts}
	if sh.File < len(d.stats) {
		rc.stat = d.stats[sh.File]
	}
	passThrough := func(err error) bool { // errors ReadShard returns unchanged: the receiver's, and ctx's
		return out.emitFailed || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s shard %d: the %s decoder failed on malformed data: %s", f.Path, sh.Index, f.Format, panicText(r))
			logPanic(r)
		}
		b.reclaim() // arrow-go leaves buffers behind on some paths (delta decoders, errors, panics)
		if err != nil && passThrough(err) {
			return
		}
		// A file that changed under the read explains whatever the decoder made of it: say so instead.
		if ce := (*changeError)(nil); !errors.As(err, &ce) {
			if cerr := rc.changed("while it was read"); cerr != nil {
				err = cerr
			}
		}
		if err == nil {
			return
		}
		if b.exceeded() {
			err = fmt.Errorf("%s shard %d: decoding needs more than %s (Options.MaxBytes): the file's metadata may be corrupt, or raise the limit",
				f.Path, sh.Index, formatBytes(d.opts.MaxBytes))
		}
		if !strings.HasPrefix(err.Error(), f.Path) {
			err = fmt.Errorf("%s shard %d: %w", f.Path, sh.Index, err)
		}
		if se := (*ShardError)(nil); !errors.As(err, &se) {
			err = &ShardError{Shard: shard, Path: f.Path, Err: errors.New(oneLine(err.Error()))}
		}
	}()
	err = d.readers[sh.File].read(ctx, rc, sh.Index, fields, out.sink)
	if err != nil {
		return err
	}
	if out.rows != sh.Rows {
		return fmt.Errorf("%s shard %d: decoded %d rows but the file's metadata declares %d: the file is corrupt", f.Path, sh.Index, out.rows, sh.Rows)
	}
	return nil
}

// ShardError is the error ReadShard returns when a shard cannot be read: corrupt or truncated data, a
// decoder failure, more memory than Options.MaxBytes, a file that changed since Open. It is not returned
// for a cancelled context nor for an error of emit (those come back unchanged). Its message is one line
// naming the file and the shard; a caller that can carry on without the shard (see Dataset.Without)
// tells it from other errors with errors.As.
type ShardError struct {
	Shard int    // index into Dataset.Shards
	Path  string // the shard's file
	Err   error  // the description; its message is the ShardError's
}

// Error returns the one-line description naming the file and the shard.
func (e *ShardError) Error() string { return e.Err.Error() }

// Unwrap returns the description.
func (e *ShardError) Unwrap() error { return e.Err }

// Without returns a dataset of d's shards but those listed (indices into d.Shards; out-of-range and
// repeated indices are ignored): the files stay (a file whose shards are all left out has no rows), the
// shards keep their order, and their First indices, Rows and the files' Rows and Shards are counted
// again without the ones left out. It shares d's files and options and reads nothing. Use it to carry
// on without shards that cannot be read (ShardError). Cost: O(shards + files).
//
// Global row indices (Shard.First) of the result are those of the smaller dataset: a row after a left-out
// shard has a smaller index than in d.
func (d *Dataset) Without(shards []int) *Dataset {
	drop := make(map[int]bool, len(shards))
	for _, s := range shards {
		drop[s] = true
	}
	out := &Dataset{Schema: d.Schema, Files: make([]File, len(d.Files)), opts: d.opts, autoRows: d.autoRows, readers: d.readers, stats: d.stats}
	copy(out.Files, d.Files)
	for i := range out.Files {
		out.Files[i].Rows, out.Files[i].Shards = 0, 0
	}
	for i, sh := range d.Shards {
		if drop[i] {
			continue
		}
		sh.First = out.Rows
		out.Shards = append(out.Shards, sh)
		out.Rows += sh.Rows
		out.Files[sh.File].Rows += sh.Rows
		out.Files[sh.File].Shards++
	}
	if d.closed.Load() {
		out.closed.Store(true)
	}
	return out
}

// projector turns the records of a format reader into the records ReadShard emits: the requested columns in
// the requested order, at most batchRows rows each, with the dataset's schema.
type projector struct {
	schema     *arrow.Schema
	pick       []int // for each output column, its index in the reader's record
	batchRows  int64
	emit       func(arrow.RecordBatch) error
	ctx        context.Context
	rows       int64
	delivered  int // records emitted successfully
	emitFailed bool
	budget     *budget
}

// sink takes ownership of rec (columns = the unique requested fields, ascending) and emits it in pieces.
func (p *projector) sink(rec arrow.RecordBatch) error {
	defer rec.Release()
	n := rec.NumRows()
	for _, k := range p.pick {
		if k >= int(rec.NumCols()) {
			return fmt.Errorf("decoder returned %d columns, want at least %d", rec.NumCols(), k+1)
		}
	}
	for off := int64(0); off < n; off += p.batchRows { // empty batches carry nothing for a trainer
		if err := p.ctx.Err(); err != nil {
			return err
		}
		end := min(off+p.batchRows, n)
		cols := make([]arrow.Array, len(p.pick))
		for j, k := range p.pick {
			c := rec.Column(k)
			if off == 0 && end == n {
				c.Retain()
				cols[j] = c
			} else {
				cols[j] = array.NewSlice(c, off, end)
			}
		}
		out, err := newRecord(p.schema, cols, end-off)
		for _, c := range cols {
			c.Release()
		}
		if err != nil {
			return err
		}
		p.budget.deliver(out)
		if err := p.emit(out); err != nil {
			out.Release()
			p.emitFailed = true
			return err
		}
		p.rows += end - off
		p.delivered++
	}
	return nil
}

// newRecord builds a record, turning arrow-go's validation panic into an error.
func newRecord(sc *arrow.Schema, cols []arrow.Array, rows int64) (rec arrow.RecordBatch, err error) {
	for i, c := range cols {
		if !arrow.TypeEqual(sc.Field(i).Type, c.DataType()) {
			return nil, fmt.Errorf("column %q decoded as %s, but the dataset schema says %s", sc.Field(i).Name, c.DataType(), sc.Field(i).Type)
		}
		if int64(c.Len()) != rows {
			return nil, fmt.Errorf("column %q has %d rows in a batch of %d: the file is corrupt", sc.Field(i).Name, c.Len(), rows)
		}
	}
	return array.NewRecordBatch(sc, cols, rows), nil
}

// recordRows returns how many rows a format reader decodes into one record when its rows hold
// valuesPerRow values each (Parquet: leaf values, list elements included; CSV: fields): rc.batchRows
// when the caller set Options.BatchRows, else about DefaultBatchValues values' worth, between 1 and
// rc.batchRows.
func (rc *readCall) recordRows(valuesPerRow float64) int {
	if !rc.autoRows || !(valuesPerRow > 1) { // also NaN
		return rc.batchRows
	}
	return int(max(1, min(float64(rc.batchRows), math.Floor(DefaultBatchValues/valuesPerRow))))
}

// openFile opens path for a read and checks that it is still the file Open saw: same file (not
// replaced), same size, same modification time.
func (rc *readCall) openFile() (*os.File, error) {
	f, err := os.Open(rc.path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := rc.differs(st, "since it was opened"); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// changed stats the path again after a read and returns an error if the file is no longer the one Open
// saw (when says when it changed), or nil. A file that cannot be stat'ed any more has changed too.
func (rc *readCall) changed(when string) error {
	st, err := os.Stat(rc.path)
	if err != nil {
		return &changeError{fmt.Sprintf("%s changed %s: %v: the data must not change during a run", rc.path, when, statError(rc.path, err))}
	}
	return rc.differs(st, when)
}

// changeError says that a file is no longer the one Open saw.
type changeError struct{ msg string }

func (e *changeError) Error() string { return e.msg }

// differs compares st with the file Open saw and returns a *changeError if they differ.
func (rc *readCall) differs(st os.FileInfo, when string) error {
	const hint = "the data must not change during a run"
	var msg string
	switch {
	case st.Size() != rc.size:
		msg = fmt.Sprintf("%s changed %s (size %d, was %d): %s", rc.path, when, st.Size(), rc.size, hint)
	case rc.stat == nil:
		return nil
	case !os.SameFile(st, rc.stat):
		msg = fmt.Sprintf("%s was replaced by another file %s: %s", rc.path, when, hint)
	case !st.ModTime().Equal(rc.stat.ModTime()):
		msg = fmt.Sprintf("%s was modified %s (modification time %s, was %s): %s", rc.path, when,
			st.ModTime().UTC().Format(time.RFC3339Nano), rc.stat.ModTime().UTC().Format(time.RFC3339Nano), hint)
	default:
		return nil
	}
	return &changeError{msg}
}

// panicText renders a recovered panic value on one line.
func panicText(r any) string {
	var s string
	switch v := r.(type) {
	case error:
		s = v.Error()
	default:
		s = fmt.Sprint(v)
	}
	s = oneLine(s)
	const max = 200
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

// debugPanics, when set (tests), prints the stack of recovered panics to stderr.
var debugPanics = os.Getenv("SGDPIPE_SOURCE_DEBUG") != ""

func logPanic(r any) {
	if debugPanics {
		fmt.Fprintf(os.Stderr, "source: recovered panic: %v\n%s\n", r, debug.Stack())
	}
}

// maxErrLen bounds error messages: the start names the file and the problem, the end the detail.
const maxErrLen = 320

// oneLine folds a multi-line message onto one line and shortens it to maxErrLen bytes.
func oneLine(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		fields := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
		}
		s = strings.Join(fields, "; ")
	}
	if len(s) > maxErrLen {
		s = strings.ToValidUTF8(s[:maxErrLen-80], "") + " ... " + strings.ToValidUTF8(s[len(s)-75:], "")
	}
	return s
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
