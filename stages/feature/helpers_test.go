package feature

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// memShards is an in-memory shardSet: each shard is a list of records over the full schema. read
// follows source.Dataset.ReadShard's contract: projected records, owned by emit when it succeeds,
// released by read when emit fails.
type memShards struct {
	sch    *arrow.Schema
	shards [][]arrow.RecordBatch
	files  []string // per shard
	first  []int64  // per shard: index in its file of its first row
	// hook, when set, runs before each record is emitted (to inject errors, panics or cancellation).
	hook func(shard, rec int) error
}

func (m *memShards) schema() *arrow.Schema { return m.sch }
func (m *memShards) numShards() int        { return len(m.shards) }
func (m *memShards) shard(i int) (string, int64) {
	return m.files[i], m.first[i]
}
func (m *memShards) describe() string {
	if len(m.files) == 0 {
		return "an empty dataset"
	}
	return m.files[0]
}

func (m *memShards) read(ctx context.Context, i int, cols []int, emit func(arrow.RecordBatch) error) error {
	for k, rec := range m.shards[i] {
		if err := ctx.Err(); err != nil {
			return err
		}
		if m.hook != nil {
			if err := m.hook(i, k); err != nil {
				return err
			}
		}
		p := project(rec, cols)
		if err := emit(p); err != nil {
			p.Release()
			return err
		}
	}
	return nil
}

// release drops the shards' records.
func (m *memShards) release() {
	for _, sh := range m.shards {
		for _, r := range sh {
			r.Release()
		}
	}
}

// project returns a new record holding the columns cols of rec, in that order.
func project(rec arrow.RecordBatch, cols []int) arrow.RecordBatch {
	fields := make([]arrow.Field, len(cols))
	arrs := make([]arrow.Array, len(cols))
	for j, c := range cols {
		fields[j] = rec.Schema().Field(c)
		arrs[j] = rec.Column(c)
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, rec.NumRows())
}

// shardsOf cuts rec into shards of the given sizes (each shard one record, a zero-copy slice), all in
// one file named file. It does not take rec's reference.
func shardsOf(rec arrow.RecordBatch, file string, sizes ...int) *memShards {
	m := &memShards{sch: rec.Schema()}
	var off int64
	for _, n := range sizes {
		m.shards = append(m.shards, []arrow.RecordBatch{rec.NewSlice(off, off+int64(n))})
		m.files = append(m.files, file)
		m.first = append(m.first, off)
		off += int64(n)
	}
	if off != rec.NumRows() {
		panic(fmt.Sprintf("shardsOf: sizes add up to %d, record has %d rows", off, rec.NumRows()))
	}
	return m
}

// recordJSON builds a record from JSON rows.
func recordJSON(t testing.TB, mem memory.Allocator, schema *arrow.Schema, rows string) arrow.RecordBatch {
	t.Helper()
	rec, _, err := array.RecordFromJSON(mem, schema, strings.NewReader(rows))
	if err != nil {
		t.Fatalf("RecordFromJSON: %v", err)
	}
	return rec
}

// arrayJSON builds an array from JSON values.
func arrayJSON(t testing.TB, mem memory.Allocator, dt arrow.DataType, values string) arrow.Array {
	t.Helper()
	arr, _, err := array.FromJSON(mem, dt, strings.NewReader(values))
	if err != nil {
		t.Fatalf("FromJSON %s: %v", dt, err)
	}
	return arr
}

// recordOf builds a record from named arrays, taking their references.
func recordOf(names []string, arrs ...arrow.Array) arrow.RecordBatch {
	fields := make([]arrow.Field, len(arrs))
	for i, a := range arrs {
		fields[i] = arrow.Field{Name: names[i], Type: a.DataType(), Nullable: true}
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, -1)
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// fitMem fits src in memory with the given config and workers.
func fitMem(t testing.TB, src shardSet, cfg Config, workers int) *Spec {
	t.Helper()
	s, err := fit(context.Background(), src, cfg, workers)
	if err != nil {
		t.Fatalf("fit: %v", err)
	}
	return s
}

// transformAll transforms every shard of src with s and returns the rows of x and y.
func transformAll(t testing.TB, mem memory.Allocator, s *Spec, src *memShards) (x [][]float32, y []float64) {
	t.Helper()
	cols, hasTarget, err := s.Columns(src.sch)
	if err != nil {
		t.Fatalf("Columns: %v", err)
	}
	for _, sh := range src.shards {
		for _, rec := range sh {
			p := project(rec, cols)
			out, err := s.Transform(p, mem)
			p.Release()
			if err != nil {
				t.Fatalf("Transform: %v", err)
			}
			data, rows, d := XMatrix(out)
			for r := range rows {
				x = append(x, append([]float32(nil), data[r*d:(r+1)*d]...))
			}
			if hasTarget {
				switch ya := out.Column(1).(type) {
				case *array.Int32:
					for _, v := range ya.Int32Values() {
						y = append(y, float64(v))
					}
				case *array.Float32:
					for _, v := range ya.Float32Values() {
						y = append(y, float64(v))
					}
				}
			}
			out.Release()
		}
	}
	return x, y
}

// oneLine fails the test if err is nil or spans several lines, or if its text lacks any of want.
func checkError(t testing.TB, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans several lines: %q", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
}
