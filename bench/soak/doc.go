// Command soak trains for a long time (30 minutes by default) with validation and checkpoints about
// every minute, samples the Go heap and the goroutine count every 10 seconds, and tells whether they
// stay flat: a slow leak of records, goroutines or buffers shows as an upward trend.
//
// Usage:
//
//	soak [-duration 30m] [-sample 10s] [-every 1m] [-out soak-out]   # from the repository root
//	soak -short                                                       # a 60 s trial
//
// bench/soak.sh builds and runs it at low priority.
//
// # Overview
//
// A short calibration run measures steps per second, which turns -every into --eval-every and
// --checkpoint-every steps. The soak run then trains an MLP on testdata/mnist/train.parquet (Adam,
// validation on testdata/mnist/test.parquet, a checkpoint directory under -out) until -duration
// has passed; the interrupt at the end writes a last checkpoint as Ctrl-C would. Every -sample a
// goroutine reads runtime.ReadMemStats (HeapInuse, HeapAlloc, HeapSys as found, then HeapInuse and
// HeapAlloc again right after a forced runtime.GC: the live heap, free of the GC sawtooth), VmRSS and
// runtime.NumGoroutine. The verdict is on the live heap and the goroutines. The samples go to -out/soak.csv and -out/soak.png (heap and RSS in one
// panel, goroutines in the other, each with its least-squares trend line). Samples in the first
// -warmup (buffers filling, the first validation) are left out of the trend. A series is flat when
// its trend's drift over the window (slope times the window) is within three standard deviations of
// the residuals, or under a floor of one unit (1 MiB, one goroutine). The command prints the
// trends and exits 3 if one is not flat, 1 on an error, 0 otherwise.
//
// # Ownership
//
// The training run owns its records (stages.Train); the command holds only the samples.
//
// # Concurrency
//
// The sampler is one goroutine beside the training graph; it is joined before the figures are
// written. ReadMemStats stops the world for well under a millisecond every -sample.
package main
