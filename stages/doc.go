// Package stages holds the concrete stages of sgdpipe's training flow on the generic
// engine of package pipeline. This part is the data path:
//
//	plan ─► read ×R ─► shuffle ─► normalize ×N ─► batch ─► (training stages)
//
// # Overview
//
// A Plan is the epoch plan: a pure function of the run seed, the shuffle mode, the
// row-buffer size and the shard sizes (math/rand/v2 PCG streams keyed by seed and
// epoch; no global random state). It orders the shards of each epoch and drives the
// row shuffle:
//
//   - ShuffleFull: a uniform permutation of all rows (the data must fit the memory budget);
//   - ShuffleBuffer: shard order permuted each epoch, then a buffer of ShuffleBuffer rows
//     that emits a uniformly drawn row for each row it takes in (tf.data style);
//   - ShuffleShards: shard order permuted, rows in shard order;
//   - ShuffleNone: file order.
//
// The Reader decodes shards with R ordered workers and appends RowColumn ("__row"), the
// global row index. The Shuffler applies the plan's row shuffle with one random draw per
// row, so the order depends only on (seed, epoch, shard sizes): never on timing, R, N or
// record boundaries. The Normalizer featurizes with feature.Spec.Transform (N ordered
// workers) and the Batcher cuts exact batches of B rows ({x, y, __row} records, Batch
// values) that never span epochs. Chunk values carry records and end-of-epoch markers
// between the stages, so the epoch boundary travels with the data.
//
// Resume: a run's data position is a Position (epoch, rows emitted in the epoch); a
// checkpoint stores only that. Plan.Resume rebuilds the exact shuffle state (which
// rows sit in the buffer, in which slots, and the random state) by replaying the epoch
// over row indices, without reading data; the resumed path then
// re-reads only the shards that hold buffered rows (only those rows are kept) and the
// input not yet taken in. The replay costs 12-17 ns per row. A resumed stream equals the tail of an uninterrupted one, row
// for row, in every mode.
//
// Quality: a Quality collector reports per epoch how far batch label histograms stray
// from the epoch's (mean total-variation distance, next to its exact expected value
// under a uniform shuffle), the mean displacement of rows from file order, and the
// peak bytes the shuffle buffer held; it logs one line per epoch.
//
// DataConfig and DataPath wire the four stages onto a pipeline.Graph (DataPath.Add);
// the pieces (AddRead, AddShuffle, AddNormalize, AddBatch) let a caller insert its
// own stages, and the stage types are exported for other graphs.
//
// # Ownership
//
// Records follow the project's rule: a stage that receives a record owns one
// reference and passes it on or releases it, on every path. Chunk.Release and
// Batch.Release are the Discard hooks of the data-path edges. The shuffle buffer and
// the batcher hold records between items; if a run ends by an error or a
// cancellation the engine cannot hand those back, so the owner of the run calls
// DataPath.Close (or Shuffler.Close and Batcher.Close) after Run returns. A Batch's
// views (X, Labels, Targets, RowIDs) are zero-copy and valid until it is released.
//
// Memory: the shuffle buffer retains whole input records while any of their rows is
// buffered and compacts the sparsest ones, keeping below about 1.5 × ShuffleBuffer
// rows plus a record or two; DataConfig.MemoryBudget bounds its bytes (the buffer is reduced
// at open time when the estimated row width does not fit, and the run fails with an
// error naming --memory-budget if the real bytes exceed it).
//
// # Concurrency
//
// Plan and Resume are immutable and safe for concurrent use. Reader and Normalizer
// are safe for the engine's concurrent workers; Shuffler and Batcher run on one
// worker each and guard their state with a mutex so that Close may be called from
// another goroutine after Run. Quality is safe for concurrent use and may be read
// while the graph runs. A DataPath is built from one goroutine and builds one graph.
package stages
