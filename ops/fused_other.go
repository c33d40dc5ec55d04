//go:build !amd64 || noasm

package ops

// useAVX2 is false: there are no assembly kernels on this architecture or with -tags noasm.
var useAVX2 = false

// reluRow32 computes y = max(x + b, 0) (b nil: max(x, 0)) over one row.
func reluRow32(y, x, b []float32) { reluRowGo(y, x, b) }

// reluBackwardRow32 computes dx = dy where y > 0, else +0, and db += dx when db is not
// nil, over one row.
func reluBackwardRow32(dx, dy, y, db []float32) { reluBackwardRowGo(dx, dy, y, db) }
