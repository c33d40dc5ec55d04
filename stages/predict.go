package stages

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sgdpipe/sgdpipe/io/sink"
	"github.com/sgdpipe/sgdpipe/ops"
	"github.com/sgdpipe/sgdpipe/stages/feature"
)

// projectRecord returns a new record of the first n columns of rec (the caller releases both).
func projectRecord(rec arrow.RecordBatch, n int) (arrow.RecordBatch, error) {
	if n > int(rec.NumCols()) {
		return nil, fmt.Errorf("stages: record has %d columns, want at least %d", rec.NumCols(), n)
	}
	fields := rec.Schema().Fields()[:n]
	cols := rec.Columns()[:n]
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows()), nil
}

// predictionSchema returns the schema of the predictions file for this evaluator.
func (e *evaluator) predictionSchema() (*arrow.Schema, error) {
	var keys []arrow.Field
	for _, k := range e.keep {
		keys = append(keys, e.ds.Schema.Field(e.cols[k]))
	}
	fs := e.model.Features
	if fs.Task == feature.Regression {
		return sink.PredictionSchema(keys, arrow.PrimitiveTypes.Float32, nil)
	}
	return sink.PredictionSchema(keys, arrow.BinaryTypes.String, fs.Classes)
}

// predictionRecord builds {keep columns..., prediction, prob_<class>...} for one record.
func (e *evaluator) predictionRecord(src arrow.RecordBatch, pred ops.Matrix) (arrow.RecordBatch, error) {
	schema, err := e.predictionSchema()
	if err != nil {
		return nil, err
	}
	mem := e.cfg.Mem
	rows := pred.Rows
	cols := make([]arrow.Array, 0, schema.NumFields())
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for _, k := range e.keep {
		c := src.Column(k)
		c.Retain()
		cols = append(cols, c)
	}
	fs := e.model.Features
	if fs.Task == feature.Regression {
		b := array.NewFloat32Builder(mem)
		for i := range rows {
			b.Append(pred.Data[i*pred.Stride])
		}
		cols = append(cols, b.NewArray())
		b.Release()
	} else {
		k := len(fs.Classes)
		probs := make([][]float32, k)
		for c := range probs {
			probs[c] = make([]float32, rows)
		}
		sb := array.NewStringBuilder(mem)
		for i := range rows {
			r := pred.Data[i*pred.Stride : i*pred.Stride+pred.Cols]
			if fs.Task == feature.Binary {
				probs[0][i], probs[1][i] = 1-r[0], r[0]
			} else {
				for c := range k {
					probs[c][i] = r[c]
				}
			}
			best := 0
			for c := range k {
				if probs[c][i] > probs[best][i] {
					best = c
				}
			}
			sb.Append(fs.Classes[best])
		}
		cols = append(cols, sb.NewArray())
		sb.Release()
		for c := range k {
			b := array.NewFloat32Builder(mem)
			b.AppendValues(probs[c], nil)
			cols = append(cols, b.NewArray())
			b.Release()
		}
	}
	return array.NewRecordBatch(schema, cols, int64(rows)), nil
}

// PredictConfig configures Predict.
type PredictConfig struct {
	EvalConfig
	Out string // predictions file (.parquet or .csv)
}

// Predict streams the model's predictions for the rows of cfg.Paths, in input order, into cfg.Out
// (atomically: the file appears only when complete). It returns the number of rows written.
func Predict(ctx context.Context, model *Model, cfg PredictConfig) (int64, error) {
	e, err := newEvaluator(model, cfg.EvalConfig, true)
	if err != nil {
		return 0, err
	}
	defer e.Close()
	schema, err := e.predictionSchema()
	if err != nil {
		return 0, err
	}
	w, err := sink.NewPredictionWriter(cfg.Out, schema, e.cfg.Mem, sink.PredictionOptions{})
	if err != nil {
		return 0, err
	}
	var rows int64
	_, err = e.run(ctx, model.Params, func(p *evalPart) error {
		defer p.out.Release()
		rows += p.out.NumRows()
		return w.Write(p.out)
	})
	if err != nil {
		w.Abort()
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return rows, nil
}
