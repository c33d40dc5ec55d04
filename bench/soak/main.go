package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/sgdpipe/sgdpipe/stages"
)

// options are the command-line flags.
type options struct {
	duration, sample, every, warmup, calibrate time.Duration
	data, val, target, model, out              string
	batch, workers, readers                    int
}

func main() {
	var o options
	short := flag.Bool("short", false, "a 60 s trial: -duration 60s -sample 5s -every 15s -warmup 20s -calibrate 5s")
	flag.DurationVar(&o.duration, "duration", 30*time.Minute, "how long to train")
	flag.DurationVar(&o.sample, "sample", 10*time.Second, "interval between heap and goroutine samples")
	flag.DurationVar(&o.every, "every", time.Minute, "interval between validations and checkpoints (converted to steps by -calibrate)")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Minute, "samples before this are left out of the trend (buffers filling, first validation)")
	flag.DurationVar(&o.calibrate, "calibrate", 15*time.Second, "length of the run that measures steps per second")
	flag.StringVar(&o.data, "data", "testdata/mnist/train.parquet", "training data")
	flag.StringVar(&o.val, "val", "testdata/mnist/test.parquet", "validation data")
	flag.StringVar(&o.target, "target", "label", "target column")
	flag.StringVar(&o.model, "model", "mlp:64", "--model")
	flag.IntVar(&o.batch, "batch", 128, "--batch")
	flag.IntVar(&o.workers, "workers", 2, "--workers")
	flag.IntVar(&o.readers, "readers", 1, "--readers and --normalizers")
	flag.StringVar(&o.out, "out", "soak-out", "directory of the CSV, the PNG and the checkpoints")
	flag.Parse()
	if *short {
		o.duration, o.sample, o.every, o.warmup, o.calibrate = 60*time.Second, 5*time.Second, 15*time.Second, 20*time.Second, 5*time.Second
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	flat, err := soak(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if !flat {
		os.Exit(3)
	}
}

// sample is one row of the CSV.
type sample struct {
	t                             time.Duration
	heapInuse, heapAlloc, heapSys uint64 // as found: with the garbage of the current GC cycle
	liveInuse, liveAlloc          uint64 // right after a forced GC: the live heap
	rss                           int64
	goroutines                    int
	numGC                         uint32
	step                          int64
}

// soak calibrates, trains for o.duration while sampling, writes the CSV and the PNG, prints the
// trends and reports whether heap and goroutines are flat.
func soak(ctx context.Context, o options) (bool, error) {
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return false, err
	}
	base := stages.TrainConfig{Model: o.model, Optimizer: "adam", LR: 1e-3, Workers: o.workers, Val: []string{o.val}}
	base.Data.Paths = []string{o.data}
	base.Data.Feature.Target = o.target
	base.Data.Seed = 1
	base.Data.Epochs = 1 << 20 // the clock ends the run
	base.Data.Batch = o.batch
	base.Data.Readers, base.Data.Normalizers = o.readers, o.readers

	// Calibration: steps per second from the first step on (the feature fit before it is not
	// counted), to turn -every into --eval-every and --checkpoint-every.
	cctx, cancel := context.WithCancel(ctx)
	var first time.Time
	var rate float64
	cal := base
	cal.Val = nil
	cal.OnStep = func(s stages.StepInfo) { // called from one goroutine
		if s.Step == 1 {
			first = time.Now()
		} else if d := time.Since(first); d >= o.calibrate {
			rate = float64(s.Step-1) / d.Seconds()
			cancel()
		}
	}
	_, err := stages.Train(cctx, cal)
	cancel()
	if err != nil && !errors.Is(err, stages.ErrInterrupted) {
		return false, fmt.Errorf("calibration: %w", err)
	}
	if ctx.Err() != nil || rate == 0 {
		return false, fmt.Errorf("calibration did not finish: %v", ctx.Err())
	}
	every := max(1, int(math.Round(rate*o.every.Seconds())))
	fmt.Printf("calibration: %.1f steps/s: validation and checkpoint every %d steps\n", rate, every)

	cfg := base
	cfg.EvalEvery, cfg.CheckpointEvery = every, every
	cfg.CheckpointDir = filepath.Join(o.out, "ckpt")
	if err := os.RemoveAll(cfg.CheckpointDir); err != nil {
		return false, err
	}
	var step atomic.Int64
	var evals atomic.Int64
	cfg.OnStep = func(s stages.StepInfo) { step.Store(s.Step) }
	cfg.OnEpoch = func(e stages.EpochInfo) {
		if e.Val != nil {
			evals.Add(1)
		}
	}
	log, _ := zap.NewProduction()
	cfg.Logger = log.WithOptions(zap.IncreaseLevel(zap.WarnLevel))

	var mu sync.Mutex
	var samples []sample
	t0 := time.Now()
	take := func() {
		var ms, live runtime.MemStats
		runtime.ReadMemStats(&ms)
		runtime.GC()
		runtime.ReadMemStats(&live)
		s := sample{t: time.Since(t0), heapInuse: ms.HeapInuse, heapAlloc: ms.HeapAlloc, heapSys: ms.HeapSys,
			liveInuse: live.HeapInuse, liveAlloc: live.HeapAlloc,
			rss: rss(), goroutines: runtime.NumGoroutine(), numGC: ms.NumGC, step: step.Load()}
		mu.Lock()
		samples = append(samples, s)
		mu.Unlock()
		fmt.Printf("%6.0fs  step %7d  heap in use %7.1f MiB  live %7.1f MiB  rss %7.1f MiB  goroutines %3d\n",
			s.t.Seconds(), s.step, mib(s.heapInuse), mib(s.liveAlloc), float64(s.rss)/(1<<20), s.goroutines)
	}
	// The run ends half a sample after the last one, so that no sample sees the graph shutting down.
	tctx, cancel := context.WithTimeout(ctx, o.duration+o.sample/2)
	defer cancel()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(o.sample)
		defer tick.Stop()
		take()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if time.Since(t0) <= o.duration+o.sample/4 {
					take()
				}
			}
		}
	})
	_, err = stages.Train(tctx, cfg)
	close(done)
	wg.Wait()
	if err != nil && !errors.Is(err, stages.ErrInterrupted) {
		return false, err
	}
	fmt.Printf("trained %d steps in %s: %d validations, %d checkpoints\n", step.Load(), time.Since(t0).Round(time.Second),
		evals.Load(), step.Load()/int64(every))

	csvPath := filepath.Join(o.out, "soak.csv")
	if err := writeCSV(csvPath, samples); err != nil {
		return false, err
	}
	var xs, inuse, live, gor []float64
	for _, s := range samples {
		if s.t < o.warmup {
			continue
		}
		xs = append(xs, s.t.Minutes())
		inuse = append(inuse, mib(s.heapInuse))
		live = append(live, mib(s.liveAlloc))
		gor = append(gor, float64(s.goroutines))
	}
	if len(xs) < 3 {
		return false, fmt.Errorf("only %d samples after the %s warm-up: run longer or sample more often", len(xs), o.warmup)
	}
	trends := []trend{
		fitTrend("live heap (MiB)", xs, live, 1),
		fitTrend("goroutines", xs, gor, 1),
		fitTrend("heap in use (MiB)", xs, inuse, 1), // GC sawtooth: noisy, reported for reference
	}
	for _, tr := range trends {
		fmt.Println(tr)
	}
	flat := trends[0].flat && trends[1].flat
	pngPath := filepath.Join(o.out, "soak.png")
	if err := plotSamples(pngPath, samples, o.warmup, trends); err != nil {
		return false, err
	}
	fmt.Printf("samples: %s\nplot: %s\n", csvPath, pngPath)
	return flat, nil
}

// trend is a least-squares line through samples after the warm-up.
type trend struct {
	name          string
	x0, x1        float64 // minutes
	slope, offset float64 // per minute
	noise         float64 // standard deviation of the residuals
	drift         float64 // slope times the window: the change the line predicts over the run
	floor         float64 // changes below this are flat whatever the noise (one goroutine, one MiB)
	flat          bool
}

// fitTrend fits y = offset + slope*x. The series is flat when the drift over the window is within
// three residual standard deviations, or under the floor.
func fitTrend(name string, x, y []float64, floor float64) trend {
	offset, slope := stat.LinearRegression(x, y, nil, false)
	res := make([]float64, len(x))
	for i := range x {
		res[i] = y[i] - (offset + slope*x[i])
	}
	tr := trend{name: name, x0: x[0], x1: x[len(x)-1], slope: slope, offset: offset, noise: stat.StdDev(res, nil), floor: floor}
	tr.drift = slope * (tr.x1 - tr.x0)
	tr.flat = math.Abs(tr.drift) <= max(3*tr.noise, floor)
	return tr
}

func (tr trend) String() string {
	verdict := "flat"
	if !tr.flat {
		verdict = "TRENDING"
	}
	return fmt.Sprintf("%-22s slope %+9.4f/min  drift over %.1f min %+8.3f  residual sd %7.3f  -> %s (|drift| <= max(3 sd, %g))",
		tr.name, tr.slope, tr.x1-tr.x0, tr.drift, tr.noise, verdict, tr.floor)
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// rss returns the resident set size from /proc/self/status, or -1 where there is none.
func rss() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return -1
}

func writeCSV(path string, samples []sample) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "seconds,heap_inuse_bytes,heap_alloc_bytes,heap_sys_bytes,live_inuse_bytes,live_alloc_bytes,rss_bytes,goroutines,num_gc,step")
	for _, s := range samples {
		fmt.Fprintf(w, "%.1f,%d,%d,%d,%d,%d,%d,%d,%d,%d\n", s.t.Seconds(), s.heapInuse, s.heapAlloc, s.heapSys, s.liveInuse, s.liveAlloc,
			s.rss, s.goroutines, s.numGC, s.step)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// plotSamples draws heap (in use, allocated, RSS) and goroutines against time, each with its fitted
// trend over the window, one panel above the other.
func plotSamples(path string, samples []sample, warmup time.Duration, trends []trend) error {
	heap := newPlot("Heap and RSS", "MiB")
	gor := newPlot("Goroutines", "goroutines")
	series := []struct {
		p   *plot.Plot
		get func(sample) float64
		c   color.Color
		tr  *trend
		nm  string
	}{
		{heap, func(s sample) float64 { return mib(s.liveAlloc) }, color.RGBA{31, 119, 180, 255}, &trends[0], "live heap (after GC)"},
		{heap, func(s sample) float64 { return mib(s.heapInuse) }, color.RGBA{255, 127, 14, 255}, &trends[2], "heap in use"},
		{heap, func(s sample) float64 { return float64(s.rss) / (1 << 20) }, color.RGBA{120, 120, 120, 255}, nil, "RSS"},
		{gor, func(s sample) float64 { return float64(s.goroutines) }, color.RGBA{44, 160, 44, 255}, &trends[1], "goroutines"},
	}
	for _, s := range series {
		xys := make(plotter.XYs, 0, len(samples))
		for _, smp := range samples {
			if v := s.get(smp); v >= 0 {
				xys = append(xys, plotter.XY{X: smp.t.Minutes(), Y: v})
			}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		l.Color, l.Width = s.c, vg.Points(1.2)
		s.p.Add(l)
		s.p.Legend.Add(s.nm, l)
		if s.tr != nil {
			fit, err := plotter.NewLine(plotter.XYs{{X: s.tr.x0, Y: s.tr.offset + s.tr.slope*s.tr.x0}, {X: s.tr.x1, Y: s.tr.offset + s.tr.slope*s.tr.x1}})
			if err != nil {
				return err
			}
			fit.Color, fit.Width, fit.Dashes = color.Black, vg.Points(1), []vg.Length{vg.Points(4), vg.Points(3)}
			s.p.Add(fit)
			s.p.Legend.Add(fmt.Sprintf("%s trend %+.3f/min", s.nm, s.tr.slope), fit)
		}
	}
	for _, p := range []*plot.Plot{heap, gor} {
		p.Y.Min = 0
		if w := warmup.Minutes(); w > 0 {
			mark, err := plotter.NewLine(plotter.XYs{{X: w, Y: 0}, {X: w, Y: p.Y.Max}})
			if err == nil {
				mark.Color, mark.Dashes = color.RGBA{200, 0, 0, 255}, []vg.Length{vg.Points(2), vg.Points(2)}
				p.Add(mark)
				p.Legend.Add("end of warm-up", mark)
			}
		}
	}
	gor.Y.Max = max(gor.Y.Max*1.4, 1)
	heap.Y.Max *= 1.6
	img := vgimg.NewWith(vgimg.UseWH(10*vg.Inch, 8*vg.Inch), vgimg.UseDPI(100))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadY: 8 * vg.Millimeter, PadTop: 3 * vg.Millimeter, PadBottom: 3 * vg.Millimeter,
		PadLeft: 3 * vg.Millimeter, PadRight: 5 * vg.Millimeter}
	canvases := plot.Align([][]*plot.Plot{{heap}, {gor}}, tiles, dc)
	heap.Draw(canvases[0][0])
	gor.Draw(canvases[1][0])
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func newPlot(title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "minutes"
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p
}
