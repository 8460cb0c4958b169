package ldif

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// textEncoding is the encoding of a Reader's input, told by its first
// bytes (see Reader.start).
type textEncoding uint8

const (
	encUTF8 textEncoding = iota
	encUTF16LE
	encUTF16BE
)

func (e textEncoding) String() string {
	switch e {
	case encUTF16LE:
		return "UTF-16LE"
	case encUTF16BE:
		return "UTF-16BE"
	}
	return "UTF-8"
}

// howToFix ends every encoding error: what the user can do about it.
const howToFix = "re-export the directory with ldifde -u (UTF-16 with a byte order mark) or ldapsearch -LLL, or convert the file to UTF-8"

// sniffEncoding tells the encoding from the first bytes of the input
// (fewer than 4 at the end of a short file). bom is the number of bytes of
// a byte order mark to skip. An encoding the Reader cannot read is an
// error message naming it; the caller adds file and line 1.
func sniffEncoding(b []byte) (enc textEncoding, bom int, msg string) {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return encUTF8, 3, ""
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE, 0, 0}):
		return 0, 0, "the file is UTF-32LE (it starts with a UTF-32 byte order mark), which is not read here; " + howToFix + " (iconv -f UTF-32 -t UTF-8)"
	case bytes.HasPrefix(b, []byte{0, 0, 0xFE, 0xFF}):
		return 0, 0, "the file is UTF-32BE (it starts with a UTF-32 byte order mark), which is not read here; " + howToFix + " (iconv -f UTF-32 -t UTF-8)"
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return encUTF16LE, 2, ""
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return encUTF16BE, 2, ""
	// LDIF starts with ASCII ("dn:", "version:", "#", a line end), so NUL
	// bytes next to it give the width and byte order away.
	case len(b) >= 4 && b[0] != 0 && b[1] == 0 && b[2] == 0 && b[3] == 0:
		return 0, 0, "the file looks like UTF-32LE without a byte order mark (three NUL bytes after each character), which is not read here; " + howToFix + " (iconv -f UTF-32LE -t UTF-8)"
	case len(b) >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] != 0:
		return 0, 0, "the file looks like UTF-32BE without a byte order mark (three NUL bytes before each character), which is not read here; " + howToFix + " (iconv -f UTF-32BE -t UTF-8)"
	case len(b) >= 2 && b[0] != 0 && b[1] == 0:
		return 0, 0, "the file looks like UTF-16LE without a byte order mark (a NUL byte after each ASCII character), which is not read here; " + howToFix + " (iconv -f UTF-16LE -t UTF-8)"
	case len(b) >= 2 && b[0] == 0 && b[1] != 0:
		return 0, 0, "the file looks like UTF-16BE without a byte order mark (a NUL byte before each ASCII character), which is not read here; " + howToFix + " (iconv -f UTF-16BE -t UTF-8)"
	}
	return encUTF8, 0, ""
}

// checkText reports, as an error message, a logical line that is not
// UTF-8 text: invalid UTF-8 or a NUL byte (LDIF's SAFE-CHAR excludes it;
// binary values are base64). It returns "" for a valid line.
func checkText(b []byte) string {
	// Fast path, one pass: lines are nearly always ASCII without NUL, and
	// every line is checked. A word has a byte outside 0x01-0x7F when its
	// own high bit or, through a borrow from a zero byte, that of w-0x01…
	// is set.
	plain := func(w uint64) bool { return (w|(w-0x0101010101010101))&0x8080808080808080 == 0 }
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if !plain(binary.LittleEndian.Uint64(b[i:])) {
			break
		}
	}
	switch {
	case i == len(b):
		return ""
	case i+8 > len(b) && len(b) >= 8: // the tail, as the last 8 bytes
		if plain(binary.LittleEndian.Uint64(b[len(b)-8:])) {
			return ""
		}
	case len(b) < 8:
		for ; i < len(b); i++ {
			if c := b[i]; c == 0 || c >= utf8.RuneSelf {
				break
			}
		}
		if i == len(b) {
			return ""
		}
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return fmt.Sprintf("NUL byte at column %d: LDIF text cannot hold one (binary values are base64, \"::\"); if the file is UTF-16 or UTF-32 without a byte order mark, %s", i+1, howToFix)
	}
	if utf8.Valid(b) {
		return ""
	}
	for i = 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			break
		}
		i += n
	}
	return fmt.Sprintf("the line is not valid UTF-8 (byte 0x%02X at column %d); the file may be in a legacy code page such as Windows-1252: %s (iconv -f WINDOWS-1252 -t UTF-8)", b[i], i+1, howToFix)
}

// encodingError is a UTF-16 input that cannot be decoded; the Reader
// turns it into an *Error at the line being read.
type encodingError struct{ msg string }

func (e *encodingError) Error() string { return e.msg }

// utf16Reader decodes UTF-16 (after its byte order mark) to UTF-8 as it is
// read, so a Reader streams UTF-16 files as it streams UTF-8 ones. Text
// decoded before a decoding error is returned first, then the error.
type utf16Reader struct {
	src  io.Reader
	enc  textEncoding // encUTF16LE or encUTF16BE
	in   []byte       // raw bytes; in[r:w] not decoded yet
	r, w int
	out  []byte // decoded bytes not returned yet
	buf  []byte // out's storage
	eof  bool   // src is exhausted
	err  error  // to return once out is drained: src's error or an *encodingError
}

const utf16Chunk = 32 << 10

func newUTF16Reader(src io.Reader, enc textEncoding) *utf16Reader {
	return &utf16Reader{
		src: src,
		enc: enc,
		in:  make([]byte, utf16Chunk),
		buf: make([]byte, 0, utf16Chunk/2*3+4), // a unit makes at most 3 bytes; a pair 4
	}
}

func (d *utf16Reader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		d.fill()
		d.decode()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

// fill reads more raw bytes after the undecoded rest.
func (d *utf16Reader) fill() {
	if d.eof {
		return
	}
	d.w = copy(d.in, d.in[d.r:d.w])
	d.r = 0
	n, err := d.src.Read(d.in[d.w:])
	d.w += n
	switch {
	case err == io.EOF:
		d.eof = true
	case err != nil:
		d.eof, d.err = true, err
	}
}

func (d *utf16Reader) unit(b []byte) rune {
	if d.enc == encUTF16BE {
		return rune(b[0])<<8 | rune(b[1])
	}
	return rune(b[1])<<8 | rune(b[0])
}

// decode turns the complete units of in[r:w] into out, leaving a lone
// trailing byte or high surrogate for the next fill; at the end of the
// input, or at a unit that cannot be decoded, it sets err.
func (d *utf16Reader) decode() {
	out := d.buf[:0]
	in := d.in[d.r:d.w]
	i := 0
	for ; i+1 < len(in); i += 2 {
		if i+8 <= len(in) { // four ASCII units at once, the common case
			w := binary.LittleEndian.Uint64(in[i:])
			if d.enc == encUTF16LE && w&0xFF80FF80FF80FF80 == 0 {
				out = append(out, byte(w), byte(w>>16), byte(w>>32), byte(w>>48))
				i += 6
				continue
			}
			if d.enc == encUTF16BE && w&0x80FF80FF80FF80FF == 0 {
				out = append(out, byte(w>>8), byte(w>>24), byte(w>>40), byte(w>>56))
				i += 6
				continue
			}
		}
		u := d.unit(in[i:])
		switch {
		case u < utf8.RuneSelf:
			out = append(out, byte(u))
			continue
		case !utf16.IsSurrogate(u):
			out = utf8.AppendRune(out, u)
			continue
		case u >= 0xDC00:
			d.fail(fmt.Sprintf("a low surrogate 0x%04X without a high one before it", u))
		case i+3 >= len(in):
			if d.eof {
				d.fail(fmt.Sprintf("the file ends after the high surrogate 0x%04X", u))
			}
		default:
			v := d.unit(in[i+2:])
			if v < 0xDC00 || v > 0xDFFF {
				d.fail(fmt.Sprintf("the high surrogate 0x%04X is followed by 0x%04X, not by a low surrogate", u, v))
				break
			}
			out = utf8.AppendRune(out, utf16.DecodeRune(u, v))
			i += 2
			continue
		}
		break
	}
	d.r += i
	d.out = out
	if d.err == nil && d.eof {
		switch d.w - d.r {
		case 0:
			d.err = io.EOF
		case 1:
			d.fail("the file ends in the middle of a character (an odd number of bytes)")
		}
	}
}

func (d *utf16Reader) fail(what string) {
	d.err = &encodingError{msg: fmt.Sprintf("invalid %s: %s; the file is damaged: %s", d.enc, what, howToFix)}
}
