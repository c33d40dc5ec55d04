//go:build amd64 && !noasm

package ops

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// useAVX2 selects the AVX2 ReLU kernels of fused_amd64.s; it is a variable so tests
// can compare them with the pure-Go rows on the same machine.
var useAVX2 = cpu.X86.HasAVX2

// reluBiasAVX2 and reluBackwardAVX2 are in fused_amd64.s; n must be a multiple of 8,
// b and db may be nil.
//
//go:noescape
func reluBiasAVX2(y, x, b *float32, n int)

//go:noescape
func reluBackwardAVX2(dx, dy, y, db *float32, n int)

// reluRow32 computes y = max(x + b, 0) (b nil: max(x, 0)) over one row: the AVX2
// kernel does the multiple-of-8 prefix, reluRowGo the rest.
func reluRow32(y, x, b []float32) {
	n := len(x)
	y = y[:n]
	if b != nil {
		b = b[:n]
	}
	k := 0
	if useAVX2 && n >= 8 {
		k = n &^ 7
		reluBiasAVX2(&y[0], &x[0], unsafe.SliceData(b), k)
	}
	if k < n {
		if b != nil {
			b = b[k:]
		}
		reluRowGo(y[k:], x[k:], b)
	}
}

// reluBackwardRow32 computes dx = dy where y > 0, else +0, and db += dx when db is not
// nil, over one row: the AVX2 kernel does the multiple-of-8 prefix, reluBackwardRowGo
// the rest.
func reluBackwardRow32(dx, dy, y, db []float32) {
	n := len(y)
	dx, dy = dx[:n], dy[:n]
	if db != nil {
		db = db[:n]
	}
	k := 0
	if useAVX2 && n >= 8 {
		k = n &^ 7
		reluBackwardAVX2(&dx[0], &dy[0], &y[0], unsafe.SliceData(db), k)
	}
	if k < n {
		if db != nil {
			db = db[k:]
		}
		reluBackwardRowGo(dx[k:], dy[k:], y[k:], db)
	}
}
