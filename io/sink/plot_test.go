package sink_test

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/sgdpipe/sgdpipe/io/sink"
)

// countNear counts the pixels within 40 (per channel) of c.
func countNear(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			d := func(a uint32, want uint8) bool { return math.Abs(float64(a>>8)-float64(want)) <= 40 }
			if d(r, c.R) && d(g, c.G) && d(bl, c.B) {
				n++
			}
		}
	}
	return n
}

var (
	blue   = color.RGBA{R: 31, G: 119, B: 180}
	orange = color.RGBA{R: 255, G: 127, B: 14}
)

func TestPlotCurves(t *testing.T) {
	full := sampleMetrics(2000, 10)
	noAcc := sampleMetrics(300, 5)
	noVal := sampleMetrics(300, 5)
	for i := range noAcc.Epochs {
		noAcc.Epochs[i].TrainAcc, noAcc.Epochs[i].ValAcc = math.NaN(), math.NaN()
		noVal.Epochs[i].ValLoss, noVal.Epochs[i].ValAcc = math.NaN(), math.NaN()
	}
	holes := sampleMetrics(500, 4)
	for i := range holes.Steps {
		if i%3 == 0 {
			holes.Steps[i].Loss = math.NaN()
		}
		if i%17 == 0 {
			holes.Steps[i].Loss = math.Inf(1)
		}
	}
	holes.Epochs[1].ValLoss = math.Inf(1)
	tests := []struct {
		name         string
		m            sink.Metrics
		wantOrange   bool // the validation series is drawn
		minBluePixel int
	}{
		{"full run", full, true, 2000},
		{"regression: no accuracy", noAcc, true, 1000},
		{"no validation", noVal, false, 1000},
		{"steps only", sink.Metrics{Steps: full.Steps}, false, 1000},
		{"epochs only", sink.Metrics{Epochs: full.Epochs}, true, 500},
		{"one step", sink.Metrics{Steps: full.Steps[:1]}, false, 20},
		{"one epoch", sink.Metrics{Epochs: full.Epochs[:1]}, true, 20},
		{"NaN and Inf holes", holes, true, 1000},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("curves%d.png", i))
			if err := sink.PlotCurves(path, tt.m); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			if b := img.Bounds(); b.Dx() != sink.PlotWidth || b.Dy() != sink.PlotHeight {
				t.Fatalf("image is %dx%d, want %dx%d", b.Dx(), b.Dy(), sink.PlotWidth, sink.PlotHeight)
			}
			if n := countNear(img, blue); n < tt.minBluePixel {
				t.Errorf("%d blue pixels, want at least %d: the train curves are missing", n, tt.minBluePixel)
			}
			if n := countNear(img, orange); (n > 20) != tt.wantOrange {
				t.Errorf("%d orange pixels; validation series drawn = %t, want %t", n, n > 20, tt.wantOrange)
			}
			if keep := os.Getenv("SGDPIPE_KEEP_PLOTS"); keep != "" {
				b, _ := os.ReadFile(path)
				os.WriteFile(filepath.Join(keep, filepath.Base(path)), b, 0o644)
			}
		})
	}
}

func TestPlotCurvesErrors(t *testing.T) {
	dir := t.TempDir()
	allNaN := sink.Metrics{
		Steps:  []sink.StepRow{{Step: 1, Loss: math.NaN()}},
		Epochs: []sink.EpochRow{{Epoch: 1, TrainLoss: math.Inf(1), TrainAcc: math.NaN(), ValLoss: math.NaN(), ValAcc: math.NaN()}},
	}
	tests := []struct {
		name string
		path string
		m    sink.Metrics
		says string
	}{
		{"empty", "a.png", sink.Metrics{}, "nothing to plot"},
		{"no finite value", "a.png", allNaN, "nothing to plot"},
		{"not png", "a.jpg", sampleMetrics(10, 1), "name the file .png"},
		{"missing directory", "nope/a.png", sampleMetrics(10, 1), "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.path)
			oneLine(t, sink.PlotCurves(path, tt.m), path, tt.says)
		})
	}
	noTemps(t, dir)
}

func ExamplePlotCurves() {
	dir, err := os.MkdirTemp("", "sink-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "curves.png")

	var m sink.Metrics
	for s := 1; s <= 100; s++ {
		m.Steps = append(m.Steps, sink.StepRow{Step: int64(s), Epoch: (s-1)/50 + 1, Loss: 2 / math.Sqrt(float64(s))})
	}
	m.Epochs = []sink.EpochRow{
		{Epoch: 1, Step: 50, TrainLoss: 0.6, TrainAcc: 0.81, ValLoss: 0.7, ValAcc: 0.78},
		{Epoch: 2, Step: 100, TrainLoss: 0.3, TrainAcc: 0.9, ValLoss: 0.4, ValAcc: 0.87},
	}
	if err := sink.PlotCurves(path, m); err != nil {
		panic(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	fmt.Println(cfg.Width, cfg.Height, err)
	// Output:
	// 1500 500 <nil>
}
