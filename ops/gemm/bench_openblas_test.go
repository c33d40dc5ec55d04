// Copyright 2026 The sgdpipe Authors.

//go:build openblas && cgo

package gemm

import (
	"testing"

	"github.com/sgdpipe/sgdpipe/ops/gemm/internal/openblas"
)

// With -tags openblas, BenchmarkSgemm also times OpenBLAS's cblas_sgemm,
// with as many OpenBLAS threads as GOMAXPROCS.
func init() {
	references = append(references, benchRef{name: "openblas", impl: openblas.Implementation{}, threads: openblas.SetThreads})
}

func TestOpenBLASConfig(t *testing.T) { t.Log(openblas.Config()) }
