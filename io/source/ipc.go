package source

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// metadataV5 is the newest IPC metadata version (Schema.fbs MetadataVersion V5); later versions are
// refused rather than misread.
const metadataV5 = 4

// ipcFile reads the record batches of one Arrow IPC file.
type ipcFile struct{}

func ipcOptions(mem *budget, maxBytes int64) []ipc.Option {
	return []ipc.Option{ipc.WithAllocator(mem), ipc.WithBodySizeLimit(maxBytes), ipc.WithEnsureNativeEndian(true)}
}

func openIPCFile(fh *os.File, path string, info *fileInfo, opts *Options, mem *budget) (fileReader, error) {
	src, footer, err := ipcFileSource(fh, info.size, opts.MaxBytes)
	if err != nil {
		return nil, err
	}
	r, err := ipc.NewFileReader(src, ipcOptions(mem, opts.MaxBytes)...)
	if err != nil {
		return nil, fmt.Errorf("not a readable Arrow IPC file: %v", trimArrowPrefix(err))
	}
	defer r.Close()
	if v := r.Version(); v > metadataV5 {
		return nil, fmt.Errorf("Arrow IPC metadata version V%d is newer than this reader (V5)", v+1)
	}
	if err := sameSchemaMessage(fh, info.size, opts.MaxBytes, r.Schema(), mem); err != nil {
		return nil, err
	}
	info.schema = r.Schema()
	info.meta = metaMap(r.Schema().Metadata())
	// Row counts come from each batch's Message metadata, read without its body.
	_, blocks, err := footerBlocks(footer)
	if err != nil {
		return nil, fmt.Errorf("corrupt Arrow IPC footer: %v", err)
	}
	if len(blocks) != r.NumRecords() {
		return nil, fmt.Errorf("corrupt Arrow IPC footer: %d record batch blocks, arrow-go sees %d", len(blocks), r.NumRecords())
	}
	info.shardRows = make([]int64, len(blocks))
	for i, b := range blocks {
		m, err := readBlockMessage(fh, info.size, b, opts.MaxBytes)
		if err != nil {
			return nil, fmt.Errorf("record batch %d: %v", i, err)
		}
		if m.kind != msgRecordBatch {
			return nil, fmt.Errorf("record batch %d: footer points at a message of type %d, not a record batch", i, m.kind)
		}
		info.shardRows[i] = m.rows
	}
	return ipcFile{}, nil
}

// ipcFileHead is the start of an IPC file: the ARROW1 magic padded to 8 bytes; the stream format follows.
const ipcFileHead = 8

// sameSchemaMessage checks that the schema message at the start of an IPC file (after its magic), if
// there is one, states the schema of the footer, footer: the format repeats the schema there, and a
// file whose two copies differ lies about its columns (a footer saying bool over float64 buffers would
// be read as garbage). Readers use the footer's copy only, and some writers leave the message out, so
// a file without a readable schema message there passes. The message is walked and bounded
// (checkSchema) before arrow-go decodes it.
func sameSchemaMessage(fh io.ReaderAt, size, maxBytes int64, footer *arrow.Schema, mem *budget) error {
	_, raw, _, err := readStreamMessage(fh, 0, ipcFileHead, size, maxBytes)
	if err != nil {
		return nil // no schema message to compare with
	}
	r, err := ipc.NewReader(bytes.NewReader(raw), ipcOptions(mem, maxBytes)...)
	if err != nil {
		return nil
	}
	defer r.Release()
	msg := r.Schema()
	if msg.NumFields() != footer.NumFields() {
		return fmt.Errorf("corrupt Arrow IPC file: the footer's schema has %d columns, the schema message %d", footer.NumFields(), msg.NumFields())
	}
	for i, f := range footer.Fields() {
		if m := msg.Field(i); m.Name != f.Name || !arrow.TypeEqual(m.Type, f.Type) {
			return fmt.Errorf("corrupt Arrow IPC file: column %d is %q %s in the footer's schema but %q %s in the schema message",
				i, clip(f.Name, 40), f.Type, clip(m.Name, 40), m.Type)
		}
	}
	return nil
}

// ipcFileTail is the end of an IPC file: the footer length (int32) and the ARROW1 magic.
const ipcFileTail = 10

// ipcFileSource reads the footer of an IPC file of size bytes where arrow-go's FileReader looks for it,
// checks its schema (checkSchema) and returns the footer and what the FileReader should read: the file's
// first size bytes with the footer served from the checked copy, so that no schema reaches arrow-go
// unchecked, even if the file changes meanwhile. Cost: one read of the footer, a walk of the schema.
func ipcFileSource(fh io.ReaderAt, size, maxBytes int64) (src ipc.ReadAtSeeker, footer []byte, err error) {
	if size <= 2*int64(len(arrowMagic))+4 {
		return nil, nil, fmt.Errorf("not a readable Arrow IPC file: %d bytes is too short for one", size)
	}
	var tail [ipcFileTail]byte
	if _, err := fh.ReadAt(tail[:], size-ipcFileTail); err != nil {
		return nil, nil, fmt.Errorf("reading the footer: %v", err)
	}
	if !bytes.Equal(tail[4:], arrowMagic) {
		return nil, nil, errors.New("not a readable Arrow IPC file: it does not end with the ARROW1 magic")
	}
	head := make([]byte, len(arrowMagic))
	if _, err := fh.ReadAt(head, 0); err != nil {
		return nil, nil, fmt.Errorf("reading the header: %v", err)
	}
	if !bytes.Equal(head, arrowMagic) {
		return nil, nil, fmt.Errorf("not a readable Arrow IPC file: it starts with %q, not the ARROW1 magic (corrupt, or another format)", head)
	}
	flen := int64(binary.LittleEndian.Uint32(tail[:4]))
	if flen <= 0 || flen > size-ipcFileTail-int64(len(arrowMagic)) {
		return nil, nil, fmt.Errorf("corrupt Arrow IPC footer length %d in a %d-byte file", flen, size)
	}
	off := size - ipcFileTail - flen
	pinned := make([]byte, flen+ipcFileTail)
	if _, err := fh.ReadAt(pinned, off); err != nil {
		return nil, nil, fmt.Errorf("reading the footer: %v", err)
	}
	if !bytes.Equal(pinned[flen:], tail[:]) {
		return nil, nil, errors.New("the file changed while its footer was being read")
	}
	footer = pinned[:flen]
	sc, err := schemaOfFooter(footer)
	if err != nil {
		return nil, nil, fmt.Errorf("corrupt Arrow IPC footer: %v", err)
	}
	if err := checkSchema(sc, maxBytes); err != nil {
		return nil, nil, err
	}
	return &pinnedFile{SectionReader: io.NewSectionReader(fh, 0, size), off: off, tail: pinned}, footer, nil
}

// pinnedFile is the first size bytes of a file (its SectionReader, which also keeps the position of Read
// and Seek) whose bytes from off on are served from tail, a copy that has been checked.
type pinnedFile struct {
	*io.SectionReader
	off  int64
	tail []byte
}

// Read implements io.Reader.
func (p *pinnedFile) Read(b []byte) (int, error) {
	pos, _ := p.SectionReader.Seek(0, io.SeekCurrent)
	n, err := p.ReadAt(b, pos)
	p.SectionReader.Seek(pos+int64(n), io.SeekStart)
	return n, err
}

// ReadAt implements io.ReaderAt.
func (p *pinnedFile) ReadAt(b []byte, at int64) (int, error) {
	if at < 0 || at >= p.off {
		if at < 0 || at-p.off >= int64(len(p.tail)) {
			return p.SectionReader.ReadAt(b, at) // the section's own error or io.EOF
		}
		n := copy(b, p.tail[at-p.off:])
		if n < len(b) {
			return n, io.EOF
		}
		return n, nil
	}
	k := int(min(int64(len(b)), p.off-at))
	n, err := p.SectionReader.ReadAt(b[:k], at)
	if n < k || k == len(b) {
		return n, err
	}
	m, err := p.ReadAt(b[k:], p.off)
	return k + m, err
}

// readBlockMessage reads and parses the Message metadata a footer block points at.
func readBlockMessage(r io.ReaderAt, size int64, b ipcBlock, maxBytes int64) (ipcMessage, error) {
	switch {
	case b.offset < 0 || b.metaLength <= 8 || b.bodyLength < 0 ||
		b.offset > size || int64(b.metaLength) > size-b.offset || b.bodyLength > size-b.offset-int64(b.metaLength):
		return ipcMessage{}, fmt.Errorf("corrupt footer block (offset %d, metadata %d bytes, body %d bytes) in a %d-byte file", b.offset, b.metaLength, b.bodyLength, size)
	case b.bodyLength > maxBytes:
		return ipcMessage{}, fmt.Errorf("body of %d bytes is more than %s (Options.MaxBytes): the file may be corrupt, or raise the limit", b.bodyLength, formatBytes(maxBytes))
	}
	buf := make([]byte, b.metaLength)
	if _, err := r.ReadAt(buf, b.offset); err != nil {
		return ipcMessage{}, err
	}
	fb, _, err := messageFlatbuf(buf)
	if err != nil {
		return ipcMessage{}, err
	}
	m, err := parseMessage(fb)
	if err != nil {
		return m, err
	}
	if m.version > metadataV5 {
		return m, fmt.Errorf("Arrow IPC metadata version V%d is newer than this reader (V5)", m.version+1)
	}
	if m.rows < 0 || m.bodyLength < 0 || m.bodyLength > b.bodyLength {
		return m, fmt.Errorf("corrupt record batch metadata (%d rows, body %d bytes)", m.rows, m.bodyLength)
	}
	return m, nil
}

// messageFlatbuf strips the encapsulation prefix (optional 0xFFFFFFFF continuation marker, then a
// little-endian int32 length) from buf and returns the flatbuffer and the prefix length.
func messageFlatbuf(buf []byte) ([]byte, int, error) {
	p := 0
	if len(buf) >= 4 && bytes.Equal(buf[:4], streamMagic) {
		p = 4
	}
	if len(buf) < p+4 {
		return nil, 0, errFlatbuf
	}
	n := int64(int32(binary.LittleEndian.Uint32(buf[p:])))
	p += 4
	if n <= 0 || n > int64(len(buf)-p) {
		return nil, 0, errFlatbuf
	}
	return buf[p : p+int(n)], p, nil
}

func (ipcFile) read(ctx context.Context, rc *readCall, index int, fields []int, sink func(arrow.RecordBatch) error) error {
	fh, err := rc.openFile()
	if err != nil {
		return err
	}
	defer fh.Close()
	src, _, err := ipcFileSource(fh, rc.size, rc.maxBytes)
	if err != nil {
		return err
	}
	r, err := ipc.NewFileReader(src, ipcOptions(rc.mem, rc.maxBytes)...)
	if err != nil {
		return trimArrowPrefix(err)
	}
	defer r.Close()
	rec, err := r.RecordBatchAt(index)
	if err != nil {
		return decodeError(err, index)
	}
	return sinkSelected(rec, fields, nil, sink)
}

// sinkSelected validates rec, keeps its columns fields (in that order) and passes the result to sink. It
// takes ownership of rec. With dicts not nil, the columns passed on hold dicts' copies of their
// dictionaries instead of rec's.
func sinkSelected(rec arrow.RecordBatch, fields []int, dicts *dictCopies, sink func(arrow.RecordBatch) error) error {
	defer rec.Release()
	sc := rec.Schema()
	if sc.NumFields() != int(rec.NumCols()) {
		return fmt.Errorf("record batch has %d columns, its schema %d", rec.NumCols(), sc.NumFields())
	}
	cols := make([]arrow.Array, len(fields))
	fs := make([]arrow.Field, len(fields))
	for i, f := range fields {
		if f >= int(rec.NumCols()) {
			return fmt.Errorf("record batch has %d columns, want column %d", rec.NumCols(), f)
		}
		c := rec.Column(f)
		if int64(c.Len()) != rec.NumRows() {
			return fmt.Errorf("column %q has %d rows in a record batch of %d", clip(sc.Field(f).Name, 40), c.Len(), rec.NumRows())
		}
		if err := validateArray(c); err != nil {
			return fmt.Errorf("column %q: %v", clip(sc.Field(f).Name, 40), err)
		}
		cols[i], fs[i] = c, sc.Field(f)
	}
	if dicts != nil {
		for i, c := range cols {
			cols[i] = dicts.own(c)
		}
	}
	out := array.NewRecordBatch(arrow.NewSchema(fs, nil), cols, rec.NumRows())
	if dicts != nil {
		for _, c := range cols {
			c.Release() // out holds its own references
		}
	}
	return sink(out)
}

// dictCopies gives the records read from one IPC stream their own copies of the stream's dictionaries.
//
// arrow-go's stream reader keeps the dictionaries in its memo for the whole stream, and each record it
// decodes refers to them. When it then fails on a later message by a recovered panic (a dictionary
// column whose indices buffer is too short for its length panics in array.MakeFromData after the
// half-built array has retained the column's data, and with it the memo's dictionary), objects it drops
// without releasing keep a reference to the dictionary, so the message body it lies in is never freed.
// ReadShard frees what a failed decoder leaves behind (budget.reclaim), but not an allocation that a
// delivered record shares: records that hold copies share nothing with the reader beyond their own
// message's body, which a failed later message does not touch.
//
// The zero value is not usable; use newDictCopies. Not safe for concurrent use (one per read). Cost: one
// copy of each dictionary (each replacement or delta counts as a new one) per ReadShard call, whatever
// the number of records that use it.
type dictCopies struct {
	mem    memory.Allocator
	copies map[arrow.ArrayData]arrow.ArrayData // the reader's dictionary -> our copy (one reference)
}

func newDictCopies(mem memory.Allocator) *dictCopies {
	return &dictCopies{mem: mem, copies: make(map[arrow.ArrayData]arrow.ArrayData)}
}

// release drops the copies' references; the records that use them keep theirs.
func (c *dictCopies) release() {
	for k, d := range c.copies {
		d.Release()
		delete(c.copies, k)
	}
}

// own returns a new reference to a: a itself (retained) if it holds no dictionary, else an array of the
// same buffers and children whose dictionaries, at every level, are copies.
func (c *dictCopies) own(a arrow.Array) arrow.Array {
	if !hasDict(a.Data()) {
		a.Retain()
		return a
	}
	d := c.ownData(a.Data())
	defer d.Release()
	return array.MakeFromData(d)
}

func hasDict(d arrow.ArrayData) bool {
	if dictOf(d) != nil {
		return true
	}
	for _, ch := range d.Children() {
		if ch != nil && hasDict(ch) {
			return true
		}
	}
	return false
}

// dictOf returns the dictionary of d, or nil (arrow-go's Data returns its nil *Data in a non-nil
// interface).
func dictOf(d arrow.ArrayData) arrow.ArrayData {
	dict := d.Dictionary()
	if p, ok := dict.(*array.Data); ok && p == nil {
		return nil
	}
	return dict
}

// ownData returns d (retained) if it holds no dictionary, else a new Data over d's buffers whose
// children and dictionary are owned.
func (c *dictCopies) ownData(d arrow.ArrayData) arrow.ArrayData {
	if !hasDict(d) {
		d.Retain()
		return d
	}
	children := make([]arrow.ArrayData, len(d.Children()))
	for i, ch := range d.Children() {
		if ch != nil {
			children[i] = c.ownData(ch)
		}
	}
	out := array.NewData(d.DataType(), d.Len(), d.Buffers(), children, d.NullN(), d.Offset())
	releaseAll(children) // out holds its own references
	if dict := dictOf(d); dict != nil {
		cp, ok := c.copies[dict]
		if !ok {
			cp = c.copyData(dict)
			c.copies[dict] = cp
		}
		out.SetDictionary(cp)
	}
	return out
}

// copyData returns a deep copy of d: its buffers, children and dictionary copied byte for byte into new
// allocations of c.mem (a byte copy keeps every offset valid, whatever the layout).
func (c *dictCopies) copyData(d arrow.ArrayData) arrow.ArrayData {
	bufs := make([]*memory.Buffer, len(d.Buffers()))
	for i, b := range d.Buffers() {
		if b != nil {
			bufs[i] = memory.NewResizableBuffer(c.mem)
			bufs[i].Resize(b.Len())
			copy(bufs[i].Bytes(), b.Bytes())
		}
	}
	children := make([]arrow.ArrayData, len(d.Children()))
	for i, ch := range d.Children() {
		if ch != nil {
			children[i] = c.copyData(ch)
		}
	}
	out := array.NewData(d.DataType(), d.Len(), bufs, children, d.NullN(), d.Offset())
	memory.ReleaseBuffers(bufs) // out holds its own references
	releaseAll(children)
	if dict := dictOf(d); dict != nil {
		cp := c.copyData(dict)
		out.SetDictionary(cp)
		cp.Release()
	}
	return out
}

// ipcStream reads an Arrow IPC stream: the whole file is one shard.
type ipcStream struct{}

func openIPCStream(fh *os.File, path string, info *fileInfo, opts *Options, mem *budget) (fileReader, error) {
	// Every message's metadata is checked, the schema first, before arrow-go reads any of them.
	src, next, err := ipcStreamSource(fh, info.size, opts.MaxBytes)
	if err != nil {
		return nil, err
	}
	rows, err := scanStream(fh, next, info.size, opts.MaxBytes)
	if err != nil {
		return nil, err
	}
	r, err := ipc.NewReader(src, ipcOptions(mem, opts.MaxBytes)...)
	if err != nil {
		return nil, fmt.Errorf("not a readable Arrow IPC stream: %v", trimArrowPrefix(err))
	}
	info.schema = r.Schema()
	info.meta = metaMap(r.Schema().Metadata())
	r.Release()
	info.shardRows = []int64{rows}
	return ipcStream{}, nil
}

// ipcStreamSource reads and checks the first message of a stream of size bytes, its schema
// (checkSchema), and returns what arrow-go's Reader should read: the checked copy of that message's
// metadata, then the rest of the file's size bytes, so that no schema reaches arrow-go unchecked, even if
// the file changes meanwhile. next is the position of message 1. Cost: one read, a walk of the schema.
func ipcStreamSource(fh io.ReaderAt, size, maxBytes int64) (src io.Reader, next int64, err error) {
	_, raw, next, err := readStreamMessage(fh, 0, 0, size, maxBytes)
	if err != nil {
		return nil, 0, err
	}
	n := int64(len(raw))
	return io.MultiReader(bytes.NewReader(raw), io.NewSectionReader(fh, n, size-n)), next, nil
}

// scanStream walks the messages of a stream from message 1, at byte pos, reading metadata and skipping
// bodies, and returns the total number of rows of its record batches.
func scanStream(r io.ReaderAt, pos, size, maxBytes int64) (int64, error) {
	var rows int64
	for i := 1; ; i++ {
		m, _, next, err := readStreamMessage(r, i, pos, size, maxBytes)
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return 0, err
		}
		pos = next
		if m.kind == msgRecordBatch {
			rows += m.rows
		}
	}
}

// readStreamMessage reads and checks the metadata of message i of a stream, at byte pos, and returns it,
// its bytes as read (prefix and metadata, not the body) and the position of the next message; io.EOF
// marks the end of the stream. Message 0 must be a schema, which checkSchema walks.
func readStreamMessage(r io.ReaderAt, i int, pos, size, maxBytes int64) (m ipcMessage, raw []byte, next int64, err error) {
	var head [8]byte
	n, err := r.ReadAt(head[:], pos)
	if n < 4 {
		if n == 0 && (err == io.EOF || err == nil) && i > 0 {
			return m, nil, pos, io.EOF // end of stream without an end-of-stream marker (allowed)
		}
		return m, nil, pos, fmt.Errorf("truncated Arrow IPC stream: message %d at byte %d", i, pos)
	}
	var length int64
	prefix := 4
	if bytes.Equal(head[:4], streamMagic) {
		if n < 8 {
			return m, nil, pos, fmt.Errorf("truncated Arrow IPC stream: message %d at byte %d", i, pos)
		}
		length = int64(int32(binary.LittleEndian.Uint32(head[4:])))
		prefix = 8
	} else {
		length = int64(int32(binary.LittleEndian.Uint32(head[:4])))
	}
	pos += int64(prefix)
	if length == 0 {
		if i == 0 {
			return m, nil, pos, errors.New("not a readable Arrow IPC stream: it ends before its schema")
		}
		return m, nil, pos, io.EOF // end-of-stream marker
	}
	if length < 0 || length > size-pos {
		return m, nil, pos, fmt.Errorf("corrupt Arrow IPC stream: message %d at byte %d declares %d bytes of metadata", i, pos, length)
	}
	raw = make([]byte, int64(prefix)+length)
	copy(raw, head[:prefix])
	meta := raw[prefix:]
	if _, err := r.ReadAt(meta, pos); err != nil {
		return m, nil, pos, fmt.Errorf("truncated Arrow IPC stream: message %d: %v", i, err)
	}
	pos += length
	if m, err = parseMessage(meta); err != nil {
		return m, nil, pos, fmt.Errorf("corrupt Arrow IPC stream: message %d: %v", i, err)
	}
	switch {
	case m.version > metadataV5:
		return m, nil, pos, fmt.Errorf("Arrow IPC metadata version V%d is newer than this reader (V5)", m.version+1)
	case i == 0 && m.kind != msgSchema:
		return m, nil, pos, fmt.Errorf("corrupt Arrow IPC stream: it starts with a message of type %d, not a schema", m.kind)
	case m.bodyLength < 0 || m.bodyLength > size-pos:
		return m, nil, pos, fmt.Errorf("truncated Arrow IPC stream: message %d declares a %d-byte body, %d bytes are left", i, m.bodyLength, size-pos)
	case m.bodyLength > maxBytes:
		return m, nil, pos, fmt.Errorf("message %d has a body of %d bytes, more than %s (Options.MaxBytes): the file may be corrupt, or raise the limit", i, m.bodyLength, formatBytes(maxBytes))
	case m.rows < 0:
		return m, nil, pos, fmt.Errorf("corrupt Arrow IPC stream: message %d declares %d rows", i, m.rows)
	}
	if i == 0 {
		sc, err := schemaOfMessage(meta)
		if err != nil {
			return m, nil, pos, fmt.Errorf("corrupt Arrow IPC stream: message 0: %v", err)
		}
		if err := checkSchema(sc, maxBytes); err != nil {
			return m, nil, pos, err
		}
	}
	return m, raw, pos + m.bodyLength, nil
}

func (ipcStream) read(ctx context.Context, rc *readCall, index int, fields []int, sink func(arrow.RecordBatch) error) error {
	fh, err := rc.openFile()
	if err != nil {
		return err
	}
	defer fh.Close()
	src, _, err := ipcStreamSource(fh, rc.size, rc.maxBytes)
	if err != nil {
		return err
	}
	r, err := ipc.NewReader(src, ipcOptions(rc.mem, rc.maxBytes)...)
	if err != nil {
		return trimArrowPrefix(err)
	}
	defer r.Release()
	dicts := newDictCopies(rc.mem)
	defer dicts.release()
	batch := 0
	for r.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec := r.RecordBatch()
		rec.Retain()
		if err := sinkSelected(rec, fields, dicts, sink); err != nil {
			return err
		}
		batch++
	}
	if err := r.Err(); err != nil {
		return decodeError(err, batch)
	}
	return nil
}

// decodeError returns err, an error of arrow-go's IPC reader while it decoded record batch batch, without
// arrow-go's prefixes; a panic arrow-go recovered (its message tells a Go runtime error, not the file's
// problem) becomes "record batch N cannot be decoded: the file is corrupt", with the panic's gist.
func decodeError(err error, batch int) error {
	s := trimArrowPrefix(err).Error()
	for _, p := range []string{"unknown error while reading: ", "error reading record batch: "} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return fmt.Errorf("record batch %d cannot be decoded: the file is corrupt (%s)", batch, panicGist(rest))
		}
	}
	return errors.New(s)
}

// panicGist shortens the text of a recovered runtime panic to what it says about the data: "slice
// bounds out of range [:4611686018427388704] with capacity 4096" becomes "slice bounds out of range".
func panicGist(s string) string {
	s = strings.TrimPrefix(s, "runtime error: ")
	if i := strings.Index(s, " ["); i > 0 && strings.Contains(s, "out of range") {
		s = s[:i]
	}
	return s
}

// trimArrowPrefix returns err with arrow-go's package prefixes removed (the caller names the file).
func trimArrowPrefix(err error) error {
	if err == nil {
		return nil
	}
	s := err.Error()
	for _, p := range []string{"arrow/ipc: ", "arrow/array: "} {
		s = strings.ReplaceAll(s, p, "")
	}
	return fmt.Errorf("%s", s)
}

// releaseAll releases the non-nil elements of ds.
func releaseAll(ds []arrow.ArrayData) {
	for _, d := range ds {
		if d != nil {
			d.Release()
		}
	}
}
