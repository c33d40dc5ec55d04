package main

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFitTrend checks the flatness verdict on series with and without a trend.
func TestFitTrend(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 168) // 28 minutes every 10 s
	for i := range x {
		x[i] = float64(i) / 6
	}
	series := func(slope, noise float64) []float64 {
		y := make([]float64, len(x))
		for i := range y {
			y[i] = 40 + slope*x[i] + noise*rng.NormFloat64()
		}
		return y
	}
	tests := []struct {
		name         string
		y            []float64
		floor        float64
		flat         bool
		slope, slack float64
	}{
		{"constant", series(0, 0), 1, true, 0, 1e-9},
		{"noise only", series(0, 2), 1, true, 0, 0.1},
		{"leak of 0.5 MiB/min under noise 2", series(0.5, 2), 1, false, 0.5, 0.1},
		{"tiny drift under the floor", series(0.01, 0), 1, true, 0.01, 1e-9},
		{"slow leak beyond noise", series(0.2, 0.3), 1, false, 0.2, 0.05},
		{"sawtooth without trend", sawtooth(x, 8), 1, true, 0, 0.2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := fitTrend(tc.name, x, tc.y, tc.floor)
			if tr.flat != tc.flat {
				t.Errorf("flat = %v, want %v: %v", tr.flat, tc.flat, tr)
			}
			if math.Abs(tr.slope-tc.slope) > tc.slack {
				t.Errorf("slope %v, want %v ± %v", tr.slope, tc.slope, tc.slack)
			}
		})
	}
}

// sawtooth is a GC-like heap: it grows by step per sample and drops back every 6 samples.
func sawtooth(x []float64, step float64) []float64 {
	y := make([]float64, len(x))
	for i := range y {
		y[i] = 30 + step*float64(i%6)
	}
	return y
}

// TestPlotAndCSV writes the figures of a synthetic run.
func TestPlotAndCSV(t *testing.T) {
	var samples []sample
	var xs, ys, gs []float64
	for i := range 30 {
		s := sample{t: time.Duration(i) * 10 * time.Second, heapInuse: uint64(50+i%3) << 20, liveAlloc: uint64(40+i%5) << 20, rss: 120 << 20, goroutines: 25}
		samples = append(samples, s)
		if s.t >= time.Minute {
			xs, ys, gs = append(xs, s.t.Minutes()), append(ys, mib(s.heapInuse)), append(gs, 25)
		}
	}
	trends := []trend{fitTrend("live", xs, ys, 1), fitTrend("goroutines", xs, gs, 1), fitTrend("in use", xs, ys, 1)}
	dir := t.TempDir()
	if err := plotSamples(filepath.Join(dir, "s.png"), samples, time.Minute, trends); err != nil {
		t.Fatal(err)
	}
	if err := writeCSV(filepath.Join(dir, "s.csv"), samples); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"s.png", "s.csv"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() < 100 {
			t.Errorf("%s: %v", f, err)
		}
	}
}
