package stages

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// RowColumn is the name of the int64 column the reader appends to every record: the
// global row index (file order over the whole dataset) of each row. The shuffler,
// the quality report, error messages and resume use it.
const RowColumn = "__row"

// Chunk is what travels between the data-path stages before the batcher: a record of
// one epoch, or the marker of the end of an epoch's input, so the epoch boundary
// travels with the data.
//
// Ownership: a Chunk received from a stream owns one reference to Rec; pass it on or
// call Release. A plain value otherwise, safe to copy (copies share the reference).
// The zero value is an empty chunk of epoch 0.
type Chunk struct {
	Epoch int
	// Rec holds the rows: the dataset's projected columns plus RowColumn after the
	// reader, the featurized columns {x, y, __row} after the normalizer. Nil when End.
	Rec arrow.RecordBatch
	// End marks the end of epoch Epoch: no chunk of that epoch follows.
	End bool
	// Refill marks rows re-read on resume to go back into the shuffle buffer; the
	// shuffler consumes them and never passes them on.
	Refill bool
}

// Release releases the chunk's record, if any. It is the Discard hook of the
// data-path edges: pipeline.Discard(Chunk.Release).
func (c Chunk) Release() {
	if c.Rec != nil {
		c.Rec.Release()
	}
}

// rowIDs returns the values of rec's RowColumn (its last column), or an error if it
// has none. The slice aliases rec's memory: valid while rec is.
func rowIDs(rec arrow.RecordBatch) ([]int64, error) {
	n := int(rec.NumCols())
	if n == 0 || rec.ColumnName(n-1) != RowColumn {
		return nil, fmt.Errorf("stages: record has no trailing %q column (columns: %v)", RowColumn, rec.Schema())
	}
	ids, ok := rec.Column(n - 1).(*array.Int64)
	if !ok {
		return nil, fmt.Errorf("stages: column %q is %s, want int64", RowColumn, rec.Column(n-1).DataType())
	}
	return ids.Int64Values(), nil
}
