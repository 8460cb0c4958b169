package odj

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"

	"github.com/adshift/adshift/adid"
)

// ErrMalformed reports bytes that are not a well-formed ODJ blob. Every
// decoding error wraps it together with where it happened.
var ErrMalformed = errors.New("malformed ODJ data")

// firstReferent is the first referent ID Windows and Samba give a non-null
// unique pointer in a serialization; each further one adds 4.
const firstReferent = 0x00020000

// Type serialization version 1 (MS-RPCE 2.2.6): an 8-byte common header and
// an 8-byte private header in front of content padded to 8 bytes.
const (
	serialHeaderLen = 16
	serialVersion   = 1
	serialLittle    = 0x10
	serialFiller    = 0xcccccccc
)

// writer builds NDR (little-endian, NDR32) for one serialization: offsets
// and alignment count from its start, referent IDs from firstReferent.
type writer struct {
	b   []byte
	ref uint32
}

func newWriter() *writer { return &writer{ref: firstReferent} }

func (w *writer) align(n int) {
	for len(w.b)%n != 0 {
		w.b = append(w.b, 0)
	}
}

func (w *writer) u16(v uint16) {
	w.align(2)
	w.b = binary.LittleEndian.AppendUint16(w.b, v)
}

func (w *writer) u32(v uint32) {
	w.align(4)
	w.b = binary.LittleEndian.AppendUint32(w.b, v)
}

func (w *writer) guid(g adid.GUID) {
	w.align(4)
	w.b = append(w.b, g[:]...)
}

// ptr writes a unique pointer: 0 for null, else the next referent ID.
func (w *writer) ptr(present bool) {
	if !present {
		w.u32(0)
		return
	}
	w.u32(w.ref)
	w.ref += 4
}

// bytesConf writes a conformant byte array: its count, then the bytes.
func (w *writer) bytesConf(b []byte) {
	w.u32(uint32(len(b)))
	w.b = append(w.b, b...)
}

// wstring writes the referent of a [string] wide-character pointer:
// maximum count, offset 0, actual count, the units and a terminating zero.
func (w *writer) wstring(units []uint16) {
	n := uint32(len(units) + 1)
	w.u32(n)
	w.u32(0)
	w.u32(n)
	for _, u := range units {
		w.b = binary.LittleEndian.AppendUint16(w.b, u)
	}
	w.b = append(w.b, 0, 0)
}

// serialized wraps content in a type serialization version 1 header and
// pads it to 8 bytes, as the _serialized_ptr types and blob parts are.
func serialized(content []byte) []byte {
	pad := (8 - len(content)%8) % 8
	out := make([]byte, 0, serialHeaderLen+len(content)+pad)
	out = append(out, serialVersion, serialLittle, 8, 0)
	out = binary.LittleEndian.AppendUint32(out, serialFiller)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(content)+pad))
	out = binary.LittleEndian.AppendUint32(out, 0)
	out = append(out, content...)
	return append(out, make([]byte, pad)...)
}

// reader decodes NDR from one serialization's content. It never reads or
// allocates past its bytes: every count is checked against what is left
// before anything is made from it.
type reader struct {
	b   []byte
	off int
}

func (r *reader) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: offset %#x: %s", ErrMalformed, r.off, fmt.Sprintf(format, args...))
}

func (r *reader) need(n int) error {
	if n < 0 || n > len(r.b)-r.off {
		return r.errorf("truncated: need %d bytes, %d left", n, len(r.b)-r.off)
	}
	return nil
}

func (r *reader) align(n int) error {
	pad := (n - r.off%n) % n
	if err := r.need(pad); err != nil {
		return err
	}
	r.off += pad
	return nil
}

func (r *reader) u16() (uint16, error) {
	if err := r.align(2); err != nil {
		return 0, err
	}
	if err := r.need(2); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint16(r.b[r.off:])
	r.off += 2
	return v, nil
}

func (r *reader) u32() (uint32, error) {
	if err := r.align(4); err != nil {
		return 0, err
	}
	if err := r.need(4); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v, nil
}

func (r *reader) guid() (adid.GUID, error) {
	var g adid.GUID
	if err := r.align(4); err != nil {
		return g, err
	}
	if err := r.need(16); err != nil {
		return g, err
	}
	copy(g[:], r.b[r.off:])
	r.off += 16
	return g, nil
}

// ptr reads a unique pointer and reports whether it is non-null. Referent
// IDs are never followed: a unique pointer's referent is the next deferred
// data, so a blob cannot express a pointer loop or a shared referent.
func (r *reader) ptr() (bool, error) {
	v, err := r.u32()
	return v != 0, err
}

// raw returns the next n bytes (a sub-slice; callers copy what they keep).
func (r *reader) raw(n uint32) ([]byte, error) {
	if uint64(n) > uint64(len(r.b)-r.off) {
		return nil, r.errorf("truncated: %d bytes announced, %d left", n, len(r.b)-r.off)
	}
	b := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return b, nil
}

// bytesConf reads a conformant byte array whose count must equal want (the
// size field that announced it). The result is a copy.
func (r *reader) bytesConf(want uint32) ([]byte, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if n != want {
		return nil, r.errorf("array of %d bytes where its size field says %d", n, want)
	}
	b, err := r.raw(n)
	if err != nil {
		return nil, err
	}
	return append([]byte{}, b...), nil
}

// units reads n UTF-16 code units.
func (r *reader) units(n uint32) ([]uint16, error) {
	if uint64(n)*2 > uint64(len(r.b)-r.off) {
		return nil, r.errorf("truncated: %d UTF-16 units announced, %d bytes left", n, len(r.b)-r.off)
	}
	u := make([]uint16, n)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(r.b[r.off:])
		r.off += 2
	}
	return u, nil
}

// wstring reads the referent of a [string] wide-character pointer and
// returns its units without the terminating zero.
func (r *reader) wstring() ([]uint16, error) {
	maxCount, err := r.u32()
	if err != nil {
		return nil, err
	}
	offset, err := r.u32()
	if err != nil {
		return nil, err
	}
	count, err := r.u32()
	if err != nil {
		return nil, err
	}
	if offset != 0 || count != maxCount || count == 0 {
		return nil, r.errorf("string counts (maximum %d, offset %d, actual %d) are not those of a terminated string", maxCount, offset, count)
	}
	u, err := r.units(count)
	if err != nil {
		return nil, err
	}
	for i, c := range u {
		if c == 0 && i != len(u)-1 {
			return nil, r.errorf("string has a zero at unit %d of %d", i, len(u))
		}
	}
	if u[len(u)-1] != 0 {
		return nil, r.errorf("string of %d units is not terminated", len(u))
	}
	return u[:len(u)-1], nil
}

// text converts UTF-16 units to a string, refusing unpaired surrogates
// (they could not be written back as they were).
func (r *reader) text(u []uint16) (string, error) {
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c >= 0xd800 && c < 0xdc00:
			if i+1 < len(u) && u[i+1] >= 0xdc00 && u[i+1] < 0xe000 {
				i++
				continue
			}
			return "", r.errorf("unpaired UTF-16 surrogate %#04x", c)
		case c >= 0xdc00 && c < 0xe000:
			return "", r.errorf("unpaired UTF-16 surrogate %#04x", c)
		}
	}
	return string(utf16.Decode(u)), nil
}

// str reads a [string] wide-character pointer's referent as text.
func (r *reader) str() (string, error) {
	u, err := r.wstring()
	if err != nil {
		return "", err
	}
	return r.text(u)
}

// serialized reads a type serialization version 1 header from b, which must
// hold exactly the header and the content it announces, and returns a
// reader over the content.
func serializedReader(b []byte) (*reader, error) {
	r := &reader{b: b}
	if len(b) < serialHeaderLen {
		return nil, r.errorf("serialization header: %d bytes, need %d", len(b), serialHeaderLen)
	}
	if b[0] != serialVersion {
		return nil, r.errorf("serialization version %d, want %d", b[0], serialVersion)
	}
	if b[1] != serialLittle {
		return nil, r.errorf("data representation %#02x: only little-endian (0x10) is supported", b[1])
	}
	if hl := binary.LittleEndian.Uint16(b[2:]); hl != 8 {
		return nil, r.errorf("serialization header length %d, want 8", hl)
	}
	size := binary.LittleEndian.Uint32(b[8:])
	if uint64(size) != uint64(len(b)-serialHeaderLen) {
		return nil, r.errorf("serialization announces %d content bytes, %d present", size, len(b)-serialHeaderLen)
	}
	if size%8 != 0 {
		return nil, r.errorf("serialized content of %d bytes is not padded to 8", size)
	}
	return &reader{b: b[serialHeaderLen:]}, nil
}

// done checks that only the padding to 8 bytes is left.
func (r *reader) done() error {
	if len(r.b)-r.off >= 8 {
		return r.errorf("%d bytes left over after the data", len(r.b)-r.off)
	}
	return nil
}

func utf16Units(s string) []uint16 { return utf16.Encode([]rune(s)) }
