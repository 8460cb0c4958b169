package ldif

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

// foldColumn is the width at which the Writer folds lines.
const foldColumn = 76

// Writer writes LDIF records that ldapmodify and our Reader accept: values
// that are not SAFE-STRINGs are base64-encoded, lines are folded at 76
// columns, records end with a blank line. Call Flush when done. A Writer is
// not safe for concurrent use.
type Writer struct {
	w   *bufio.Writer
	err error
	buf []byte
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 64<<10)}
}

// WriteVersion writes the "version: 1" header; call it first when the
// output starts a new file.
func (w *Writer) WriteVersion() error {
	w.writeString("version: 1\n\n")
	return w.err
}

// WriteComment writes text as comment lines ("# ..."), one per line of
// text; long lines are folded.
func (w *Writer) WriteComment(text string) error {
	for _, l := range strings.Split(text, "\n") {
		w.buf = append(w.buf[:0], "# "...)
		w.buf = append(w.buf, strings.ToValidUTF8(strings.ReplaceAll(l, "\r", ""), "?")...)
		w.fold(w.buf)
	}
	return w.err
}

// WriteRecord writes one record followed by a blank line.
func (w *Writer) WriteRecord(r *Record) error {
	w.line("dn", r.DN)
	for _, c := range r.Controls {
		w.line("control", c)
	}
	if r.ChangeType != "" {
		w.line("changetype", r.ChangeType)
	}
	switch r.ChangeType {
	case "", ChangeAdd:
		for _, a := range r.Attrs {
			for _, v := range a.Values {
				w.line(a.Name, v)
			}
		}
	case ChangeModify:
		for _, m := range r.Mods {
			w.line(m.Op, m.Attr.Name)
			for _, v := range m.Attr.Values {
				w.line(m.Attr.Name, v)
			}
			w.writeString("-\n")
		}
	case ChangeModRDN, ChangeModDN:
		w.line("newrdn", r.NewRDN)
		if r.DeleteOldRDN {
			w.line("deleteoldrdn", "1")
		} else {
			w.line("deleteoldrdn", "0")
		}
		if r.NewSuperior != "" {
			w.line("newsuperior", r.NewSuperior)
		}
	case ChangeDelete:
	default:
		if w.err == nil {
			w.err = fmt.Errorf("write record %s: unknown changetype %q", r.DN, r.ChangeType)
		}
	}
	w.writeString("\n")
	return w.err
}

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.w.Flush(); err != nil {
		w.err = fmt.Errorf("write ldif: %w", err)
	}
	return w.err
}

func (w *Writer) writeString(s string) {
	if w.err != nil {
		return
	}
	if _, err := w.w.WriteString(s); err != nil {
		w.err = fmt.Errorf("write ldif: %w", err)
	}
}

// line writes "name: value" or "name:: base64" folded.
func (w *Writer) line(name, value string) {
	w.buf = append(w.buf[:0], name...)
	if IsSafeString(value) {
		w.buf = append(w.buf, ':')
		if value != "" {
			w.buf = append(w.buf, ' ')
			w.buf = append(w.buf, value...)
		}
	} else {
		w.buf = append(w.buf, ":: "...)
		w.buf = base64.StdEncoding.AppendEncode(w.buf, []byte(value))
	}
	w.fold(w.buf)
}

// fold writes b as one logical line folded at foldColumn. Folding never
// splits a UTF-8 sequence (only comments may hold non-ASCII).
func (w *Writer) fold(b []byte) {
	if w.err != nil {
		return
	}
	width := foldColumn
	for len(b) > width {
		cut := width
		for cut > 1 && b[cut]&0xC0 == 0x80 {
			cut--
		}
		w.writeBytes(b[:cut])
		w.writeString("\n ")
		b = b[cut:]
		width = foldColumn - 1
	}
	w.writeBytes(b)
	w.writeString("\n")
}

func (w *Writer) writeBytes(b []byte) {
	if w.err != nil {
		return
	}
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("write ldif: %w", err)
	}
}

// IsSafeString reports whether v may be written as a plain value (RFC 2849
// SAFE-STRING): ASCII without NUL, CR or LF, not starting with a space, ':'
// or '<', and (our rule, so that no tool trims it) not ending with a space.
func IsSafeString(v string) bool {
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
		if c == 0 || c == '\n' || c == '\r' || c >= 0x80 {
			return false
		}
	}
	return true
}
