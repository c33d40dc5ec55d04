package feature

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// naiveMoments computes the statistics of xs by the textbook two-pass formulas, in float64.
func naiveMoments(xs []float64) (mean, variance, lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		mean += x
		lo, hi = min(lo, x), max(hi, x)
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(xs)), lo, hi
}

// relClose reports whether a and b agree to tol, relative to scale (or absolutely below 1).
func relClose(a, b, tol, scale float64) bool {
	return math.Abs(a-b) <= tol*max(1, math.Abs(scale))
}

func momentsData() map[string][]float64 {
	r := rand.New(rand.NewPCG(1, 2))
	gauss := make([]float64, 10007)
	offset := make([]float64, 5000)
	ints := make([]float64, 3001)
	for i := range gauss {
		gauss[i] = r.NormFloat64()*3 + 7
	}
	for i := range offset {
		offset[i] = 1e3 + r.NormFloat64() // mean 1000 × the spread: naive sums of squares lose 6 digits here
	}
	for i := range ints {
		ints[i] = float64(r.IntN(256))
	}
	return map[string][]float64{
		"one":      {42},
		"two":      {-1, 1},
		"constant": {3.5, 3.5, 3.5, 3.5},
		"gauss":    gauss,
		"offset":   offset,
		"bytes":    ints,
	}
}

func TestMomentsAddMatchesTwoPass(t *testing.T) {
	for name, xs := range momentsData() {
		t.Run(name, func(t *testing.T) {
			var m Moments
			for _, x := range xs {
				m.Add(x)
			}
			mean, v, lo, hi := naiveMoments(xs)
			if m.Count() != int64(len(xs)) || !relClose(m.Mean(), mean, 1e-12, mean) ||
				!relClose(m.Variance(), v, 1e-9, v) || m.Min() != lo || m.Max() != hi {
				t.Errorf("got %v, want n=%d mean=%g var=%g min=%g max=%g", m, len(xs), mean, v, lo, hi)
			}
		})
	}
}

// TestMomentsMergeEqualsWhole checks the acceptance criterion: statistics merged from shards equal the
// statistics of the whole to 1e-9 in float64, whatever the cut.
func TestMomentsMergeEqualsWhole(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for name, xs := range momentsData() {
		for _, parts := range []int{1, 2, 3, 7, 64} {
			var whole Moments
			for _, x := range xs {
				whole.Add(x)
			}
			// random cut points, some shards possibly empty
			cuts := []int{0, len(xs)}
			for range parts - 1 {
				cuts = append(cuts, r.IntN(len(xs)+1))
			}
			sortInts(cuts)
			var merged Moments
			for k := 1; k < len(cuts); k++ {
				var part Moments
				for _, x := range xs[cuts[k-1]:cuts[k]] {
					part.Add(x)
				}
				merged.Merge(part)
			}
			if merged.Count() != whole.Count() || !relClose(merged.Mean(), whole.Mean(), 1e-9, whole.Mean()) ||
				!relClose(merged.Variance(), whole.Variance(), 1e-9, whole.Variance()) ||
				merged.Min() != whole.Min() || merged.Max() != whole.Max() {
				t.Errorf("%s in %d parts: merged %v, whole %v", name, parts, merged, whole)
			}
		}
	}
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func TestMomentsZeroValue(t *testing.T) {
	var m, empty Moments
	m.Merge(empty)
	if m.Count() != 0 || m.Mean() != 0 || m.Variance() != 0 || m.Std() != 0 || m.Min() != 0 || m.Max() != 0 {
		t.Errorf("zero value: %v", m)
	}
	m.Add(-2)
	m.Merge(empty)
	if m.Count() != 1 || m.Mean() != -2 || m.Variance() != 0 || m.Min() != -2 || m.Max() != -2 {
		t.Errorf("after Add(-2): %v", m)
	}
	empty.Merge(m)
	if empty != m {
		t.Errorf("merge into empty: %v, want %v", empty, m)
	}
}

func TestMomentsJSONRoundTrip(t *testing.T) {
	var m Moments
	for _, x := range momentsData()["gauss"] {
		m.Add(x)
	}
	for _, in := range []Moments{{}, m} {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var out Moments
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if out != in {
			t.Errorf("round trip of %s: %v, want %v", b, out, in)
		}
	}
}

func TestMomentsJSONRejectsInconsistent(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"n":-1,"mean":0,"m2":0,"min":0,"max":0}`, "negative count"},
		{`{"n":0,"mean":1,"m2":0,"min":0,"max":0}`, "count 0"},
		{`{"n":2,"mean":1,"m2":-1,"min":0,"max":2}`, "negative m2"},
		{`{"n":2,"mean":1,"m2":1,"min":3,"max":2}`, "min 3 > max 2"},
		{`{"n":2,"mean":5,"m2":1,"min":0,"max":2}`, "outside"},
		{`{"n":2,"mean":1,"m2":1e999,"min":0,"max":2}`, "cannot unmarshal"},
		{`{"n":"x"}`, "cannot unmarshal"},
	} {
		var m Moments
		err := json.Unmarshal([]byte(tc.in), &m)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.in, err, tc.want)
		}
	}
	if _, err := NewMoments(3, 1, 2, 0, 2); err != nil {
		t.Errorf("NewMoments of a consistent summary: %v", err)
	}
}
