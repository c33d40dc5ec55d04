package stages

import (
	"math"
	"sync"

	"go.uber.org/zap"
)

// EpochQuality is the shuffle quality of one epoch, measured on the batches that
// left the batcher, next to what a perfect (uniform) shuffle would give. A plain
// value, safe to copy.
type EpochQuality struct {
	Epoch   int
	Batches int
	Rows    int64 // rows in those batches
	// Complete is false while the epoch runs (or when the run stopped inside it).
	Complete bool

	// Bins is the number of histogram bins: the classes of a classification
	// target, RegressionBins equal-width bins of a regression target's range at
	// Fit; 0 without a target (then the TV figures are 0).
	Bins int
	// MeanTV is the mean over batches of the total-variation distance between a
	// batch's label (or binned target) histogram and the epoch's (0 = identical,
	// 1 = disjoint); MaxTV is the largest.
	MeanTV, MaxTV float64
	// ExpectedTV is MeanTV's expected value under a uniform shuffle of the same
	// rows into batches of the same sizes (hypergeometric, exact).
	ExpectedTV float64

	// MeanDisplacement is the mean over rows of |position in the epoch - __row| /
	// EpochRows: 0 in file order, (N^2-1)/(3N^2) ~ 1/3 expected from a uniform
	// permutation (ExpectedDisplacement).
	MeanDisplacement, ExpectedDisplacement float64
	// EpochRows is the number of rows in a full epoch (N above).
	EpochRows int64

	// BufferBytes and BufferRows are the peaks, during the epoch, of the bytes and
	// rows of the records the shuffle buffer retained (rows include rows already
	// drawn from records that were not yet released).
	BufferBytes int64
	BufferRows  int64
}

// Quality collects EpochQuality figures while a data path runs and logs each epoch
// once, at Info level, when it completes. The shuffler and the batcher feed it; any
// goroutine may read it. Safe for concurrent use. The zero value is not usable: the
// data path creates it.
//
// Cost: per batch, one pass over its labels and row ids; per epoch, memory of
// 4 bytes per class per batch (the batch histograms wait for the epoch's histogram).
type Quality struct {
	mu     sync.Mutex
	log    *zap.Logger
	bins   int     // histogram bins; 0 = no target
	lo, hi float64 // regression: the range cut into bins; lo == hi for classes
	rows   int64   // rows per full epoch
	cur    *epochAcc
	done   []EpochQuality
	buffer map[int]EpochQuality // shuffler peaks by epoch, until the batcher reaches it
}

// RegressionBins is the number of equal-width bins the quality report cuts a
// regression target's range into.
const RegressionBins = 16

type epochAcc struct {
	q     EpochQuality
	sizes []int32  // rows of each batch
	hists []uint32 // batch histograms, len(sizes)*bins
	disp  float64  // sum of |position - row|
}

// QualityConfig describes the data a Quality collector measures.
type QualityConfig struct {
	// Classes is the number of classes of a classification target (labels are
	// class indices); 0 otherwise.
	Classes int
	// TargetMin and TargetMax bound a regression target (Classes 0): its values
	// are cut into RegressionBins bins. Equal values (or no target) disable TV.
	TargetMin, TargetMax float64
	// EpochRows is the number of rows of a full epoch.
	EpochRows int64
	// Logger receives one Info line per epoch; nil = zap.NewNop().
	Logger *zap.Logger
}

// NewQuality returns an empty collector.
func NewQuality(cfg QualityConfig) *Quality {
	q := &Quality{log: cfg.Logger, rows: cfg.EpochRows, buffer: map[int]EpochQuality{}}
	if q.log == nil {
		q.log = zap.NewNop()
	}
	switch {
	case cfg.Classes > 0:
		q.bins = cfg.Classes
	case cfg.TargetMax > cfg.TargetMin:
		q.bins, q.lo, q.hi = RegressionBins, cfg.TargetMin, cfg.TargetMax
	}
	return q
}

// Epochs returns the figures of the completed epochs, in order. The caller owns the result.
func (q *Quality) Epochs() []EpochQuality {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]EpochQuality(nil), q.done...)
}

// Current returns the figures of the epoch in progress so far (TV and z are filled
// only when the epoch completes), and false when no epoch is in progress.
func (q *Quality) Current() (EpochQuality, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.cur == nil {
		return EpochQuality{}, false
	}
	e := q.cur.q
	if e.Rows > 0 {
		e.MeanDisplacement = q.cur.disp / float64(e.Rows) / float64(max(q.rows, 1))
	}
	b := q.buffer[e.Epoch]
	e.BufferBytes, e.BufferRows = b.BufferBytes, b.BufferRows
	return e, true
}

// observeBuffer records the bytes and rows the shuffle buffer retains in epoch.
func (q *Quality) observeBuffer(epoch int, bytes, rows int64) {
	q.mu.Lock()
	b := q.buffer[epoch]
	b.BufferBytes = max(b.BufferBytes, bytes)
	b.BufferRows = max(b.BufferRows, rows)
	q.buffer[epoch] = b
	q.mu.Unlock()
}

// observeBatch adds one batch of epoch starting at output position pos: its row ids
// and either its class labels (classification) or its targets (regression); both
// nil without a target. Labels out of range and targets outside the Fit range
// count in the first or last bin.
func (q *Quality) observeBatch(epoch int, pos int64, rowIDs []int64, labels []int32, targets []float32) {
	var disp float64
	for i, id := range rowIDs {
		d := pos + int64(i) - id
		disp += float64(max(d, -d))
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.cur != nil && q.cur.q.Epoch != epoch {
		q.finish()
	}
	if q.cur == nil {
		q.cur = &epochAcc{q: EpochQuality{Epoch: epoch, Bins: q.bins, EpochRows: q.rows}}
	}
	a := q.cur
	a.q.Batches++
	a.q.Rows += int64(len(rowIDs))
	a.disp += disp
	a.sizes = append(a.sizes, int32(len(rowIDs)))
	if q.bins == 0 || labels == nil && targets == nil {
		return
	}
	base := len(a.hists)
	a.hists = append(a.hists, make([]uint32, q.bins)...)
	h := a.hists[base:]
	last := int32(q.bins - 1)
	if labels != nil {
		for _, c := range labels {
			h[min(max(c, 0), last)]++
		}
		return
	}
	scale := float64(q.bins) / (q.hi - q.lo)
	for _, v := range targets {
		b := (float64(v) - q.lo) * scale
		if b != b { // NaN: the normalizer refuses them, but never index with one
			b = 0
		}
		h[min(max(int32(b), 0), last)]++
	}
}

// endEpoch completes epoch: it computes the figures, logs them once and files them.
func (q *Quality) endEpoch(epoch int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.cur == nil || q.cur.q.Epoch != epoch {
		// An epoch without a single batch (all dropped, or resumed at its end).
		q.cur = &epochAcc{q: EpochQuality{Epoch: epoch, Bins: q.bins, EpochRows: q.rows}}
	}
	q.cur.q.Complete = true
	q.finish()
}

// stop files the epoch in progress, if any, as incomplete: the input stopped inside it.
func (q *Quality) stop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.cur != nil {
		q.finish()
	}
}

// finish computes the current epoch's figures and files them; q.mu is held.
func (q *Quality) finish() {
	a := q.cur
	q.cur = nil
	e := a.q
	if e.Rows > 0 {
		e.MeanDisplacement = a.disp / float64(e.Rows) / float64(max(q.rows, 1))
		n := float64(q.rows)
		e.ExpectedDisplacement = (n*n - 1) / (3 * n * n)
	}
	if len(a.hists) > 0 {
		e.MeanTV, e.MaxTV, e.ExpectedTV = histogramTV(a.hists, a.sizes, q.bins)
	}
	b := q.buffer[e.Epoch]
	delete(q.buffer, e.Epoch)
	e.BufferBytes, e.BufferRows = b.BufferBytes, b.BufferRows
	q.done = append(q.done, e)
	fields := []zap.Field{
		zap.Int("epoch", e.Epoch), zap.Int("batches", e.Batches), zap.Int64("rows", e.Rows),
		zap.Float64("mean_displacement", e.MeanDisplacement), zap.Float64("expected_displacement", e.ExpectedDisplacement),
		zap.Int64("buffer_bytes", e.BufferBytes), zap.Int64("buffer_rows", e.BufferRows),
	}
	if e.Bins > 0 {
		fields = append(fields, zap.Float64("mean_tv", e.MeanTV), zap.Float64("max_tv", e.MaxTV), zap.Float64("expected_tv", e.ExpectedTV))
	}
	if !e.Complete {
		fields = append(fields, zap.Bool("complete", false))
	}
	q.log.Info("shuffle quality", fields...)
}

// histogramTV returns the mean and maximum total-variation distance between each
// batch histogram (hists, classes per batch, batch b of sizes[b] rows) and the
// pooled histogram, and the mean expected under a uniform shuffle.
func histogramTV(hists []uint32, sizes []int32, classes int) (mean, maxTV, expected float64) {
	global := make([]int64, classes)
	var n int64
	for b, size := range sizes {
		for c, k := range hists[b*classes : (b+1)*classes] {
			global[c] += int64(k)
		}
		n += int64(size)
	}
	p := make([]float64, classes)
	for c, k := range global {
		p[c] = float64(k) / float64(max(n, 1))
	}
	expectedBySize := map[int32]float64{}
	for b, size := range sizes {
		var d float64
		for c, k := range hists[b*classes : (b+1)*classes] {
			d += math.Abs(float64(k)/float64(size) - p[c])
		}
		d /= 2
		mean += d
		maxTV = max(maxTV, d)
		e, ok := expectedBySize[size]
		if !ok {
			e = ExpectedTV(global, int64(size))
			expectedBySize[size] = e
		}
		expected += e
	}
	return mean / float64(len(sizes)), maxTV, expected / float64(len(sizes))
}

// ExpectedTV returns the expected total-variation distance between the label
// histogram of a uniformly drawn batch of size rows (without replacement) and the
// histogram of the population whose class counts are counts:
// 1/2 sum_c E|X_c/size - counts[c]/N| with X_c hypergeometric. It is exact and costs
// O(classes * size) log-gamma evaluations.
func ExpectedTV(counts []int64, size int64) float64 {
	var n int64
	for _, k := range counts {
		n += k
	}
	if n == 0 || size <= 0 {
		return 0
	}
	size = min(size, n)
	lcn := logChoose(n, size)
	var e float64
	for _, k := range counts {
		p := float64(k) / float64(n)
		lo, hi := max(0, size-(n-k)), min(size, k)
		for x := lo; x <= hi; x++ {
			pmf := math.Exp(logChoose(k, x) + logChoose(n-k, size-x) - lcn)
			e += pmf * math.Abs(float64(x)/float64(size)-p)
		}
	}
	return e / 2
}

// logChoose returns log(n choose k).
func logChoose(n, k int64) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}
