package state

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// fastDecode parses a current-version state document in the shape Encode
// writes (any JSON whitespace allowed), about four times faster than
// encoding/json's reflection. It gives up — ok false — on anything else:
// unknown, duplicate or differently cased field names, nulls, numbers other
// than plain non-negative integers, invalid JSON. Decode then uses
// encoding/json, so the result never depends on which parser ran;
// FuzzDecode holds the two to the same result on every input fastDecode
// accepts.
func fastDecode(data []byte) (s *State, ok bool) {
	p := &parser{b: data, interned: map[string]string{}}
	s = &State{}
	if !p.consume('{') {
		return nil, false
	}
	var seen uint8
	for first := true; ; first = false {
		if first && p.consume('}') {
			break
		}
		key, ok := p.key()
		if !ok {
			return nil, false
		}
		var bit uint8
		switch string(key) {
		case "version":
			bit = 1
			var v uint64
			v, ok = p.uint()
			s.Version = int(v)
			ok = ok && v <= 1<<31
		case "lineage":
			bit = 2
			s.Lineage, ok = p.str()
		case "serial":
			bit = 4
			s.Serial, ok = p.uint()
		case "objects":
			bit = 8
			s.Objects, ok = parseMap(p, p.object)
		case "devices":
			bit = 16
			s.Devices, ok = parseMap(p, p.device)
		default:
			return nil, false
		}
		if !ok || seen&bit != 0 {
			return nil, false
		}
		seen |= bit
		if p.consume(',') {
			continue
		}
		if p.consume('}') {
			break
		}
		return nil, false
	}
	p.ws()
	if p.i != len(p.b) {
		return nil, false
	}
	return s, true
}

// parser walks a JSON document; every method skips leading whitespace and
// reports false on anything it does not handle.
type parser struct {
	b        []byte
	i        int
	interned map[string]string // workflow, kind, cutover, status: few distinct values
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// consume skips c if it comes next.
func (p *parser) consume(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// key reads a field name without escapes and the colon after it.
func (p *parser) key() ([]byte, bool) {
	if !p.consume('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			k := p.b[start:p.i]
			p.i++
			return k, p.consume(':')
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// uint reads a non-negative integer without sign, fraction or exponent.
func (p *parser) uint() (uint64, bool) {
	p.ws()
	start := p.i
	var v uint64
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		d := uint64(p.b[p.i] - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
		p.i++
	}
	n := p.i - start
	if n == 0 || (n > 1 && p.b[start] == '0') || p.i < len(p.b) && (p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		return 0, false
	}
	return v, true
}

// rawString returns the bytes of the next string token, quotes included,
// and whether it is simple: no escapes other than \" and \\, no control
// characters, valid UTF-8.
func (p *parser) rawString() (tok []byte, simple, ok bool) {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, false, false
	}
	start := p.i
	simple = true
	ascii := true
	for j := start + 1; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			p.i = j + 1
			tok = p.b[start:p.i]
			if !ascii && !utf8.Valid(tok) {
				simple = false
			}
			return tok, simple, true
		case c == '\\':
			if j+1 < len(p.b) && p.b[j+1] != '"' && p.b[j+1] != '\\' {
				simple = false
			}
			j++
		case c < 0x20:
			simple = false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false, false
}

// str reads a string value exactly as encoding/json decodes it.
func (p *parser) str() (string, bool) {
	tok, simple, ok := p.rawString()
	if !ok {
		return "", false
	}
	if !simple {
		var s string
		if err := json.Unmarshal(tok, &s); err != nil {
			return "", false
		}
		return s, true
	}
	inner := tok[1 : len(tok)-1]
	for k := range inner {
		if inner[k] == '\\' {
			out := make([]byte, 0, len(inner))
			for m := 0; m < len(inner); m++ {
				if inner[m] == '\\' {
					m++
				}
				out = append(out, inner[m])
			}
			return string(out), true
		}
	}
	return string(inner), true
}

// internStr reads a string that takes few distinct values and shares one
// copy of each.
func (p *parser) internStr() (string, bool) {
	tok, simple, ok := p.rawString()
	if ok && simple {
		if s, hit := p.interned[string(tok)]; hit {
			return s, true
		}
	}
	if ok {
		p.i -= len(tok)
	}
	s, ok := p.str()
	if ok && simple {
		p.interned[string(tok)] = s
	}
	return s, ok
}

func (p *parser) boolean() (bool, bool) {
	p.ws()
	rest := p.b[p.i:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		p.i += 4
		return true, true
	case len(rest) >= 5 && string(rest[:5]) == "false":
		p.i += 5
		return false, true
	}
	return false, false
}

func (p *parser) time() (time.Time, bool) {
	var t time.Time
	tok, simple, ok := p.rawString()
	if !ok || !simple {
		return t, false
	}
	return t, t.UnmarshalJSON(tok) == nil
}

// strings reads an array of strings; [] gives an empty, non-nil slice, as
// encoding/json does.
func (p *parser) strings() ([]string, bool) {
	if !p.consume('[') {
		return nil, false
	}
	out := []string{}
	if p.consume(']') {
		return out, true
	}
	for {
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		if p.consume(',') {
			continue
		}
		return out, p.consume(']')
	}
}

// fields reads a JSON object, calling field for each member; field reads
// the value and returns a bit unique to the name (0: unknown name).
func (p *parser) fields(field func(name []byte) (bit uint16, ok bool)) bool {
	if !p.consume('{') {
		return false
	}
	if p.consume('}') {
		return true
	}
	var seen uint16
	for {
		name, ok := p.key()
		if !ok {
			return false
		}
		bit, ok := field(name)
		if !ok || bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
		if p.consume(',') {
			continue
		}
		return p.consume('}')
	}
}

func (p *parser) identity() (Identity, bool) {
	var id Identity
	ok := p.fields(func(name []byte) (uint16, bool) {
		var ok bool
		switch string(name) {
		case "dn":
			id.DN, ok = p.str()
			return 1, ok
		case "guid":
			id.GUID, ok = p.str()
			return 2, ok
		case "sid":
			id.SID, ok = p.str()
			return 4, ok
		}
		return 0, false
	})
	return id, ok
}

func (p *parser) object() (*Object, bool) {
	o := &Object{}
	ok := p.fields(func(name []byte) (uint16, bool) {
		var ok bool
		switch string(name) {
		case "address":
			o.Address, ok = p.str()
			return 1, ok
		case "workflow":
			o.Workflow, ok = p.internStr()
			return 2, ok
		case "kind":
			o.Kind, ok = p.internStr()
			return 4, ok
		case "source":
			o.Source, ok = p.identity()
			return 8, ok
		case "target":
			o.Target, ok = p.identity()
			return 16, ok
		case "sid_history":
			o.SIDHistory, ok = p.strings()
			return 32, ok
		case "created":
			o.Created, ok = p.boolean()
			return 64, ok
		case "updated_at":
			o.UpdatedAt, ok = p.time()
			return 128, ok
		}
		return 0, false
	})
	return o, ok
}

func (p *parser) action() (DeviceAction, bool) {
	var a DeviceAction
	ok := p.fields(func(name []byte) (uint16, bool) {
		var ok bool
		switch string(name) {
		case "name":
			a.Name, ok = p.internStr()
			return 1, ok
		case "status":
			a.Status, ok = p.internStr()
			return 2, ok
		case "detail":
			a.Detail, ok = p.str()
			return 4, ok
		case "at":
			a.At, ok = p.time()
			return 8, ok
		}
		return 0, false
	})
	return a, ok
}

func (p *parser) device() (*Device, bool) {
	d := &Device{}
	ok := p.fields(func(name []byte) (uint16, bool) {
		var ok bool
		switch string(name) {
		case "address":
			d.Address, ok = p.str()
			return 1, ok
		case "cutover":
			d.Cutover, ok = p.internStr()
			return 2, ok
		case "name":
			d.Name, ok = p.str()
			return 4, ok
		case "source":
			d.Source, ok = p.identity()
			return 8, ok
		case "target":
			d.Target, ok = p.identity()
			return 16, ok
		case "actions":
			if !p.consume('[') {
				return 32, false
			}
			d.Actions = []DeviceAction{}
			if p.consume(']') {
				return 32, true
			}
			for {
				a, ok := p.action()
				if !ok {
					return 32, false
				}
				d.Actions = append(d.Actions, a)
				if p.consume(',') {
					continue
				}
				return 32, p.consume(']')
			}
		case "updated_at":
			d.UpdatedAt, ok = p.time()
			return 64, ok
		}
		return 0, false
	})
	return d, ok
}

// parseMap reads a JSON object of values read by value; a repeated key
// keeps the last value, as encoding/json does for maps.
func parseMap[V any](p *parser, value func() (V, bool)) (map[string]V, bool) {
	if !p.consume('{') {
		return nil, false
	}
	m := map[string]V{}
	if p.consume('}') {
		return m, true
	}
	for {
		k, ok := p.str()
		if !ok || !p.consume(':') {
			return nil, false
		}
		v, ok := value()
		if !ok {
			return nil, false
		}
		m[k] = v
		if p.consume(',') {
			continue
		}
		return m, p.consume('}')
	}
}
