package sink

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ReadMetrics reads a metrics file written by [MetricsWriter], CSV or Parquet
// by extension, for example to plot it again with [PlotCurves]. Null fields
// become NaN. mem allocates the Parquet reader's buffers (nil means
// memory.DefaultAllocator); everything is released before ReadMetrics returns.
// Every error is one line that names path and, where it applies, the line or
// row and the column.
func ReadMetrics(path string, mem memory.Allocator) (Metrics, error) {
	format, err := FormatOf(path)
	if err != nil {
		return Metrics{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Metrics{}, err
	}
	defer f.Close()
	if format == CSV {
		m, err := readMetricsCSV(f)
		if err != nil {
			return Metrics{}, fmt.Errorf("metrics file %s: %w", path, err)
		}
		return m, nil
	}
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	m, err := readMetricsParquet(f, mem)
	if err != nil {
		return Metrics{}, fmt.Errorf("metrics file %s: %w", path, err)
	}
	return m, nil
}

// readMetricsCSV parses the CSV form of the metrics table.
func readMetricsCSV(r io.Reader) (Metrics, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return Metrics{}, errors.New("empty file: want a header line")
	}
	if err != nil {
		return Metrics{}, csvError(err)
	}
	if !slices.Equal(header, metricsColumns) {
		return Metrics{}, fmt.Errorf("header is %q, want %q", strings.Join(header, ","), strings.Join(metricsColumns, ","))
	}
	var m Metrics
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return m, nil
		}
		if err != nil {
			return Metrics{}, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if err := appendRow(&m, rec, func(col int, s string) rowError {
			return rowError{fmt.Sprintf("line %d", line), metricsColumns[col], s}
		}); err != nil {
			return Metrics{}, err
		}
	}
}

// csvError keeps encoding/csv's message, which names the line, on one line.
func csvError(err error) error {
	return fmt.Errorf("malformed CSV: %s", strings.Join(strings.Fields(err.Error()), " "))
}

// rowError locates a bad value: where (line or row), column and the text.
type rowError struct{ where, col, text string }

// appendRow decodes one row given as strings ("" is null) and appends it to m.
func appendRow(m *Metrics, rec []string, at func(col int, s string) rowError) error {
	bad := func(col int, why string) error {
		e := at(col, rec[col])
		return fmt.Errorf("%s: column %q: %q %s", e.where, e.col, e.text, why)
	}
	var ints [2]int64
	for i := range ints {
		v, err := strconv.ParseInt(rec[1+i], 10, 64)
		if err != nil {
			return bad(1+i, "is not an integer")
		}
		ints[i] = v
	}
	if ints[1] != int64(int(ints[1])) {
		return bad(2, "does not fit in an int")
	}
	var flts [8]float64
	for i := range flts {
		s := rec[3+i]
		if s == "" {
			flts[i] = math.NaN()
			continue
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return bad(3+i, "is not a number")
		}
		flts[i] = v
	}
	switch rec[0] {
	case KindStep:
		for i := 3; i < 8; i++ {
			if !math.IsNaN(flts[i]) {
				return bad(3+i, "is set in a step row, which has no such column")
			}
		}
		m.Steps = append(m.Steps, StepRow{Step: ints[0], Epoch: int(ints[1]), Loss: flts[0], LR: flts[1], SamplesPerSec: flts[2]})
	case KindEpoch:
		for i := range 3 {
			if !math.IsNaN(flts[i]) {
				return bad(3+i, "is set in an epoch row, which has no such column")
			}
		}
		m.Epochs = append(m.Epochs, EpochRow{Epoch: int(ints[1]), Step: ints[0], TrainLoss: flts[3], TrainAcc: flts[4],
			ValLoss: flts[5], ValAcc: flts[6], Seconds: flts[7]})
	default:
		return bad(0, fmt.Sprintf("is not a row kind: want %q or %q", KindStep, KindEpoch))
	}
	return nil
}

// readMetricsParquet reads the Parquet form of the metrics table. A corrupt
// file can make the Parquet decoder panic; that panic becomes an error.
func readMetricsParquet(f parquet.ReaderAtSeeker, mem memory.Allocator) (m Metrics, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = Metrics{}, fmt.Errorf("corrupt Parquet file: %v", r)
		}
	}()
	tbl, err := pqarrow.ReadTable(context.Background(), f, nil, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		return Metrics{}, flatten("not a readable Parquet file", err)
	}
	defer tbl.Release()
	s := tbl.Schema()
	if s.NumFields() != len(metricsColumns) {
		return Metrics{}, fmt.Errorf("columns are %s, want %s", fieldNames(s), strings.Join(metricsColumns, ", "))
	}
	for i, want := range metricsSchema.Fields() {
		got := s.Field(i)
		if got.Name != want.Name || !arrow.TypeEqual(got.Type, want.Type) {
			return Metrics{}, fmt.Errorf("column %d is %q %s, want %q %s", i, got.Name, got.Type, want.Name, want.Type)
		}
	}
	tr := array.NewTableReader(tbl, 64<<10)
	defer tr.Release()
	rec := make([]string, len(metricsColumns))
	var row int64
	for tr.Next() {
		b := tr.RecordBatch()
		kind := b.Column(0).(*array.String)
		ints := [2]*array.Int64{b.Column(1).(*array.Int64), b.Column(2).(*array.Int64)}
		for i := range int(b.NumRows()) {
			for c := range rec {
				col := b.Column(c)
				switch {
				case col.IsNull(i):
					rec[c] = ""
				case c == 0:
					rec[c] = kind.Value(i)
				case c < 3:
					rec[c] = strconv.FormatInt(ints[c-1].Value(i), 10)
				default:
					rec[c] = strconv.FormatFloat(col.(*array.Float64).Value(i), 'g', -1, 64)
				}
			}
			if err := appendRow(&m, rec, func(col int, s string) rowError {
				return rowError{fmt.Sprintf("row %d", row+int64(i)+1), metricsColumns[col], s}
			}); err != nil {
				return Metrics{}, err
			}
		}
		row += b.NumRows()
	}
	if err := tr.Err(); err != nil {
		return Metrics{}, flatten("reading rows", err)
	}
	return m, nil
}
