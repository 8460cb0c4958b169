package estate

import "strings"

// escapeRDN escapes an attribute value for use in a DN (RFC 4514 section
// 2.4), the way AD writes it: a backslash before , + " \ < > ; and before a
// leading # or space or a trailing space.
func escapeRDN(v string) string {
	if !needsEscape(v) {
		return v
	}
	var b strings.Builder
	b.Grow(len(v) + 4)
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';':
			b.WriteByte('\\')
		case (c == '#' || c == ' ') && i == 0, c == ' ' && i == len(v)-1:
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

func needsEscape(v string) bool {
	if v == "" {
		return false
	}
	if v[0] == '#' || v[0] == ' ' || v[len(v)-1] == ' ' {
		return true
	}
	return strings.ContainsAny(v, ",+\"\\<>;")
}

// childDN returns the DN of the entry attr=value directly below parent.
func childDN(attr, value, parent string) string {
	return attr + "=" + escapeRDN(value) + "," + parent
}
