package ldif

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// DefaultMaxLineBytes bounds one logical (unfolded) line and so one value.
const DefaultMaxLineBytes = 64 << 20

// Error is a problem at a line of an LDIF file. Its message says what to do.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// ReaderOptions tune a Reader; the zero value is the strict default.
type ReaderOptions struct {
	// AllowFileURLs lets "attr:< file://..." values be read from local
	// files: file:///abs/path, or file:rel/path relative to BaseDir. When
	// false (the default) such values are an error. Other URL schemes are
	// always refused.
	AllowFileURLs bool
	// BaseDir resolves relative file URLs; empty means the working
	// directory.
	BaseDir string
	// MaxLineBytes bounds a logical line and a file-URL value; 0 means
	// DefaultMaxLineBytes.
	MaxLineBytes int
}

// Reader reads LDIF records from a stream (RFC 2849), one at a time; it
// never holds more than one record. It is not safe for concurrent use.
type Reader struct {
	br   *bufio.Reader
	name string
	opts ReaderOptions

	line    int    // number of the last physical line read
	buf     []byte // current logical line
	started bool
	enc     textEncoding // of the input; br yields UTF-8 (see start)
	intern  map[string]*internedName
	head    internedName  // its next is the name a record's first line had last time
	prev    *internedName // name of the previous line; its next predicts this one
	records int           // records returned so far
	scratch []byte        // base64 decoding buffer
	attrs   []Attr        // reused while building a record
	lowers  []string      // reused while building a record

	// Offsets for re-reading one record (see reread).
	off      int64 // bytes consumed from br (UTF-8, after a UTF-16 file's decoding)
	logStart int64 // offset of the current logical line
	recOff   int64 // offset of the last record's first ("dn:") line

	// filter, when set, lets an entry's attribute values be checked but
	// not kept (see attrFilter); dropped counts those of the last record.
	filter  attrFilter
	dropAll bool
	dropped int
	vals    []byte // the current block of kept values (see keepValue)
	// With a filter, Next reuses one Record and its Attrs, and the first
	// values of attributes come from a shared block of strings.
	rec      Record
	recAttrs []Attr
	strs     []string
}

// attrFilter chooses, for a Reader used by Discover, which attribute values
// of entries are kept: values of the others are checked (base64, file
// URLs) exactly as when kept, so the same files fail, but never become
// strings. Change records are never filtered.
type attrFilter interface {
	// keepRecord is called with the DN of each record; false drops all of
	// its attribute values.
	keepRecord(dn string) bool
	// keepAttr reports whether values of the attribute (lower-cased
	// description, options included) are kept. It is asked once per
	// distinct description.
	keepAttr(lower string) bool
}

// NewReader returns a Reader over r; name (usually the file name) prefixes
// error messages. r holds UTF-8, or UTF-16 with a byte order mark (as
// "ldifde -u" writes it), which the Reader decodes as it reads; other
// encodings fail at their first line (see the package documentation).
func NewReader(r io.Reader, name string, opts ReaderOptions) *Reader {
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = DefaultMaxLineBytes
	}
	return &Reader{
		br:     bufio.NewReaderSize(r, 64<<10),
		name:   name,
		opts:   opts,
		intern: make(map[string]*internedName, 64),
	}
}

func (r *Reader) errorf(line int, format string, args ...any) error {
	return &Error{File: r.name, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// readPhysical appends the next physical line (without CR LF) to dst.
// It returns io.EOF only when no byte was left.
func (r *Reader) readPhysical(dst []byte) ([]byte, error) {
	start := len(dst)
	for {
		chunk, err := r.br.ReadSlice('\n')
		r.off += int64(len(chunk))
		dst = append(dst, chunk...)
		if len(dst)-start > r.opts.MaxLineBytes {
			return dst, r.errorf(r.line+1, "line longer than %d bytes; split the value or raise the limit", r.opts.MaxLineBytes)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			if len(dst) == start {
				return dst, io.EOF
			}
		} else if err != nil {
			if ee := (*encodingError)(nil); errors.As(err, &ee) { // declared here: it escapes
				return dst, r.errorf(r.line+1, "%s", ee.msg)
			}
			return dst, fmt.Errorf("read %s: %w", r.name, err)
		}
		r.line++
		dst = dst[:len(dst)-trailingEOL(dst[start:])]
		return dst, nil
	}
}

func trailingEOL(b []byte) int {
	n := 0
	if len(b) > 0 && b[len(b)-1] == '\n' {
		n++
		b = b[:len(b)-1]
	}
	if len(b) > 0 && b[len(b)-1] == '\r' {
		n++
	}
	return n
}

// continues reports whether the next physical line starts with a space.
func (r *Reader) continues() bool {
	b, err := r.br.Peek(1)
	return err == nil && b[0] == ' '
}

// readLogical returns the next logical line (unfolded, comments skipped)
// and its first line number; an empty line is a record separator.
func (r *Reader) readLogical() ([]byte, int, error) {
	if !r.started {
		if err := r.start(); err != nil {
			return nil, 1, err
		}
	}
	for {
		r.logStart = r.off
		var err error
		r.buf, err = r.readPhysical(r.buf[:0])
		if err != nil {
			return nil, r.line, err
		}
		number := r.line
		if len(r.buf) > 0 && r.buf[0] == '#' {
			for r.continues() { // a folded comment
				if r.buf, err = r.readPhysical(r.buf[:0]); err != nil {
					return nil, r.line, err
				}
			}
			continue
		}
		if len(r.buf) > 0 && r.buf[0] == ' ' {
			if len(bytes.TrimLeft(r.buf, " ")) == 0 {
				return r.buf[:0], number, nil // a line of spaces separates records too
			}
			return nil, number, r.errorf(number, "line starts with a space but continues nothing; remove the leading space or join it to the line above")
		}
		for r.continues() {
			n := len(r.buf)
			if r.buf, err = r.readPhysical(r.buf); err != nil {
				if err == io.EOF {
					break
				}
				return nil, r.line, err
			}
			r.buf = append(r.buf[:n], r.buf[n+1:]...) // drop the folding space
			if len(r.buf) > r.opts.MaxLineBytes {
				return nil, number, r.errorf(number, "line longer than %d bytes; split the value or raise the limit", r.opts.MaxLineBytes)
			}
		}
		return r.buf, number, nil
	}
}

// start tells the input's encoding from its first bytes and skips a byte
// order mark: UTF-8 is read as it is, UTF-16 (LE or BE, with its mark, as
// "ldifde -u" writes it) through a decoder to UTF-8; other encodings are
// an error at line 1 that names them.
func (r *Reader) start() error {
	r.started = true
	head, _ := r.br.Peek(4) // fewer at the end of a short file
	enc, bom, msg := sniffEncoding(head)
	if msg != "" {
		return r.errorf(1, "%s", msg)
	}
	n, _ := r.br.Discard(bom)
	r.enc = enc
	if enc == encUTF8 {
		r.off += int64(n)
		return nil
	}
	r.br = bufio.NewReaderSize(newUTF16Reader(r.br, enc), 64<<10)
	return nil
}

// field is one parsed "name: value" line.
type field struct {
	name    string
	lower   string
	value   string
	line    int
	dropped bool // the value was checked but not kept (attrFilter)
}

// parseLine splits a logical line into attribute description and value,
// decoding base64 and file URLs. With filtering set (an entry's attribute
// line under an attrFilter), a value the filter does not want is checked
// but not kept.
func (r *Reader) parseLine(b []byte, number int, filtering bool) (field, error) {
	if msg := checkText(b); msg != "" {
		return field{}, r.errorf(number, "%s", msg)
	}
	colon := bytes.IndexByte(b, ':')
	if colon <= 0 {
		return field{}, r.errorf(number, "expected \"name: value\", found %q; check for a value wrapped onto a new line without a leading space", clip(b))
	}
	nameB := b[:colon]
	if !validName(nameB) {
		return field{}, r.errorf(number, "invalid attribute name %q; names are letters, digits, '-' and ';options'", clip(nameB))
	}
	in := r.internName(nameB)
	name := in.name
	rest := b[colon+1:]
	if filtering && in.filtered && (r.dropAll || !in.keep) {
		return r.checkValue(in, rest, number)
	}
	switch {
	case len(rest) > 0 && rest[0] == ':':
		enc := bytes.Trim(rest[1:], " ")
		if need := base64.StdEncoding.DecodedLen(len(enc)); cap(r.scratch) < need {
			r.scratch = make([]byte, need)
		}
		dec := r.scratch[:cap(r.scratch)]
		n, err := base64.StdEncoding.Decode(dec, enc)
		if err != nil {
			return field{}, r.errorf(number, "value of %q is not valid base64: %v; re-export the file (ldifde -f or ldapsearch -LLL) or fix the value by hand", name, err)
		}
		return field{name: name, lower: in.lower, value: r.keepValue(dec[:n]), line: number}, nil
	case len(rest) > 0 && rest[0] == '<':
		v, err := r.readURL(name, string(bytes.Trim(rest[1:], " ")), number)
		return field{name: name, lower: in.lower, value: v, line: number}, err
	default:
		return field{name: name, lower: in.lower, value: r.keepValue(trimLeftSpace(rest)), line: number}, nil
	}
}

// internName returns the interned attribute description b. Records of an
// export list their attributes in much the same order, so the name that
// followed the previous line's name last time is tried before the map.
func (r *Reader) internName(b []byte) *internedName {
	if in := r.prev.next; in != nil && in.name == string(b) {
		r.prev = in
		return in
	}
	in := r.intern[string(b)]
	if in == nil {
		in = &internedName{name: string(b)}
		in.lower = strings.ToLower(in.name)
		in.keep = true
		if r.filter != nil && in.lower != "changetype" && in.lower != "control" {
			in.keep = r.filter.keepAttr(in.lower)
			in.filtered = true
		}
		if len(r.intern) < 4096 {
			r.intern[in.name] = in
		}
	}
	r.prev.next, r.prev = in, in
	return in
}

// valueBlock is the size of the blocks that hold a filtering Reader's
// values.
const valueBlock = 32 << 10

// keepValue returns b as a string. A Reader with an attrFilter (Discover)
// copies values into shared blocks instead of one allocation each: bytes
// are only ever appended to a block, never changed, so the strings stay
// valid; a block lives as long as any of its values.
func (r *Reader) keepValue(b []byte) string {
	if r.filter == nil || len(b) == 0 || len(b) > valueBlock/4 {
		return string(b)
	}
	if cap(r.vals)-len(r.vals) < len(b) {
		r.vals = make([]byte, 0, valueBlock)
	}
	start := len(r.vals)
	r.vals = append(r.vals, b...)
	return unsafe.String(&r.vals[start], len(b))
}

// checkValue fails exactly where parseLine would for the value rest of
// the attribute in, without keeping the value: base64 is decoded into the
// scratch buffer, a file URL is read and dropped.
func (r *Reader) checkValue(in *internedName, rest []byte, number int) (field, error) {
	f := field{name: in.name, lower: in.lower, line: number, dropped: true}
	switch {
	case len(rest) > 0 && rest[0] == ':':
		enc := bytes.Trim(rest[1:], " ")
		if need := base64.StdEncoding.DecodedLen(len(enc)); cap(r.scratch) < need {
			r.scratch = make([]byte, need)
		}
		if _, err := base64.StdEncoding.Decode(r.scratch[:cap(r.scratch)], enc); err != nil {
			return field{}, r.errorf(number, "value of %q is not valid base64: %v; re-export the file (ldifde -f or ldapsearch -LLL) or fix the value by hand", in.name, err)
		}
	case len(rest) > 0 && rest[0] == '<':
		if _, err := r.readURL(in.name, string(bytes.Trim(rest[1:], " ")), number); err != nil {
			return field{}, err
		}
	}
	return f, nil
}

// validName reports whether b is an attribute description the Reader
// accepts (and so the Writer may write): letters, digits, '-', '.', '_'
// and options after ';' such as "range=1500-*" as AD writes them.
func validName[T string | []byte](b T) bool {
	if len(b) == 0 {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == ';' || c == '=' || c == '.' || c == '_' || c == '*') {
			return false
		}
	}
	return true
}

func trimLeftSpace(b []byte) []byte {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	return b
}

func clip(b []byte) string {
	if len(b) > 60 {
		b = b[:60]
	}
	s := string(b)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	return s
}

func (r *Reader) readURL(name, raw string, number int) (string, error) {
	if !r.opts.AllowFileURLs {
		return "", r.errorf(number, "value of %q refers to URL %q; URL values are not read here, put the value inline (base64 with \"::\" for binary)", name, raw)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "file" || (u.Host != "" && u.Host != "localhost") {
		return "", r.errorf(number, "value of %q refers to %q; only file:///absolute/path or file:relative/path URLs are supported", name, raw)
	}
	p := u.Path
	if p == "" {
		p = u.Opaque
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(r.opts.BaseDir, p)
	}
	f, err := os.Open(p)
	if err != nil {
		return "", r.errorf(number, "value of %q: %v; check the file URL", name, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return "", r.errorf(number, "value of %q: %s is not a regular file", name, p)
	}
	data, err := io.ReadAll(io.LimitReader(f, int64(r.opts.MaxLineBytes)+1))
	if err != nil {
		return "", r.errorf(number, "value of %q: read %s: %v", name, p, err)
	}
	if len(data) > r.opts.MaxLineBytes {
		return "", r.errorf(number, "value of %q: %s is larger than %d bytes", name, p, r.opts.MaxLineBytes)
	}
	return string(data), nil
}

// Next returns the next record, or io.EOF after the last one. Errors are
// *Error values naming the file and line (I/O errors are wrapped as is).
// After an error the Reader should not be used further. (A Reader with an
// attrFilter, which only the provider makes, reuses the Record: it is
// valid until the next call; its values stay valid.)
func (r *Reader) Next() (*Record, error) {
	// Skip separators; the first line of the file may be "version: 1".
	var line []byte
	var number int
	var err error
	for {
		line, number, err = r.readLogical()
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			continue
		}
		if r.records == 0 && bytes.HasPrefix(line, []byte("version:")) {
			v := strings.TrimSpace(string(line[len("version:"):]))
			if v != "1" {
				return nil, r.errorf(number, "unsupported LDIF version %q; only version 1 exists", v)
			}
			continue
		}
		break
	}
	r.recOff = r.logStart
	r.prev = &r.head
	f, err := r.parseLine(line, number, false)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(f.name, "dn") {
		return nil, r.errorf(number, "expected \"dn:\" to start a record, found %q; records are separated by one blank line and start with their DN", f.name)
	}
	var rec *Record
	if r.filter != nil {
		// Discover's Reader: the caller is done with the last record.
		r.rec = Record{DN: f.value, Line: number}
		rec = &r.rec
	} else {
		rec = &Record{DN: f.value, Line: number}
	}
	if !utf8.ValidString(rec.DN) {
		return nil, r.errorf(number, "the base64 DN is not valid UTF-8; %s", howToFix)
	}
	r.dropped = 0
	r.dropAll = r.filter != nil && !r.filter.keepRecord(rec.DN)
	first := true
	var mod *Mod
	ab := attrBuilder{attrs: r.attrs[:0], lowers: r.lowers[:0]}
	if r.filter != nil {
		ab.arena, ab.block = r.strs, 1024 // values from one block across records
	}
	for {
		line, number, err = r.readLogical()
		if err == io.EOF || (err == nil && len(line) == 0) {
			break
		}
		if err != nil {
			return nil, err
		}
		if rec.ChangeType == ChangeModify && len(bytes.TrimRight(line, " ")) == 1 && line[0] == '-' {
			if mod == nil {
				return nil, r.errorf(number, "\"-\" without a modification before it; start with \"add:\", \"replace:\" or \"delete:\"")
			}
			rec.Mods = append(rec.Mods, *mod)
			mod = nil
			continue
		}
		f, err := r.parseLine(line, number, r.filter != nil && (rec.ChangeType == "" || rec.ChangeType == ChangeAdd))
		if err != nil {
			return nil, err
		}
		if first && strings.EqualFold(f.name, "control") {
			rec.Controls = append(rec.Controls, f.value)
			continue
		}
		if first && strings.EqualFold(f.name, "changetype") {
			first = false
			ct := strings.ToLower(strings.TrimSpace(f.value))
			switch ct {
			case ChangeAdd, ChangeDelete, ChangeModify, ChangeModRDN, ChangeModDN:
				rec.ChangeType = ct
			default:
				return nil, r.errorf(number, "unknown changetype %q; use add, delete, modify, modrdn or moddn", f.value)
			}
			continue
		}
		first = false
		switch rec.ChangeType {
		case "", ChangeAdd:
			if f.dropped {
				r.dropped++
				continue
			}
			ab.add(f.name, f.lower, f.value)
		case ChangeDelete:
			return nil, r.errorf(number, "a delete record has no attributes, found %q; end the record with a blank line", f.name)
		case ChangeModRDN, ChangeModDN:
			switch strings.ToLower(f.name) {
			case "newrdn":
				rec.NewRDN = f.value
			case "deleteoldrdn":
				switch strings.TrimSpace(f.value) {
				case "0":
					rec.DeleteOldRDN = false
				case "1":
					rec.DeleteOldRDN = true
				default:
					return nil, r.errorf(number, "deleteoldrdn must be 0 or 1, found %q", f.value)
				}
			case "newsuperior":
				rec.NewSuperior = f.value
			default:
				return nil, r.errorf(number, "unexpected %q in a %s record; only newrdn, deleteoldrdn and newsuperior belong there", f.name, rec.ChangeType)
			}
		case ChangeModify:
			if mod == nil {
				op := strings.ToLower(f.name)
				switch op {
				case ModAdd, ModDelete, ModReplace, ModIncrement:
				default:
					return nil, r.errorf(number, "expected \"add:\", \"replace:\" or \"delete:\" to start a modification, found %q", f.name)
				}
				attr := strings.TrimSpace(f.value)
				if attr == "" {
					return nil, r.errorf(number, "%q needs the attribute name", f.name)
				}
				mod = &Mod{Op: op, Attr: Attr{Name: attr}}
				continue
			}
			if !strings.EqualFold(f.name, mod.Attr.Name) {
				return nil, r.errorf(number, "value for %q inside the %q modification of %q; end each modification with a line \"-\"", f.name, mod.Op, mod.Attr.Name)
			}
			mod.Attr.Values = append(mod.Attr.Values, f.value)
		}
	}
	if r.filter != nil {
		rec.Attrs = append(r.recAttrs[:0], ab.attrs...)
		r.recAttrs, r.strs = rec.Attrs, ab.arena
	} else if len(ab.attrs) > 0 {
		rec.Attrs = make([]Attr, len(ab.attrs)) // exact size; the builder's slices are reused
		copy(rec.Attrs, ab.attrs)
	}
	clear(ab.attrs) // drop references to this record's values
	r.attrs, r.lowers = ab.attrs[:0], ab.lowers[:0]
	if mod != nil { // tolerate a missing final "-"
		rec.Mods = append(rec.Mods, *mod)
	}
	switch rec.ChangeType {
	case ChangeModRDN, ChangeModDN:
		if rec.NewRDN == "" {
			return nil, r.errorf(rec.Line, "%s record without \"newrdn:\"", rec.ChangeType)
		}
	}
	r.records++
	return rec, nil
}

// internedName is an attribute description read before, with its
// lower-cased form and, under an attrFilter, whether its values are kept.
type internedName struct {
	name, lower string
	keep        bool // attrFilter.keepAttr said yes (always true without a filter)
	filtered    bool // the filter applies (not to changetype and control)
	next        *internedName
}

// attrBuilder collects the attributes of an entry with few allocations:
// the first value of each attribute lives in a shared arena (capacity-capped
// so that appending a second value copies), and names compare by their
// interned lower-case form. An attribute repeated further down the record
// is merged.
type attrBuilder struct {
	attrs  []Attr
	lowers []string
	arena  []string
	block  int // when > 0, arena is shared by records: a new one of this size when full
}

func (b *attrBuilder) add(name, lower, value string) {
	if b.arena == nil {
		b.arena = make([]string, 0, 20)
	}
	if b.block > 0 && len(b.arena) == cap(b.arena) {
		b.arena = make([]string, 0, b.block) // the full one stays with its values
	}
	if n := len(b.lowers); n > 0 && b.lowers[n-1] == lower {
		if v := b.attrs[n-1].Values; cap(v) == 1 { // the first from the arena: objectClass has 4 or so
			b.attrs[n-1].Values = append(make([]string, 0, 4), v[0], value)
			return
		}
		b.attrs[n-1].Values = append(b.attrs[n-1].Values, value)
		return
	}
	for i := range b.lowers {
		if b.lowers[i] == lower {
			b.attrs[i].Values = append(b.attrs[i].Values, value)
			return
		}
	}
	b.arena = append(b.arena, value)
	k := len(b.arena)
	b.attrs = append(b.attrs, Attr{Name: name, Values: b.arena[k-1 : k : k]})
	b.lowers = append(b.lowers, lower)
}

// reread parses again, in full and without the filter, the record Next
// returned last, from ra: the bytes the Reader reads (the *os.File it was
// made on). line is that record's Line. A UTF-16 file is decoded again from
// its start up to the record, since its offsets count decoded bytes (the
// provider rereads at most once per file).
func (r *Reader) reread(ra io.ReaderAt, line int) (*Record, error) {
	opts := r.opts
	var sub *Reader
	if r.enc == encUTF8 {
		sub = NewReader(io.NewSectionReader(ra, r.recOff, math.MaxInt64-r.recOff), r.name, opts)
		sub.started = true
	} else {
		sub = NewReader(io.NewSectionReader(ra, 0, math.MaxInt64), r.name, opts)
		if err := sub.start(); err != nil {
			return nil, err
		}
		if _, err := io.CopyN(io.Discard, sub.br, r.recOff); err != nil {
			return nil, fmt.Errorf("read %s again: %w", r.name, err)
		}
	}
	sub.line, sub.records = line-1, 1
	return sub.Next()
}

// ReadAll reads every record of r.
func ReadAll(r *Reader) ([]*Record, error) {
	var out []*Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}
