// Command datapath measures sgdpipe's data path on a large file: it writes a Parquet
// file of MNIST-shaped rows (784 random uint8 pixels and a uint8 label, so the data
// does not compress) of about -size bytes, runs read -> shuffle -> normalize -> batch
// over it for one epoch into a sink that drops the batches, and prints the rows/s, the
// MB/s of file bytes, the shuffle quality of the epoch and the process's peak resident
// set size (VmHWM from /proc/self/status).
//
// Usage:
//
//	datapath -gen -out big.parquet -size 2147483648   # write the file
//	datapath -run -data big.parquet                     # run the data path over it
//
// bench/datapath.sh does both in a temporary directory, running each step in its own
// process so that the peak RSS of the run does not include the generator's.
//
// # Overview
//
// The generator writes row groups of -group rows (default 65536) one at a time without
// compression or dictionary encoding. The run opens the data path with the flags given
// (defaults: --shuffle=buffer with the library's default buffer and memory budget, 2
// readers, 2 normalizers, batches of 128).
//
// # Ownership
//
// Every record the program builds is released after it is written; the sink releases
// each batch.
//
// # Concurrency
//
// The generator runs on one goroutine; the data path runs on the pipeline engine's
// goroutines, all joined before the program prints its figures.
package main
