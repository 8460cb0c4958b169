package reacl

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/adshift/adshift/adid"
)

// Resource attribute ACEs (RA) carry one claim,
// CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1 (MS-DTYP 2.4.10.1), after the SID.
// In SDDL: (RA;CI;;;;WD;("Project",TS,0x0,"Windows","SQL")).
//
// Reading accepts any layout the offsets describe. Writing uses one
// canonical layout: the 20-byte header, the value offsets, the name, then
// the values in order, each aligned as NDR aligns it (8 for integers, 4 for
// length-prefixed SIDs and octet strings, 2 for strings), zero padded to a
// multiple of four. That layout is not verified against Windows (Samba
// 4.17 has no RA support), so formatting an RA ACE gives its meaning and
// parsing it back gives the canonical bytes.

// Claim value types.
const (
	claimInt64  = 0x0001
	claimUint64 = 0x0002
	claimString = 0x0003
	claimSID    = 0x0005
	claimBool   = 0x0006
	claimOctets = 0x0010
)

var claimTypeCodes = [...]struct {
	code byte
	typ  uint16
}{{'I', claimInt64}, {'U', claimUint64}, {'S', claimString}, {'D', claimSID}, {'B', claimBool}, {'X', claimOctets}}

type claim struct {
	name   []uint16
	typ    uint16
	flags  uint32
	ints   []uint64 // int64, uint64, bool
	strs   [][]uint16
	blobs  [][]byte // SID, octets
	nvalue int
}

func (c *claim) encode() []byte {
	out := make([]byte, 16+4*c.nvalue)
	binary.LittleEndian.PutUint16(out[4:], c.typ)
	binary.LittleEndian.PutUint32(out[8:], c.flags)
	binary.LittleEndian.PutUint32(out[12:], uint32(c.nvalue))
	binary.LittleEndian.PutUint32(out[0:], uint32(len(out)))
	out = appendUTF16Z(out, c.name)
	for i := 0; i < c.nvalue; i++ {
		switch c.typ {
		case claimInt64, claimUint64, claimBool:
			out = alignZero(out, 8)
			binary.LittleEndian.PutUint32(out[16+4*i:], uint32(len(out)))
			out = binary.LittleEndian.AppendUint64(out, c.ints[i])
		case claimString:
			out = alignZero(out, 2)
			binary.LittleEndian.PutUint32(out[16+4*i:], uint32(len(out)))
			out = appendUTF16Z(out, c.strs[i])
		default:
			out = alignZero(out, 4)
			binary.LittleEndian.PutUint32(out[16+4*i:], uint32(len(out)))
			out = binary.LittleEndian.AppendUint32(out, uint32(len(c.blobs[i])))
			out = append(out, c.blobs[i]...)
		}
	}
	return alignZero(out, 4)
}

func alignZero(b []byte, n int) []byte {
	for len(b)%n != 0 {
		b = append(b, 0)
	}
	return b
}

func appendUTF16Z(b []byte, units []uint16) []byte {
	for _, u := range units {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return append(b, 0, 0)
}

// decodeClaim reads a claim in any layout; every offset and count is
// checked against data.
func decodeClaim(data []byte) (*claim, error) {
	if len(data) < 16 {
		return nil, fmt.Errorf("claim of %d bytes is shorter than its header", len(data))
	}
	c := &claim{typ: binary.LittleEndian.Uint16(data[4:]), flags: binary.LittleEndian.Uint32(data[8:])}
	switch c.typ {
	case claimInt64, claimUint64, claimString, claimSID, claimBool, claimOctets:
	default:
		return nil, fmt.Errorf("unknown claim value type %#x", c.typ)
	}
	n := binary.LittleEndian.Uint32(data[12:])
	if uint64(n) > uint64(len(data)-16)/4 {
		return nil, fmt.Errorf("claim value count %d exceeds its data", n)
	}
	c.nvalue = int(n)
	var err error
	if c.name, err = utf16zAt(data, binary.LittleEndian.Uint32(data[0:])); err != nil {
		return nil, fmt.Errorf("claim name: %w", err)
	}
	// Offsets may point at the same bytes many times; bound what is decoded
	// by what is there, as values of a well-formed claim do not overlap.
	budget := len(data)
	for i := 0; i < c.nvalue; i++ {
		off := uint64(binary.LittleEndian.Uint32(data[16+4*i:]))
		switch c.typ {
		case claimInt64, claimUint64, claimBool:
			if off+8 > uint64(len(data)) {
				return nil, fmt.Errorf("claim value %d outside data", i)
			}
			c.ints = append(c.ints, binary.LittleEndian.Uint64(data[off:]))
		case claimString:
			s, err := utf16zAt(data, uint32(off))
			if err != nil {
				return nil, fmt.Errorf("claim value %d: %w", i, err)
			}
			if budget -= 2*len(s) + 2; budget < 0 {
				return nil, fmt.Errorf("claim strings overlap")
			}
			c.strs = append(c.strs, s)
		case claimSID, claimOctets:
			if off+4 > uint64(len(data)) {
				return nil, fmt.Errorf("claim value %d outside data", i)
			}
			l := uint64(binary.LittleEndian.Uint32(data[off:]))
			if off+4+l > uint64(len(data)) {
				return nil, fmt.Errorf("claim value %d length %d outside data", i, l)
			}
			if budget -= int(l) + 4; budget < 0 {
				return nil, fmt.Errorf("claim values overlap")
			}
			c.blobs = append(c.blobs, data[off+4:off+4+l])
		default:
			return nil, fmt.Errorf("unknown claim value type %#x", c.typ)
		}
	}
	return c, nil
}

func utf16zAt(data []byte, off uint32) ([]uint16, error) {
	if uint64(off) >= uint64(len(data)) {
		return nil, fmt.Errorf("offset %d outside data", off)
	}
	var units []uint16
	for i := int(off); i+1 < len(data); i += 2 {
		u := binary.LittleEndian.Uint16(data[i:])
		if u == 0 {
			return units, nil
		}
		units = append(units, u)
	}
	return nil, fmt.Errorf("unterminated string")
}

// claim parses ("name",TX,flags,values…) at p.pos.
func (p *sddlParser) claim() ([]byte, error) {
	c := &condCompiler{p: p}
	c.space()
	if err := p.expect('('); err != nil {
		return nil, err
	}
	c.space()
	name, err := p.quoted()
	if err != nil {
		return nil, err
	}
	cl := &claim{name: utf16.Encode([]rune(name))}
	c.space()
	if err := p.expect(','); err != nil {
		return nil, err
	}
	c.space()
	if p.pos+2 > len(p.s) || p.s[p.pos] != 'T' {
		return nil, p.errf("expected claim type TI, TU, TS, TD, TX or TB")
	}
	code := p.s[p.pos+1]
	for _, t := range claimTypeCodes {
		if t.code == code {
			cl.typ = t.typ
		}
	}
	if cl.typ == 0 {
		return nil, p.errf("unknown claim type T%c", code)
	}
	p.pos += 2
	c.space()
	if err := p.expect(','); err != nil {
		return nil, err
	}
	c.space()
	flags, err := p.number(0xffffffff)
	if err != nil {
		return nil, err
	}
	cl.flags = uint32(flags)
	for {
		c.space()
		if p.pos < len(p.s) && p.s[p.pos] == ')' {
			p.pos++
			break
		}
		if err := p.expect(','); err != nil {
			return nil, err
		}
		c.space()
		if err := p.claimValue(cl); err != nil {
			return nil, err
		}
		cl.nvalue++
	}
	return cl.encode(), nil
}

func (p *sddlParser) quoted() (string, error) {
	if err := p.expect('"'); err != nil {
		return "", err
	}
	end := strings.IndexByte(p.s[p.pos:], '"')
	if end < 0 {
		return "", p.errf("unterminated string")
	}
	s := p.s[p.pos : p.pos+end]
	p.pos += end + 1
	return s, nil
}

// number reads an unsigned integer: hex "0x…", octal "0…" or decimal.
func (p *sddlParser) number(max uint64) (uint64, error) {
	start := p.pos
	for p.pos < len(p.s) && (p.s[p.pos] >= '0' && p.s[p.pos] <= '9' || p.s[p.pos] >= 'a' && p.s[p.pos] <= 'f' ||
		p.s[p.pos] >= 'A' && p.s[p.pos] <= 'F' || p.s[p.pos] == 'x' || p.s[p.pos] == 'X') {
		p.pos++
	}
	f := p.s[start:p.pos]
	var v uint64
	var err error
	switch {
	case len(f) > 2 && f[0] == '0' && (f[1] == 'x' || f[1] == 'X'):
		v, err = parseHex(f[2:], max)
	case len(f) > 1 && f[0] == '0':
		v, err = strconv.ParseUint(f[1:], 8, 64)
		if err == nil && v > max {
			err = strconv.ErrRange
		}
	default:
		v, err = parseDecimal(f, max)
	}
	if err != nil {
		return 0, &sddlError{pos: start, msg: fmt.Sprintf("bad number %q", f)}
	}
	return v, nil
}

func (p *sddlParser) claimValue(cl *claim) error {
	switch cl.typ {
	case claimInt64:
		neg := false
		if p.pos < len(p.s) && (p.s[p.pos] == '-' || p.s[p.pos] == '+') {
			neg = p.s[p.pos] == '-'
			p.pos++
		}
		mag, err := p.number(math.MaxUint64)
		if err != nil {
			return err
		}
		if (!neg && mag > math.MaxInt64) || (neg && mag > 1<<63) {
			return p.errf("integer out of range")
		}
		v := int64(mag)
		if neg {
			v = -int64(mag)
		}
		cl.ints = append(cl.ints, uint64(v))
	case claimUint64:
		v, err := p.number(math.MaxUint64)
		if err != nil {
			return err
		}
		cl.ints = append(cl.ints, v)
	case claimBool:
		v, err := p.number(1)
		if err != nil {
			return err
		}
		cl.ints = append(cl.ints, v)
	case claimString:
		s, err := p.quoted()
		if err != nil {
			return err
		}
		cl.strs = append(cl.strs, utf16.Encode([]rune(s)))
	case claimSID:
		start := p.pos
		for p.pos < len(p.s) && p.s[p.pos] != ',' && p.s[p.pos] != ')' && p.s[p.pos] != ' ' {
			p.pos++
		}
		sid, err := p.sidToken(p.s[start:p.pos], start)
		if err != nil {
			return err
		}
		b, _ := sid.MarshalBinary()
		cl.blobs = append(cl.blobs, b)
	case claimOctets:
		if err := p.expect('#'); err != nil {
			return err
		}
		start := p.pos
		for p.pos < len(p.s) {
			if _, ok := hexVal(p.s[p.pos]); !ok {
				break
			}
			p.pos++
		}
		hx := p.s[start:p.pos]
		if len(hx)%2 != 0 {
			return &sddlError{pos: start, msg: "odd number of hex digits"}
		}
		b := make([]byte, len(hx)/2)
		for i := range b {
			hi, _ := hexVal(hx[2*i])
			lo, _ := hexVal(hx[2*i+1])
			b[i] = hi<<4 | lo
		}
		cl.blobs = append(cl.blobs, b)
	}
	return nil
}

// appendClaim writes the SDDL form of a claim.
func appendClaim(b []byte, data []byte) ([]byte, error) {
	cl, err := decodeClaim(data)
	if err != nil {
		return nil, fmt.Errorf("%w: resource attribute: %w", ErrNotRepresentable, err)
	}
	name, err := utf16String(claimUnits(cl.name))
	if err != nil || strings.ContainsRune(name, '"') {
		return nil, fmt.Errorf("%w: resource attribute name", ErrNotRepresentable)
	}
	code := byte(0)
	for _, t := range claimTypeCodes {
		if t.typ == cl.typ {
			code = t.code
		}
	}
	b = append(b, `("`...)
	b = append(b, name...)
	b = append(b, `",T`...)
	b = append(b, code, ',')
	b = fmt.Appendf(b, "0x%x", cl.flags)
	for i := 0; i < cl.nvalue; i++ {
		b = append(b, ',')
		switch cl.typ {
		case claimInt64:
			b = strconv.AppendInt(b, int64(cl.ints[i]), 10)
		case claimUint64:
			b = strconv.AppendUint(b, cl.ints[i], 10)
		case claimBool:
			if cl.ints[i] > 1 {
				return nil, fmt.Errorf("%w: boolean claim value %d", ErrNotRepresentable, cl.ints[i])
			}
			b = strconv.AppendUint(b, cl.ints[i], 10)
		case claimString:
			s, err := utf16String(claimUnits(cl.strs[i]))
			if err != nil || strings.ContainsRune(s, '"') {
				return nil, fmt.Errorf("%w: claim string value", ErrNotRepresentable)
			}
			b = append(b, '"')
			b = append(b, s...)
			b = append(b, '"')
		case claimSID:
			sid, n, err := adid.DecodeSID(cl.blobs[i])
			if err != nil || n != len(cl.blobs[i]) {
				return nil, fmt.Errorf("%w: claim SID value", ErrNotRepresentable)
			}
			b = sid.AppendText(b)
		case claimOctets:
			b = fmt.Appendf(b, "#%x", cl.blobs[i])
		}
	}
	return append(b, ')'), nil
}

func claimUnits(u []uint16) []byte {
	b := make([]byte, 2*len(u))
	for i, v := range u {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return b
}
