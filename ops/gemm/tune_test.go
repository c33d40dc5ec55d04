package gemm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
)

func minTime(f func(), reps int) float64 {
	f()
	var ts []float64
	for range reps {
		s := time.Now()
		f()
		ts = append(ts, float64(time.Since(s).Nanoseconds()))
	}
	return slices.Min(ts)
}

func TestTuneKernel(t *testing.T) {
	if os.Getenv("TUNE") == "" {
		t.Skip()
	}
	for _, kern := range kernels[:2] {
		k := 256
		a := make([]float32, kern.mr*k)
		b := make([]float32, kern.nr*k)
		c := make([]float32, kern.mr*kern.nr)
		for i := range a {
			a[i] = rand.Float32()
		}
		for i := range b {
			b[i] = rand.Float32()
		}
		f := func() {
			for range 100 {
				kern.fn(kern.mr, kern.nr, k, a, 1, kern.mr, b, kern.nr, c, kern.nr, 1, 1)
			}
		}
		ns := minTime(f, 200)
		fmt.Printf("%s kernel: %.1f GFLOP/s\n", kern.name, 100*2*float64(kern.mr*kern.nr*k)/ns)
	}
}

// TUNE="m,n,k,NT" 
func TestTuneShape(t *testing.T) {
	spec := os.Getenv("TUNESHAPE")
	if spec == "" {
		t.Skip()
	}
	for _, sh := range strings.Split(spec, ";") {
		f := strings.Split(sh, ",")
		m, _ := strconv.Atoi(f[0])
		n, _ := strconv.Atoi(f[1])
		k, _ := strconv.Atoi(f[2])
		tA, tB := blas.NoTrans, blas.NoTrans
		if f[3][0] == 'T' {
			tA = blas.Trans
		}
		if f[3][1] == 'T' {
			tB = blas.Trans
		}
		tc := gemmCase{tA: tA, tB: tB, m: m, n: n, k: k, alpha: 1, beta: 0}
		o := newOperands(tc, rand.New(rand.NewPCG(1, 1)))
		for _, p := range []packing{packAuto, packNone, packBoth} {
			forcePacking = p
			impl := Implementation{Threads: 1}
			reps := max(5, min(300, int(3e9/float64(2*m*n*k))))
			ns := minTime(func() { impl.Sgemm(tA, tB, m, n, k, 1, o.a, o.lda, o.b, o.ldb, 0, o.c, o.ldc) }, reps)
			fmt.Printf("%s %v pack=%d: %.1f GFLOP/s (%.1fus)\n", sh, active.name, p, 2*float64(m*n*k)/ns, ns/1e3)
		}
		forcePacking = packAuto
	}
}
