package odj

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"unicode/utf16"
)

// The file djoin /savefile and net offlinejoin provision savefile= write:
// a UTF-16LE byte order mark, the base64 of the NDR as UTF-16LE text and a
// terminating zero unit (verified against Samba 4.17's files).

var bom = []byte{0xff, 0xfe}

// EncodeFile returns the file form of ndr (bytes from Encode).
func EncodeFile(ndr []byte) []byte {
	text := base64.StdEncoding.EncodeToString(ndr)
	out := make([]byte, 0, 2+2*len(text)+2)
	out = append(out, bom...)
	for i := 0; i < len(text); i++ {
		out = append(out, text[i], 0)
	}
	return append(out, 0, 0)
}

// DecodeFile returns the NDR bytes a djoin file holds. It accepts the file
// with or without the byte order mark, trailing zero units and line
// breaks (as editors and /printblob copies leave them), and plain ASCII
// base64 too. It allocates at most about the file's size.
func DecodeFile(file []byte) ([]byte, error) {
	if len(file) > 2*base64.StdEncoding.EncodedLen(MaxSize)+16 {
		return nil, fmt.Errorf("%w: file of %d bytes exceeds the limit", ErrMalformed, len(file))
	}
	var text []byte
	switch {
	case bytes.HasPrefix(file, bom):
		body := file[2:]
		if len(body)%2 != 0 {
			return nil, fmt.Errorf("%w: UTF-16 file of an odd number of bytes", ErrMalformed)
		}
		text = make([]byte, 0, len(body)/2)
		for i := 0; i < len(body); i += 2 {
			u := binary.LittleEndian.Uint16(body[i:])
			if u > 0x7f {
				return nil, fmt.Errorf("%w: character %q at unit %d is not base64", ErrMalformed, string(utf16.Decode([]uint16{u})), i/2)
			}
			text = append(text, byte(u))
		}
	case len(file) >= 2 && file[1] == 0:
		return nil, fmt.Errorf("%w: UTF-16 text without its byte order mark", ErrMalformed)
	default:
		text = file
	}
	text = bytes.TrimRight(text, "\x00\r\n\t ")
	text = bytes.TrimLeft(text, "\r\n\t ")
	ndr := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	n, err := base64.StdEncoding.Decode(ndr, text)
	if err != nil {
		return nil, fmt.Errorf("%w: base64: %v", ErrMalformed, err)
	}
	return ndr[:n], nil
}

// ReadFile decodes a djoin file's ProvisionData.
func ReadFile(file []byte) (*ProvisionData, error) {
	ndr, err := DecodeFile(file)
	if err != nil {
		return nil, err
	}
	return Decode(ndr)
}

// File encodes p in the file form djoin /requestodj and net offlinejoin
// requestodj read.
func (p *ProvisionData) File() ([]byte, error) {
	ndr, err := p.Encode()
	if err != nil {
		return nil, err
	}
	return EncodeFile(ndr), nil
}
