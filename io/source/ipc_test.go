package source

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

var tagType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

var tags = []string{"red", "green", "blue"}

// dictStreamRecord builds a record of sc (an int64 column "id" then one column holding a dictionary of
// tags, at the top level or inside a struct) with rows [first, first+n). With same, every record has the
// dictionary of all the tags; else each has the tags it uses in the order of their first use.
func dictStreamRecord(t *testing.T, sc *arrow.Schema, first, n int, same bool) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	db := b.Field(1)
	sb, nested := db.(*array.StructBuilder)
	if nested {
		db = sb.FieldBuilder(0)
	}
	if same {
		dict := array.NewStringBuilder(memory.DefaultAllocator)
		dict.AppendValues(tags, nil)
		dv := dict.NewStringArray()
		dict.Release()
		err := db.(*array.BinaryDictionaryBuilder).InsertStringDictValues(dv)
		dv.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := first; i < first+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if nested {
			sb.Append(true)
		}
		if err := db.(*array.BinaryDictionaryBuilder).AppendString(tags[i%3]); err != nil {
			t.Fatal(err)
		}
	}
	return b.NewRecordBatch()
}

// writeDictStream writes batches of rows rows each (dictStreamRecord) as an IPC stream and returns its
// bytes and the offset of each record batch message.
func writeDictStream(t *testing.T, sc *arrow.Schema, batches, rows int, same bool) (data []byte, msgs []int64) {
	t.Helper()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(sc))
	for i := range batches {
		rec := dictStreamRecord(t, sc, i*rows, rows, same)
		err := w.Write(rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data = buf.Bytes()
	pos := int64(0)
	for i := 0; ; i++ {
		m, _, next, err := readStreamMessage(bytes.NewReader(data), i, pos, int64(len(data)), 1<<30)
		if err != nil {
			break
		}
		if m.kind == msgRecordBatch {
			msgs = append(msgs, pos)
		}
		pos = next
	}
	if len(msgs) != batches {
		t.Fatalf("found %d record batch messages, wrote %d", len(msgs), batches)
	}
	return data, msgs
}

// recordBatchStructs returns where the 16-byte structs of vector field of the record batch header
// at pos start in data, and how many there are (field 1: nodes, 2: buffers).
func recordBatchStructs(t *testing.T, data []byte, pos int64, field int) (start, n int) {
	t.Helper()
	fb, prefix, err := messageFlatbuf(data[pos:])
	if err != nil {
		t.Fatal(err)
	}
	root, err := fbRoot(fb)
	if err != nil {
		t.Fatal(err)
	}
	rb, ok, err := root.table(2)
	if err != nil || !ok {
		t.Fatalf("no record batch header: %v", err)
	}
	start, n, err = rb.structVector(field, 16)
	if err != nil {
		t.Fatalf("vector %d: %v", field, err)
	}
	return int(pos) + prefix + start, n
}

// setBufferLength overwrites the length of buffer buf of the record batch message at pos.
func setBufferLength(t *testing.T, data []byte, pos int64, buf int, length int64) {
	t.Helper()
	start, n := recordBatchStructs(t, data, pos, 2) // buffers: [Buffer] (offset, length)
	if buf >= n {
		t.Fatalf("buffer %d of %d", buf, n)
	}
	binary.LittleEndian.PutUint64(data[start+16*buf+8:], uint64(length))
}

// TestStreamDictionaryLeftBehind reads IPC streams whose last record batch has a dictionary column
// with an empty indices buffer: arrow-go's reader panics there (recovered) after the half-built column
// has retained the dictionary its memo shares with the records delivered before. The
// read must deliver the good batches, fail with one line naming the file, and leave nothing allocated
// once the receiver, who keeps the records past ReadShard, releases them.
func TestStreamDictionaryLeftBehind(t *testing.T) {
	top := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "tag", Type: tagType, Nullable: true}}, nil)
	nested := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "tag", Type: tagType, Nullable: true}), Nullable: true}}, nil)
	for _, tc := range []struct {
		name string
		sc   *arrow.Schema
		buf  int // the indices buffer of the dictionary column (buffers in pre-order: validity, values)
	}{
		{"top-level dictionary", top, 3},
		{"dictionary in a struct", nested, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const batches, rows = 3, 5
			data, msgs := writeDictStream(t, tc.sc, batches, rows, true)
			setBufferLength(t, data, msgs[batches-1], tc.buf, 0)
			path := filepath.Join(t.TempDir(), "d.arrows")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			d, err := Open([]string{path}, Options{Mem: mem})
			if err != nil {
				t.Fatal(err)
			}
			var kept []arrow.RecordBatch
			err = d.ReadShard(context.Background(), 0, nil, func(rec arrow.RecordBatch) error {
				kept = append(kept, rec)
				return nil
			})
			if err == nil {
				t.Error("ReadShard succeeded on a corrupt last batch")
			} else if msg := err.Error(); !strings.HasPrefix(msg, path) || strings.ContainsAny(msg, "\n\r") {
				t.Errorf("error is not one line naming the file: %q", msg)
			}
			if len(kept) != batches-1 {
				t.Errorf("delivered %d records before the corrupt batch, want %d", len(kept), batches-1)
			}
			for i, rec := range kept { // the records are intact after ReadShard returned
				col := rec.Column(1)
				if s, ok := col.(*array.Struct); ok {
					col = s.Field(0)
				}
				dict := col.(*array.Dictionary)
				for r := range int(rec.NumRows()) {
					if got, want := dict.Dictionary().ValueStr(dict.GetValueIndex(r)), tags[(i*rows+r)%3]; got != want {
						t.Errorf("record %d row %d: tag %q, want %q", i, r, got, want)
					}
				}
				rec.Release()
			}
		})
	}
}

// TestStreamDictionaryCopies checks that the records of a stream carry dictionaries equal to arrow-go's
// (TestStreamDictionaryLeftBehind shows they are copies): one copy per dictionary shared by the records that use it (one for the whole read when
// the stream never replaces it, one per record when every record replaces it), freed with the last record.
func TestStreamDictionaryCopies(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "tag", Type: tagType, Nullable: true}}, nil)
	const batches = 3
	for _, tc := range []struct {
		name   string
		same   bool // every record has the same dictionary
		copies int  // distinct dictionaries among the records read
	}{
		{"one dictionary", true, 1},
		{"replaced by every record", false, batches},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			data, _ := writeDictStream(t, sc, batches, 4, tc.same)
			path := filepath.Join(t.TempDir(), "d.arrows")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			d, err := Open([]string{path}, Options{Mem: mem})
			if err != nil {
				t.Fatal(err)
			}
			var kept []arrow.RecordBatch
			defer func() {
				for _, rec := range kept {
					rec.Release()
				}
			}()
			err = d.ReadShard(context.Background(), 0, []int{1}, func(rec arrow.RecordBatch) error {
				kept = append(kept, rec)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(kept) != batches {
				t.Fatalf("%d records, want %d", len(kept), batches)
			}
			distinct := map[arrow.ArrayData]bool{}
			for _, rec := range kept {
				distinct[rec.Column(0).Data().Dictionary()] = true
			}
			if len(distinct) != tc.copies {
				t.Errorf("%d distinct dictionaries in %d records, want %d", len(distinct), batches, tc.copies)
			}
			ref, err := ipc.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			defer ref.Release()
			for i := 0; ref.Next(); i++ {
				want, got := ref.RecordBatch().Column(1), kept[i].Column(0)
				if !array.Equal(want, got) {
					t.Errorf("record %d: got %v, want %v", i, got, want)
				}
			}
		})
	}
}

// setNode overwrites field node node (length, null count) of the record batch message at pos.
func setNode(t *testing.T, data []byte, pos int64, node int, length, nulls int64) {
	t.Helper()
	start, n := recordBatchStructs(t, data, pos, 1) // nodes: [FieldNode] (length, null_count)
	if node >= n {
		t.Fatalf("field node %d of %d", node, n)
	}
	binary.LittleEndian.PutUint64(data[start+16*node:], uint64(length))
	binary.LittleEndian.PutUint64(data[start+16*node+8:], uint64(nulls))
}

// setBuffer overwrites buffer buf (offset, length) of the record batch message at pos.
func setBuffer(t *testing.T, data []byte, pos int64, buf int, off, length int64) {
	t.Helper()
	setBufferLength(t, data, pos, buf, length)
	raw := data[pos:]
	fb, prefix, _ := messageFlatbuf(raw)
	root, _ := fbRoot(fb)
	rb, _, _ := root.table(2)
	start, _, _ := rb.structVector(2, 16)
	binary.LittleEndian.PutUint64(raw[prefix+start+16*buf:], uint64(off))
}

// TestRecordBatchMetadata checks what is refused in a record batch's metadata before arrow-go decodes it
// (at Open, which walks every message of a stream; the same check runs on each batch of a file), with
// one error line naming the file, the message and the fault; and that an empty buffer at an offset past
// the body, which arrow-go never reads, is not refused.
func TestRecordBatchMetadata(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "tag", Type: tagType, Nullable: true}}, nil)
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, data []byte, pos int64)
		want string // in the error; "" = the stream reads
	}{
		{"buffer past the body", func(t *testing.T, d []byte, p int64) { setBuffer(t, d, p, 1, 8, 1<<40) }, "buffer 1 spans bytes 8..1099511627784 of a"},
		{"negative buffer offset", func(t *testing.T, d []byte, p int64) { setBuffer(t, d, p, 3, -8, 16) }, "buffer 3 spans bytes"},
		{"empty buffer far away", func(t *testing.T, d []byte, p int64) { setBuffer(t, d, p, 0, 1<<40, 0) }, ""},
		{"more nulls than values", func(t *testing.T, d []byte, p int64) { setNode(t, d, p, 1, 5, 6) }, "field node 1 declares 5 values of which 6 null"},
		{"negative length", func(t *testing.T, d []byte, p int64) { setNode(t, d, p, 0, -1, 0) }, "field node 0 declares -1 values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, msgs := writeDictStream(t, sc, 2, 5, true)
			tc.edit(t, data, msgs[1])
			path := filepath.Join(t.TempDir(), "d.arrows")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			d, err := Open([]string{path}, Options{Mem: mem})
			if err == nil {
				err = d.ReadShard(context.Background(), 0, nil, func(rec arrow.RecordBatch) error { rec.Release(); return nil })
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == "":
			case err == nil:
				t.Fatal("read without an error")
			case !strings.HasPrefix(err.Error(), path+": corrupt Arrow IPC stream: message 3: corrupt metadata: ") || !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %q, want %q in it after the file and the message", err, tc.want)
			}
		})
	}
}

// TestDecodeErrorText checks the text of errors arrow-go's IPC reader returns after recovering a panic:
// one line saying which record batch cannot be decoded, without arrow-go's prefixes and runtime numbers.
func TestDecodeErrorText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"arrow/ipc: unknown error while reading: runtime error: slice bounds out of range [:17179871584] with capacity 4096",
			"record batch 2 cannot be decoded: the file is corrupt (slice bounds out of range)"},
		{"arrow/ipc: error reading record batch: runtime error: index out of range [7] with length 3",
			"record batch 2 cannot be decoded: the file is corrupt (index out of range)"},
		{"arrow/ipc: unknown error while reading: string offsets out of bounds of data buffer",
			"record batch 2 cannot be decoded: the file is corrupt (string offsets out of bounds of data buffer)"},
		{"arrow/ipc: could not read message body: unexpected EOF", "could not read message body: unexpected EOF"},
	} {
		if got := decodeError(errors.New(tc.in), 2).Error(); got != tc.want {
			t.Errorf("decodeError(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
