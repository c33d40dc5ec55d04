package source

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// arrow-go decodes an IPC Schema flatbuffer (ipc.schemaFromFB) trusting every count in it: it makes a
// slice as long as a vector claims before reading one element, recurses into children without a depth
// limit and decodes a table again each time it is referenced. A lying schema can therefore ask for
// terabytes or recurse until the stack limit, and the Go runtime ends the process: no recover catches
// that. checkSchema walks the Schema with the bounds-checked reader of flatbuf.go first, exactly as
// arrow-go will read it, and refuses it unless every vector fits in the buffer and the decoded schema
// stays within the limits below.

// Limits on a Schema, beyond those of its buffer. Shared tables count each time they are referenced,
// because arrow-go decodes them each time.
const (
	maxSchemaDepth    = 64      // nesting levels (Arrow C++'s default max_recursion_depth)
	maxSchemaFields   = 1 << 20 // fields at every depth (as maxColumnsPerDataset for top-level ones)
	maxSchemaMetadata = 1 << 20 // key/value pairs of the schema and all its fields
	maxFieldNameBytes = 1 << 16 // one field name
)

// Go heap arrow-go v18.8 allocates to decode a schema, measured per item (rounded up): about 350 bytes
// per primitive field, 450 per struct child, 250 more per dictionary-encoded field, 1.3 KiB more per
// union (its type-code table), 100 per metadata pair; strings are copied once. checkSchema refuses a
// schema whose estimate exceeds Options.MaxBytes.
// Vectors are charged up front, for the slice arrow-go makes before reading an element (an arrow.Field
// is 88 bytes, a metadata pair two 16-byte strings).
const (
	fieldHeap     = 512
	dictHeap      = 256
	unionHeap     = 2048
	pairHeap      = 128
	fieldSliceElt = 96
	pairSliceElt  = 32
)

// Schema.fbs Type union members that checkSchema knows (arrow-go panics on others).
const (
	fbTypeTimestamp = 10
	fbTypeUnion     = 14
	fbTypeLast      = 26 // LargeListView
)

// typeScalars lists, per Type union member, the (field id, byte size) of the scalars arrow-go reads from
// its table, so that they can be bounds-checked before it does.
var typeScalars = map[uint8][][2]int{
	2:  {{0, 4}, {1, 1}},         // Int: bitWidth, is_signed
	3:  {{0, 2}},                 // FloatingPoint: precision
	7:  {{0, 4}, {1, 4}, {2, 4}}, // Decimal: precision, scale, bitWidth
	8:  {{0, 2}},                 // Date: unit
	9:  {{0, 2}, {1, 4}},         // Time: unit, bitWidth
	10: {{0, 2}},                 // Timestamp: unit (timezone is a string)
	11: {{0, 2}},                 // Interval: unit
	14: {{0, 2}},                 // Union: mode (typeIds is a vector)
	15: {{0, 4}},                 // FixedSizeBinary: byteWidth
	16: {{0, 4}},                 // FixedSizeList: listSize
	17: {{0, 1}},                 // Map: keysSorted
	18: {{0, 2}},                 // Duration: unit
}

// schemaWalk is the state of one checkSchema call.
type schemaWalk struct {
	buf      []byte
	maxBytes int64
	fields   int   // fields visited, at every depth
	pairs    int   // metadata pairs visited
	heap     int64 // estimate of the Go heap arrow-go will allocate
	col      int   // top-level column being walked, -1 for the schema itself
	colName  string
	path     []int // child indices below the column
}

// schemaOfMessage returns the Schema table of an IPC Message flatbuffer, which must be a schema message.
func schemaOfMessage(fb []byte) (fbTable, error) {
	root, err := fbRoot(fb)
	if err != nil {
		return fbTable{}, err
	}
	kind, err := root.uint8(1)
	if err != nil {
		return fbTable{}, err
	}
	if kind != msgSchema {
		return fbTable{}, fmt.Errorf("a message of type %d where the schema should be", kind)
	}
	sc, ok, err := root.table(2)
	if err == nil && !ok {
		err = fmt.Errorf("a schema message without its schema")
	}
	return sc, err
}

// schemaOfFooter returns the Schema table of an IPC file footer.
func schemaOfFooter(footer []byte) (fbTable, error) {
	root, err := fbRoot(footer)
	if err != nil {
		return fbTable{}, err
	}
	sc, ok, err := root.table(1)
	if err == nil && !ok {
		err = fmt.Errorf("the footer has no schema")
	}
	return sc, err
}

// checkSchema walks the Schema table sc and returns an error (one line naming the column, then the fault:
// malformed metadata, a count the buffer cannot hold, or a limit) unless arrow-go can decode it within the limits above and maxBytes of Go heap. Cost: linear
// in the fields and metadata pairs it visits, at most maxSchemaFields and maxSchemaMetadata.
func checkSchema(sc fbTable, maxBytes int64) error {
	w := schemaWalk{buf: sc.buf, maxBytes: maxBytes, col: -1}
	if err := w.walkSchema(sc); err != nil {
		return fmt.Errorf("%s%v", w.where(), err)
	}
	return nil
}

func (w *schemaWalk) walkSchema(sc fbTable) error {
	if _, _, err := sc.field(0, 2); err != nil { // endianness
		return err
	}
	start, n, err := w.vector(sc, 1, "fields", fieldSliceElt)
	if err != nil {
		return err
	}
	for i := range n {
		f, err := sc.element(start, i)
		if err != nil {
			return err
		}
		w.col, w.colName, w.path = i, "", w.path[:0]
		if name, err := f.bytes(0); err == nil {
			w.colName = clip(string(name[:min(len(name), 41)]), 40)
		}
		if err := w.walkField(f, 1); err != nil {
			return err
		}
	}
	w.col = -1
	return w.walkMetadata(sc, 2)
}

func (w *schemaWalk) walkField(f fbTable, depth int) error {
	if depth > maxSchemaDepth {
		return fmt.Errorf("fields nested more than %d levels deep: more than this reader supports", maxSchemaDepth)
	}
	if w.fields++; w.fields > maxSchemaFields {
		return fmt.Errorf("more than %d fields (nested ones included): more than this reader supports", maxSchemaFields)
	}
	name, err := f.bytes(0)
	if err != nil {
		return fmt.Errorf("name: %w", err)
	}
	if len(name) > maxFieldNameBytes {
		return fmt.Errorf("a field name of %d bytes, more than %d: more than this reader supports", len(name), maxFieldNameBytes)
	}
	if err := w.spend(fieldHeap + int64(len(name))); err != nil {
		return err
	}
	if _, _, err := f.field(1, 1); err != nil { // nullable
		return err
	}
	// In arrow-go's order (fieldFromFB): metadata, children, then type and dictionary encoding.
	if err := w.walkMetadata(f, 6); err != nil {
		return err
	}
	start, n, err := w.vector(f, 5, "children", fieldSliceElt)
	if err != nil {
		return err
	}
	for i := range n {
		c, err := f.element(start, i)
		if err != nil {
			return fmt.Errorf("child %d: %w", i, err)
		}
		w.path = append(w.path, i)
		if err := w.walkField(c, depth+1); err != nil {
			return err
		}
		w.path = w.path[:len(w.path)-1]
	}
	if err := w.walkType(f); err != nil {
		return err
	}
	return w.walkDictionary(f)
}

// walkType checks the field's Type union: a known member whose table and the values arrow-go reads from
// it lie inside the buffer.
func (w *schemaWalk) walkType(f fbTable) error {
	kind, err := f.uint8(2)
	if err != nil {
		return err
	}
	if kind == 0 || kind > fbTypeLast {
		return fmt.Errorf("unknown type %d", kind)
	}
	t, ok, err := f.table(3)
	if err != nil {
		return fmt.Errorf("type: %w", err)
	}
	if !ok {
		return fmt.Errorf("no type table")
	}
	for _, s := range typeScalars[kind] {
		if _, _, err := t.field(s[0], s[1]); err != nil {
			return fmt.Errorf("type: %w", err)
		}
	}
	switch kind {
	case fbTypeTimestamp:
		tz, err := t.bytes(1)
		if err != nil {
			return fmt.Errorf("timestamp time zone: %w", err)
		}
		if len(tz) > maxFieldNameBytes {
			return fmt.Errorf("a time zone of %d bytes, more than %d", len(tz), maxFieldNameBytes)
		}
		return w.spend(int64(len(tz)))
	case fbTypeUnion:
		_, n, err := t.structVector(1, 4)
		if err != nil {
			return fmt.Errorf("union type ids: %w", err)
		}
		return w.spend(unionHeap + 8*int64(n))
	}
	return nil
}

// walkDictionary checks the field's DictionaryEncoding, if any: id, index type and ordering readable.
func (w *schemaWalk) walkDictionary(f fbTable) error {
	d, ok, err := f.table(4)
	if err != nil {
		return fmt.Errorf("dictionary encoding: %w", err)
	}
	if !ok {
		return nil
	}
	if _, _, err := d.field(0, 8); err != nil { // id
		return fmt.Errorf("dictionary encoding: %w", err)
	}
	if _, _, err := d.field(2, 1); err != nil { // isOrdered
		return fmt.Errorf("dictionary encoding: %w", err)
	}
	it, ok, err := d.table(1)
	if err != nil {
		return fmt.Errorf("dictionary index type: %w", err)
	}
	if !ok {
		return fmt.Errorf("a dictionary encoding without its index type")
	}
	for _, s := range typeScalars[2] {
		if _, _, err := it.field(s[0], s[1]); err != nil {
			return fmt.Errorf("dictionary index type: %w", err)
		}
	}
	return w.spend(dictHeap)
}

// walkMetadata checks the vector of KeyValue tables in field id of t (custom_metadata).
func (w *schemaWalk) walkMetadata(t fbTable, id int) error {
	start, n, err := w.vector(t, id, "metadata pairs", pairSliceElt)
	if err != nil {
		return err
	}
	for i := range n {
		if w.pairs++; w.pairs > maxSchemaMetadata {
			return fmt.Errorf("more than %d metadata pairs: more than this reader supports", maxSchemaMetadata)
		}
		kv, err := t.element(start, i)
		if err != nil {
			return fmt.Errorf("metadata pair %d: %w", i, err)
		}
		k, err := kv.bytes(0)
		if err != nil {
			return fmt.Errorf("metadata pair %d: %w", i, err)
		}
		v, err := kv.bytes(1)
		if err != nil {
			return fmt.Errorf("metadata pair %d: %w", i, err)
		}
		if err := w.spend(pairHeap + int64(len(k)) + int64(len(v))); err != nil {
			return err
		}
	}
	return nil
}

// vector returns the vector of tables in field id of t (empty if absent), refusing one whose declared
// length does not fit in the buffer, and charges the slice of elt bytes per element arrow-go makes for it.
func (w *schemaWalk) vector(t fbTable, id int, what string, elt int64) (start, n int, err error) {
	at, ok, err := t.ref(id)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", what, err)
	}
	if !ok {
		return 0, 0, nil
	}
	if at > int64(len(t.buf))-4 {
		return 0, 0, fmt.Errorf("%s: %w", what, errFlatbuf)
	}
	cnt := int64(binary.LittleEndian.Uint32(t.buf[at:]))
	if cnt*4 > int64(len(t.buf))-at-4 {
		return 0, 0, fmt.Errorf("%d %s declared in %d bytes of metadata: the file is corrupt", cnt, what, len(t.buf))
	}
	if err := w.spend(cnt * elt); err != nil {
		return 0, 0, err
	}
	return int(at) + 4, int(cnt), nil
}

// spend adds n bytes to the heap estimate and fails once it exceeds maxBytes.
func (w *schemaWalk) spend(n int64) error {
	if w.heap += n; w.heap > w.maxBytes {
		return fmt.Errorf("decoding it needs more than %s (Options.MaxBytes): the file may be corrupt, or raise the limit", formatBytes(w.maxBytes))
	}
	return nil
}

// where names the part of the schema being walked, for errors.
func (w *schemaWalk) where() string {
	if w.col < 0 {
		return "Arrow IPC schema: "
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Arrow IPC schema, column %d", w.col)
	if w.colName != "" {
		fmt.Fprintf(&b, " (%q)", w.colName)
	}
	if len(w.path) > 0 {
		b.WriteString(" child ")
		for i, p := range w.path {
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(strconv.Itoa(p))
		}
	}
	b.WriteString(": ")
	return b.String()
}
