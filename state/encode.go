package state

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// The snapshot writer appends JSON by hand: encoding/json's reflection and
// its second pass to indent cost about four times as much, and a fold
// writes every object. The output is byte for byte what encoding/json
// writes for the same values with SetEscapeHTML(false) and
// SetIndent("", "  "); TestEncode_isPrettyJSON and FuzzEncode hold it to
// that.

// newline appends a line break and the indentation of an object member at
// depth (the snapshot's top level is depth 0, its objects' fields depth 2).
func newline(b []byte, depth int) []byte {
	b = append(b, '\n')
	for range depth {
		b = append(b, "  "...)
	}
	return b
}

// appendKey appends `"name": ` on a new line at depth; sep is false for the
// first member of an object.
func appendKey(b []byte, depth int, sep bool, name string) []byte {
	if sep {
		b = append(b, ',')
	}
	b = newline(b, depth)
	b = appendString(b, name)
	return append(b, ": "...)
}

func appendIdentity(b []byte, depth int, id Identity) []byte {
	b = append(b, '{')
	sep := false
	for _, f := range [...]struct{ name, v string }{{"dn", id.DN}, {"guid", id.GUID}, {"sid", id.SID}} {
		if f.v == "" {
			continue
		}
		b = appendKey(b, depth+1, sep, f.name)
		b = appendString(b, f.v)
		sep = true
	}
	if !sep {
		return append(b, '}')
	}
	b = newline(b, depth)
	return append(b, '}')
}

func appendTime(b []byte, t time.Time) ([]byte, error) {
	j, err := t.MarshalJSON() // refuses years outside 0-9999, as encoding/json does
	if err != nil {
		return b, err
	}
	return append(b, j...), nil
}

// appendObject appends o as an indented JSON object whose members sit at
// depth+1.
func appendObject(b []byte, depth int, o *Object) ([]byte, error) {
	if o == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '{')
	b = appendKey(b, depth+1, false, "address")
	b = appendString(b, o.Address)
	b = appendKey(b, depth+1, true, "workflow")
	b = appendString(b, o.Workflow)
	b = appendKey(b, depth+1, true, "kind")
	b = appendString(b, o.Kind)
	if !o.Source.IsZero() {
		b = appendKey(b, depth+1, true, "source")
		b = appendIdentity(b, depth+1, o.Source)
	}
	if !o.Target.IsZero() {
		b = appendKey(b, depth+1, true, "target")
		b = appendIdentity(b, depth+1, o.Target)
	}
	if len(o.SIDHistory) > 0 {
		b = appendKey(b, depth+1, true, "sid_history")
		b = append(b, '[')
		for i, sid := range o.SIDHistory {
			if i > 0 {
				b = append(b, ',')
			}
			b = newline(b, depth+2)
			b = appendString(b, sid)
		}
		b = newline(b, depth+1)
		b = append(b, ']')
	}
	if o.Created {
		b = appendKey(b, depth+1, true, "created")
		b = append(b, "true"...)
	}
	if !o.UpdatedAt.IsZero() {
		b = appendKey(b, depth+1, true, "updated_at")
		var err error
		if b, err = appendTime(b, o.UpdatedAt); err != nil {
			return b, fmt.Errorf("updated_at: %w", err)
		}
	}
	b = newline(b, depth)
	return append(b, '}'), nil
}

// appendDevice appends d as an indented JSON object whose members sit at
// depth+1.
func appendDevice(b []byte, depth int, d *Device) ([]byte, error) {
	if d == nil {
		return append(b, "null"...), nil
	}
	var err error
	b = append(b, '{')
	b = appendKey(b, depth+1, false, "address")
	b = appendString(b, d.Address)
	b = appendKey(b, depth+1, true, "cutover")
	b = appendString(b, d.Cutover)
	b = appendKey(b, depth+1, true, "name")
	b = appendString(b, d.Name)
	if !d.Source.IsZero() {
		b = appendKey(b, depth+1, true, "source")
		b = appendIdentity(b, depth+1, d.Source)
	}
	if !d.Target.IsZero() {
		b = appendKey(b, depth+1, true, "target")
		b = appendIdentity(b, depth+1, d.Target)
	}
	if len(d.Actions) > 0 {
		b = appendKey(b, depth+1, true, "actions")
		b = append(b, '[')
		for i, a := range d.Actions {
			if i > 0 {
				b = append(b, ',')
			}
			b = newline(b, depth+2)
			b = append(b, '{')
			b = appendKey(b, depth+3, false, "name")
			b = appendString(b, a.Name)
			b = appendKey(b, depth+3, true, "status")
			b = appendString(b, a.Status)
			if a.Detail != "" {
				b = appendKey(b, depth+3, true, "detail")
				b = appendString(b, a.Detail)
			}
			if !a.At.IsZero() {
				b = appendKey(b, depth+3, true, "at")
				if b, err = appendTime(b, a.At); err != nil {
					return b, fmt.Errorf("actions[%d].at: %w", i, err)
				}
			}
			b = newline(b, depth+2)
			b = append(b, '}')
		}
		b = newline(b, depth+1)
		b = append(b, ']')
	}
	if !d.UpdatedAt.IsZero() {
		b = appendKey(b, depth+1, true, "updated_at")
		if b, err = appendTime(b, d.UpdatedAt); err != nil {
			return b, fmt.Errorf("updated_at: %w", err)
		}
	}
	b = newline(b, depth)
	return append(b, '}'), nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json does with
// HTML escaping off: invalid UTF-8 becomes U+FFFD, U+2028 and U+2029 are
// escaped (JavaScript line terminators), control characters too.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
