package optim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"unicode/utf8"
)

// NamedVec is one named piece of optimizer, schedule or averager state.
// Exactly one of F32 and F64 is non-nil: F32 holds per-parameter state laid
// out like the parameters, F64 holds per-step scalars (step counts, running
// products, learned rates), kept in float64 so a restore is bitwise exact.
// Names follow torch's state_dict keys where one exists ("exp_avg", "step").
type NamedVec struct {
	Name string
	F32  []float32
	F64  []float64
}

// Len returns the number of values.
func (v NamedVec) Len() int { return len(v.F32) + len(v.F64) }

func vec32(name string, x []float32) NamedVec { return NamedVec{Name: name, F32: x} }
func scalar(name string, x float64) NamedVec  { return NamedVec{Name: name, F64: []float64{x}} }

// stateReader validates a []NamedVec against what a rule expects. It records
// the first error; the getters return zero values after one.
type stateReader struct {
	who  string // "adam state"
	in   map[string]NamedVec
	used map[string]bool
	err  error
}

func newStateReader(who string, st []NamedVec) *stateReader {
	r := &stateReader{who: who, in: make(map[string]NamedVec, len(st)), used: make(map[string]bool, len(st))}
	for _, v := range st {
		if _, dup := r.in[v.Name]; dup {
			r.failf("%q appears twice", v.Name)
		}
		if (v.F32 == nil) == (v.F64 == nil) {
			r.failf("%q must hold exactly one of F32 or F64 values", v.Name)
		}
		r.in[v.Name] = v
	}
	return r
}

func (r *stateReader) failf(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("optim: load %s: %s", r.who, fmt.Sprintf(format, args...))
	}
}

func (r *stateReader) get(name string, optional bool) (NamedVec, bool) {
	v, ok := r.in[name]
	if !ok {
		if !optional {
			r.failf("missing %q (was it saved by another rule?)", name)
		}
		return NamedVec{}, false
	}
	r.used[name] = true
	return v, true
}

// f32 returns the vector name, which must hold exactly n float32 values.
func (r *stateReader) f32(name string, n int) []float32 {
	v, _ := r.optF32(name, n, false)
	return v
}

// optF32 is f32 for an entry that may be absent.
func (r *stateReader) optF32(name string, n int, optional bool) ([]float32, bool) {
	v, ok := r.get(name, optional)
	if !ok {
		return nil, false
	}
	if v.F32 == nil {
		r.failf("%q must hold float32 values", name)
		return nil, false
	}
	if len(v.F32) != n {
		r.failf("%q has %d values, want %d (was it saved for a model of another size?)", name, len(v.F32), n)
		return nil, false
	}
	return v.F32, true
}

// f64 returns the float64 scalar name.
func (r *stateReader) f64(name string) float64 {
	v, ok := r.get(name, false)
	if !ok {
		return 0
	}
	if v.F64 == nil || len(v.F64) != 1 {
		r.failf("%q must be one float64 value, got %d values", name, v.Len())
		return 0
	}
	return v.F64[0]
}

// finite returns the scalar name, which must be finite.
func (r *stateReader) finite(name string) float64 {
	x := r.f64(name)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		r.failf("%q must be finite, got %v", name, x)
	}
	return x
}

// count returns the scalar name, which must be a whole number in [0, 2^53].
func (r *stateReader) count(name string) int64 {
	x := r.f64(name)
	if !(x >= 0 && x <= 1<<53) || x != math.Trunc(x) {
		r.failf("%q must be a whole number >= 0, got %v", name, x)
		return 0
	}
	return int64(x)
}

// flag returns the scalar name, which must be 0 or 1.
func (r *stateReader) flag(name string) bool {
	x := r.f64(name)
	if x != 0 && x != 1 {
		r.failf("%q must be 0 or 1, got %v", name, x)
	}
	return x == 1
}

// done reports the first error, or an entry nobody asked for.
func (r *stateReader) done() error {
	if r.err != nil {
		return r.err
	}
	for name := range r.in {
		if !r.used[name] {
			r.failf("unexpected %q (was it saved by another rule?)", name)
			break
		}
	}
	return r.err
}

// Byte encoding of a state, little endian:
//
//	magic "SGDPSTv1" | u16 len + owner name | u32 count |
//	count × (u16 len + name | u8 kind (1 = float32, 2 = float64) | u64 n | n values) |
//	u32 CRC-32 (IEEE) of everything before it
const stateMagic = "SGDPSTv1"

const (
	kindF32 = 1
	kindF64 = 2
)

// maxNameLen bounds entry and owner names.
const maxNameLen = 1 << 10

// MarshalState encodes owner (the rule or schedule name, e.g. opt.Name())
// and st into a self-checking byte string (magic, names, dtypes, values, a
// CRC-32). It allocates the result; cost is one pass over the values
// (about 1 ms per 10 MB). It panics if a name is longer than 1024 bytes or an
// entry holds both or neither of F32 and F64 (programmer errors).
func MarshalState(owner string, st []NamedVec) []byte {
	size := len(stateMagic) + 2 + len(owner) + 4 + 4
	for _, v := range st {
		size += 2 + len(v.Name) + 1 + 8 + 4*len(v.F32) + 8*len(v.F64)
	}
	b := make([]byte, 0, size)
	b = append(b, stateMagic...)
	b = appendName(b, owner)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(st)))
	for _, v := range st {
		if (v.F32 == nil) == (v.F64 == nil) {
			panic("optim: NamedVec must hold exactly one of F32 or F64")
		}
		b = appendName(b, v.Name)
		if v.F32 != nil {
			b = append(b, kindF32)
			b = binary.LittleEndian.AppendUint64(b, uint64(len(v.F32)))
			for _, x := range v.F32 {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
			}
		} else {
			b = append(b, kindF64)
			b = binary.LittleEndian.AppendUint64(b, uint64(len(v.F64)))
			for _, x := range v.F64 {
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
			}
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

func appendName(b []byte, s string) []byte {
	if len(s) > maxNameLen {
		panic("optim: state name longer than 1024 bytes")
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// errTruncated is wrapped by UnmarshalState for short input.
var errTruncated = errors.New("truncated")

// UnmarshalState decodes what MarshalState wrote. The result owns fresh
// slices. Malformed or corrupted input (bad magic, truncation, a bad name or
// kind, duplicate names, trailing bytes, a CRC mismatch) returns an error
// saying what is wrong; it never panics and never allocates more than the
// input's size.
func UnmarshalState(b []byte) (owner string, st []NamedVec, err error) {
	d := decoder{b: b}
	if len(b) < len(stateMagic) || string(b[:len(stateMagic)]) != stateMagic {
		return "", nil, errors.New("optim: state: not an sgdpipe optimizer state (bad magic)")
	}
	d.off = len(stateMagic)
	owner = d.name("owner")
	count := d.u32("entry count")
	if d.err == nil && uint64(count)*(2+1+8) > uint64(d.rest()) {
		d.fail("entry count %d does not fit in %d bytes", count, d.rest())
	}
	seen := make(map[string]bool)
	for i := uint32(0); i < count && d.err == nil; i++ {
		name := d.name("entry name")
		if d.err == nil && seen[name] {
			d.fail("entry %q appears twice", name)
		}
		seen[name] = true
		kind := d.u8("kind of " + name)
		n := d.u64("length of " + name)
		if d.err != nil {
			break
		}
		width := uint64(4)
		if kind == kindF64 {
			width = 8
		} else if kind != kindF32 {
			d.fail("entry %q has unknown kind %d", name, kind)
			break
		}
		if n > uint64(d.rest())/width {
			d.fail("entry %q claims %d values, only %d bytes left", name, n, d.rest())
			break
		}
		raw := d.b[d.off : d.off+int(n*width)]
		d.off += int(n * width)
		v := NamedVec{Name: name}
		if kind == kindF32 {
			v.F32 = make([]float32, n)
			for j := range v.F32 {
				v.F32[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
			}
		} else {
			v.F64 = make([]float64, n)
			for j := range v.F64 {
				v.F64[j] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*j:]))
			}
		}
		st = append(st, v)
	}
	end := d.off
	sum := d.u32("checksum")
	if d.err == nil && d.rest() != 0 {
		d.fail("%d unexpected bytes after the checksum", d.rest())
	}
	if d.err == nil && crc32.ChecksumIEEE(b[:end]) != sum {
		d.fail("checksum mismatch (the file is corrupted)")
	}
	if d.err != nil {
		return "", nil, d.err
	}
	return owner, st, nil
}

type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) rest() int { return len(d.b) - d.off }

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("optim: state: at byte %d: %s", d.off, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) need(n int, what string) bool {
	if d.err != nil {
		return false
	}
	if d.rest() < n {
		d.err = fmt.Errorf("optim: state: %w at byte %d reading %s", errTruncated, d.off, what)
		return false
	}
	return true
}

func (d *decoder) u8(what string) uint8 {
	if !d.need(1, what) {
		return 0
	}
	d.off++
	return d.b[d.off-1]
}

func (d *decoder) u16(what string) uint16 {
	if !d.need(2, what) {
		return 0
	}
	d.off += 2
	return binary.LittleEndian.Uint16(d.b[d.off-2:])
}

func (d *decoder) u32(what string) uint32 {
	if !d.need(4, what) {
		return 0
	}
	d.off += 4
	return binary.LittleEndian.Uint32(d.b[d.off-4:])
}

func (d *decoder) u64(what string) uint64 {
	if !d.need(8, what) {
		return 0
	}
	d.off += 8
	return binary.LittleEndian.Uint64(d.b[d.off-8:])
}

func (d *decoder) name(what string) string {
	n := int(d.u16(what + " length"))
	if d.err != nil {
		return ""
	}
	if n > maxNameLen {
		d.fail("%s is %d bytes long (at most %d)", what, n, maxNameLen)
		return ""
	}
	if !d.need(n, what) {
		return ""
	}
	s := string(d.b[d.off : d.off+n])
	d.off += n
	if !utf8.ValidString(s) {
		d.fail("%s is not valid UTF-8", what)
	}
	return s
}

// Stateful is anything whose state can be saved and restored: every
// Optimizer, *Plateau and *Averager.
type Stateful interface {
	State() []NamedVec
	LoadState(st []NamedVec) error
}

// Save encodes s's state under owner (for an Optimizer, its Name()) with
// MarshalState.
func Save(owner string, s Stateful) []byte { return MarshalState(owner, s.State()) }

// Load decodes b and loads it into s, checking that it was saved under owner.
// On error s is unchanged.
func Load(owner string, s Stateful, b []byte) error {
	got, st, err := UnmarshalState(b)
	if err != nil {
		return err
	}
	if got != owner {
		return fmt.Errorf("optim: state was saved by %q, cannot load it into %q", got, owner)
	}
	return s.LoadState(st)
}
