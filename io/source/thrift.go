package source

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// checkParquetFooter walks the Thrift compact encoding of a Parquet footer (FileMetaData) without
// building it, and fails if any list, map or string declares more elements or bytes than remain in the
// footer. arrow-go's generated Thrift code allocates the declared size before reading the elements, so a
// 50-byte file could otherwise make it allocate gigabytes. Encrypted footers ("PARE") are left to arrow-go.
func checkParquetFooter(r io.ReaderAt, size int64) error {
	if size < 12 {
		return fmt.Errorf("file of %d bytes is too small to be Parquet", size)
	}
	var tail [8]byte
	if _, err := r.ReadAt(tail[:], size-8); err != nil {
		return err
	}
	if string(tail[4:]) != "PAR1" {
		if string(tail[4:]) == "PARE" {
			return nil
		}
		return errors.New("not a Parquet file (no PAR1 magic bytes at the end: truncated or another format)")
	}
	var head [4]byte
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return err
	}
	if string(head[:]) != "PAR1" {
		return fmt.Errorf("not a Parquet file: it starts with %q, not the PAR1 magic (corrupt, or another format)", head[:])
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n <= 0 || n > size-12 {
		return fmt.Errorf("corrupt Parquet footer: it declares %d bytes in a %d-byte file (truncated?)", n, size)
	}
	footer := make([]byte, n)
	if _, err := r.ReadAt(footer, size-8-n); err != nil {
		return err
	}
	w := thriftWalker{buf: footer}
	if err := w.skipStruct(0); err != nil {
		return fmt.Errorf("corrupt Parquet footer: %v", err)
	}
	return nil
}

var errThrift = errors.New("malformed Thrift metadata")

type thriftWalker struct {
	buf []byte
	pos int
}

const maxThriftDepth = 64

func (w *thriftWalker) byte() (byte, error) {
	if w.pos >= len(w.buf) {
		return 0, errThrift
	}
	b := w.buf[w.pos]
	w.pos++
	return b, nil
}

func (w *thriftWalker) varint() (uint64, error) {
	v, n := binary.Uvarint(w.buf[w.pos:])
	if n <= 0 {
		return 0, errThrift
	}
	w.pos += n
	return v, nil
}

func (w *thriftWalker) skip(n uint64) error {
	if n > uint64(len(w.buf)-w.pos) {
		return fmt.Errorf("%s: declares %d bytes, %d remain", errThrift, n, len(w.buf)-w.pos)
	}
	w.pos += int(n)
	return nil
}

func (w *thriftWalker) skipStruct(depth int) error {
	if depth > maxThriftDepth {
		return fmt.Errorf("%s: nested deeper than %d", errThrift, maxThriftDepth)
	}
	for {
		b, err := w.byte()
		if err != nil {
			return err
		}
		if b == 0 {
			return nil
		}
		if b>>4 == 0 { // long form: field id follows
			if _, err := w.varint(); err != nil {
				return err
			}
		}
		if err := w.skipValue(b&0x0f, depth); err != nil {
			return err
		}
	}
}

// skipValue skips one value of compact type t (1/2 are booleans carried in the field header).
func (w *thriftWalker) skipValue(t byte, depth int) error {
	switch t {
	case 1, 2:
		return nil
	case 3:
		return w.skip(1)
	case 4, 5, 6:
		_, err := w.varint()
		return err
	case 7:
		return w.skip(8)
	case 8:
		n, err := w.varint()
		if err != nil {
			return err
		}
		return w.skip(n)
	case 9, 10:
		h, err := w.byte()
		if err != nil {
			return err
		}
		n, et := uint64(h>>4), h&0x0f
		if n == 15 {
			if n, err = w.varint(); err != nil {
				return err
			}
		}
		if n > uint64(len(w.buf)-w.pos) {
			return fmt.Errorf("%s: a list declares %d elements, %d bytes remain", errThrift, n, len(w.buf)-w.pos)
		}
		for i := uint64(0); i < n; i++ {
			if et == 1 || et == 2 { // booleans in a list take one byte each
				if err := w.skip(1); err != nil {
					return err
				}
				continue
			}
			if err := w.skipValue(et, depth+1); err != nil {
				return err
			}
		}
		return nil
	case 11:
		n, err := w.varint()
		if err != nil || n == 0 {
			return err
		}
		kv, err := w.byte()
		if err != nil {
			return err
		}
		if n > uint64(len(w.buf)-w.pos) {
			return fmt.Errorf("%s: a map declares %d entries, %d bytes remain", errThrift, n, len(w.buf)-w.pos)
		}
		for i := uint64(0); i < n; i++ {
			for _, et := range []byte{kv >> 4, kv & 0x0f} {
				if et == 1 || et == 2 {
					if err := w.skip(1); err != nil {
						return err
					}
				} else if err := w.skipValue(et, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	case 12:
		return w.skipStruct(depth + 1)
	}
	return fmt.Errorf("%s: unknown type %d", errThrift, t)
}
