package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naiveGemm is the reference: dst = alpha·op(a)·op(b) + beta·dst in float64.
func naiveGemm(dst mat[float64], alpha float64, a mat[float64], ta bool, b mat[float64], tb bool, beta float64) {
	at := func(m mat[float64], t bool, i, j int) float64 {
		if t {
			return m.at(j, i)
		}
		return m.at(i, j)
	}
	k := a.Cols
	if ta {
		k = a.Rows
	}
	for i := range dst.Rows {
		for j := range dst.Cols {
			var s float64
			for l := range k {
				s += at(a, ta, i, l) * at(b, tb, l, j)
			}
			old := 0.0
			if beta != 0 {
				old = beta * dst.at(i, j)
			}
			dst.set(i, j, alpha*s+old)
		}
	}
}

func toF32(m mat[float64]) Matrix {
	d := make([]float32, len(m.Data))
	for i, v := range m.Data {
		d[i] = float32(v)
	}
	return Matrix{Rows: m.Rows, Cols: m.Cols, Stride: m.Stride, Data: d}
}

// TestGemm compares Gemm (float32, through blas32 and the serial tiling) and the
// float64 instantiation with a naive product, for every transpose combination, strided
// views, and sizes on both sides of the 64×192 tile.
func TestGemm(t *testing.T) {
	shapes := [][3]int{{1, 1, 1}, {3, 5, 7}, {64, 192, 10}, {65, 193, 3}, {130, 70, 200}, {128, 256, 31}, {7, 400, 1}}
	for _, sh := range shapes {
		m, n, k := sh[0], sh[1], sh[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				for _, beta := range []float64{0, 0.5} {
					t.Run(fmt.Sprintf("m=%d/n=%d/k=%d/ta=%v/tb=%v/beta=%v", m, n, k, ta, tb, beta), func(t *testing.T) {
						rng := rand.New(rand.NewPCG(uint64(m*n), uint64(k)))
						ar, ac := m, k
						if ta {
							ar, ac = k, m
						}
						br, bc := k, n
						if tb {
							br, bc = n, k
						}
						a := randMat[float64](rng, ar, ac, ac+3, 1)
						b := randMat[float64](rng, br, bc, bc+1, 1)
						c := randMat[float64](rng, m, n, n+2, 1)
						if beta == 0 {
							for i := range c.Data {
								c.Data[i] = math.NaN() // must be overwritten, not read
							}
						}
						c32 := toF32(c)
						c64 := mat[float64]{Rows: m, Cols: n, Stride: c.Stride, Data: append([]float64(nil), c.Data...)}
						want := mat[float64]{Rows: m, Cols: n, Stride: c.Stride, Data: append([]float64(nil), c.Data...)}
						naiveGemm(want, 1.5, a, ta, b, tb, beta)
						Gemm(c32, 1.5, toF32(a), ta, toF32(b), tb, float32(beta))
						gemm(c64, 1.5, a, ta, b, tb, beta)
						for i := range m {
							w := want.row(i)
							if d, norm := infDist(c64.row(i), w); d > 1e-12*max(norm, 1) {
								t.Fatalf("float64 row %d: ‖got-want‖∞ = %g%s", i, d, side(c64.row(i), w))
							}
							// float32 products of k terms: error ~ k·ε·‖a‖‖b‖.
							if d, norm := infDist(c32.Row(i), w); d > 1e-5*float64(k+1)*max(norm, 1) || math.IsNaN(d) {
								t.Fatalf("float32 row %d: ‖got-want‖∞ = %g%s", i, d, side(c32.Row(i), w))
							}
						}
						// Elements between rows (the stride padding) are not touched.
						for i := range m - 1 {
							for j := n; j < c.Stride; j++ {
								if got, old := c32.Data[i*c.Stride+j], float32(c.Data[i*c.Stride+j]); got != old && !(math.IsNaN(float64(got)) && math.IsNaN(float64(old))) {
									t.Fatalf("padding (%d,%d) changed from %v to %v", i, j, old, got)
								}
							}
						}
					})
				}
			}
		}
	}
}

func TestGemmZeroK(t *testing.T) {
	dst := MatrixOf([]float32{1, 2, 3, 4}, 2, 2)
	a := Matrix{Rows: 2, Cols: 0}
	b := Matrix{Rows: 0, Cols: 2}
	Gemm(dst, 1, a, false, b, false, 0.5)
	if want := []float32{0.5, 1, 1.5, 2}; fmt.Sprint(dst.Data) != fmt.Sprint(want) {
		t.Fatalf("k = 0, beta 0.5: got %v, want %v", dst.Data, want)
	}
}

func TestGemmPanics(t *testing.T) {
	a := NewMatrix(2, 3)
	b := NewMatrix(3, 4)
	cases := []struct {
		name string
		f    func()
		want string
	}{
		{"inner", func() { Mul(NewMatrix(2, 4), a, NewMatrix(2, 4)) }, errShape},
		{"rows", func() { Mul(NewMatrix(3, 4), a, b) }, errShape},
		{"cols", func() { Mul(NewMatrix(2, 5), a, b) }, errShape},
		{"transposed", func() { Gemm(NewMatrix(2, 4), 1, a, true, b, false, 0) }, errShape},
		{"short data", func() { Mul(Matrix{Rows: 2, Cols: 4, Stride: 4, Data: make([]float32, 7)}, a, b) }, errBadMatrix},
		{"stride", func() { Mul(Matrix{Rows: 2, Cols: 4, Stride: 3, Data: make([]float32, 8)}, a, b) }, errBadStride},
		{"MatrixOf", func() { MatrixOf(make([]float32, 5), 2, 3) }, errBadMatrix},
		{"At", func() { a.At(2, 0) }, errIndex},
		{"SliceRows", func() { a.SliceRows(1, 3) }, errIndex},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != tc.want {
					t.Fatalf("panic %v, want %q", r, tc.want)
				}
			}()
			tc.f()
		})
	}
}

func TestMatrixViews(t *testing.T) {
	data := []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	m := MatrixOf(data, 3, 4)
	if m.At(2, 1) != 9 || len(m.Row(1)) != 4 || m.Row(1)[3] != 7 {
		t.Fatalf("At/Row wrong: %v %v", m.At(2, 1), m.Row(1))
	}
	s := m.SliceRows(1, 3)
	if s.Rows != 2 || s.At(0, 0) != 4 {
		t.Fatalf("SliceRows(1,3) = %+v", s)
	}
	s.Set(1, 3, -1)
	if data[11] != -1 {
		t.Fatal("SliceRows copied instead of viewing")
	}
	g := m.General()
	if g.Rows != 3 || g.Cols != 4 || g.Stride != 4 || &g.Data[0] != &data[0] {
		t.Fatalf("General = %+v", g)
	}
	if back := FromGeneral(g); back.At(1, 2) != 6 {
		t.Fatalf("FromGeneral(General()).At(1,2) = %v", back.At(1, 2))
	}
	narrow := Matrix{Rows: 3, Cols: 2, Stride: 4, Data: data}
	dst := NewMatrix(3, 2)
	dst.CopyFrom(narrow)
	if fmt.Sprint(dst.Data) != "[0 1 4 5 8 9]" {
		t.Fatalf("CopyFrom strided = %v", dst.Data)
	}
}
