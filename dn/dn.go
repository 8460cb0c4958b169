package dn

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// DN is a parsed distinguished name. The zero DN is the empty name (the
// root DSE). A DN is immutable and safe for concurrent use; DNs returned by
// Parent share memory with their child, which is fine because nothing
// mutates them.
type DN struct {
	avas []ava
}

// ava is one attribute type and value; plus reports that the next ava
// belongs to the same (multi-valued) RDN.
type ava struct {
	typ  string
	val  string
	plus bool
}

// ParseError describes where a DN is malformed.
type ParseError struct {
	Input  string
	Offset int
	Msg    string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("invalid DN %q: %s at offset %d", e.Input, e.Msg, e.Offset)
}

func perr(s string, off int, format string, args ...any) error {
	return &ParseError{Input: s, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// Parse parses an RFC 4514 string. The empty string (or only spaces) is the
// zero DN.
func Parse(s string) (DN, error) {
	n := 1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '+', ';':
			n++
		}
	}
	i := skipSpaces(s, 0)
	if i == len(s) {
		return DN{}, nil
	}
	avas := make([]ava, 0, n)
	for {
		i = skipSpaces(s, i)
		if i >= len(s) {
			return DN{}, perr(s, i, "missing attribute type after separator")
		}
		start := i
		c := s[i]
		switch {
		case isAlpha(c):
			for i < len(s) && (isAlpha(s[i]) || isDigit(s[i]) || s[i] == '-') {
				i++
			}
		case isDigit(c):
			for i < len(s) && (isDigit(s[i]) || s[i] == '.') {
				i++
			}
			if s[i-1] == '.' {
				return DN{}, perr(s, i-1, "attribute type %q ends with '.'", s[start:i])
			}
		default:
			return DN{}, perr(s, i, "unexpected %q where an attribute type should start", rune(c))
		}
		typ := s[start:i]
		i = skipSpaces(s, i)
		if i >= len(s) || s[i] != '=' {
			return DN{}, perr(s, i, "missing '=' after attribute type %q", typ)
		}
		i = skipSpaces(s, i+1)
		val, next, err := parseValue(s, i)
		if err != nil {
			return DN{}, err
		}
		i = next
		a := ava{typ: typ, val: val}
		if i >= len(s) {
			avas = append(avas, a)
			break
		}
		switch s[i] {
		case ',', ';':
		case '+':
			a.plus = true
		default:
			return DN{}, perr(s, i, "unexpected %q after value", rune(s[i]))
		}
		avas = append(avas, a)
		i++
	}
	return DN{avas: avas}, nil
}

// MustParse is Parse for constants in code and tests; it panics on error.
func MustParse(s string) DN {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseValue reads a value starting at i (leading spaces already skipped)
// and returns it with the offset of the separator (or len(s)) after it.
func parseValue(s string, i int) (string, int, error) {
	if i < len(s) && s[i] == '#' {
		return parseHexValue(s, i)
	}
	if i < len(s) && s[i] == '"' {
		return parseQuoted(s, i)
	}
	start := i
	// Fast path: no escapes, the value is a substring of s.
	for i < len(s) {
		c := s[i]
		switch c {
		case ',', '+', ';':
			return strings.TrimRight(s[start:i], " "), i, nil
		case '\\':
			return parseEscaped(s, start, i)
		case '=', '"', '<', '>':
			return "", 0, unescapedErr(s, i)
		}
		i++
	}
	return strings.TrimRight(s[start:], " "), i, nil
}

func unescapedErr(s string, i int) error {
	return perr(s, i, "unescaped '%c' (write it as \\%c)", s[i], s[i])
}

// parseEscaped continues parseValue once an escape was seen at i.
func parseEscaped(s string, start, i int) (string, int, error) {
	buf := make([]byte, 0, len(s)-start)
	buf = append(buf, s[start:i]...)
	keep := len(strings.TrimRight(s[start:i], " ")) // length without unescaped trailing spaces
	for i < len(s) {
		c := s[i]
		switch c {
		case ',', '+', ';':
			return string(buf[:keep]), i, nil
		case '=', '"', '<', '>':
			return "", 0, unescapedErr(s, i)
		case '\\':
			b, n, err := unescape(s, i)
			if err != nil {
				return "", 0, err
			}
			buf = append(buf, b)
			keep = len(buf)
			i += n
			continue
		}
		buf = append(buf, c)
		if c != ' ' {
			keep = len(buf)
		}
		i++
	}
	return string(buf[:keep]), i, nil
}

// unescape decodes the escape at s[i] == '\\' and returns the byte and the
// number of input bytes used.
func unescape(s string, i int) (byte, int, error) {
	if i+1 >= len(s) {
		return 0, 0, perr(s, i, "'\\' at end of DN")
	}
	c := s[i+1]
	switch c {
	case ',', '+', '"', '\\', '<', '>', ';', '=', '#', ' ':
		return c, 2, nil
	}
	hi, ok1 := unhex(c)
	if ok1 && i+2 < len(s) {
		if lo, ok2 := unhex(s[i+2]); ok2 {
			return hi<<4 | lo, 3, nil
		}
	}
	return 0, 0, perr(s, i, "invalid escape (use \\ before one of ,+\"\\<>;=# or a hex pair)")
}

func parseQuoted(s string, i int) (string, int, error) {
	open := i
	i++
	var buf []byte
	for {
		if i >= len(s) {
			return "", 0, perr(s, open, "unterminated quoted value")
		}
		c := s[i]
		if c == '"' {
			i = skipSpaces(s, i+1)
			if i < len(s) && s[i] != ',' && s[i] != '+' && s[i] != ';' {
				return "", 0, perr(s, i, "unexpected %q after quoted value", rune(s[i]))
			}
			return string(buf), i, nil
		}
		if c == '\\' {
			b, n, err := unescape(s, i)
			if err != nil {
				return "", 0, err
			}
			buf = append(buf, b)
			i += n
			continue
		}
		buf = append(buf, c)
		i++
	}
}

func parseHexValue(s string, i int) (string, int, error) {
	start := i + 1
	j := start
	for j < len(s) {
		if _, ok := unhex(s[j]); !ok {
			break
		}
		j++
	}
	digits := s[start:j]
	if len(digits) == 0 || len(digits)%2 != 0 {
		return "", 0, perr(s, i, "'#' must start an even number of hex digits (the BER encoding; write \\# for a literal '#')")
	}
	end := skipSpaces(s, j)
	if end < len(s) && s[end] != ',' && s[end] != '+' && s[end] != ';' {
		return "", 0, perr(s, end, "unexpected %q in #hex value", rune(s[end]))
	}
	b := make([]byte, len(digits)/2)
	for k := range b {
		hi, _ := unhex(digits[2*k])
		lo, _ := unhex(digits[2*k+1])
		b[k] = hi<<4 | lo
	}
	return berString(b), end, nil
}

// berString returns the content of a BER-encoded primitive string, or the
// raw bytes when b is not one.
func berString(b []byte) string {
	if len(b) < 2 {
		return string(b)
	}
	switch b[0] {
	case 0x04, 0x0c, 0x12, 0x13, 0x14, 0x16, 0x1a:
	default:
		return string(b)
	}
	l, n := int(b[1]), 2
	if l&0x80 != 0 {
		k := l & 0x7f
		if k == 0 || k > 3 || len(b) < 2+k {
			return string(b)
		}
		l = 0
		for _, x := range b[2 : 2+k] {
			l = l<<8 | int(x)
		}
		n = 2 + k
	}
	if n+l != len(b) {
		return string(b)
	}
	return string(b[n:])
}

// IsZero reports whether d is the empty DN.
func (d DN) IsZero() bool { return len(d.avas) == 0 }

// Depth is the number of RDNs in d.
func (d DN) Depth() int {
	n := 0
	for _, a := range d.avas {
		if !a.plus {
			n++
		}
	}
	return n
}

// RDN returns the type and value of the first AVA of the first RDN, e.g.
// ("CN", "John Smith"). Both are empty for the zero DN.
func (d DN) RDN() (attrType, value string) {
	if len(d.avas) == 0 {
		return "", ""
	}
	return d.avas[0].typ, d.avas[0].val
}

// RDNString returns the first RDN in canonical form, e.g. `CN=Smith\, John`.
func (d DN) RDNString() string {
	n := firstRDNLen(d.avas)
	return DN{avas: d.avas[:n]}.String()
}

func firstRDNLen(avas []ava) int {
	for i, a := range avas {
		if !a.plus {
			return i + 1
		}
	}
	return len(avas)
}

// Parent returns d without its first RDN; the parent of a one-RDN DN and of
// the zero DN is the zero DN.
func (d DN) Parent() DN {
	if len(d.avas) == 0 {
		return d
	}
	return DN{avas: d.avas[firstRDNLen(d.avas):]}
}

// Child returns the DN attrType=value,d. The value is taken literally (it
// is escaped when printed).
func (d DN) Child(attrType, value string) DN {
	avas := make([]ava, 0, len(d.avas)+1)
	avas = append(avas, ava{typ: attrType, val: value})
	avas = append(avas, d.avas...)
	return DN{avas: avas}
}

// Equal reports whether d and o name the same entry: attribute types and
// values compare case-insensitively, as Active Directory compares them, and
// the AVAs of a multi-valued RDN compare in any order. Equal(o) is true
// exactly when d.Key() == o.Key().
func (d DN) Equal(o DN) bool {
	if len(d.avas) != len(o.avas) {
		return false
	}
	return suffixEqual(d.avas, o.avas)
}

// suffixEqual compares two ava lists of the same length.
func suffixEqual(a, b []ava) bool {
	multi := false
	for i := range a {
		if a[i].plus != b[i].plus {
			return false
		}
		if a[i].plus {
			multi = true
			continue
		}
		if !multi && (!strings.EqualFold(a[i].typ, b[i].typ) || !foldEqual(a[i].val, b[i].val)) {
			return false
		}
	}
	if multi {
		return DN{avas: a}.Key() == DN{avas: b}.Key()
	}
	return true
}

// IsDescendantOf reports whether d lies strictly below base (d != base).
// The zero DN is the ancestor of every non-zero DN.
func (d DN) IsDescendantOf(base DN) bool {
	return len(d.avas) > len(base.avas) && d.InSubtree(base)
}

// InSubtree reports whether d is base or lies below it: the subtree-scope
// test of an LDAP search based at base.
func (d DN) InSubtree(base DN) bool {
	off := len(d.avas) - len(base.avas)
	if off < 0 {
		return false
	}
	if off > 0 && d.avas[off-1].plus {
		return false // base would split a multi-valued RDN
	}
	return suffixEqual(d.avas[off:], base.avas)
}

// Relocate replaces the ancestor from of d with to: for d = CN=x,OU=a,DC=t,
// from = OU=a,DC=t and to = OU=b,DC=t it returns CN=x,OU=b,DC=t. ok is false
// when d is not in the subtree of from.
func (d DN) Relocate(from, to DN) (DN, bool) {
	if !d.InSubtree(from) {
		return DN{}, false
	}
	head := d.avas[:len(d.avas)-len(from.avas)]
	avas := make([]ava, 0, len(head)+len(to.avas))
	avas = append(avas, head...)
	avas = append(avas, to.avas...)
	return DN{avas: avas}, true
}

// String returns the canonical RFC 4514 form: attribute types as parsed,
// values escaped (see EscapeValue), no spaces around separators.
func (d DN) String() string {
	if len(d.avas) == 0 {
		return ""
	}
	buf := make([]byte, 0, d.size())
	for i, a := range d.avas {
		if i > 0 {
			if d.avas[i-1].plus {
				buf = append(buf, '+')
			} else {
				buf = append(buf, ',')
			}
		}
		buf = append(buf, a.typ...)
		buf = append(buf, '=')
		buf = appendEscaped(buf, a.val, false)
	}
	return bytesToString(buf)
}

func (d DN) size() int {
	n := 0
	for _, a := range d.avas {
		n += len(a.typ) + len(a.val) + 2
	}
	return n + 8
}

// Key returns the normalized form of d for use as a map key: types and
// values lower-cased, canonical escaping, AVAs of multi-valued RDNs sorted.
// Two DNs are Equal exactly when their keys are equal.
func (d DN) Key() string {
	if len(d.avas) == 0 {
		return ""
	}
	buf := make([]byte, 0, d.size())
	for i := 0; i < len(d.avas); {
		if i > 0 {
			buf = append(buf, ',')
		}
		n := firstRDNLen(d.avas[i:])
		if n == 1 {
			buf = appendKeyAVA(buf, d.avas[i])
		} else {
			parts := make([]string, n)
			for k := range parts {
				parts[k] = string(appendKeyAVA(nil, d.avas[i+k]))
			}
			sort.Strings(parts)
			buf = append(buf, strings.Join(parts, "+")...)
		}
		i += n
	}
	return bytesToString(buf)
}

// bytesToString converts without copying; buf must not be used afterwards.
func bytesToString(buf []byte) string {
	if len(buf) == 0 {
		return ""
	}
	return unsafe.String(&buf[0], len(buf))
}

func appendKeyAVA(buf []byte, a ava) []byte {
	for i := 0; i < len(a.typ); i++ {
		c := a.typ[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
	buf = append(buf, '=')
	return appendEscaped(buf, a.val, true)
}

// Key parses s and returns its Key. DNs made of plain ASCII (no escapes,
// no spaces around separators, no multi-valued RDNs) take a fast path
// that makes a single allocation.
func Key(s string) (string, error) {
	if k, ok := keyFast(s); ok {
		return k, nil
	}
	d, err := Parse(s)
	if err != nil {
		return "", err
	}
	return d.Key(), nil
}

// Normalize parses s and returns its canonical String form (case kept).
func Normalize(s string) (string, error) {
	d, err := Parse(s)
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// EscapeValue escapes an attribute value for use in a DN string: the
// characters , + " \ < > ; = are preceded by '\', as are a leading '#' or
// space and a trailing space; NUL, other control characters and bytes that
// are not UTF-8 become \XX. Other non-ASCII characters stay as they are.
func EscapeValue(v string) string {
	return string(appendEscaped(make([]byte, 0, len(v)+4), v, false))
}

const hexDigits = "0123456789abcdef"

// Byte classes for escaping.
const (
	clPlain  = iota // copied as is (lower-cased for keys)
	clEscape        // preceded by '\'
	clHex           // written as \XX
	clMulti         // first byte of a multi-byte (or invalid) UTF-8 sequence
)

var escapeClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c < 0x20 || c == 0x7f:
			t[c] = clHex
		case c >= 0x80:
			t[c] = clMulti
		}
	}
	for _, c := range []byte{',', '+', '"', '\\', '<', '>', ';', '='} {
		t[c] = clEscape
	}
	return t
}()

var lowerASCII = func() (t [256]byte) {
	for c := 0; c < 256; c++ {
		t[c] = byte(c)
		if c >= 'A' && c <= 'Z' {
			t[c] = byte(c) + 'a' - 'A'
		}
	}
	return t
}()

func appendEscaped(buf []byte, v string, lower bool) []byte {
	n := len(v)
	for i := 0; i < n; {
		c := v[i]
		cl := escapeClass[c]
		if cl == clPlain && c != ' ' && c != '#' {
			// a run of plain bytes
			j := i + 1
			for j < n && escapeClass[v[j]] == clPlain && (v[j] != ' ' || j < n-1) {
				j++
			}
			if lower {
				for k := i; k < j; k++ {
					buf = append(buf, lowerASCII[v[k]])
				}
			} else {
				buf = append(buf, v[i:j]...)
			}
			i = j
			continue
		}
		switch {
		case c == ' ' && (i == 0 || i == n-1), c == '#' && i == 0, cl == clEscape:
			buf = append(buf, '\\', c)
		case c == ' ' || c == '#':
			buf = append(buf, c)
		case cl == clHex:
			buf = append(buf, '\\', hexDigits[c>>4], hexDigits[c&15])
		default: // clMulti
			r, size := utf8.DecodeRuneInString(v[i:])
			if r == utf8.RuneError && size == 1 {
				buf = append(buf, '\\', hexDigits[c>>4], hexDigits[c&15])
			} else if lower {
				buf = utf8.AppendRune(buf, unicode.ToLower(r))
			} else {
				buf = append(buf, v[i:i+size]...)
			}
			i += size
			continue
		}
		i++
	}
	return buf
}

// foldEqual compares values the way Key does: rune-wise with
// unicode.ToLower; bytes that are not UTF-8 compare exactly.
func foldEqual(a, b string) bool {
	for len(a) > 0 && len(b) > 0 {
		ca, cb := a[0], b[0]
		if ca < utf8.RuneSelf && cb < utf8.RuneSelf {
			if ca != cb {
				if ca|0x20 != cb|0x20 || ca|0x20 < 'a' || ca|0x20 > 'z' {
					return false
				}
			}
			a, b = a[1:], b[1:]
			continue
		}
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		badA := ra == utf8.RuneError && na == 1
		badB := rb == utf8.RuneError && nb == 1
		switch {
		case badA || badB:
			if !(badA && badB && ca == cb) {
				return false
			}
		case unicode.ToLower(ra) != unicode.ToLower(rb):
			return false
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) == 0 && len(b) == 0
}

// ParentKey returns the Key of the parent of the DN whose Key is key,
// without parsing: the part after the first unescaped ','. It is the
// allocation-free way to walk up a tree of keys; the parent key of a
// single-RDN key is "".
func ParentKey(key string) string {
	for i := 0; i < len(key); i++ {
		switch key[i] {
		case '\\':
			i++ // skip the escaped character (hex pairs contain no ',')
		case ',':
			return key[i+1:]
		}
	}
	return ""
}

// keyFast computes Key for the common plain DN in one pass, or reports
// false when s needs the full parser.
func keyFast(s string) (string, bool) {
	if len(s) == 0 {
		return "", false
	}
	buf := make([]byte, len(s))
	i := 0
	for {
		// attribute type
		start := i
		if i >= len(s) {
			return "", false
		}
		switch c := s[i]; {
		case isAlpha(c):
			for i < len(s) && (isAlpha(s[i]) || isDigit(s[i]) || s[i] == '-') {
				i++
			}
		case isDigit(c):
			for i < len(s) && (isDigit(s[i]) || s[i] == '.') {
				i++
			}
			if s[i-1] == '.' {
				return "", false
			}
		default:
			return "", false
		}
		for k := start; k < i; k++ {
			buf[k] = s[k] | 0x20*boolByte(s[k] >= 'A' && s[k] <= 'Z')
		}
		if i >= len(s) || s[i] != '=' {
			return "", false
		}
		buf[i] = '='
		i++
		// value: printable ASCII without specials, no space at either end
		vstart := i
		for i < len(s) && s[i] != ',' {
			c := s[i]
			if c < 0x20 || c >= 0x7f {
				return "", false
			}
			switch c {
			case '\\', '+', '"', ';', '<', '>', '=', '#':
				return "", false
			}
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
			i++
		}
		if i == vstart || s[vstart] == ' ' || s[i-1] == ' ' {
			return "", false
		}
		if i == len(s) {
			return bytesToString(buf), true
		}
		buf[i] = ','
		i++
	}
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// Same reports whether a and b name one entry: equal strings, or equal
// Keys (so "CN=a\;b" and "cn=A\3Bb" are the same). A DN that does not
// parse is the same only as an identical string.
func Same(a, b string) bool {
	if a == b {
		return true
	}
	ka, err := Key(a)
	if err != nil {
		return false
	}
	kb, err := Key(b)
	return err == nil && ka == kb
}
