package state

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
)

// ErrNewerFormat is wrapped by the error for a state file or journal written
// by a newer adshift (a format version above FormatVersion).
var ErrNewerFormat = errors.New("state format version is newer than this adshift understands")

// ErrLineageMismatch is wrapped by the error for two pieces of state that
// belong to different states: a journal whose lineage differs from its
// snapshot's, or a State handed to Begin that was not loaded from the
// backend.
var ErrLineageMismatch = errors.New("state lineage mismatch")

// ErrSerialMismatch is wrapped by Begin's error when the stored state moved
// on since the State handed to it was loaded.
var ErrSerialMismatch = errors.New("state serial mismatch")

// upgrades[v] turns a version-v state document into a version-(v+1) one.
// There is one function per old version; version 1 is the first format, so
// the table is empty until version 2 exists. An upgrade works on the raw
// JSON so it never depends on today's Go types.
var upgrades = map[int]func([]byte) ([]byte, error){}

// upgrade runs the upgrade functions of table on a version-from document
// until it is a version-to document.
func upgrade(data []byte, from, to int, table map[int]func([]byte) ([]byte, error)) ([]byte, error) {
	for v := from; v < to; v++ {
		up, ok := table[v]
		if !ok {
			return nil, fmt.Errorf("no upgrade from format version %d", v)
		}
		var err error
		if data, err = up(data); err != nil {
			return nil, fmt.Errorf("from format version %d: %w", v, err)
		}
	}
	return data, nil
}

// newerFormatError is the error for a document with a version above
// FormatVersion.
type newerFormatError struct {
	what    string // "state file adshift.state"
	version int
}

func (e *newerFormatError) Error() string {
	return fmt.Sprintf("%s has format version %d; this adshift understands up to %d: upgrade adshift",
		e.what, e.version, FormatVersion)
}

func (e *newerFormatError) Unwrap() error { return ErrNewerFormat }

// lineageError is the error for a journal (or a State) whose lineage is not
// the snapshot's.
type lineageError struct {
	what, lineage           string // journal adshift.state.journal, its lineage
	otherWhat, otherLineage string
	hint                    string
}

func (e *lineageError) Error() string {
	msg := fmt.Sprintf("%s has lineage %q but %s has lineage %q", e.what, e.lineage, e.otherWhat, e.otherLineage)
	if e.hint != "" {
		msg += ": " + e.hint
	}
	return msg
}

func (e *lineageError) Unwrap() error { return ErrLineageMismatch }

// header is the identifying part of a state document.
type header struct {
	Version int
	Lineage string
	Serial  uint64
}

// readHeader reads version, lineage and serial from a state document
// without decoding its objects when, as adshift writes them, those keys come
// first. Other keys before them are skipped (and so parsed, but not kept).
func readHeader(r io.Reader) (header, error) {
	var h header
	dec := json.NewDecoder(r)
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return h, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return h, errors.New("not a JSON object")
	}
	var seen int
	for dec.More() && seen < 3 {
		tok, err := dec.Token()
		if err != nil {
			return h, err
		}
		key, _ := tok.(string)
		switch key {
		case "version":
			err = dec.Decode(&h.Version)
			seen++
		case "lineage":
			err = dec.Decode(&h.Lineage)
			seen++
		case "serial":
			err = dec.Decode(&h.Serial)
			seen++
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return h, fmt.Errorf("field %q: %w", key, err)
		}
	}
	return h, nil
}

// Decode parses a state document. name says where it came from (e.g.
// "state file adshift.state") in error messages. Older format versions are
// upgraded; a newer one is refused with an error wrapping ErrNewerFormat.
func Decode(name string, data []byte) (*State, error) {
	h, err := readHeader(bytes.NewReader(data))
	if err != nil {
		// The header reader's offsets are its own; the whole document's
		// decode says where the problem is.
		if uerr := json.Unmarshal(data, &State{}); uerr != nil {
			err = describeJSONError(data, uerr)
		}
		return nil, fmt.Errorf("decode %s: %w", name, err)
	}
	switch {
	case h.Version > FormatVersion:
		return nil, &newerFormatError{what: name, version: h.Version}
	case h.Version < 1:
		return nil, fmt.Errorf("decode %s: missing or invalid format version %d", name, h.Version)
	}
	if data, err = upgrade(data, h.Version, FormatVersion, upgrades); err != nil {
		return nil, fmt.Errorf("upgrade %s: %w", name, err)
	}
	s, ok := fastDecode(data)
	if !ok {
		s = &State{}
		if err := json.Unmarshal(data, s); err != nil {
			return nil, fmt.Errorf("decode %s: %w", name, describeJSONError(data, err))
		}
	}
	s.Version = FormatVersion
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("decode %s: %w", name, err)
	}
	return s, nil
}

// decodeSlow is Decode's second path alone, for tests comparing the two.
func decodeSlow(data []byte) (*State, error) {
	s := &State{}
	if err := json.Unmarshal(data, s); err != nil {
		return nil, err
	}
	return s, nil
}

// check validates a decoded State and fills what may be left out: nil maps
// and empty addresses (taken from the map key).
func (s *State) check() error {
	if s.Lineage == "" {
		return errors.New("missing lineage")
	}
	if s.Objects == nil {
		s.Objects = map[string]*Object{}
	}
	if s.Devices == nil {
		s.Devices = map[string]*Device{}
	}
	for k, o := range s.Objects {
		if o == nil {
			return fmt.Errorf("object %q is null", k)
		}
		if o.Address == "" {
			o.Address = k
		}
		if o.Address != k {
			return fmt.Errorf("object %q has address %q", k, o.Address)
		}
	}
	for k, d := range s.Devices {
		if d == nil {
			return fmt.Errorf("device %q is null", k)
		}
		if d.Address == "" {
			d.Address = k
		}
		if d.Address != k {
			return fmt.Errorf("device %q has address %q", k, d.Address)
		}
	}
	return nil
}

// Encode writes s as a version-FormatVersion state document: indented JSON
// with keys in a fixed order (objects and devices sorted by address), so the
// same State always gives the same bytes and diffs under version control
// stay readable. Encode streams; it does not build the whole document in
// memory.
func Encode(w io.Writer, s *State) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	b := make([]byte, 0, 64<<10)
	b = append(b, "{\n  \"version\": "...)
	b = strconv.AppendInt(b, FormatVersion, 10)
	b = append(b, ",\n  \"lineage\": "...)
	b = appendString(b, s.Lineage)
	b = append(b, ",\n  \"serial\": "...)
	b = strconv.AppendUint(b, s.Serial, 10)
	b = append(b, ",\n  \"objects\": "...)
	b, err := encodeMap(bw, b, "object", s.Objects, appendObject)
	if err != nil {
		return err
	}
	b = append(b, ",\n  \"devices\": "...)
	if b, err = encodeMap(bw, b, "device", s.Devices, appendDevice); err != nil {
		return err
	}
	b = append(b, "\n}\n"...)
	if _, err := bw.Write(b); err != nil {
		return err
	}
	return bw.Flush()
}

// encodeMap appends m as a JSON object at depth 1, its values at depth 2,
// in key order, writing b out to bw whenever it grows large.
func encodeMap[V any](bw *bufio.Writer, b []byte, what string, m map[string]V, appendValue func([]byte, int, V) ([]byte, error)) ([]byte, error) {
	if len(m) == 0 {
		return append(b, "{}"...), nil
	}
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = newline(b, 2)
		b = appendString(b, k)
		b = append(b, ": "...)
		var err error
		if b, err = appendValue(b, 2, m[k]); err != nil {
			return b, fmt.Errorf("encode %s %q: %w", what, k, err)
		}
		if len(b) >= 48<<10 {
			if _, err := bw.Write(b); err != nil {
				return b, err
			}
			b = b[:0]
		}
	}
	b = newline(b, 1)
	return append(b, '}'), nil
}
