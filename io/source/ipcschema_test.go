package source

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// corpusBytes reads the []byte value of a Go fuzz corpus file ("go test fuzz v1" then one []byte(...)).
func corpusBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head, body, ok := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if !ok || head != "go test fuzz v1" || !strings.HasPrefix(body, "[]byte(") || !strings.HasSuffix(body, ")") {
		t.Fatalf("%s: not a one-value []byte fuzz corpus file", path)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(body, "[]byte("), ")"))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(s)
}

// schemaStream returns an IPC stream holding only sc (the schema message, then end of stream).
func schemaStream(t *testing.T, sc *arrow.Schema) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(sc))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// firstMessage returns the metadata flatbuffer of the first message of an IPC stream; the slice aliases
// stream, so patching it patches the stream.
func firstMessage(t *testing.T, stream []byte) []byte {
	t.Helper()
	fb, _, err := messageFlatbuf(stream)
	if err != nil {
		t.Fatalf("first message: %v", err)
	}
	return fb
}

// schemaTable returns the Schema table of the stream's first message.
func schemaTable(t *testing.T, stream []byte) fbTable {
	t.Helper()
	sc, err := schemaOfMessage(firstMessage(t, stream))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// vectorElems returns the positions of the offsets of the vector of tables in field id of tb.
func vectorElems(t *testing.T, tb fbTable, id int) []int {
	t.Helper()
	start, n, err := tb.tableVector(id)
	if err != nil {
		t.Fatal(err)
	}
	pos := make([]int, n)
	for i := range pos {
		pos[i] = start + 4*i
	}
	return pos
}

// child returns element i of the vector of tables in field id of tb.
func child(t *testing.T, tb fbTable, id, i int) fbTable {
	t.Helper()
	start, _, err := tb.tableVector(id)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tb.element(start, i)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pointAt makes the offset at position at of buf refer to the table target (which must lie after it).
func pointAt(t *testing.T, buf []byte, at int, target fbTable) {
	t.Helper()
	if target.pos <= at {
		t.Fatalf("table at %d is not after the offset at %d", target.pos, at)
	}
	binary.LittleEndian.PutUint32(buf[at:], uint32(target.pos-at))
}

// ipcFileWithSchemaOf builds an Arrow IPC file whose footer holds the schema of the stream's first
// message and no record batches, padded to at least size bytes. The footer is a Footer table placed in
// front of a copy of the message, which keeps the message's relative offsets valid.
func ipcFileWithSchemaOf(t *testing.T, stream []byte, size int) []byte {
	t.Helper()
	msg := firstMessage(t, stream)
	root, err := fbRoot(msg)
	if err != nil {
		t.Fatal(err)
	}
	sc, ok, err := root.ref(2)
	if !ok || err != nil {
		t.Fatalf("no schema in the first message: %v", err)
	}
	const head = 20 // root offset, vtable [8, 8, absent version, schema at +4], table [soffset, schema]
	footer := make([]byte, head, head+len(msg))
	binary.LittleEndian.PutUint32(footer[0:], 12)
	for i, v := range []uint16{8, 8, 0, 4} {
		binary.LittleEndian.PutUint16(footer[4+2*i:], v)
	}
	binary.LittleEndian.PutUint32(footer[12:], 8)                       // table at 12, vtable at 4
	binary.LittleEndian.PutUint32(footer[16:], uint32(head+int(sc)-16)) // schema, relative to its slot
	footer = append(footer, msg...)
	out := append([]byte("ARROW1\x00\x00"), make([]byte, max(0, size-8-len(footer)-10))...)
	out = append(out, footer...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(footer)))
	return append(out, "ARROW1"...)
}

// nestedLists returns a column of depth nested fields: lists of lists ... of int32.
func nestedLists(depth int) *arrow.Schema {
	var dt arrow.DataType = arrow.PrimitiveTypes.Int32
	for range depth - 1 {
		dt = arrow.ListOf(dt)
	}
	return arrow.NewSchema([]arrow.Field{{Name: "deep", Type: dt}}, nil)
}

// lyingSchemas are schema-only IPC streams that lie to arrow-go's schema decoder. Each is read both as a
// stream and, moved into a footer, as an IPC file.
func lyingSchemas(t *testing.T) []struct {
	name   string
	stream []byte
	want   string // in the error; "" = the schema is fine
} {
	crasher := corpusBytes(t, filepath.Join("testdata", "fuzz", "FuzzIPCStream", "104dd5c55eaf6b6f"))

	// A chain of 24 structs {a: next, b: int32} in which each b is made to point at a: 2^24 fields
	// through shared tables, from a few KB.
	var dt arrow.DataType = arrow.PrimitiveTypes.Int32
	for range 24 {
		dt = arrow.StructOf(arrow.Field{Name: "a", Type: dt}, arrow.Field{Name: "b", Type: arrow.PrimitiveTypes.Int32})
	}
	shared := schemaStream(t, arrow.NewSchema([]arrow.Field{{Name: "s", Type: dt}}, nil))
	for f := child(t, schemaTable(t, shared), 1, 0); ; {
		elems := vectorElems(t, f, 5)
		if len(elems) != 2 {
			break
		}
		a := child(t, f, 5, 0)
		pointAt(t, f.buf, elems[1], a)
		f = a
	}

	// 5000 columns that all point at the first, whose metadata holds 256 KiB: 1.25 GiB to decode.
	fields := make([]arrow.Field, 5000)
	for i := range fields {
		fields[i] = arrow.Field{Name: "c" + strconv.Itoa(i), Type: arrow.PrimitiveTypes.Int8}
	}
	md := arrow.NewMetadata([]string{"big"}, []string{strings.Repeat("x", 256<<10)})
	fields[0].Metadata = md
	wide := schemaStream(t, arrow.NewSchema(fields, nil))
	sc := schemaTable(t, wide)
	first := child(t, sc, 1, 0)
	for _, at := range vectorElems(t, sc, 1)[1:] {
		pointAt(t, sc.buf, at, first)
	}

	// Field metadata whose pair count says a billion.
	metaCount := schemaStream(t, arrow.NewSchema([]arrow.Field{{Name: "m", Type: arrow.PrimitiveTypes.Int8, Metadata: arrow.NewMetadata([]string{"k"}, []string{"v"})}}, nil))
	m := child(t, schemaTable(t, metaCount), 1, 0)
	at, _, _ := m.ref(6)
	binary.LittleEndian.PutUint32(m.buf[at:], 1<<30)

	// A dictionary-encoded column whose encoding lost its index type: the encoding table is given the
	// empty vtable of the Utf8 type table (vtables are shared, so they cannot be edited in place).
	noIndex := schemaStream(t, arrow.NewSchema([]arrow.Field{{Name: "d", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}}}, nil))
	d := child(t, schemaTable(t, noIndex), 1, 0)
	enc, _, err := d.table(4)
	if err != nil {
		t.Fatal(err)
	}
	utf8, _, err := d.table(3)
	if err != nil || utf8.vtn != 4 {
		t.Fatalf("Utf8 type table: vtable of %d bytes, %v", utf8.vtn, err)
	}
	binary.LittleEndian.PutUint32(enc.buf[enc.pos:], uint32(int32(enc.pos-utf8.vt)))

	// A column whose type tag is not a type.
	badType := schemaStream(t, arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int8}}, nil))
	x := child(t, schemaTable(t, badType), 1, 0)
	tag, _, _ := x.field(2, 1)
	x.buf[tag] = 200

	return []struct {
		name   string
		stream []byte
		want   string
	}{
		{"fuzz crasher: 973078528 children", crasher, `column 1 ("dict1"): 973078528 children declared in`},
		{"2^24 fields through shared children", shared, "more than 1048576 fields"},
		{"shared 256 KiB metadata, 5000 times", wide, "decoding it needs more than 1 GiB (Options.MaxBytes)"},
		{"metadata pair count 2^30", metaCount, `column 0 ("m"): 1073741824 metadata pairs declared in`},
		{"dictionary without index type", noIndex, "a dictionary encoding without its index type"},
		{"type tag 200", badType, "unknown type 200"},
		{"65 nested levels", schemaStream(t, nestedLists(65)), "fields nested more than 64 levels deep"},
		{"64 nested levels", schemaStream(t, nestedLists(64)), ""},
		{"field name of 64 KiB + 1", schemaStream(t, arrow.NewSchema([]arrow.Field{{Name: strings.Repeat("n", 1<<16+1), Type: arrow.PrimitiveTypes.Int8}}, nil)), "a field name of 65537 bytes, more than 65536"},
		{"field name of 64 KiB", schemaStream(t, arrow.NewSchema([]arrow.Field{{Name: strings.Repeat("n", 1<<16), Type: arrow.PrimitiveTypes.Int8}}, nil)), ""},
		{"fixture schema", schemaStream(t, fixtureSchema), ""},
	}
}

// parquetWithStoredSchema writes a one-column Parquet file whose ARROW:schema metadata (the Arrow schema
// that pqarrow decodes with arrow-go's IPC reader) is the schema message of stream, in base64.
func parquetWithStoredSchema(t *testing.T, path string, stream []byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	md := arrow.NewMetadata([]string{"ARROW:schema"}, []string{base64.StdEncoding.EncodeToString(stream)})
	w, err := pqarrow.NewFileWriter(arrow.NewSchema([]arrow.Field{{Name: "p", Type: arrow.PrimitiveTypes.Int8}}, &md), f, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLyingSchema opens IPC streams and files whose schema lies to arrow-go's decoder (which would
// allocate until the process dies, or for ever), and Parquet files that store such a schema for pqarrow,
// and checks they are refused with one line naming the file, quickly and in bounded memory, while IPC
// schemas at the limits open.
func TestLyingSchema(t *testing.T) {
	dir := t.TempDir()
	for i, tc := range lyingSchemas(t) {
		for _, format := range []Format{IPCStream, IPCFile, Parquet} {
			if format == Parquet && tc.want == "" {
				continue // the stored schema would not match the file's
			}
			t.Run(tc.name+"/"+format.String(), func(t *testing.T) {
				data, path := tc.stream, filepath.Join(dir, "s"+strconv.Itoa(i)+".arrows")
				switch format {
				case IPCFile:
					data, path = ipcFileWithSchemaOf(t, tc.stream, 0), strings.TrimSuffix(path, "s")
				case Parquet:
					path = strings.TrimSuffix(path, ".arrows") + ".parquet"
					parquetWithStoredSchema(t, path, tc.stream)
					pq, err := os.ReadFile(path)
					if err != nil {
						t.Fatal(err)
					}
					data = pq
				}
				if format != Parquet {
					if err := os.WriteFile(path, data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
				defer mem.AssertSize(t, 0)
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				done := make(chan error, 1)
				go func() {
					d, err := Open([]string{path}, Options{Mem: mem})
					if err == nil {
						d.Close()
					}
					done <- err
				}()
				var err error
				select {
				case err = <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("Open neither returned nor failed within 10 s")
				}
				runtime.ReadMemStats(&after)
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20+3*uint64(len(data)) {
					t.Errorf("Open allocated %d MiB for a %d-byte file", alloc>>20, len(data))
				}
				if tc.want == "" {
					if err != nil {
						t.Fatalf("Open: %v", err)
					}
					return
				}
				if err == nil {
					t.Fatalf("Open accepted the file, want an error with %q", tc.want)
				}
				msg := err.Error()
				if strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, path+": ") || !strings.Contains(msg, tc.want) || len(msg) > maxErrLen+len(path) {
					t.Errorf("error %q: want one line starting with the path and containing %q", msg, tc.want)
				}
			})
		}
	}
}

// TestReadShardLyingSchema replaces a file after Open with one of the same size whose schema lies: each
// ReadShard reopens the file, and must check its schema again before arrow-go decodes it.
func TestReadShardLyingSchema(t *testing.T) {
	crasher := corpusBytes(t, filepath.Join("testdata", "fuzz", "FuzzIPCStream", "104dd5c55eaf6b6f"))
	for _, format := range []Format{IPCStream, IPCFile} {
		t.Run(format.String(), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			path := filepath.Join(t.TempDir(), "a.arrow")
			if format == IPCStream {
				path += "s"
			}
			writeIPCFixture(t, path, 40, 16, format == IPCStream)
			good, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			d, err := Open([]string{path}, Options{Mem: mem})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			bad := ipcFileWithSchemaOf(t, crasher, len(good))
			if format == IPCStream { // the crasher, then an end-of-stream marker and padding
				bad = append(append(append([]byte(nil), crasher...), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), make([]byte, len(good))...)
				bad = bad[:max(len(good), len(crasher)+8)]
			}
			if len(bad) != len(good) {
				t.Fatalf("lying file of %d bytes, want %d", len(bad), len(good))
			}
			if err := os.WriteFile(path, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			err = d.ReadShard(t.Context(), 0, nil, func(rec arrow.RecordBatch) error {
				rec.Release()
				return nil
			})
			if err == nil {
				t.Fatal("ReadShard read a file whose schema lies")
			}
			// A check that the file changed since Open may also catch this first.
			msg := err.Error()
			if strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, path) ||
				!strings.Contains(msg, "Arrow IPC schema") && !strings.Contains(msg, "changed") && !strings.Contains(msg, "modified") {
				t.Errorf("error %q: want one line naming the file and the schema", msg)
			}
		})
	}
}

// TestPinnedFile checks that a pinnedFile reads as the file's first off bytes followed by its tail copy,
// cut at its size, through ReadAt, Read and Seek.
func TestPinnedFile(t *testing.T) {
	file := []byte("0123456789abcdefghij")      // on disk: 20 bytes
	want := []byte("0123456789ABCDEFGHIJ"[:16]) // seen: off 10, tail "ABCDEF", size 16
	newPinned := func() *pinnedFile {
		return &pinnedFile{SectionReader: io.NewSectionReader(bytes.NewReader(file), 0, 16), off: 10, tail: []byte("ABCDEF")}
	}
	for _, tc := range []struct {
		at, n int
	}{{0, 4}, {0, 10}, {0, 16}, {0, 20}, {8, 4}, {9, 1}, {10, 1}, {10, 6}, {12, 10}, {15, 1}, {16, 1}, {30, 2}, {3, 0}} {
		b := make([]byte, tc.n)
		n, err := newPinned().ReadAt(b, int64(tc.at))
		wantN := max(0, min(tc.n, len(want)-tc.at))
		if n != wantN || !bytes.Equal(b[:n], want[min(tc.at, len(want)):min(tc.at, len(want))+wantN]) {
			t.Errorf("ReadAt(%d bytes at %d) = %q, want %q", tc.n, tc.at, b[:n], want[min(tc.at, len(want)):min(tc.at, len(want))+wantN])
		}
		if (err == io.EOF) != (wantN < tc.n) || err != nil && err != io.EOF {
			t.Errorf("ReadAt(%d bytes at %d): error %v with %d of %d bytes", tc.n, tc.at, err, n, tc.n)
		}
	}
	if _, err := newPinned().ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("ReadAt at -1 succeeded")
	}
	p := newPinned()
	if end, err := p.Seek(0, io.SeekEnd); end != 16 || err != nil {
		t.Errorf("Seek(0, SeekEnd) = %d, %v, want 16", end, err)
	}
	if _, err := p.Seek(7, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(iotest.OneByteReader(p))
	if err != nil || !bytes.Equal(got, want[7:]) {
		t.Errorf("Read from 7 = %q, %v, want %q", got, err, want[7:])
	}
}
