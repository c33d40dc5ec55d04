// Package sink writes the files a training run leaves for people: predictions,
// metrics and a plot of the learning curves.
//
// # Overview
//
// [PredictionWriter] streams Arrow records (the key columns the user asked to
// keep, "prediction", and one "prob_<class>" column per class; see
// [PredictionSchema]) to Parquet (zstd, Arrow schema stored) or CSV, chosen by
// the path's extension, keeping row order.
//
// [MetricsWriter] records one row per optimizer step ([StepRow]) and per
// epoch ([EpochRow]) to CSV or Parquet. The file is one long-format table
// with a "kind" column ("step" or "epoch"); columns that do not apply to a
// row's kind are null (see [MetricsSchema]). One table keeps the events in
// the order they happened, commits once, and is one path for tools to read;
// filter on kind to get either series. [ReadMetrics] reads it back.
//
// [PlotCurves] draws a PNG with the smoothed per-step loss and the per-epoch
// train/validation loss and accuracy.
//
// Every file is written atomically through a temporary file in the same
// directory, fsynced and renamed into place on Close: a reader sees the
// previous file or the complete new one, never a partial file, and Abort (or
// any error) leaves the previous file untouched. Errors are one line that
// names the path and, where it applies, the column; an unwritable directory or
// a full disk is reported as such.
//
// # Ownership
//
// [PredictionWriter.Write] borrows its record: the caller keeps its reference.
// [PredictionWriter.Consume], the sink-stage form, takes ownership and
// releases the record on every path. Writers allocate from the
// memory.Allocator they are given and release everything on Close or Abort, so
// a checked allocator reads zero afterwards, on error paths too.
//
// # Concurrency
//
// A PredictionWriter is used by one goroutine at a time (a sink stage with one
// worker). A MetricsWriter is safe for concurrent use. PlotCurves and
// ReadMetrics may run concurrently on distinct paths. The package starts no
// goroutines.
package sink
