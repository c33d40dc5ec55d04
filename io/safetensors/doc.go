// Package safetensors reads and writes model files in the safetensors format,
// so that a model trained by sgdpipe loads as-is in PyTorch (safetensors'
// load_file) and vice versa.
//
// # Overview
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of
// UTF-8 JSON
//
//	{"__metadata__": {"key": "value", ...},
//	 "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
//
// padded with spaces to a multiple of 8, and then the byte buffer: every
// tensor's little-endian, row-major data at [begin, end), contiguous, with no
// gap or overlap. sgdpipe stores the architecture, feature spec, normalization
// statistics, class names and training config as __metadata__ strings.
//
// [Write] and [WriteFile] produce the same layout as the reference
// implementation (tensors by decreasing element size, then by name), byte for
// byte, so the output is deterministic. [Read] and [ReadFile] validate strictly
// and turn every defect into a one-line error; they never panic on bad input.
// [File.Float32], [File.Float64] and [File.Int64] convert tensors to Go slices.
//
// # Ownership
//
// Write and WriteFile only read their arguments. A [File] owns one buffer with
// all tensor data: [File.Tensor] returns a view into it (do not modify), the
// conversion methods and [File.Metadata] return fresh copies the caller owns.
//
// # Concurrency
//
// Write, WriteFile, Read and ReadFile are safe to call concurrently on distinct
// arguments. A File is immutable and safe for concurrent use. The package starts
// no goroutines.
//
// Cost: Write is one pass over the data plus about 100 header bytes per tensor;
// Read allocates the data buffer once, after the header has been validated;
// conversions are one pass each (see the package benchmarks).
package safetensors
