// Package source reads columnar training data (Parquet, Arrow IPC file and stream, CSV/TSV) as Arrow
// records, shard by shard.
//
// # Overview
//
// Open expands paths (files, directories, glob patterns) into data files, reads their metadata and checks
// that they share one schema. The result, a Dataset, is cut into shards, the unit of random access: a
// Parquet row group, an Arrow IPC file's record batch, a chunk of CSVOptions.ChunkRows rows of a CSV file
// (found by one scan at Open that honours quoted newlines), or a whole IPC stream. ReadShard decodes one
// shard over projected columns and emits records of at most Options.BatchRows rows (by default fewer when
// rows are wide, so that decoding memory stays bounded), in row order. Inspect summarises a dataset
// (rows, shards, per-column nulls and ranges) for `pipe inspect`.
//
// Bad input is expected: the package reads every file of the parquet-testing and arrow-testing corpora
// (testdata/robustness) or refuses it with one error line naming the file, never panicking (arrow-go's
// panics are recovered), never hanging, and never allocating more than Options.MaxBytes per shard
// (declared sizes are checked before reading; a budget allocator refuses the rest). Parquet footers are
// walked before arrow-go decodes them, so lying list sizes cannot make it allocate gigabytes; so are IPC
// schemas (a stream's first message and a file's footer, at Open and again at each ReadShard; a file's
// leading schema message and the ARROW:schema a Parquet file stores, at Open): every vector must fit in
// its buffer, fields may nest at most 64 levels, number at most 2^20 (tables shared by several parents
// count each time) and need at most Options.MaxBytes of Go heap to decode. The metadata of IPC record
// and dictionary batches (field node counts, buffer spans inside the body, variadic buffer counts) is
// checked before arrow-go decodes them, and the batches are validated (buffer sizes, offsets, dictionary
// indices) before they are emitted.
//
// # Ownership
//
// Every record ReadShard emits is owned by the receiver, who must Release it. If emit returns an error the
// record was not taken and ReadShard releases it. Records are allocated with Options.Mem; after each
// ReadShard call (success, error, cancellation or recovered panic) every buffer the decoder allocated and
// did not hand out is freed, including those arrow-go itself leaks on some error paths and in its delta
// decoders, so a memory.CheckedAllocator reports zero once the receiver has released its records. (For
// that, the records of an IPC stream carry their own copy of its dictionaries, made once per ReadShard
// call: arrow-go's reader keeps its dictionaries for the whole stream and, failing on a later message, can
// leave them referenced for ever.) A Dataset holds no open file between calls; Close only marks it closed.
//
// # Concurrency
//
// A Dataset is immutable after Open; ReadShard, ColumnIndex and Inspect are safe for concurrent use, on the
// same or different shards (each call opens its own file handle and decoder). The package starts no
// goroutines. ReadShard checks its context between records; a single record's decoding is not
// interruptible.
package source
