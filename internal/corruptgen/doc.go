// Command corruptgen writes testdata/corrupt/: Parquet, Arrow IPC file and Arrow IPC stream files
// broken in the ways real data breaks (truncations, wrong magic, lying footer lengths, flipped bytes in
// footers, page headers, message headers and compressed pages, schemas that lie about a column's type,
// files without rows, row groups whose values are all null), the clean files they derive from, and
// MANIFEST.md and expect.tsv, which say what `pipe train` must do with each.
//
// Usage (from this folder, or with go generate):
//
//	go run . -out ../../testdata/corrupt
//
// # Overview
//
// The clean data set is Rows rows of five columns (floats, a nullable float, an int32 and a 3-class
// string label) in row groups or record batches of GroupRows rows, computed from the row index.
// Every corruption is a deterministic function of the clean bytes: positions come from the files'
// metadata or from a PCG generator with a fixed seed, and type lies are found by a search that changes
// only bytes holding the column's type code (never a length, so the search itself cannot make
// arrow-go allocate without bound). Two runs write the same bytes; the package test checks it, and
// that testdata/corrupt holds what the generator makes.
//
// # Ownership
//
// Generate returns new byte slices; run writes them and removes files of earlier runs that it no
// longer generates.
//
// # Concurrency
//
// The command runs on one goroutine.
package main
