package source

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A minimal, bounds-checked reader of the few FlatBuffers tables of the Arrow IPC format that Open needs
// to count rows without decoding data, Footer (File.fbs), Message and RecordBatch (Message.fbs), and to
// check a Schema (Schema.fbs) before arrow-go decodes it (ipcschema.go). arrow-go's generated readers are
// internal to its module and trust their input.

var errFlatbuf = errors.New("malformed flatbuffer metadata")

type fbTable struct {
	buf []byte
	pos int // start of the table
	vt  int // start of its vtable
	vtn int // vtable size in bytes
}

func fbU32(buf []byte, at int) (uint32, bool) {
	if at < 0 || at > len(buf)-4 {
		return 0, false
	}
	return binary.LittleEndian.Uint32(buf[at:]), true
}

// fbRoot returns the root table of buf.
func fbRoot(buf []byte) (fbTable, error) {
	off, ok := fbU32(buf, 0)
	if !ok {
		return fbTable{}, errFlatbuf
	}
	return fbAt(buf, int64(off))
}

func fbAt(buf []byte, pos int64) (fbTable, error) {
	if pos < 0 || pos > int64(len(buf))-4 {
		return fbTable{}, errFlatbuf
	}
	so, _ := fbU32(buf, int(pos))
	vt := pos - int64(int32(so))
	if vt < 0 || vt > int64(len(buf))-4 {
		return fbTable{}, errFlatbuf
	}
	vtn := int(binary.LittleEndian.Uint16(buf[vt:]))
	if vtn < 4 || int64(vtn) > int64(len(buf))-vt {
		return fbTable{}, errFlatbuf
	}
	return fbTable{buf: buf, pos: int(pos), vt: int(vt), vtn: vtn}, nil
}

// field returns the absolute position of field id and whether it is present. Presence follows the
// FlatBuffers runtime that arrow-go uses: a slot exists if it starts inside the vtable's declared size
// (an odd size leaves half a slot, which that runtime still reads).
func (t fbTable) field(id int, size int) (int, bool, error) {
	slot := 4 + 2*id
	if slot >= t.vtn {
		return 0, false, nil
	}
	if t.vt+slot+2 > len(t.buf) {
		return 0, false, errFlatbuf
	}
	off := int(binary.LittleEndian.Uint16(t.buf[t.vt+slot:]))
	if off == 0 {
		return 0, false, nil
	}
	at := t.pos + off
	if at+size > len(t.buf) {
		return 0, false, errFlatbuf
	}
	return at, true, nil
}

func (t fbTable) int64(id int) (int64, error) {
	at, ok, err := t.field(id, 8)
	if !ok || err != nil {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint64(t.buf[at:])), nil
}

func (t fbTable) uint8(id int) (uint8, error) {
	at, ok, err := t.field(id, 1)
	if !ok || err != nil {
		return 0, err
	}
	return t.buf[at], nil
}

func (t fbTable) int16(id int) (int16, error) {
	at, ok, err := t.field(id, 2)
	if !ok || err != nil {
		return 0, err
	}
	return int16(binary.LittleEndian.Uint16(t.buf[at:])), nil
}

// ref follows the offset stored in field id; ok is false when the field is absent.
func (t fbTable) ref(id int) (int64, bool, error) {
	at, ok, err := t.field(id, 4)
	if !ok || err != nil {
		return 0, false, err
	}
	off, _ := fbU32(t.buf, at)
	return int64(at) + int64(off), true, nil
}

func (t fbTable) table(id int) (fbTable, bool, error) {
	at, ok, err := t.ref(id)
	if !ok || err != nil {
		return fbTable{}, false, err
	}
	sub, err := fbAt(t.buf, at)
	return sub, err == nil, err
}

// structVector returns the start and length of a vector of structs of elem bytes each.
func (t fbTable) structVector(id int, elem int) (start, n int, err error) {
	at, ok, err := t.ref(id)
	if !ok || err != nil {
		return 0, 0, err
	}
	if at < 0 || at > int64(len(t.buf))-4 {
		return 0, 0, errFlatbuf
	}
	cnt := int64(binary.LittleEndian.Uint32(t.buf[at:]))
	if cnt*int64(elem) > int64(len(t.buf))-at-4 {
		return 0, 0, errFlatbuf
	}
	return int(at) + 4, int(cnt), nil
}

// tableVector returns the start and length of a vector of tables (of 4-byte offsets); an absent vector
// is empty. Element i is read with element.
func (t fbTable) tableVector(id int) (start, n int, err error) {
	return t.structVector(id, 4)
}

// element returns table i of the vector of tables starting at start.
func (t fbTable) element(start, i int) (fbTable, error) {
	at := start + 4*i
	off, ok := fbU32(t.buf, at)
	if !ok {
		return fbTable{}, errFlatbuf
	}
	return fbAt(t.buf, int64(at)+int64(off))
}

// bytes returns the string or byte vector of field id (nil if absent), without copying.
func (t fbTable) bytes(id int) ([]byte, error) {
	at, ok, err := t.ref(id)
	if !ok || err != nil {
		return nil, err
	}
	if at < 0 || at > int64(len(t.buf))-4 {
		return nil, errFlatbuf
	}
	n := int64(binary.LittleEndian.Uint32(t.buf[at:]))
	if n > int64(len(t.buf))-at-4 {
		return nil, errFlatbuf
	}
	return t.buf[at+4 : at+4+n], nil
}

// ipcBlock is File.fbs's Block struct.
type ipcBlock struct {
	offset     int64
	metaLength int32
	bodyLength int64
}

const blockSize = 24

// footerBlocks decodes the dictionary and record batch blocks of an IPC file footer.
func footerBlocks(footer []byte) (dicts, batches []ipcBlock, err error) {
	root, err := fbRoot(footer)
	if err != nil {
		return nil, nil, err
	}
	read := func(id int) ([]ipcBlock, error) {
		start, n, err := root.structVector(id, blockSize)
		if err != nil {
			return nil, err
		}
		out := make([]ipcBlock, n)
		for i := range out {
			b := footer[start+i*blockSize:]
			out[i] = ipcBlock{
				offset:     int64(binary.LittleEndian.Uint64(b)),
				metaLength: int32(binary.LittleEndian.Uint32(b[8:])),
				bodyLength: int64(binary.LittleEndian.Uint64(b[16:])),
			}
		}
		return out, nil
	}
	if dicts, err = read(2); err != nil {
		return nil, nil, err
	}
	if batches, err = read(3); err != nil {
		return nil, nil, err
	}
	return dicts, batches, nil
}

// Message header types (Message.fbs MessageHeader union).
const (
	msgSchema          = 1
	msgDictionaryBatch = 2
	msgRecordBatch     = 3
)

// ipcMessage is the part of a Message flatbuffer Open uses.
type ipcMessage struct {
	version    int16
	kind       uint8
	bodyLength int64
	rows       int64 // RecordBatch.length, for record batches
}

func parseMessage(fb []byte) (ipcMessage, error) {
	var m ipcMessage
	root, err := fbRoot(fb)
	if err != nil {
		return m, err
	}
	if m.version, err = root.int16(0); err != nil {
		return m, err
	}
	if m.kind, err = root.uint8(1); err != nil {
		return m, err
	}
	if m.bodyLength, err = root.int64(3); err != nil {
		return m, err
	}
	switch m.kind {
	case msgRecordBatch:
		rb, ok, err := root.table(2)
		if err != nil {
			return m, err
		}
		if !ok {
			return m, errFlatbuf
		}
		if m.rows, err = rb.int64(0); err != nil {
			return m, err
		}
		if err := checkBatch(rb, m.bodyLength); err != nil {
			return m, err
		}
	case msgDictionaryBatch:
		db, ok, err := root.table(2)
		if err != nil || !ok {
			return m, err
		}
		rb, ok, err := db.table(1) // DictionaryBatch.data
		if err != nil {
			return m, err
		}
		if ok {
			if err := checkBatch(rb, m.bodyLength); err != nil {
				return m, fmt.Errorf("dictionary batch: %w", err)
			}
		}
	}
	return m, nil
}

// checkBatch checks a RecordBatch table (of a record or dictionary batch message whose body is body
// bytes) before arrow-go decodes it: field nodes have lengths and null counts in range, every non-empty
// buffer lies inside the body (arrow-go slices the body by them and panics on a bad one; it does not
// read empty ones, wherever they say they are), compressed buffers hold at least their 8-byte
// uncompressed length, and the variadic buffer counts are consistent (checkVariadic). Cost: O(nodes +
// buffers).
func checkBatch(rb fbTable, body int64) error {
	start, n, err := rb.structVector(1, 16) // nodes: [FieldNode] (length, null_count)
	if err != nil {
		return err
	}
	for i := range n {
		b := rb.buf[start+16*i:]
		length, nulls := int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
		if length < 0 || nulls < 0 || nulls > length {
			return fmt.Errorf("corrupt metadata: field node %d declares %d values of which %d null", i, length, nulls)
		}
	}
	_, compressed, err := rb.ref(3) // compression: BodyCompression
	if err != nil {
		return err
	}
	if start, n, err = rb.structVector(2, 16); err != nil { // buffers: [Buffer] (offset, length)
		return err
	}
	for i := range n {
		b := rb.buf[start+16*i:]
		off, length := int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
		if length != 0 && (off < 0 || length < 0 || off > body || length > body-off) { // an empty buffer is not read
			return fmt.Errorf("corrupt metadata: buffer %d spans bytes %d..%d of a %d-byte body", i, off, uint64(off)+uint64(length), body)
		}
		if compressed && length > 0 && length < 8 {
			return fmt.Errorf("corrupt metadata: compressed buffer %d of %d bytes has no room for its 8-byte length", i, length)
		}
	}
	return checkVariadic(rb)
}

// checkVariadic checks a RecordBatch's variadicBufferCounts (one per binary-view column: how many data
// buffers follow its fixed ones) against its buffers: arrow-go sizes a slice by each count before it
// reads a buffer, so a lying count would make it ask the runtime for terabytes, a fatal error no
// recover catches.
func checkVariadic(rb fbTable) error {
	_, nbuf, err := rb.structVector(2, 16) // buffers: [Buffer] (offset, length)
	if err != nil {
		return err
	}
	start, n, err := rb.structVector(4, 8) // variadicBufferCounts: [long]
	if err != nil {
		return err
	}
	left := int64(nbuf)
	for i := range n {
		c := int64(binary.LittleEndian.Uint64(rb.buf[start+8*i:]))
		if c < 0 || c > left {
			return fmt.Errorf("corrupt record batch metadata: variadic buffer count %d (column %d) exceeds the %d buffers of the batch", c, i, nbuf)
		}
		left -= c
	}
	return nil
}
