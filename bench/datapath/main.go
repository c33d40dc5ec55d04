package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"go.uber.org/zap"

	"github.com/sgdpipe/sgdpipe/pipeline"
	"github.com/sgdpipe/sgdpipe/stages"
	"github.com/sgdpipe/sgdpipe/stages/feature"
)

func main() {
	var (
		gen      = flag.Bool("gen", false, "write the data file")
		run      = flag.Bool("run", false, "run the data path over -data")
		out      = flag.String("out", "big.parquet", "file -gen writes")
		size     = flag.Int64("size", 2<<30, "approximate size of the file -gen writes, bytes")
		group    = flag.Int("group", 16384, "rows per row group -gen writes")
		data     = flag.String("data", "big.parquet", "file -run reads")
		shuffle  = flag.String("shuffle", "buffer", "--shuffle mode")
		buffer   = flag.Int("shuffle-buffer", 0, "--shuffle-buffer rows (0 = default)")
		budget   = flag.Int64("memory-budget", 0, "--memory-budget bytes (0 = default)")
		readers  = flag.Int("readers", 2, "--readers")
		norms    = flag.Int("normalizers", 2, "--normalizers")
		batch    = flag.Int("batch", 128, "--batch")
		queue    = flag.Int("queue", 0, "--queue (0 = default)")
		readRows = flag.Int("read-rows", 0, "--read-rows (0 = default)")
		memLimit = flag.Int64("mem-limit", 0, "Go runtime soft memory limit, bytes (0 = none; GOMEMLIMIT also works)")
	)
	flag.Parse()
	if *memLimit > 0 {
		debug.SetMemoryLimit(*memLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	switch {
	case *gen:
		err = generate(*out, *size, *group)
	case *run:
		err = runPath(ctx, stages.DataConfig{Paths: []string{*data}, Seed: 1, Epochs: 1, Shuffle: *shuffle,
			ShuffleBuffer: *buffer, MemoryBudget: *budget, Readers: *readers, Normalizers: *norms, Batch: *batch,
			Queue: *queue, ReadRows: *readRows, Feature: feature.Config{Target: "label"}})
	default:
		err = fmt.Errorf("give -gen or -run")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "datapath:", err)
		os.Exit(1)
	}
}

var schema = arrow.NewSchema([]arrow.Field{
	{Name: "pixels", Type: arrow.FixedSizeListOf(784, arrow.PrimitiveTypes.Uint8)},
	{Name: "label", Type: arrow.PrimitiveTypes.Uint8},
}, nil)

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w *bufio.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// generate writes random MNIST-shaped rows to path, row group by row group, until the
// file holds about size bytes. Parquet has no 8-bit type (uint8 is stored as INT32),
// so pixels are dictionary-encoded: about one byte per pixel, incompressible.
func generate(path string, size int64, group int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := &countingWriter{w: bufio.NewWriterSize(f, 1<<20)}
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Uncompressed),
		parquet.WithDictionaryDefault(true), parquet.WithMaxRowGroupLength(int64(group)))
	w, err := pqarrow.NewFileWriter(schema, bw, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	px := make([]byte, 784*group)
	labels := make([]byte, group)
	start := time.Now()
	var rows int64
	for bw.n < size {
		n := group
		for i := 0; i+8 <= len(px[:784*n]); i += 8 {
			binary.LittleEndian.PutUint64(px[i:], rng.Uint64())
		}
		for i := range labels[:n] {
			labels[i] = byte(rng.IntN(10))
		}
		rec := record(px[:784*n], labels[:n])
		err := w.Write(rec)
		rec.Release()
		if err != nil {
			return err
		}
		rows += int64(n)
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := bw.w.Flush(); err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d rows, %.2f GiB in %.1fs\n", path, rows, float64(st.Size())/(1<<30), time.Since(start).Seconds())
	return nil
}

// record wraps the pixel and label bytes (not copied) as a record.
func record(px, labels []byte) arrow.RecordBatch {
	n := len(labels)
	child := array.NewData(arrow.PrimitiveTypes.Uint8, len(px), []*memory.Buffer{nil, memory.NewBufferBytes(px)}, nil, 0, 0)
	fslData := array.NewData(schema.Field(0).Type, n, []*memory.Buffer{nil}, []arrow.ArrayData{child}, 0, 0)
	child.Release()
	fsl := array.MakeFromData(fslData)
	fslData.Release()
	lab := array.NewData(arrow.PrimitiveTypes.Uint8, n, []*memory.Buffer{nil, memory.NewBufferBytes(labels)}, nil, 0, 0)
	labArr := array.MakeFromData(lab)
	lab.Release()
	rec := array.NewRecordBatch(schema, []arrow.Array{fsl, labArr}, int64(n))
	fsl.Release()
	labArr.Release()
	return rec
}

// runPath runs one epoch of the data path and prints its figures.
func runPath(ctx context.Context, cfg stages.DataConfig) error {
	log, err := zap.NewDevelopment()
	if err != nil {
		return err
	}
	defer log.Sync()
	cfg.Logger = log
	st, err := os.Stat(cfg.Paths[0])
	if err != nil {
		return err
	}
	t0 := time.Now()
	d, err := stages.OpenDataPath(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	fit := time.Since(t0)
	hwm, err := peakRSS()
	if err != nil {
		return err
	}
	fmt.Printf("opened and fitted %s (%d rows, %d shards) in %.1fs, peak RSS so far %.1f MiB; shuffle buffer %d rows\n",
		cfg.Paths[0], d.Dataset.Rows, len(d.Dataset.Shards), fit.Seconds(), float64(hwm)/(1<<20), d.Plan.Buffer())
	g := pipeline.New(pipeline.Config{Logger: log})
	batches, err := d.Add(g, stages.Position{})
	if err != nil {
		return err
	}
	var rows atomic.Int64
	pipeline.AddSink(g, "drop", batches, pipeline.SinkFunc[stages.Batch](func(ctx context.Context, b stages.Batch) error {
		rows.Add(int64(b.Rows))
		b.Release()
		return nil
	}))
	t1 := time.Now()
	if err := g.Run(ctx); err != nil {
		return err
	}
	el := time.Since(t1).Seconds()
	fmt.Printf("data path: %d rows in %.1fs: %.0f rows/s, %.1f MB/s of file\n", rows.Load(), el, float64(rows.Load())/el, float64(st.Size())/1e6/el)
	for _, q := range d.Quality.Epochs() {
		fmt.Printf("epoch %d: mean TV %.3f (uniform %.3f), displacement %.3f (uniform %.3f), shuffle buffer peak %.1f MiB (%d rows)\n",
			q.Epoch, q.MeanTV, q.ExpectedTV, q.MeanDisplacement, q.ExpectedDisplacement, float64(q.BufferBytes)/(1<<20), q.BufferRows)
	}
	fmt.Println(g.Report())
	if hwm, err = peakRSS(); err != nil {
		return err
	}
	fmt.Printf("peak RSS (VmHWM): %.1f MiB\n", float64(hwm)/(1<<20))
	return nil
}

// peakRSS returns VmHWM from /proc/self/status, in bytes.
func peakRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}
