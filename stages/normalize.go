package stages

import (
	"context"
	"fmt"
	"regexp"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sgdpipe/sgdpipe/io/source"
	"github.com/sgdpipe/sgdpipe/stages/feature"
)

// Normalizer is the featurizing stage, a pipeline.Transform[Chunk, Chunk]: it maps
// each record of source columns (plus RowColumn) to {x, y, __row} with
// feature.Spec.Transform and passes end markers on. Run it with
// pipeline.Workers(N) and pipeline.Ordered(), so that the order of the rows does not
// depend on N.
//
// Ownership: Process releases its input record on every path and emits a new record
// owned by the receiver. Safe for concurrent use (Spec.Transform is); the zero value
// is not usable. Cost: Spec.Transform's, about 1 ns per output value.
type Normalizer struct {
	spec *feature.Spec
	mem  memory.Allocator
	ds   *source.Dataset // optional: names the file of a bad row
}

// NewNormalizer returns a featurizing stage allocating from mem (nil =
// memory.DefaultAllocator). ds, when not nil, lets errors name the file of a bad
// row, since after the shuffle a record holds rows of many files.
func NewNormalizer(spec *feature.Spec, ds *source.Dataset, mem memory.Allocator) *Normalizer {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	return &Normalizer{spec: spec, mem: mem, ds: ds}
}

// Process featurizes one chunk; see Normalizer.
func (n *Normalizer) Process(ctx context.Context, c Chunk, emit func(Chunk) error) error {
	if c.Rec == nil {
		return emit(c)
	}
	out, err := n.spec.Transform(c.Rec, n.mem)
	c.Release()
	if err != nil {
		return n.locate(err)
	}
	if err := emit(Chunk{Epoch: c.Epoch, Rec: out}); err != nil {
		out.Release()
		return err
	}
	return nil
}

// rowRe finds the global row index in feature's messages ("row 1234").
var rowRe = regexp.MustCompile(`\brow (\d+)\b`)

// locate prefixes a Transform error with the file holding the row it names (and the
// row's index in that file).
func (n *Normalizer) locate(err error) error {
	if n.ds == nil || len(n.ds.Shards) == 0 {
		return err
	}
	m := rowRe.FindStringSubmatch(err.Error())
	if m == nil {
		if len(n.ds.Files) == 1 {
			return fmt.Errorf("%s: %w", n.ds.Files[0].Path, err)
		}
		return err
	}
	id, perr := strconv.ParseInt(m[1], 10, 64)
	if perr != nil || id < 0 || id >= n.ds.Rows {
		return err
	}
	s := len(n.ds.Shards) - 1
	for s > 0 && n.ds.Shards[s].First > id {
		s--
	}
	f := n.ds.Shards[s].File
	fileFirst := n.ds.Shards[s].First
	for s > 0 && n.ds.Shards[s-1].File == f {
		s--
		fileFirst = n.ds.Shards[s].First
	}
	return fmt.Errorf("%s (row %d of the file): %w", n.ds.Files[f].Path, id-fileFirst, err)
}
