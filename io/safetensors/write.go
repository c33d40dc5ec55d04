package safetensors

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/sgdpipe/sgdpipe/internal/atomicfile"
)

// metadataKey is the reserved header key of the free-form string map.
const metadataKey = "__metadata__"

// Write writes tensors and meta to w in the safetensors format.
//
// Tensors are laid out by decreasing element size and then by name, so every
// tensor is aligned to its element size; the header lists __metadata__ first
// (keys sorted) and then the tensors in layout order, padded with spaces to a
// multiple of 8 bytes. The output depends only on the arguments (not on their
// order) and matches the reference implementation byte for byte.
//
// Write validates everything before writing a byte: names must be unique,
// non-empty, valid UTF-8 and not "__metadata__"; dtypes known; dimensions
// non-negative; len(Data) equal to product(Shape)*DType.Size(); metadata valid
// UTF-8. It reads tensors and meta and retains neither. Cost: one pass over the
// data plus a header of about 100 bytes per tensor; Write calls w.Write once
// per tensor, so give it a buffered writer.
func Write(w io.Writer, tensors []Tensor, meta map[string]string) error {
	hdr, order, err := encodeHeader(tensors, meta)
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if err := writeBody(w, hdr, tensors, order); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	return nil
}

// WriteFile writes tensors and meta to path atomically (temporary file, fsync,
// rename): readers see the old file or the complete new one. Errors name path.
// See [Write] for the layout and the validation.
func WriteFile(path string, tensors []Tensor, meta map[string]string) error {
	hdr, order, err := encodeHeader(tensors, meta)
	if err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		return writeBody(w, hdr, tensors, order)
	})
}

// writeBody writes the 8-byte header length, the header and the tensors' data
// in layout order.
func writeBody(w io.Writer, hdr []byte, tensors []Tensor, order []int) error {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(hdr)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	for _, i := range order {
		if len(tensors[i].Data) == 0 {
			continue
		}
		if _, err := w.Write(tensors[i].Data); err != nil {
			return err
		}
	}
	return nil
}

// encodeHeader validates the tensors and metadata and returns the padded JSON
// header and the layout order (indices into tensors).
func encodeHeader(tensors []Tensor, meta map[string]string) ([]byte, []int, error) {
	seen := make(map[string]bool, len(tensors))
	for i := range tensors {
		if err := checkTensor(&tensors[i]); err != nil {
			return nil, nil, err
		}
		if seen[tensors[i].Name] {
			return nil, nil, fmt.Errorf("tensor %q appears twice: names must be unique", tensors[i].Name)
		}
		seen[tensors[i].Name] = true
	}
	keys := make([]string, 0, len(meta))
	for k, v := range meta {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, nil, fmt.Errorf("metadata %q: keys and values must be valid UTF-8", k)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)

	order := make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ta, tb := &tensors[a], &tensors[b]
		if c := cmp.Compare(tb.DType.rank(), ta.DType.rank()); c != 0 {
			return c
		}
		return cmp.Compare(ta.Name, tb.Name)
	})

	h := make([]byte, 0, 64+96*len(tensors))
	h = append(h, '{')
	if len(keys) > 0 {
		h = appendJSONString(h, metadataKey)
		h = append(h, ":{"...)
		for i, k := range keys {
			if i > 0 {
				h = append(h, ',')
			}
			h = appendJSONString(h, k)
			h = append(h, ':')
			h = appendJSONString(h, meta[k])
		}
		h = append(h, '}')
	}
	var offset int64
	for j, i := range order {
		t := &tensors[i]
		if j > 0 || len(keys) > 0 {
			h = append(h, ',')
		}
		h = appendJSONString(h, t.Name)
		h = append(h, `:{"dtype":`...)
		h = appendJSONString(h, string(t.DType))
		h = append(h, `,"shape":[`...)
		for k, d := range t.Shape {
			if k > 0 {
				h = append(h, ',')
			}
			h = strconv.AppendInt(h, int64(d), 10)
		}
		h = append(h, `],"data_offsets":[`...)
		h = strconv.AppendInt(h, offset, 10)
		h = append(h, ',')
		offset += int64(len(t.Data))
		h = strconv.AppendInt(h, offset, 10)
		h = append(h, "]}"...)
	}
	h = append(h, '}')
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	if len(h) > MaxHeaderSize {
		return nil, nil, fmt.Errorf("header of %d bytes exceeds the %d-byte limit readers accept: store fewer tensors or less metadata", len(h), MaxHeaderSize)
	}
	return h, order, nil
}

// checkTensor validates one tensor for writing.
func checkTensor(t *Tensor) error {
	switch {
	case t.Name == "":
		return errors.New("a tensor has an empty name")
	case t.Name == metadataKey:
		return fmt.Errorf("tensor name %q is reserved for metadata", metadataKey)
	case !utf8.ValidString(t.Name):
		return fmt.Errorf("tensor name %q is not valid UTF-8", t.Name)
	case !t.DType.Valid():
		return fmt.Errorf("tensor %q: unknown dtype %q (want one of %v)", t.Name, string(t.DType), dtypes)
	}
	shape := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		shape[i] = int64(d)
	}
	n, err := byteSize(t.DType, shape)
	if err != nil {
		return fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	if n != int64(len(t.Data)) {
		return fmt.Errorf("tensor %q: %s %v needs %d bytes of data, got %d", t.Name, t.DType, t.Shape, n, len(t.Data))
	}
	return nil
}

// appendJSONString appends s as a JSON string, escaped as serde_json (the
// reference implementation's encoder) does: quote, backslash and control
// characters only, short forms where they exist, \u00xx otherwise.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b = append(b, '\\', '"')
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
