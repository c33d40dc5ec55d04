package ops

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"go.uber.org/goleak"
)

// gonum's native Sgemm may start goroutines; ops must leave none behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// randMat returns a rows×cols matrix of N(0, std²) draws with the given stride.
func randMat[T float](rng *rand.Rand, rows, cols, stride int, std float64) mat[T] {
	m := mat[T]{Rows: rows, Cols: cols, Stride: stride, Data: make([]T, max(0, (rows-1)*stride+cols))}
	for i := range m.Data {
		m.Data[i] = T(std * rng.NormFloat64())
	}
	return m
}

func randVec[T float](rng *rand.Rand, n int, std float64) []T {
	v := make([]T, n)
	for i := range v {
		v[i] = T(std * rng.NormFloat64())
	}
	return v
}

// infDist returns the ∞-norm distance ‖a-b‖∞ and ‖b‖∞.
func infDist[T, U float](a []T, b []U) (dist, norm float64) {
	if len(a) != len(b) {
		panic("infDist: lengths differ")
	}
	for i := range a {
		dist = max(dist, math.Abs(float64(a[i])-float64(b[i])))
		norm = max(norm, math.Abs(float64(b[i])))
	}
	return dist, norm
}

// side prints the first few values of got and want side by side, as llm.c does.
func side[T, U float](got []T, want []U) string {
	s := ""
	for i := range min(len(got), 6) {
		s += "\n\tgot " + ftoa(float64(got[i])) + "\twant " + ftoa(float64(want[i]))
	}
	return s
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', 10, 64) }

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }
