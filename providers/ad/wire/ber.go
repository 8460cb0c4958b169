package wire

import (
	"errors"
	"fmt"
)

// BER tags used by LDAP (RFC 4511 section 4, universal and application).
const (
	tagBoolean     = 0x01
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagEnumerated  = 0x0a
	tagSequence    = 0x30
	tagSet         = 0x31

	tagBindRequest      = 0x60 // [APPLICATION 0] constructed
	tagBindResponse     = 0x61
	tagUnbindRequest    = 0x42 // [APPLICATION 2] primitive
	tagSearchRequest    = 0x63
	tagSearchEntry      = 0x64
	tagSearchDone       = 0x65
	tagSearchReference  = 0x73
	tagExtendedRequest  = 0x77
	tagExtendedResponse = 0x78
	tagControls         = 0xa0 // [0] constructed, after protocolOp
	tagSimpleAuth       = 0x80 // [0] primitive in BindRequest
	tagExtendedName     = 0x80 // [0] primitive in ExtendedRequest
	tagReferral         = 0xa3 // [3] constructed in LDAPResult
)

// errTruncated is a BER element longer than what holds it.
var errTruncated = errors.New("truncated BER element")

// decoder walks the elements of one BER encoding held in memory. It
// understands the subset RFC 4511 allows: low tag numbers and definite
// lengths.
type decoder struct {
	b []byte
}

// next returns the next element's tag and content and advances past it.
func (d *decoder) next() (tag byte, content []byte, err error) {
	if len(d.b) < 2 {
		return 0, nil, errTruncated
	}
	tag = d.b[0]
	if tag&0x1f == 0x1f {
		return 0, nil, fmt.Errorf("BER tag %#x uses the high-tag-number form, which LDAP does not", tag)
	}
	n, hl, err := length(d.b[1:])
	if err != nil {
		return 0, nil, err
	}
	hl++
	if n > len(d.b)-hl {
		return 0, nil, errTruncated
	}
	content = d.b[hl : hl+n : hl+n]
	d.b = d.b[hl+n:]
	return tag, content, nil
}

// expect returns the next element's content, which must have tag want.
func (d *decoder) expect(want byte, what string) ([]byte, error) {
	tag, c, err := d.next()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if tag != want {
		return nil, fmt.Errorf("%s: BER tag %#x, want %#x", what, tag, want)
	}
	return c, nil
}

// more reports whether elements remain.
func (d *decoder) more() bool { return len(d.b) > 0 }

// length decodes a definite BER length at the start of b, returning it and
// the number of bytes it took.
func length(b []byte) (n, size int, err error) {
	if len(b) == 0 {
		return 0, 0, errTruncated
	}
	first := b[0]
	if first < 0x80 {
		return int(first), 1, nil
	}
	k := int(first & 0x7f)
	if k == 0 {
		return 0, 0, errors.New("BER indefinite length, which LDAP forbids")
	}
	if k > 4 {
		return 0, 0, fmt.Errorf("BER length of %d bytes is too large", k)
	}
	if len(b) < 1+k {
		return 0, 0, errTruncated
	}
	for _, c := range b[1 : 1+k] {
		n = n<<8 | int(c)
	}
	if n < 0 || n > MaxMessageSize {
		return 0, 0, fmt.Errorf("BER length %d exceeds the %d-byte limit", n, MaxMessageSize)
	}
	return n, 1 + k, nil
}

// integer decodes a BER INTEGER or ENUMERATED content of at most 8 bytes.
func integer(c []byte) (int64, error) {
	if len(c) == 0 || len(c) > 8 {
		return 0, fmt.Errorf("BER integer of %d bytes", len(c))
	}
	v := int64(int8(c[0])) // sign-extend
	for _, b := range c[1:] {
		v = v<<8 | int64(b)
	}
	return v, nil
}

// encoder builds one BER encoding with minimal lengths. Constructed
// elements are opened and closed; close moves the content if its length
// needs more than the one byte reserved.
type encoder struct {
	b     []byte
	stack []int
}

func (e *encoder) open(tag byte) {
	e.b = append(e.b, tag, 0)
	e.stack = append(e.stack, len(e.b))
}

func (e *encoder) close() {
	start := e.stack[len(e.stack)-1]
	e.stack = e.stack[:len(e.stack)-1]
	n := len(e.b) - start
	if n < 0x80 {
		e.b[start-1] = byte(n)
		return
	}
	var lb [5]byte
	k := 0
	for v := n; v > 0; v >>= 8 {
		k++
	}
	lb[0] = 0x80 | byte(k)
	for i := range k {
		lb[1+i] = byte(n >> (8 * (k - 1 - i)))
	}
	e.b = append(e.b, lb[:k]...) // room for the extra length bytes
	copy(e.b[start+k:], e.b[start:start+n])
	copy(e.b[start-1:], lb[:k+1])
}

func (e *encoder) primitive(tag byte, v []byte) {
	e.open(tag)
	e.b = append(e.b, v...)
	e.close()
}

func (e *encoder) str(tag byte, s string) {
	e.open(tag)
	e.b = append(e.b, s...)
	e.close()
}

func (e *encoder) integer(tag byte, v int64) {
	var tmp [8]byte
	n := 8
	for i := range 8 {
		tmp[7-i] = byte(v >> (8 * i))
	}
	// Drop leading bytes that only repeat the sign.
	i := 0
	for i < n-1 && ((tmp[i] == 0 && tmp[i+1]&0x80 == 0) || (tmp[i] == 0xff && tmp[i+1]&0x80 != 0)) {
		i++
	}
	e.primitive(tag, tmp[i:])
}

func (e *encoder) boolean(v bool) {
	b := byte(0)
	if v {
		b = 0xff
	}
	e.primitive(tagBoolean, []byte{b})
}
