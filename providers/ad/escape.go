package ad

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"
)

// EscapeFilterValue escapes a value for use inside an LDAP filter assertion
// (RFC 4515 section 3): "*", "(", ")", "\" and NUL become \2a, \28, \29, \5c
// and \00, so data can never add wildcards or filter structure. Bytes of 0x80
// and above are hex-escaped too, so the filter is ASCII whatever the value's
// encoding; the server decodes them back to the same UTF-8.
func EscapeFilterValue(v string) string {
	const hexd = "0123456789abcdef"
	var sb strings.Builder
	sb.Grow(len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '*' || c == '(' || c == ')' || c == '\\' || c == 0 || c >= 0x80:
			sb.WriteByte('\\')
			sb.WriteByte(hexd[c>>4])
			sb.WriteByte(hexd[c&0xf])
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// EscapeFilterBytes hex-escapes every byte of a binary value (a SID or GUID)
// for a filter assertion.
func EscapeFilterBytes(b []byte) string {
	const hexd = "0123456789abcdef"
	var sb strings.Builder
	sb.Grow(3 * len(b))
	for _, c := range b {
		sb.WriteByte('\\')
		sb.WriteByte(hexd[c>>4])
		sb.WriteByte(hexd[c&0xf])
	}
	return sb.String()
}

// EscapeRDNValue escapes an attribute value for use in a DN (RFC 4514
// section 2.4): '"', '+', ',', ';', '<', '>', '\' and '=' get a backslash, a
// leading '#' or space and a trailing space too, NUL and bytes that are not
// valid UTF-8 become \XX. Valid UTF-8 is kept as is, which AD accepts and
// shows back unchanged.
func EscapeRDNValue(v string) string {
	const hexd = "0123456789abcdef"
	var sb strings.Builder
	sb.Grow(len(v) + 4)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 0x80 {
			if r, n := utf8.DecodeRuneInString(v[i:]); r != utf8.RuneError || n > 1 {
				sb.WriteString(v[i : i+n])
				i += n - 1
				continue
			}
			sb.WriteByte('\\')
			sb.WriteByte(hexd[c>>4])
			sb.WriteByte(hexd[c&0xf])
			continue
		}
		switch {
		case c == 0:
			sb.WriteString(`\00`)
		case c == '"' || c == '+' || c == ',' || c == ';' || c == '<' || c == '>' || c == '\\' || c == '=':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case (i == 0 && (c == ' ' || c == '#')) || (i == len(v)-1 && c == ' '):
			sb.WriteByte('\\')
			sb.WriteByte(c)
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// JoinDN builds the DN of a child named attr=value under parent, escaping
// value.
func JoinDN(attr, value, parent string) string {
	rdn := attr + "=" + EscapeRDNValue(value)
	if parent == "" {
		return rdn
	}
	return rdn + "," + parent
}

// SplitDN parses dn and returns the type and unescaped value of its first
// RDN and the DN of its parent (as written in dn, not re-escaped). Multi-
// valued RDNs are rejected; AD does not use them.
func SplitDN(dn string) (attr, value, parent string, err error) {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return "", "", "", fmt.Errorf("parse DN %q: %w", dn, err)
	}
	if len(parsed.RDNs) == 0 {
		return "", "", "", fmt.Errorf("parse DN %q: empty", dn)
	}
	if len(parsed.RDNs[0].Attributes) != 1 {
		return "", "", "", fmt.Errorf("parse DN %q: multi-valued RDN", dn)
	}
	a := parsed.RDNs[0].Attributes[0]
	return a.Type, a.Value, parentOf(dn), nil
}

// parentOf returns the text after the first unescaped ',' of dn.
func parentOf(dn string) string {
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',':
			return dn[i+1:]
		}
	}
	return ""
}

// NormalizeDN returns dn in a canonical form for comparisons: types
// upper-cased, values unescaped then re-escaped, case folded. It returns dn
// lower-cased when it cannot be parsed.
func NormalizeDN(dn string) string {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(dn)
	}
	parts := make([]string, 0, len(parsed.RDNs))
	for _, r := range parsed.RDNs {
		avas := make([]string, 0, len(r.Attributes))
		for _, a := range r.Attributes {
			avas = append(avas, strings.ToLower(a.Type)+"="+EscapeRDNValue(strings.ToLower(a.Value)))
		}
		parts = append(parts, strings.Join(avas, "+"))
	}
	return strings.Join(parts, ",")
}

// dnUnder reports whether the normalized DN n equals or lies under the
// normalized DN root.
func dnUnder(n, root string) bool {
	return n == root || strings.HasSuffix(n, ","+root)
}

// domainOfDN returns the DNS domain named by the DC= components of dn:
// "CN=x,OU=y,DC=target,DC=test" → "target.test".
func domainOfDN(dn string) string {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return ""
	}
	var labels []string
	for _, r := range parsed.RDNs {
		if len(r.Attributes) == 1 && strings.EqualFold(r.Attributes[0].Type, "DC") {
			labels = append(labels, strings.ToLower(r.Attributes[0].Value))
		}
	}
	return strings.Join(labels, ".")
}

// equalityFilter is "(attr=value)" with value escaped: the only way this
// package puts data into a filter. A value with NUL is refused: no directory
// string holds one, and Samba cuts the assertion at an escaped \00, so
// "x\00" would match "x".
func equalityFilter(attr, value string) (string, error) {
	if strings.IndexByte(value, 0) >= 0 {
		return "", fmt.Errorf("filter value for %s contains NUL", attr)
	}
	return "(" + attr + "=" + EscapeFilterValue(value) + ")", nil
}
