package ldifcheck

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Record is one LDIF entry: its DN and its attribute values in file order.
// Attribute names keep the case the file used.
type Record struct {
	DN         string
	ChangeType string // "add" for ldifde-style records, "" otherwise
	Attrs      []Attr
}

// Attr is one attribute line of a Record.
type Attr struct {
	Name   string
	Value  string
	Base64 bool // the file used "::"
}

// Values returns the values of name (case-insensitive) in file order.
func (r *Record) Values(name string) []string {
	var out []string
	for _, a := range r.Attrs {
		if strings.EqualFold(a.Name, name) {
			out = append(out, a.Value)
		}
	}
	return out
}

// Get returns the first value of name or "".
func (r *Record) Get(name string) string {
	for _, a := range r.Attrs {
		if strings.EqualFold(a.Name, name) {
			return a.Value
		}
	}
	return ""
}

// Options limits what Read accepts.
type Options struct {
	// MaxWidth, when positive, rejects a physical line longer than this
	// many bytes.
	MaxWidth int
}

// Read parses LDIF from r and calls fn for each record in order. It stops at
// the first syntax error or the first error from fn.
func Read(r io.Reader, opts Options, fn func(Record) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var (
		logical   []byte // current logical line (unfolded)
		inComment bool
		lineNo    int
		startNo   int
		rec       Record
		inRec     bool
	)
	flushLine := func() error {
		if logical == nil {
			return nil
		}
		line := logical
		logical = nil
		if inComment {
			inComment = false
			return nil
		}
		name, value, b64, err := splitLine(line)
		if err != nil {
			return fmt.Errorf("line %d: %w", startNo, err)
		}
		switch {
		case !inRec:
			if !strings.EqualFold(name, "dn") {
				if strings.EqualFold(name, "version") && rec.DN == "" {
					return nil
				}
				return fmt.Errorf("line %d: record starts with %q, want dn", startNo, name)
			}
			rec = Record{DN: value}
			inRec = true
		case strings.EqualFold(name, "changetype") && len(rec.Attrs) == 0 && rec.ChangeType == "":
			rec.ChangeType = value
		case strings.EqualFold(name, "dn"):
			return fmt.Errorf("line %d: second dn in one record", startNo)
		default:
			rec.Attrs = append(rec.Attrs, Attr{Name: name, Value: value, Base64: b64})
		}
		return nil
	}
	endRecord := func() error {
		if !inRec {
			return nil
		}
		inRec = false
		r := rec
		rec = Record{}
		return fn(r)
	}
	for sc.Scan() {
		lineNo++
		raw := sc.Bytes()
		if opts.MaxWidth > 0 && len(raw) > opts.MaxWidth {
			return fmt.Errorf("line %d: %d bytes, longer than %d", lineNo, len(raw), opts.MaxWidth)
		}
		if bytes.IndexByte(raw, '\r') >= 0 {
			return fmt.Errorf("line %d: carriage return", lineNo)
		}
		switch {
		case len(raw) > 0 && raw[0] == ' ':
			if logical == nil {
				return fmt.Errorf("line %d: continuation without a line to continue", lineNo)
			}
			logical = append(logical, raw[1:]...)
		case len(raw) == 0:
			if err := flushLine(); err != nil {
				return err
			}
			if err := endRecord(); err != nil {
				return err
			}
		default:
			if err := flushLine(); err != nil {
				return err
			}
			startNo = lineNo
			logical = append(make([]byte, 0, len(raw)), raw...)
			inComment = raw[0] == '#'
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read ldif: %w", err)
	}
	if err := flushLine(); err != nil {
		return err
	}
	return endRecord()
}

func splitLine(line []byte) (name, value string, b64 bool, err error) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return "", "", false, errors.New("no attribute name")
	}
	name = string(line[:i])
	rest := line[i+1:]
	switch {
	case len(rest) > 0 && rest[0] == ':':
		s := strings.TrimLeft(string(rest[1:]), " ")
		dec, derr := base64.StdEncoding.DecodeString(s)
		if derr != nil {
			return "", "", false, fmt.Errorf("attribute %s: bad base64: %w", name, derr)
		}
		return name, string(dec), true, nil
	case len(rest) > 0 && rest[0] == '<':
		return "", "", false, fmt.Errorf("attribute %s: URL values not supported", name)
	default:
		v := strings.TrimLeft(string(rest), " ")
		for j := 0; j < len(v); j++ {
			if v[j] > 127 || v[j] == 0 {
				return "", "", false, fmt.Errorf("attribute %s: unsafe byte %#x in plain value", name, v[j])
			}
		}
		if strings.HasPrefix(v, ":") || strings.HasPrefix(v, "<") {
			return "", "", false, fmt.Errorf("attribute %s: value starts with %q", name, v[0])
		}
		return name, v, false, nil
	}
}
