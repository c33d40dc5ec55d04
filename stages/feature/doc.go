// Package feature turns source records into model inputs: the featurizer behind the normalizer stage,
// `pipe train`, `pipe predict` and `pipe inspect --stats`.
//
// # Overview
//
// Fit makes one parallel streaming pass over a dataset and returns a Spec: the feature columns and
// their encodings, per-feature statistics (count, mean and variance by Welford's method merged across
// shards as Chan et al. do, min, max, null counts), one-hot vocabularies, and the target with its task
// and class names. A Spec is stored as JSON in model files, so that predict featurizes exactly as
// training did.
//
// Spec.Transform maps a record (projected with Spec.Columns) to
//
//	x  FixedSizeList<float32>[Dim]  row-major and non-null, so a batch is a zero-copy matrix (XMatrix)
//	y  int32 class index, or float32 for regression (when the record has the target)
//
// Encodings, chosen by column type:
//   - Numeric (integers, floats, booleans as 0/1): one slot, z-score, min-max or as is; nulls get the
//     mean.
//   - Tensor (FixedSizeList of numbers, or List of numbers whose rows all have the same length, as
//     DuckDB writes fixed arrays): one slot per element, each normalized with its own statistics (per
//     pixel for images).
//   - OneHot (strings, binaries, dictionaries of them): the MaxVocab most frequent values, then an
//     "other" slot for the rest and a "missing" slot for nulls.
//   - Hash (the same types, with Config.HashBuckets > 0): FNV-1a bucket of the value, then "missing".
//
// Class labels of any type map to indices in sorted order (numbers by value, strings by bytes, false
// before true), so that two runs over the same data agree. Task inference: strings and booleans
// classify, integers with at most MaxClasses distinct values classify, floats regress, and two classes
// make a Binary task.
//
// # Ownership
//
// Fit reads records from the dataset and releases each one. Transform does not release its input; it
// returns a new record owned by the caller, allocated from the given allocator (the __row column is
// shared with the input, retained). XMatrix returns a view into the record's memory, valid while the
// record is. Spec values are owned by whoever built them and are immutable after Fit or
// json.Unmarshal.
//
// # Concurrency
//
// Fit starts `workers` goroutines, each reading whole shards; per-shard statistics are merged in
// shard order, so the Spec does not depend on the number of workers or on timing. Fit returns only
// after every goroutine has returned, on success, error or cancellation. A Spec is safe for
// concurrent use: any number of goroutines may call Transform, Columns and Counters at once; the
// counters are atomic.
package feature
