package ldifwrite

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Style selects which tool's export a Writer imitates.
type Style int

const (
	// StyleLDIFDE writes records as `ldifde -f` does: every record is an
	// add change record ("changetype: add" right after the dn line).
	StyleLDIFDE Style = iota
	// StyleLDAPSearch writes plain content records as `ldapsearch -LLL`
	// does: no changetype line, no version line.
	StyleLDAPSearch
)

// DefaultWidth is the physical line width at which values are folded, as
// ldapsearch and most LDIF tools do.
const DefaultWidth = 76

// minWidth is the smallest width that leaves room for a continuation space
// and a four-byte UTF-8 rune on every continuation line.
const minWidth = 8

// Options configures a Writer. The zero value writes ldifde-style records
// folded at DefaultWidth.
type Options struct {
	Style Style
	// Width is the maximum length of a physical line in bytes; 0 means
	// DefaultWidth. Values below 8 are raised to 8.
	Width int
}

// ErrNoRecord is reported when Attr or Binary is called outside a record.
var ErrNoRecord = errors.New("attribute outside a record")

// Writer streams LDIF records to an io.Writer through a buffer.
//
// Errors are sticky, as with bufio.Writer: after the first failure every
// call is a no-op and Err and Flush return that error. A Writer is not safe
// for concurrent use.
type Writer struct {
	buf     *bufio.Writer
	style   Style
	width   int
	col     int // bytes on the current physical line
	inRec   bool
	started bool // something has been written (a record or a comment)
	records int
	err     error
	scratch []byte
}

// NewWriter returns a Writer that writes to w with the given options.
func NewWriter(w io.Writer, opts Options) *Writer {
	width := opts.Width
	if width == 0 {
		width = DefaultWidth
	}
	width = max(width, minWidth)
	return &Writer{buf: bufio.NewWriterSize(w, 64<<10), style: opts.Style, width: width}
}

// Comment writes text as comment lines ("# ..."), one per line of text.
// Comments are written between records only; inside a record Comment fails.
// Comment lines are folded like values (a continuation of a comment is
// still part of the comment, RFC 2849 section "Notes").
func (w *Writer) Comment(text string) {
	if w.err != nil {
		return
	}
	if w.inRec {
		w.err = errors.New("comment inside a record")
		return
	}
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			w.emit("#")
		} else {
			w.emit("# ")
			w.emit(line)
		}
		w.endLine()
	}
	w.started = true
}

// Begin starts a record for dn, ending the previous one if it is still
// open. The dn is base64-encoded when it is not a safe string.
func (w *Writer) Begin(dn string) {
	if w.err != nil {
		return
	}
	if w.inRec {
		w.End()
	}
	if w.started {
		w.endLine() // blank line separates records (and a header comment)
	}
	w.value("dn", dn)
	if w.style == StyleLDIFDE {
		w.emit("changetype: add")
		w.endLine()
	}
	w.inRec = true
	w.started = true
	w.records++
}

// Attr writes one line per value of the attribute name in the current
// record. Values that are not safe strings are base64-encoded. Attr with no
// values writes nothing (LDIF has no way to say "present but empty" other
// than an empty value, which must be passed explicitly as "").
func (w *Writer) Attr(name string, values ...string) {
	if w.err != nil {
		return
	}
	if !w.inRec {
		w.err = fmt.Errorf("write %s: %w", name, ErrNoRecord)
		return
	}
	if err := checkName(name); err != nil {
		w.err = err
		return
	}
	for _, v := range values {
		w.value(name, v)
	}
}

// Binary writes value base64-encoded ("name:: ..."), as AD tools export
// binary attributes such as objectGUID and objectSid regardless of content.
func (w *Writer) Binary(name string, value []byte) {
	if w.err != nil {
		return
	}
	if !w.inRec {
		w.err = fmt.Errorf("write %s: %w", name, ErrNoRecord)
		return
	}
	if err := checkName(name); err != nil {
		w.err = err
		return
	}
	w.base64Line(name, value)
}

// End closes the current record. Calling it outside a record does nothing.
func (w *Writer) End() {
	w.inRec = false
}

// Records returns the number of records begun so far.
func (w *Writer) Records() int { return w.records }

// Err returns the first error met, if any.
func (w *Writer) Err() error { return w.err }

// Flush ends the open record and writes buffered data to the underlying
// writer.
func (w *Writer) Flush() error {
	w.End()
	if w.err != nil {
		return w.err
	}
	if err := w.buf.Flush(); err != nil {
		w.err = fmt.Errorf("flush ldif: %w", err)
	}
	return w.err
}

// value writes "name: v" or, when v is not a safe string, "name:: base64".
func (w *Writer) value(name, v string) {
	if !IsSafe(v) {
		w.base64Line(name, []byte(v))
		return
	}
	w.emit(name)
	if v == "" {
		w.emit(":")
	} else {
		w.emit(": ")
		w.emit(v)
	}
	w.endLine()
}

func (w *Writer) base64Line(name string, b []byte) {
	n := base64.StdEncoding.EncodedLen(len(b))
	if cap(w.scratch) < n {
		w.scratch = make([]byte, n)
	}
	enc := w.scratch[:n]
	base64.StdEncoding.Encode(enc, b)
	w.emit(name)
	w.emit(":: ")
	w.emitBytes(enc)
	w.endLine()
}

// emit appends s to the current logical line, folding the physical line
// at the width without splitting a UTF-8 sequence.
func (w *Writer) emit(s string) {
	for len(s) > 0 {
		room := w.width - w.col
		if room <= 0 {
			w.fold()
			room = w.width - w.col
		}
		n := min(room, len(s))
		if n < len(s) {
			for n > 0 && !utf8.RuneStart(s[n]) {
				n--
			}
			if n == 0 {
				// The next rune does not fit on this line: fold before it.
				w.fold()
				continue
			}
		}
		w.buf.WriteString(s[:n])
		w.col += n
		s = s[n:]
	}
}

// emitBytes is emit for ASCII bytes (base64 text), without rune checks.
func (w *Writer) emitBytes(b []byte) {
	for len(b) > 0 {
		room := w.width - w.col
		if room <= 0 {
			w.fold()
			room = w.width - w.col
		}
		n := min(room, len(b))
		w.buf.Write(b[:n])
		w.col += n
		b = b[n:]
	}
}

func (w *Writer) fold() {
	w.buf.WriteString("\n ")
	w.col = 1
}

func (w *Writer) endLine() {
	w.buf.WriteByte('\n')
	w.col = 0
}

// IsSafe reports whether v can be written as an LDIF SAFE-STRING (RFC 2849):
// only ASCII without NUL, LF or CR, not starting with space, colon or
// less-than. Values ending in a space are also reported unsafe, because
// many readers trim trailing blanks.
func IsSafe(v string) bool {
	if v == "" {
		return true
	}
	switch v[0] {
	case ' ', ':', '<':
		return false
	}
	if v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == 0 || c == '\n' || c == '\r' || c > 127 {
			return false
		}
	}
	return true
}

// checkName accepts an AttributeDescription: a letter, then letters, digits
// and hyphens, optionally followed by ";option" parts, or a numeric OID.
func checkName(name string) error {
	if name == "" {
		return errors.New("empty attribute name")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
			i > 0 && (c >= '0' && c <= '9' || c == '-' || c == ';' || c == '.') ||
			i == 0 && c >= '0' && c <= '9'
		if !ok {
			return fmt.Errorf("invalid attribute name %q", name)
		}
	}
	return nil
}
