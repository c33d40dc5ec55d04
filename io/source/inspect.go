package source

import (
	"context"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// ColumnSummary describes one column of a dataset. Min and Max are nil for non-numeric columns and for
// columns without a finite value; for list columns of numbers they range over the elements. StatsFrom is
// "statistics" when every number came from Parquet footer statistics, "scan" when the column was read.
type ColumnSummary struct {
	Name      string   `json:"name"`
	Type      string   `json:"type"`
	Nullable  bool     `json:"nullable"`
	Nulls     int64    `json:"nulls"`
	Min       *float64 `json:"min,omitempty"`
	Max       *float64 `json:"max,omitempty"`
	StatsFrom string   `json:"stats_from"`
}

// Summary summarises a dataset for `pipe inspect`. It is plain data, JSON-marshalable.
type Summary struct {
	Files  []File          `json:"files"`
	Schema []ColumnSummary `json:"schema"`
	Rows   int64           `json:"rows"`
	Shards int             `json:"shards"`
}

// Inspect summarises d: per file rows, shards, size and format; per column type, null count, min and max,
// from Parquet statistics where every file has them for the column, otherwise computed by reading the
// column (only the columns that need it are read). Non-finite values (NaN, ±Inf) are ignored by min and
// max. Cost: metadata only for Parquet files with statistics, else one ReadShard per shard over the columns
// lacking them. It is safe for concurrent use; it stops at ctx's cancellation.
func Inspect(ctx context.Context, d *Dataset) (*Summary, error) {
	s := &Summary{Files: append([]File(nil), d.Files...), Rows: d.Rows, Shards: len(d.Shards)}
	if d.Schema == nil {
		return s, nil
	}
	nf := d.Schema.NumFields()
	acc := make([]colAcc, nf)
	for i := range acc {
		acc[i] = colAcc{min: math.Inf(1), max: math.Inf(-1), fromStats: true}
	}
	// Footer statistics, per Parquet file.
	for _, r := range d.readers {
		p, ok := r.(*parquetFile)
		for c := range acc {
			if !ok || !acc[c].fromStats || !p.statsInto(&acc[c], c, d.Schema.Field(c).Type) {
				acc[c].fromStats = false
			}
		}
	}
	var scan []int
	for c := range acc {
		if !acc[c].fromStats {
			acc[c] = colAcc{min: math.Inf(1), max: math.Inf(-1)}
			scan = append(scan, c)
		}
	}
	if len(scan) > 0 {
		for i := range d.Shards {
			err := d.ReadShard(ctx, i, scan, func(rec arrow.RecordBatch) error {
				defer rec.Release()
				for j, c := range scan {
					acc[c].add(rec.Column(j))
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	}
	s.Schema = make([]ColumnSummary, nf)
	for c, f := range d.Schema.Fields() {
		cs := ColumnSummary{Name: f.Name, Type: f.Type.String(), Nullable: f.Nullable, Nulls: acc[c].nulls, StatsFrom: "scan"}
		if acc[c].fromStats {
			cs.StatsFrom = "statistics"
		}
		if acc[c].min <= acc[c].max {
			lo, hi := acc[c].min, acc[c].max
			cs.Min, cs.Max = &lo, &hi
		}
		s.Schema[c] = cs
	}
	return s, nil
}

// colAcc accumulates one column's null count and finite range.
type colAcc struct {
	nulls     int64
	min, max  float64
	fromStats bool
}

func (a *colAcc) see(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	if v == 0 {
		v = 0 // -0 prints as "-0"
	}
	a.min = math.Min(a.min, v)
	a.max = math.Max(a.max, v)
}

// add folds an array into the accumulator: its nulls, and the range of its numbers (or of its elements,
// for lists of numbers).
func (a *colAcc) add(arr arrow.Array) {
	a.nulls += int64(arr.NullN())
	a.addValues(arr)
}

func (a *colAcc) addValues(arr arrow.Array) {
	valid := func(i int) bool { return arr.IsValid(i) }
	switch v := arr.(type) {
	case *array.Int8:
		for i, x := range v.Int8Values() {
			if valid(i) {
				a.see(float64(x))
			}
		}
	case *array.Int16:
		for i, x := range v.Int16Values() {
			if valid(i) {
				a.see(float64(x))
			}
		}
	case *array.Int32:
		for i, x := range v.Int32Values() {
			if valid(i) {
				a.see(float64(x))
			}
		}
	case *array.Int64:
		for i, x := range v.Int64Values() {
			if valid(i) {
				a.see(float64(x))
			}
		}
	case *array.Uint8:
		for i, x := range v.Uint8Values() {
			if valid(i) {
				a.see(float64(x))
			}
		}
	case *array.Uint16:
		for i, x := range v.Uint16Values() {
			if valid(i) {
				a.see(float64(x))
			}
		}
	case *array.Uint32:
		for i, x := range v.Uint32Values() {
			if valid(i) {
				a.see(float64(x))
			}
		}
	case *array.Uint64:
		for i, x := range v.Uint64Values() {
			if valid(i) {
				a.see(float64(x))
			}
		}
	case *array.Float32:
		for i, x := range v.Float32Values() {
			if valid(i) {
				a.see(float64(x))
			}
		}
	case *array.Float64:
		for i, x := range v.Float64Values() {
			if valid(i) {
				a.see(x)
			}
		}
	case *array.Boolean:
		for i := 0; i < v.Len(); i++ {
			if valid(i) {
				if v.Value(i) {
					a.see(1)
				} else {
					a.see(0)
				}
			}
		}
	case *array.FixedSizeList:
		n := int64(v.DataType().(*arrow.FixedSizeListType).Len())
		vals := array.NewSlice(v.ListValues(), int64(v.Offset())*n, int64(v.Offset()+v.Len())*n)
		defer vals.Release()
		a.addValues(vals)
	case array.ListLike:
		if v.Len() == 0 {
			return
		}
		start, _ := v.ValueOffsets(0)
		_, end := v.ValueOffsets(v.Len() - 1)
		vals := array.NewSlice(v.ListValues(), start, end)
		defer vals.Release()
		a.addValues(vals)
	}
}

// statsInto folds the footer statistics of column c into acc, and reports whether every row group has
// them (null count and, for numeric columns, min and max). Only top-level primitive columns qualify.
func (p *parquetFile) statsInto(acc *colAcc, c int, t arrow.DataType) bool {
	if c >= len(p.leaves) || len(p.leaves[c]) != 1 || !isNumeric(t) && t.ID() != arrow.STRING && t.ID() != arrow.BINARY {
		return false
	}
	leaf := p.leaves[c][0]
	for rg := 0; rg < p.meta.NumRowGroups(); rg++ {
		cc, err := p.meta.RowGroup(rg).ColumnChunk(leaf)
		if err != nil {
			return false
		}
		ok, err := cc.StatsSet()
		if err != nil || !ok {
			return false
		}
		st, err := cc.Statistics()
		if err != nil || st == nil || !st.HasNullCount() {
			return false
		}
		acc.nulls += st.NullCount()
		if !isNumeric(t) {
			continue
		}
		if st.NumValues() == 0 {
			continue
		}
		if !st.HasMinMax() {
			return false
		}
		lo, hi, ok := statRange(st, t)
		if !ok {
			return false
		}
		acc.see(lo)
		acc.see(hi)
	}
	return true
}

func isNumeric(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT32, arrow.FLOAT64:
		return true
	}
	return false
}

// statRange converts typed Parquet statistics to float64, honouring unsigned Arrow types.
func statRange(st metadata.TypedStatistics, t arrow.DataType) (lo, hi float64, ok bool) {
	unsigned := t.ID() == arrow.UINT8 || t.ID() == arrow.UINT16 || t.ID() == arrow.UINT32 || t.ID() == arrow.UINT64
	switch s := st.(type) {
	case *metadata.Int32Statistics:
		if unsigned {
			return float64(uint32(s.Min())), float64(uint32(s.Max())), true
		}
		return float64(s.Min()), float64(s.Max()), true
	case *metadata.Int64Statistics:
		if unsigned {
			return float64(uint64(s.Min())), float64(uint64(s.Max())), true
		}
		return float64(s.Min()), float64(s.Max()), true
	case *metadata.Float32Statistics:
		return float64(s.Min()), float64(s.Max()), true
	case *metadata.Float64Statistics:
		return s.Min(), s.Max(), true
	}
	return 0, 0, false
}
