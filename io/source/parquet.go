package source

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// parquetFile reads the row groups of one Parquet file. It keeps the parsed footer so that each read
// re-opens the file without parsing it again.
type parquetFile struct {
	meta   *metadata.FileMetaData
	leaves [][]int // leaf column indices of each top-level field
}

// streamBuffer is the read buffer of one column chunk: pages are read through it, so memory does not
// grow with the column chunk size that the metadata declares.
const streamBuffer = 1 << 20

func readerProps(mem *budget) *parquet.ReaderProperties {
	props := parquet.NewReaderProperties(mem)
	props.BufferedStreamEnabled = true
	props.BufferSize = streamBuffer
	return props
}

func openParquet(fh *os.File, path string, info *fileInfo, opts *Options, mem *budget) (fileReader, error) {
	if err := checkParquetFooter(fh, info.size); err != nil {
		return nil, err
	}
	pf, err := file.NewParquetReader(fh, file.WithReadProps(readerProps(mem)))
	if err != nil {
		return nil, parquetFooterError(err)
	}
	defer pf.Close()
	if err := checkStoredSchema(pf.MetaData().KeyValueMetadata(), opts.MaxBytes); err != nil {
		return nil, err
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		return nil, fmt.Errorf("unsupported Parquet schema: %v", err)
	}
	sc, err := fr.Schema()
	if err != nil {
		return nil, fmt.Errorf("unsupported Parquet schema: %v", err)
	}
	meta := pf.MetaData()
	p := &parquetFile{meta: meta, leaves: make([][]int, len(fr.Manifest.Fields))}
	for i := range fr.Manifest.Fields {
		p.leaves[i] = appendLeaves(nil, &fr.Manifest.Fields[i])
	}
	if len(p.leaves) != sc.NumFields() {
		return nil, fmt.Errorf("corrupt Parquet schema: %d fields but %d columns", len(p.leaves), sc.NumFields())
	}
	info.schema = sc
	info.shardRows = make([]int64, meta.NumRowGroups())
	for i := range info.shardRows {
		rg := meta.RowGroup(i)
		if rg.NumColumns() != meta.Schema.NumColumns() {
			return nil, fmt.Errorf("corrupt Parquet metadata: row group %d has %d column chunks, the schema %d", i, rg.NumColumns(), meta.Schema.NumColumns())
		}
		for j := range rg.NumColumns() {
			cc, err := rg.ColumnChunk(j)
			if err != nil {
				return nil, fmt.Errorf("corrupt Parquet metadata: row group %d column %d: %v", i, j, err)
			}
			// The schema and each column chunk state the physical type: a footer where they differ lies
			// about one of them, and decoding would reinterpret the values.
			if col := meta.Schema.Column(j); cc.Type() != col.PhysicalType() {
				return nil, fmt.Errorf("corrupt Parquet metadata: column %q is %s in the schema but %s in row group %d",
					col.Path(), col.PhysicalType(), cc.Type(), i)
			}
		}
		n := rg.NumRows()
		if n < 0 {
			return nil, fmt.Errorf("corrupt Parquet metadata: row group %d declares %d rows", i, n)
		}
		info.shardRows[i] = n
	}
	if kv := meta.KeyValueMetadata(); kv != nil {
		info.meta = metaMap(arrow.NewMetadata(kv.Keys(), kv.Values()))
	}
	return p, nil
}

// thriftStruct matches the context arrow-go's generated Thrift readers prepend to an error, one struct
// or field per level ("*parquet.RowGroup error reading struct: ", "*parquet.ColumnChunk field 3 read
// error: ").
var thriftStruct = regexp.MustCompile(`^\*parquet\.(\w+) (?:error reading struct|field \d+ read error|read error|read struct end error): `)

// parquetFooterError says what arrow-go could not read in a footer: a chain of Thrift reader contexts
// ("parquet: could not read footer: *parquet.RowGroup error reading struct: *parquet.ColumnChunk error
// reading struct: Required field X is not set") becomes "corrupt Parquet footer: Required field X is
// not set (in RowGroup > ColumnChunk)".
func parquetFooterError(err error) error {
	s, ok := strings.CutPrefix(err.Error(), "parquet: could not read footer: ")
	if !ok {
		return fmt.Errorf("not a readable Parquet file: %v", err)
	}
	var path []string
	for {
		m := thriftStruct.FindStringSubmatch(s)
		if m == nil {
			break
		}
		path = append(path, m[1])
		s = s[len(m[0]):]
	}
	if len(path) > 0 {
		s += " (in " + strings.Join(path, " > ") + ")"
	}
	return fmt.Errorf("corrupt Parquet footer: %s", s)
}

// decodeError turns an error of pqarrow's decoder reading row group index into one that says so without
// arrow-go's package prefix ("parquet: could not decompress page: s2: corrupt input" becomes "cannot
// decode row group 1: could not decompress page: s2: corrupt input"). The context's errors are returned
// as they are (ReadShard passes them on unchanged).
func (p *parquetFile) decodeError(err error, index int) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("cannot decode row group %d: %s", index, strings.TrimPrefix(err.Error(), "parquet: "))
}

// checkStoredSchema checks the Arrow schema that Parquet writers store in the file's key/value metadata
// (ARROW:schema: an IPC schema message in base64), which pqarrow decodes with arrow-go's IPC reader, as
// the IPC readers check theirs (checkSchema). It decodes the value as pqarrow does and leaves values
// pqarrow cannot decode to pqarrow's error. Reads reuse the footer parsed at Open, so Open's check covers
// them.
func checkStoredSchema(kv metadata.KeyValueMetadata, maxBytes int64) error {
	v := kv.FindValue("ARROW:schema")
	if v == nil {
		return nil
	}
	var (
		raw []byte
		err error
	)
	if len(*v)%4 == 0 {
		raw, err = base64.StdEncoding.DecodeString(*v)
	}
	if len(raw) == 0 || err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(*v); err != nil {
			return nil
		}
	}
	if _, _, err := ipcStreamSource(bytes.NewReader(raw), int64(len(raw)), maxBytes); err != nil {
		return fmt.Errorf("the Arrow schema stored in its metadata (ARROW:schema): %v", err)
	}
	return nil
}

func appendLeaves(dst []int, f *pqarrow.SchemaField) []int {
	if f.IsLeaf() {
		return append(dst, f.ColIndex)
	}
	for i := range f.Children {
		dst = appendLeaves(dst, &f.Children[i])
	}
	return dst
}

// checkChunks refuses a row group whose projected column chunks lie outside the file or declare more
// uncompressed bytes than the budget.
func (p *parquetFile) checkChunks(rc *readCall, index int, leaves []int) error {
	rg := p.meta.RowGroup(index)
	var uncompressed int64
	for _, leaf := range leaves {
		cc, err := rg.ColumnChunk(leaf)
		if err != nil {
			return err
		}
		name := cc.PathInSchema().String()
		start := cc.DataPageOffset()
		if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && cc.DictionaryPageOffset() < start {
			start = cc.DictionaryPageOffset()
		}
		n := cc.TotalCompressedSize()
		if start < 0 || n < 0 || start > rc.size || n > rc.size-start {
			return fmt.Errorf("corrupt Parquet metadata: column chunk %q of row group %d spans bytes %d..%d of a %d-byte file", name, index, start, start+n, rc.size)
		}
		u := cc.TotalUncompressedSize()
		if u < 0 {
			return fmt.Errorf("corrupt Parquet metadata: column chunk %q of row group %d declares %d bytes", name, index, u)
		}
		uncompressed += u
		if uncompressed > rc.maxBytes || uncompressed < 0 {
			return fmt.Errorf("row group %d declares more than %s of uncompressed data in the columns read (Options.MaxBytes): the file may be corrupt, or raise the limit",
				index, formatBytes(rc.maxBytes))
		}
	}
	return nil
}

// valuesPerRow returns the mean number of leaf values (list elements and nulls included: the levels
// pqarrow decodes) per row of row group index over the given leaf columns, from the column chunks'
// metadata, or 0 if the row group declares no rows. pqarrow's buffers for a record grow with it (levels,
// values, builders), not with the rows alone.
func (p *parquetFile) valuesPerRow(index int, leaves []int) float64 {
	rg := p.meta.RowGroup(index)
	rows := rg.NumRows()
	if rows <= 0 {
		return 0
	}
	var values float64
	for _, leaf := range leaves {
		if cc, err := rg.ColumnChunk(leaf); err == nil {
			values += float64(max(cc.NumValues(), 0))
		}
	}
	return values / float64(rows)
}

func (p *parquetFile) read(ctx context.Context, rc *readCall, index int, fields []int, sink func(arrow.RecordBatch) error) error {
	var leaves []int
	for _, f := range fields {
		leaves = append(leaves, p.leaves[f]...)
	}
	if err := p.checkChunks(rc, index, leaves); err != nil {
		return err
	}
	fh, err := rc.openFile()
	if err != nil {
		return err
	}
	defer fh.Close()
	mem := rc.mem
	pf, err := file.NewParquetReader(fh, file.WithReadProps(readerProps(mem)), file.WithMetadata(p.meta))
	if err != nil {
		return err
	}
	defer pf.Close()
	rows := rc.recordRows(p.valuesPerRow(index, leaves))
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(rows)}, mem)
	if err != nil {
		return err
	}
	rr, err := fr.GetRecordReader(ctx, leaves, []int{index})
	if err != nil {
		return p.decodeError(err, index)
	}
	defer rr.Release()
	for rr.Next() {
		rec := rr.RecordBatch()
		rec.Retain()
		if err := sink(rec); err != nil {
			return err
		}
	}
	if err := rr.Err(); err != nil {
		return p.decodeError(err, index)
	}
	return nil
}
