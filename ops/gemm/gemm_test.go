// Copyright 2026 The sgdpipe Authors.

package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"go.uber.org/goleak"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/gonum"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sentinel marks the padding of strided matrices: a kernel that reads it
// turns results into NaN, one that writes it is caught by checkPadding.
var sentinel = float32(math.NaN())

// gemmCase is one Sgemm call: shapes, transposes, scalars and the padding
// added to each leading dimension.
type gemmCase struct {
	tA, tB           blas.Transpose
	m, n, k          int
	alpha, beta      float32
	padA, padB, padC int
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("%s%s/m=%d/n=%d/k=%d/alpha=%g/beta=%g/pad=%d,%d,%d",
		transName(tc.tA), transName(tc.tB), tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.padA, tc.padB, tc.padC)
}

func transName(t blas.Transpose) string {
	if t == blas.NoTrans {
		return "N"
	}
	return "T"
}

// operands holds the matrices of one case, row-major with padding.
type operands struct {
	a, b, c       []float32
	lda, ldb, ldc int
	ar, ac        int // stored shape of A
	br, bc        int // stored shape of B
}

// newOperands fills A, B and C with values in [-1, 1) and their padding
// with sentinel. With beta == 0, C is all NaN: it must not be read.
func newOperands(tc gemmCase, rng *rand.Rand) *operands {
	o := &operands{ar: tc.m, ac: tc.k, br: tc.k, bc: tc.n}
	if tc.tA != blas.NoTrans {
		o.ar, o.ac = tc.k, tc.m
	}
	if tc.tB != blas.NoTrans {
		o.br, o.bc = tc.n, tc.k
	}
	o.lda, o.ldb, o.ldc = max(1, o.ac+tc.padA), max(1, o.bc+tc.padB), max(1, tc.n+tc.padC)
	o.a = fill(o.ar, o.ac, o.lda, rng)
	o.b = fill(o.br, o.bc, o.ldb, rng)
	o.c = fill(tc.m, tc.n, o.ldc, rng)
	if tc.beta == 0 {
		for i := range o.c {
			o.c[i] = float32(math.NaN())
		}
	}
	return o
}

func fill(r, c, ld int, rng *rand.Rand) []float32 {
	s := make([]float32, max(0, (r-1)*ld+c))
	for i := range s {
		if i%ld < c {
			s[i] = 2*rng.Float32() - 1
		} else {
			s[i] = sentinel
		}
	}
	return s
}

// reference computes the case in float64 and returns C and, per element,
// the scale |alpha|·Σ|a||b| + |beta·c| against which errors are measured.
func reference(tc gemmCase, o *operands) (want, mag []float64) {
	want = make([]float64, tc.m*tc.n)
	mag = make([]float64, tc.m*tc.n)
	at := func(i, p int) float64 {
		if tc.tA == blas.NoTrans {
			return float64(o.a[i*o.lda+p])
		}
		return float64(o.a[p*o.lda+i])
	}
	bt := func(p, j int) float64 {
		if tc.tB == blas.NoTrans {
			return float64(o.b[p*o.ldb+j])
		}
		return float64(o.b[j*o.ldb+p])
	}
	for i := range tc.m {
		for j := range tc.n {
			var s, sa float64
			if tc.alpha != 0 {
				for p := range tc.k {
					x := at(i, p) * bt(p, j)
					s += x
					sa += math.Abs(x)
				}
			}
			v := float64(tc.alpha) * s
			m := math.Abs(float64(tc.alpha)) * sa
			if tc.beta != 0 {
				cv := float64(tc.beta) * float64(o.c[i*o.ldc+j])
				v += cv
				m += math.Abs(cv)
			}
			want[i*tc.n+j], mag[i*tc.n+j] = v, m
		}
	}
	return want, mag
}

// tolerance is the relative error allowed for a dot product of length k:
// 1e-5, or the first-order worst case k·2⁻²⁴ when that is larger.
func tolerance(k int) float64 { return max(1e-5, float64(k)*0x1p-24) }

// check runs the case through impl and compares C with the reference,
// element by element, and checks that C's padding is untouched.
func check(t *testing.T, impl blas.Float32Level3, tc gemmCase, rng *rand.Rand) {
	t.Helper()
	o := newOperands(tc, rng)
	want, mag := reference(tc, o)
	impl.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, o.c, o.ldc)
	compare(t, tc, o, want, mag)
}

func compare(t *testing.T, tc gemmCase, o *operands, want, mag []float64) {
	t.Helper()
	tol := tolerance(tc.k)
	bad := 0
	for i := range tc.m {
		for j := range tc.n {
			got := float64(o.c[i*o.ldc+j])
			w, m := want[i*tc.n+j], mag[i*tc.n+j]
			if !(math.Abs(got-w) <= tol*m+1e-30) {
				if bad < 4 {
					t.Errorf("%v: C[%d,%d] = %g, want %g (scale %g, tolerance %g)", tc, i, j, got, w, m, tol*m)
				}
				bad++
			}
		}
		for j := tc.n; j < o.ldc && i < tc.m-1; j++ {
			if v := o.c[i*o.ldc+j]; !math.IsNaN(float64(v)) {
				t.Fatalf("%v: padding C[%d,%d] overwritten with %g", tc, i, j, v)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%v: %d of %d elements wrong", tc, bad, tc.m*tc.n)
	}
}

// config is one way of running Sgemm: a kernel, a packing policy and a
// thread count.
type config struct {
	kern    *kernel
	packing packing
	threads int
}

func (c config) String() string {
	p := [...]string{"auto", "inplace", "packed", "packedA", "packedB"}[c.packing]
	return fmt.Sprintf("%s/%s/threads=%d", c.kern.name, p, c.threads)
}

// use installs the configuration until the test ends; with threads > 1 every
// product is split.
func (c config) use(t testing.TB) Implementation {
	oldK, oldP, oldF := active, forcePacking, minFlopsPerThread
	active, forcePacking = c.kern, c.packing
	if c.threads > 1 {
		minFlopsPerThread = 1
	}
	t.Cleanup(func() { active, forcePacking, minFlopsPerThread = oldK, oldP, oldF })
	return Implementation{Threads: c.threads}
}

// configs is every kernel this machine can run, each in place, packed and
// automatic, single-threaded, plus automatic packing on three goroutines.
func configs() []config {
	var cs []config
	for _, k := range kernels {
		for _, p := range []packing{packAuto, packNone, packBoth, packOnlyA, packOnlyB} {
			cs = append(cs, config{k, p, 1})
		}
		cs = append(cs, config{k, packAuto, 3})
	}
	return cs
}

var (
	transposes = []blas.Transpose{blas.NoTrans, blas.Trans}
	sizes      = []int{1, 2, 3, 5, 7, 11, 12, 13, 16, 17, 23, 31, 32, 33, 47, 64, 97, 128, 131, 255, 256, 257, 300}
	scalars    = []float32{0, 1, -1, 0.5}
)

// TestSgemmSweep samples m, n and k in 1..300 (odd, prime, tile-sized and
// tile±1) for every transpose case, scalar pair and configuration.
func TestSgemmSweep(t *testing.T) {
	for _, cfg := range configs() {
		t.Run(cfg.String(), func(t *testing.T) {
			impl := cfg.use(t)
			rng := rand.New(rand.NewPCG(1, uint64(len(cfg.String()))))
			n := 60
			if testing.Short() {
				n = 15
			}
			for range n {
				tc := gemmCase{
					tA: transposes[rng.IntN(2)], tB: transposes[rng.IntN(2)],
					m: pick(rng), n: pick(rng), k: pick(rng),
					alpha: scalars[rng.IntN(len(scalars))], beta: scalars[rng.IntN(len(scalars))],
				}
				if rng.IntN(2) == 0 {
					tc.padA, tc.padB, tc.padC = rng.IntN(20), rng.IntN(20), rng.IntN(20)
				}
				check(t, impl, tc, rng)
			}
		})
	}
}

// pick draws a size, mostly from the interesting list and sometimes
// anywhere in 1..300.
func pick(rng *rand.Rand) int {
	if rng.IntN(4) == 0 {
		return 1 + rng.IntN(300)
	}
	return sizes[rng.IntN(len(sizes))]
}

// TestSgemmCases is the fixed table: every transpose case at shapes that
// cover full tiles, edges on each side and the layer shapes, each with four
// of the sixteen (alpha, beta) pairs, so that every pair meets every shape
// across the transpose cases.
func TestSgemmCases(t *testing.T) {
	shapes := [][3]int{
		{1, 1, 1}, {12, 32, 1}, {13, 33, 7}, {11, 31, 256}, {24, 64, 257},
		{128, 10, 128}, {10, 128, 128}, {128, 128, 10}, {37, 300, 3}, {6, 16, 513},
	}
	for _, cfg := range configs() {
		t.Run(cfg.String(), func(t *testing.T) {
			impl := cfg.use(t)
			rng := rand.New(rand.NewPCG(2, 2))
			for _, s := range shapes {
				for ti, tA := range transposes {
					for tj, tB := range transposes {
						for q := range 4 {
							alpha, beta := scalars[2*ti+tj], scalars[q]
							check(t, impl, gemmCase{tA: tA, tB: tB, m: s[0], n: s[1], k: s[2], alpha: alpha, beta: beta, padA: 3, padB: 5, padC: 1}, rng)
						}
					}
				}
			}
		})
	}
}

// TestSgemmBlocks crosses the cache-block boundaries of each kernel
// (kc, nc, mc), where beta switches to 1 and packed panels restart.
func TestSgemmBlocks(t *testing.T) {
	for _, kern := range kernels {
		cfg := config{kern, packAuto, 1}
		t.Run(kern.name, func(t *testing.T) {
			impl := cfg.use(t)
			rng := rand.New(rand.NewPCG(3, 3))
			for _, tc := range []gemmCase{
				{m: 13, n: 35, k: 2*kern.kc + 3, alpha: 1, beta: 0.5},
				{m: 9, n: kern.nc + kern.nr + 5, k: kern.kc + 1, alpha: -1, beta: 0, tB: blas.Trans},
				{m: kern.mc + kern.mr + 1, n: 17, k: 20, alpha: 0.5, beta: 1, tA: blas.Trans},
			} {
				if tc.tA == 0 {
					tc.tA = blas.NoTrans
				}
				if tc.tB == 0 {
					tc.tB = blas.NoTrans
				}
				for _, p := range []packing{packNone, packBoth} {
					forcePacking = p
					check(t, impl, tc, rng)
				}
			}
		})
	}
}

// TestSgemmSpecialScalars checks the BLAS rules for alpha == 0 and k == 0:
// C = beta*C without reading A or B (which hold NaN here).
func TestSgemmSpecialScalars(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name  string
		k     int
		alpha float32
		beta  float32
		c     float32 // initial C
		want  float32
	}{
		{"alpha=0/beta=0", 4, 0, 0, nan, 0},
		{"alpha=0/beta=0.5", 4, 0, 0.5, 2, 1},
		{"alpha=0/beta=1", 4, 0, 1, 3, 3},
		{"k=0/beta=0", 0, 1, 0, nan, 0},
		{"k=0/beta=-1", 0, 1, -1, 2, -2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const m, n = 3, 5
			a := make([]float32, m*max(tc.k, 1))
			b := make([]float32, max(tc.k, 1)*n)
			for i := range a {
				a[i] = nan
			}
			for i := range b {
				b[i] = nan
			}
			c := make([]float32, m*n)
			for i := range c {
				c[i] = tc.c
			}
			Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, tc.k, tc.alpha, a, max(tc.k, 1), b, n, tc.beta, c, n)
			for i, v := range c {
				if v != tc.want {
					t.Fatalf("C[%d] = %g, want %g", i, v, tc.want)
				}
			}
		})
	}
}

// TestSgemmPanics checks that bad arguments panic with gonum's messages.
func TestSgemmPanics(t *testing.T) {
	s := make([]float32, 100)
	for _, tc := range []struct {
		name                  string
		tA, tB                blas.Transpose
		m, n, k, lda, ldb, ld int
		a, b, c               []float32
	}{
		{"bad tA", 'X', blas.NoTrans, 2, 2, 2, 2, 2, 2, s, s, s},
		{"bad tB", blas.NoTrans, 'X', 2, 2, 2, 2, 2, 2, s, s, s},
		{"m<0", blas.NoTrans, blas.NoTrans, -1, 2, 2, 2, 2, 2, s, s, s},
		{"n<0", blas.NoTrans, blas.NoTrans, 2, -1, 2, 2, 2, 2, s, s, s},
		{"k<0", blas.NoTrans, blas.NoTrans, 2, 2, -1, 2, 2, 2, s, s, s},
		{"lda<k", blas.NoTrans, blas.NoTrans, 2, 2, 3, 2, 2, 2, s, s, s},
		{"lda<m", blas.Trans, blas.NoTrans, 3, 2, 2, 2, 2, 2, s, s, s},
		{"ldb<n", blas.NoTrans, blas.NoTrans, 2, 3, 2, 2, 2, 3, s, s, s},
		{"ldb<k", blas.NoTrans, blas.Trans, 2, 2, 3, 3, 2, 2, s, s, s},
		{"ldc<n", blas.NoTrans, blas.NoTrans, 2, 3, 2, 2, 3, 2, s, s, s},
		{"short a", blas.NoTrans, blas.NoTrans, 4, 2, 4, 4, 2, 2, s[:15], s, s},
		{"short b", blas.NoTrans, blas.Trans, 2, 4, 4, 4, 4, 4, s, s[:15], s},
		{"short c", blas.NoTrans, blas.NoTrans, 4, 4, 2, 2, 4, 4, s, s, s[:15]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			call := func(impl blas.Float32Level3) (msg any) {
				defer func() { msg = recover() }()
				impl.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, tc.a, tc.lda, tc.b, tc.ldb, 0, tc.c, tc.ld)
				return nil
			}
			want := call(gonum.Implementation{})
			got := call(Implementation{})
			if want == nil {
				t.Fatalf("gonum did not panic: the case is wrong")
			}
			if got != want {
				t.Fatalf("panic %q, want %q", got, want)
			}
		})
	}
}

// TestSgemmMatchesGonum compares with gonum's native Sgemm, the
// implementation this one replaces, through blas32.
func TestSgemmMatchesGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, tc := range []gemmCase{
		{tA: blas.NoTrans, tB: blas.Trans, m: 128, n: 256, k: 300, alpha: 1, beta: 0},
		{tA: blas.Trans, tB: blas.NoTrans, m: 77, n: 91, k: 128, alpha: 0.5, beta: 1},
		{tA: blas.NoTrans, tB: blas.NoTrans, m: 128, n: 10, k: 256, alpha: -1, beta: 0.5},
	} {
		o := newOperands(tc, rng)
		g := append([]float32(nil), o.c...)
		gonum.Implementation{}.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, g, o.ldc)
		blas32.Use(Implementation{})
		blas32.Gemm(tc.tA, tc.tB, tc.alpha,
			blas32.General{Rows: o.ar, Cols: o.ac, Stride: o.lda, Data: o.a},
			blas32.General{Rows: o.br, Cols: o.bc, Stride: o.ldb, Data: o.b},
			tc.beta, blas32.General{Rows: tc.m, Cols: tc.n, Stride: o.ldc, Data: o.c})
		blas32.Use(gonum.Implementation{})
		tol := float32(tolerance(tc.k)) * float32(tc.k)
		for i := range tc.m {
			for j := range tc.n {
				x, y := o.c[i*o.ldc+j], g[i*o.ldc+j]
				if d := x - y; d > tol || d < -tol {
					t.Fatalf("%v: C[%d,%d] = %g, gonum %g", tc, i, j, x, y)
				}
			}
		}
	}
}
