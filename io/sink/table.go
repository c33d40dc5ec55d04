package sink

import (
	"encoding/csv"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	arrowcsv "github.com/apache/arrow-go/v18/arrow/csv"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/sgdpipe/sgdpipe/internal/atomicfile"
)

// table writes Arrow records to one file, Parquet or CSV, atomically: nothing
// appears at path until close succeeds. It is the engine shared by
// PredictionWriter and MetricsWriter. Not safe for concurrent use.
type table struct {
	path    string
	format  Format
	schema  *arrow.Schema
	file    *atomicfile.File
	pq      *pqarrow.FileWriter // Parquet only
	sink    *sinkWriter         // Parquet only: pq's output
	csv     *arrowcsv.Writer    // CSV only
	rows    int64
	err     error // first error; the file is aborted when it is set
	done    bool  // closed or aborted
	aborted bool  // done by abort: nothing was committed
}

// sinkWriter is the Parquet writer's view of the file. It hides
// atomicfile.File's other methods, since pqarrow would otherwise close the
// file (and then nothing could commit it). And it never reports a write error
// to pqarrow: pqarrow returns early on a sink error without releasing its
// buffers, so sinkWriter keeps the first error in err, discards later bytes,
// and the table checks err after every pqarrow call, then closes pqarrow
// cleanly and aborts the file.
type sinkWriter struct {
	f   *atomicfile.File
	err error
}

func (s *sinkWriter) Write(p []byte) (int, error) {
	if s.err == nil {
		_, s.err = s.f.Write(p)
	}
	return len(p), nil
}

// newTable validates schema for format and opens the temporary file. For
// Parquet, rowGroupRows bounds the rows buffered in memory per row group.
func newTable(path string, format Format, schema *arrow.Schema, mem memory.Allocator, rowGroupRows int64) (*table, error) {
	if format == CSV {
		for _, f := range schema.Fields() {
			if !csvSupported(f.Type) {
				return nil, fmt.Errorf("%s: column %q has type %s, which CSV cannot hold: write Parquet instead", path, f.Name, f.Type)
			}
		}
	}
	af, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	t := &table{path: path, format: format, schema: schema, file: af}
	switch format {
	case Parquet:
		opts := []parquet.WriterProperty{
			parquet.WithAllocator(mem),
			parquet.WithCompression(compress.Codecs.Zstd),
			parquet.WithMaxRowGroupLength(rowGroupRows),
			parquet.WithCreatedBy("sgdpipe"),
		}
		// Dictionary encoding stays on for non-nullable, non-float columns
		// (class labels, keys). Floats (losses, probabilities) are nearly all
		// distinct, so a dictionary only costs time. A nullable column can be
		// all null in a row group, which writes an empty dictionary page that
		// arrow's debug assertions (-tags assert) reject; zstd compresses
		// repeated values in such columns well without a dictionary.
		for _, f := range schema.Fields() {
			switch f.Type.ID() {
			case arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
				opts = append(opts, parquet.WithDictionaryFor(f.Name, false))
			default:
				if f.Nullable {
					opts = append(opts, parquet.WithDictionaryFor(f.Name, false))
				}
			}
		}
		props := parquet.NewWriterProperties(opts...)
		arrProps := pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(mem))
		t.sink = &sinkWriter{f: af}
		t.pq, err = pqarrow.NewFileWriter(schema, t.sink, props, arrProps)
		if err != nil {
			af.Abort()
			return nil, flatten(fmt.Sprintf("%s: cannot write this schema as Parquet", path), err)
		}
		if t.sink.err != nil {
			return nil, t.fail(t.sink.err)
		}
	case CSV:
		header := make([]string, schema.NumFields())
		for i, f := range schema.Fields() {
			header[i] = f.Name
		}
		cw := csv.NewWriter(af)
		cw.Write(header)
		cw.Flush()
		if err := cw.Error(); err != nil {
			af.Abort()
			return nil, err
		}
		t.csv = arrowcsv.NewWriter(af, schema, arrowcsv.WithHeader(false), arrowcsv.WithNullWriter(""),
			arrowcsv.WithCustomTypeConverter(dictionaryToStrings))
	}
	return t, nil
}

// write appends rec's rows. It borrows rec. After an error the table is
// aborted and every later call returns that error.
func (t *table) write(rec arrow.RecordBatch) error {
	if t.err != nil {
		return t.err
	}
	if t.done {
		return fmt.Errorf("%s: write after Close or Abort", t.path)
	}
	if !rec.Schema().Equal(t.schema) {
		return t.fail(fmt.Errorf("%s: %s", t.path, describeMismatch(rec.Schema(), t.schema)))
	}
	if rec.NumRows() == 0 {
		return nil
	}
	var err error
	if t.pq != nil {
		err = t.pq.WriteBuffered(rec)
		if t.sink.err != nil {
			err = t.sink.err
		}
	} else {
		err = t.csv.Write(rec)
	}
	if err != nil {
		return t.fail(t.ioError(err))
	}
	t.rows += rec.NumRows()
	return nil
}

// close finishes the file (Parquet footer, CSV flush) and commits it. After an
// earlier error it aborts and returns that error. A second close returns nil.
func (t *table) close() error {
	if t.err != nil {
		return t.err
	}
	if t.aborted {
		return fmt.Errorf("%s: Close after Abort: nothing was written", t.path)
	}
	if t.done {
		return nil
	}
	if t.pq != nil {
		err := t.pq.Close()
		if t.sink.err != nil {
			err = t.sink.err
		}
		if err != nil {
			return t.fail(t.ioError(err))
		}
	} else if err := t.csv.Flush(); err != nil {
		return t.fail(t.ioError(err))
	}
	t.done = true
	if err := t.file.Commit(); err != nil {
		t.err = err
		return err
	}
	return nil
}

// abort discards the temporary file and releases the Parquet writer's memory.
func (t *table) abort() error {
	if t.done {
		return nil
	}
	t.done, t.aborted = true, true
	if t.pq != nil {
		t.pq.Close() // releases buffers; its output goes to the discarded file
	}
	return t.file.Abort()
}

// fail records err, aborts the file and returns err.
func (t *table) fail(err error) error {
	t.err = err
	t.abort()
	return err
}

// ioError prefers the sink's own error, which names the path and says, for
// example, that the disk is full, over arrow's wrapping of it.
func (t *table) ioError(err error) error {
	if _, ferr := t.file.Write(nil); ferr != nil {
		return ferr
	}
	return flatten("write "+t.path, err)
}

// describeMismatch names the first column where got differs from want.
func describeMismatch(got, want *arrow.Schema) string {
	if got.NumFields() != want.NumFields() {
		return fmt.Sprintf("record has %d columns, the file has %d (%s)", got.NumFields(), want.NumFields(), fieldNames(want))
	}
	for i := range got.NumFields() {
		g, w := got.Field(i), want.Field(i)
		if g.Name != w.Name || !arrow.TypeEqual(g.Type, w.Type) || g.Nullable != w.Nullable {
			return fmt.Sprintf("record column %d is %q %s (nullable %t), the file's is %q %s (nullable %t)",
				i, g.Name, g.Type, g.Nullable, w.Name, w.Type, w.Nullable)
		}
	}
	return "record schema metadata differs from the file's schema"
}

// fieldNames lists the names of s's fields, comma-separated.
func fieldNames(s *arrow.Schema) string {
	names := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// csvSupported reports whether arrow's CSV writer (with dictionaryToStrings)
// can format a column of type dt.
func csvSupported(dt arrow.DataType) bool {
	switch t := dt.(type) {
	case *arrow.BooleanType, *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Int64Type,
		*arrow.Uint8Type, *arrow.Uint16Type, *arrow.Uint32Type, *arrow.Uint64Type,
		*arrow.Float16Type, *arrow.Float32Type, *arrow.Float64Type, *arrow.StringType, *arrow.LargeStringType,
		*arrow.Date32Type, *arrow.Date64Type, *arrow.TimestampType, *arrow.Decimal128Type, *arrow.Decimal256Type,
		*arrow.BinaryType, *arrow.LargeBinaryType, *arrow.FixedSizeBinaryType, *arrow.NullType:
		return true
	case *arrow.DictionaryType:
		return csvSupported(t.ValueType)
	case *arrow.MapType:
		return false
	case arrow.ListLikeType:
		return csvSupported(t.Elem())
	}
	return false
}

// dictionaryToStrings formats dictionary-encoded columns (arrow's CSV writer
// has no case for them) as their decoded values.
func dictionaryToStrings(_ arrow.DataType, col arrow.Array) ([]string, bool) {
	d, ok := col.(*array.Dictionary)
	if !ok {
		return nil, false
	}
	dict := d.Dictionary()
	out := make([]string, d.Len())
	for i := range out {
		if d.IsValid(i) {
			out[i] = dict.ValueStr(d.GetValueIndex(i))
		}
	}
	return out, true
}

// flatError is an error whose message is kept on one line; it unwraps to the
// original error.
type flatError struct {
	msg string
	err error
}

func (e *flatError) Error() string { return e.msg }
func (e *flatError) Unwrap() error { return e.err }

// flatten returns "prefix: err" on one line.
func flatten(prefix string, err error) error {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	return &flatError{msg: prefix + ": " + msg, err: err}
}
