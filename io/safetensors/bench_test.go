package safetensors_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/sgdpipe/sgdpipe/io/safetensors"
)

// benchSizes are parameter counts: a logistic regression and an MNIST MLP.
var benchSizes = []int{7850, 235146}

// measure returns the mean nanoseconds of reps calls of f.
func measure(b *testing.B, reps int, f func() error) float64 {
	b.Helper()
	start := time.Now()
	for range reps {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
	return float64(time.Since(start).Nanoseconds()) / float64(reps)
}

// BenchmarkWrite encodes one F32 tensor; the reference is binary.Write of the
// same []float32 into a buffer (no header, no validation).
func BenchmarkWrite(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("params=%d", n), func(b *testing.B) {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(i) / 7
			}
			var buf bytes.Buffer
			ref := measure(b, 20, func() error { buf.Reset(); return binary.Write(&buf, binary.LittleEndian, v) })
			b.SetBytes(int64(4 * n))
			b.ReportAllocs()
			start := time.Now()
			iters := 0
			for b.Loop() {
				buf.Reset()
				if err := safetensors.Write(&buf, []safetensors.Tensor{safetensors.FromFloat32("w", []int{n}, v)}, map[string]string{"arch": "mlp"}); err != nil {
					b.Fatal(err)
				}
				iters++
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(iters)/ref, "x-vs-ref")
		})
	}
}

// BenchmarkReadFloat32 parses a file and converts its tensor; the reference is
// binary.Read of the same bytes into a []float32.
func BenchmarkReadFloat32(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("params=%d", n), func(b *testing.B) {
			file := encode(b, []safetensors.Tensor{safetensors.FromFloat32("w", []int{n}, make([]float32, n))}, nil)
			dst := make([]float32, n)
			ref := measure(b, 20, func() error {
				return binary.Read(bytes.NewReader(file[len(file)-4*n:]), binary.LittleEndian, dst)
			})
			b.SetBytes(int64(len(file)))
			b.ReportAllocs()
			start := time.Now()
			iters := 0
			for b.Loop() {
				f, err := safetensors.Read(bytes.NewReader(file), int64(len(file)))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := f.Float32("w"); err != nil {
					b.Fatal(err)
				}
				iters++
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(iters)/ref, "x-vs-ref")
		})
	}
}
