package source

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	arrowcsv "github.com/apache/arrow-go/v18/arrow/csv"
)

// csvFile reads the chunks of one CSV file found by the scan done at Open.
type csvFile struct {
	schema   *arrow.Schema
	comma    rune
	chunks   []csvChunk
	inferred []bool // per column: type inferred (true) or set by CSVOptions.Types
	infer    int    // rows sampled
}

// csvChunk is a byte range of whole records.
type csvChunk struct {
	start, end int64
	rows       int64
	firstRow   int64 // 0-based index of its first data row in the file
	firstLine  int64 // 1-based line number of its first record
}

// csvScan is the result of the single scan of a CSV file.
type csvScan struct {
	headerStart, headerEnd int64
	sampleEnd              int64 // end of the first InferRows records
	chunks                 []csvChunk
}

// scanCSV finds the header record, then cuts the data records into chunks of chunkRows records. A record
// ends at a newline outside double quotes; empty lines are skipped (as encoding/csv does).
func scanCSV(r io.Reader, chunkRows, inferRows int) (csvScan, error) {
	var s csvScan
	br := bufio.NewReaderSize(r, 1<<20)
	var (
		pos        int64 // offset of the next byte
		line       int64 = 1
		recStart   int64 // offset where the current record starts
		recLine    int64 = 1
		quoteLine  int64
		inQuote    bool
		content    bool // the current record has a byte other than CR
		haveHeader bool
		rows       int64
		cur        = csvChunk{firstLine: 0}
	)
	endRecord := func(end int64) {
		if !content {
			recStart, recLine = end, line
			return
		}
		if !haveHeader {
			haveHeader = true
			s.headerStart, s.headerEnd = recStart, end
			cur = csvChunk{start: end, firstLine: line}
		} else {
			if cur.rows == 0 {
				cur.start, cur.firstLine, cur.firstRow = recStart, recLine, rows
			}
			rows++
			cur.rows++
			if rows == int64(inferRows) {
				s.sampleEnd = end
			}
			if cur.rows == int64(chunkRows) {
				cur.end = end
				s.chunks = append(s.chunks, cur)
				cur = csvChunk{}
			}
		}
		content = false
		recStart, recLine = end, line
	}
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			if pos == 0 && bytes.HasPrefix(chunk, []byte("\xef\xbb\xbf")) {
				chunk = chunk[3:]
				pos, recStart = 3, 3
			}
			for _, c := range chunk {
				pos++
				switch c {
				case '"':
					if !inQuote {
						quoteLine = line
					}
					inQuote = !inQuote
					content = true
				case '\n':
					line++
					if !inQuote {
						endRecord(pos)
					}
				case '\r':
				default:
					content = true
				}
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return s, err
		}
	}
	if inQuote {
		return s, fmt.Errorf("line %d: quoted field is never closed (a \" without its closing \")", quoteLine)
	}
	endRecord(pos)
	if !haveHeader {
		return s, errors.New("no header line: the file is blank")
	}
	if cur.rows > 0 {
		cur.end = pos
		s.chunks = append(s.chunks, cur)
	}
	if rows < int64(inferRows) {
		s.sampleEnd = pos
	}
	return s, nil
}

func newCSVReader(r io.Reader, comma rune, fields int) *csv.Reader {
	cr := csv.NewReader(r)
	cr.Comma = comma
	cr.FieldsPerRecord = fields
	cr.ReuseRecord = true
	return cr
}

func openCSV(fh *os.File, path string, info *fileInfo, opts *Options, mem *budget) (fileReader, error) {
	comma := opts.CSV.Comma
	if comma == 0 {
		comma = ','
		if strings.EqualFold(filepath.Ext(path), ".tsv") {
			comma = '\t'
		}
	}
	sc, err := scanCSV(fh, opts.CSV.ChunkRows, opts.CSV.InferRows)
	if err != nil {
		return nil, err
	}
	// Header.
	hr := newCSVReader(io.NewSectionReader(fh, sc.headerStart, sc.headerEnd-sc.headerStart), comma, 0)
	header, err := hr.Read()
	if err != nil {
		return nil, fmt.Errorf("header line: %v", csvErrText(err))
	}
	names := slices.Clone(header)
	for i, n := range names {
		if strings.TrimSpace(n) == "" {
			names[i] = fmt.Sprintf("column_%d", i+1)
		}
	}
	for k := range opts.CSV.Types {
		if !slices.Contains(names, k) {
			return nil, fmt.Errorf("CSVOptions.Types names column %q, which is not in the header (columns: %s)", k, strings.Join(names, ", "))
		}
	}
	// Infer types from the sample.
	kinds := make([]csvKind, len(names))
	start := sc.headerEnd
	if len(sc.chunks) > 0 {
		start = sc.chunks[0].start
	}
	sr := newCSVReader(io.NewSectionReader(fh, start, max(sc.sampleEnd-start, 0)), comma, len(names))
	for row := 1; ; row++ {
		rec, err := sr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			line := int64(0)
			if len(sc.chunks) > 0 {
				line = sc.chunks[0].firstLine - 1
			}
			return nil, fmt.Errorf("data row %d: %v", row, csvErrTextAt(err, line, len(names)))
		}
		for i, v := range rec {
			kinds[i] = kinds[i].merge(v)
		}
	}
	fields := make([]arrow.Field, len(names))
	inferred := make([]bool, len(names))
	for i, n := range names {
		t, ok := opts.CSV.Types[n]
		if !ok {
			t, inferred[i] = kinds[i].arrowType(), true
		}
		fields[i] = arrow.Field{Name: n, Type: t, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	if err := checkCSVTypes(schema); err != nil {
		return nil, err
	}
	info.schema = schema
	info.shardRows = make([]int64, len(sc.chunks))
	for i, c := range sc.chunks {
		info.shardRows[i] = c.rows
	}
	return &csvFile{schema: schema, comma: comma, chunks: sc.chunks, inferred: inferred, infer: opts.CSV.InferRows}, nil
}

// checkCSVTypes reports a column type arrow-go's CSV reader cannot decode (it panics on them).
func checkCSVTypes(sc *arrow.Schema) (err error) {
	for _, f := range sc.Fields() {
		func() {
			defer func() {
				if recover() != nil {
					err = fmt.Errorf("CSVOptions.Types: column %q cannot be read from CSV as %s", f.Name, f.Type)
				}
			}()
			r := arrowcsv.NewReader(strings.NewReader(""), arrow.NewSchema([]arrow.Field{f}, nil))
			r.Release()
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// csvKind is the type lattice of inference: null < int64 < float64; bool and string stand apart, and any
// mix of kinds other than int64/float64 is string.
type csvKind uint8

const (
	kindNull csvKind = iota
	kindInt
	kindFloat
	kindBool
	kindString
)

func (k csvKind) merge(v string) csvKind {
	if v == "" || k == kindString {
		return k
	}
	var vk csvKind
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		vk = kindInt
	} else if _, err := strconv.ParseFloat(v, 64); err == nil {
		vk = kindFloat
	} else if _, err := strconv.ParseBool(v); err == nil {
		vk = kindBool
	} else {
		return kindString
	}
	switch {
	case k == kindNull || k == vk:
		return vk
	case (k == kindInt && vk == kindFloat) || (k == kindFloat && vk == kindInt):
		return kindFloat
	}
	return kindString
}

func (k csvKind) arrowType() arrow.DataType {
	switch k {
	case kindInt:
		return arrow.PrimitiveTypes.Int64
	case kindFloat:
		return arrow.PrimitiveTypes.Float64
	case kindBool:
		return arrow.FixedWidthTypes.Boolean
	}
	return arrow.BinaryTypes.String
}

func (c *csvFile) read(ctx context.Context, rc *readCall, index int, fields []int, sink func(arrow.RecordBatch) error) error {
	ch := c.chunks[index]
	if ch.end-ch.start > rc.maxBytes {
		return fmt.Errorf("chunk of %d bytes is more than %s (Options.MaxBytes): lower CSVOptions.ChunkRows or raise the limit", ch.end-ch.start, formatBytes(rc.maxBytes))
	}
	fh, err := rc.openFile()
	if err != nil {
		return err
	}
	defer fh.Close()
	r := arrowcsv.NewReader(io.NewSectionReader(fh, ch.start, ch.end-ch.start), c.schema,
		arrowcsv.WithHeader(false), arrowcsv.WithChunk(rc.recordRows(float64(c.schema.NumFields()))), arrowcsv.WithComma(c.comma),
		arrowcsv.WithNullReader(true, ""), arrowcsv.WithAllocator(rc.mem))
	defer r.Release()
	for r.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.Err() != nil {
			break
		}
		rec := r.RecordBatch()
		rec.Retain()
		if err := sinkSelected(rec, fields, nil, sink); err != nil {
			return err
		}
	}
	if err := r.Err(); err != nil {
		if located := c.locate(fh, ch); located != nil {
			return located
		}
		return fmt.Errorf("rows %d..%d: %v", ch.firstRow+1, ch.firstRow+ch.rows, csvErrText(err))
	}
	return nil
}

// locate re-reads a chunk that failed to decode and describes its first bad cell or record.
func (c *csvFile) locate(fh *os.File, ch csvChunk) error {
	cr := newCSVReader(io.NewSectionReader(fh, ch.start, ch.end-ch.start), c.comma, c.schema.NumFields())
	for k := int64(0); ; k++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		row := ch.firstRow + k + 1
		if err != nil {
			return fmt.Errorf("data row %d: %v", row, csvErrTextAt(err, ch.firstLine-1, c.schema.NumFields()))
		}
		for i, v := range rec {
			f := c.schema.Field(i)
			if v == "" || parsesAs(f.Type, v) {
				continue
			}
			hint := "fix the value or set CSVOptions.Types for this column"
			if c.inferred[i] {
				hint = fmt.Sprintf("the type was inferred from the first %d rows: set CSVOptions.Types[%q] to override", c.infer, clip(f.Name, 40))
			}
			return fmt.Errorf("data row %d, column %q: %q is not a valid %s (%s)", row, clip(f.Name, 40), clip(v, 40), f.Type, hint)
		}
	}
}

// parsesAs reports whether arrow-go's CSV reader accepts v for a column of type t. Types it checks no
// further than the reader itself are reported as parsable.
func parsesAs(t arrow.DataType, v string) bool {
	var err error
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		_, err = strconv.ParseInt(v, 10, t.(arrow.FixedWidthDataType).BitWidth())
	case arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		_, err = strconv.ParseUint(v, 10, t.(arrow.FixedWidthDataType).BitWidth())
	case arrow.FLOAT32:
		_, err = strconv.ParseFloat(v, 32)
	case arrow.FLOAT64:
		_, err = strconv.ParseFloat(v, 64)
	case arrow.BOOL:
		_, err = strconv.ParseBool(v)
	}
	return err == nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// csvErrText renders an encoding/csv error without its line prefix (positions are relative to a section).
func csvErrText(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// csvErrTextAt renders an encoding/csv error with its line number made absolute (lineBase is the number of
// lines before the section that was parsed).
func csvErrTextAt(err error, lineBase int64, fields int) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return fmt.Sprintf("line %d: wrong number of fields (the header has %d)", int64(pe.StartLine)+lineBase, fields)
		}
		return fmt.Sprintf("line %d: %v", int64(pe.Line)+lineBase, pe.Err)
	}
	return err.Error()
}
