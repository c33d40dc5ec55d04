package ops

import (
	"math"
	"unsafe"
)

// pointwise is an element-wise activation (ReLU, LeakyReLU, Tanh, Sigmoid, GELU). When
// one directly follows a Dense layer, the network fuses the two: the Dense layer
// computes only x·Wᵀ (a GEMM with beta = 0, so the bias is not first copied into every
// row and the GEMM does not read its output), the activation adds the bias while it
// applies f in the same pass, and in the backward pass the activation adds the column
// sums of its input gradient into the Dense layer's bias gradient while it computes
// them, which saves the Dense layer its own pass over dy.
type pointwise[T float] interface {
	layer[T]
	// forwardBias computes y = f(x + b) with b (len x.Cols) added to every row. Layers
	// whose backward reads x (LeakyReLU, GELU) also write x + b back into x, so that
	// backward sees the pre-activation; the others leave x as the GEMM wrote it.
	forwardBias(x, y mat[T], b []T)
	// backwardBias writes dx = dy ⊙ f' into dx (never nil here) and overwrites db
	// (len dx.Cols) with the column sums of dx, accumulated row by row from 0, as
	// dense.backward sums dy: the result is bitwise the same as the unfused pair.
	backwardBias(x, y, dy, dx mat[T], db []T)
}

// is32 reports whether T is float32; the compiler resolves it per instantiation.
func is32[T float]() bool {
	var z T
	return unsafe.Sizeof(z) == 4
}

// f32 reinterprets a []T whose T is float32 (callers check is32) as a []float32.
func f32[T float](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// reluForward computes y = max(x + b, 0) row by row (b nil: max(x, 0)), with Go's max
// semantics: NaN propagates and -0 gives +0. float32 rows go through reluRow32 (AVX2
// where the CPU has it).
func reluForward[T float](x, y mat[T], b []T) {
	if b != nil {
		b = b[:x.Cols]
	}
	for i := range x.Rows {
		xr := x.row(i)
		yr := y.row(i)[:len(xr)]
		if is32[T]() {
			reluRow32(f32(yr), f32(xr), f32(b))
			continue
		}
		if b == nil {
			for j, v := range xr {
				yr[j] = max(v, 0)
			}
			continue
		}
		bb := b[:len(xr)]
		for j, v := range xr {
			yr[j] = max(v+bb[j], 0)
		}
	}
}

// reluBackward writes dx = dy where y > 0 and 0 elsewhere (NaN: 0); with db not nil it
// also overwrites db with the column sums of dx. The float32 instantiation selects
// with a bit mask instead of a branch (AVX2 where the CPU has it): post-ReLU signs are
// random, and a mispredicted branch per element made the branchy loop several times
// slower (see BenchmarkReLUBackward).
func reluBackward[T float](y, dy, dx mat[T], db []T) {
	if db != nil {
		db = db[:y.Cols]
		clear(db)
	}
	for i := range y.Rows {
		yr := y.row(i)
		dyr := dy.row(i)[:len(yr)]
		dxr := dx.row(i)[:len(yr)]
		if is32[T]() {
			reluBackwardRow32(f32(dxr), f32(dyr), f32(yr), f32(db))
			continue
		}
		for j, v := range yr {
			if v > 0 {
				dxr[j] = dyr[j]
			} else {
				dxr[j] = 0
			}
		}
		if db != nil {
			addRow(db, dxr)
		}
	}
}

// reluRowGo is reluRow32 in Go: y = max(x + b, 0) (b nil: max(x, 0)), which the
// compiler emits without a branch.
func reluRowGo(y, x, b []float32) {
	y = y[:len(x)]
	if b == nil {
		for j, v := range x {
			y[j] = max(v, 0)
		}
		return
	}
	b = b[:len(x)]
	for j, v := range x {
		y[j] = max(v+b[j], 0)
	}
}

// reluBackwardRowGo is reluBackwardRow32 in Go, branch-free: dx[j] is dy[j] with every
// bit cleared unless y[j] > 0, and db[j] += dx[j] when db is not nil.
func reluBackwardRowGo(dx, dy, y, db []float32) {
	dy = dy[:len(y)]
	dx = dx[:len(y)]
	if db == nil {
		for j, v := range y {
			dx[j] = math.Float32frombits(math.Float32bits(dy[j]) & positiveMask(v))
		}
		return
	}
	db = db[:len(y)]
	for j, v := range y {
		d := math.Float32frombits(math.Float32bits(dy[j]) & positiveMask(v))
		dx[j] = d
		db[j] += d
	}
}

// positiveMask returns all ones if v > 0 and 0 otherwise (NaN included); the compiler
// turns it into a conditional move, not a branch.
func positiveMask(v float32) uint32 {
	var m uint32
	if v > 0 {
		m = ^uint32(0)
	}
	return m
}

// addRow computes dst += src element-wise (len(src) >= len(dst)).
func addRow[T float](dst, src []T) {
	src = src[:len(dst)]
	for j, v := range src {
		dst[j] += v
	}
}

// colSums overwrites db with the column sums of m, accumulated row by row from 0.
func colSums[T float](db []T, m mat[T]) {
	clear(db)
	for i := range m.Rows {
		addRow(db, m.row(i))
	}
}

// addBias adds b to every row of x in place.
func addBias[T float](x mat[T], b []T) {
	for i := range x.Rows {
		addRow(x.row(i), b)
	}
}
