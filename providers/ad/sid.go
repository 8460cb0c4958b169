package ad

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// DecodeSID turns a binary objectSid (MS-DTYP 2.4.2.2) into its string form
// "S-1-5-21-…". It returns an error, never panics, on malformed input.
func DecodeSID(b []byte) (string, error) {
	if len(b) < 8 {
		return "", fmt.Errorf("decode SID: %d bytes, need at least 8", len(b))
	}
	if b[0] != 1 {
		return "", fmt.Errorf("decode SID: revision %d, want 1", b[0])
	}
	n := int(b[1])
	if len(b) != 8+4*n {
		return "", fmt.Errorf("decode SID: %d bytes for %d sub-authorities, want %d", len(b), n, 8+4*n)
	}
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	var sb strings.Builder
	sb.WriteString("S-1-")
	if auth >= 1<<32 {
		fmt.Fprintf(&sb, "0x%012X", auth)
	} else {
		sb.WriteString(strconv.FormatUint(auth, 10))
	}
	for i := range n {
		sb.WriteByte('-')
		sb.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10))
	}
	return sb.String(), nil
}

// EncodeSID is the inverse of DecodeSID: the binary form of "S-1-…".
func EncodeSID(s string) ([]byte, error) {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || !strings.EqualFold(parts[0], "S") || parts[1] != "1" {
		return nil, fmt.Errorf("encode SID %q: not of the form S-1-…", s)
	}
	subs := parts[3:]
	if len(subs) > 15 {
		return nil, fmt.Errorf("encode SID %q: %d sub-authorities, at most 15", s, len(subs))
	}
	var auth uint64
	var err error
	if a := parts[2]; strings.HasPrefix(a, "0x") || strings.HasPrefix(a, "0X") {
		auth, err = strconv.ParseUint(a[2:], 16, 48)
	} else {
		auth, err = strconv.ParseUint(a, 10, 48)
	}
	if err != nil {
		return nil, fmt.Errorf("encode SID %q: identifier authority: %w", s, err)
	}
	b := make([]byte, 8+4*len(subs))
	b[0] = 1
	b[1] = byte(len(subs))
	for i := 7; i >= 2; i-- {
		b[i] = byte(auth)
		auth >>= 8
	}
	for i, p := range subs {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("encode SID %q: sub-authority %d: %w", s, i, err)
		}
		binary.LittleEndian.PutUint32(b[8+4*i:], uint32(v))
	}
	return b, nil
}

// DecodeGUID turns a binary objectGUID into the string form AD tools show:
// lower-case, the first three groups byte-swapped from wire order.
func DecodeGUID(b []byte) (string, error) {
	if len(b) != 16 {
		return "", fmt.Errorf("decode GUID: %d bytes, want 16", len(b))
	}
	var o [16]byte
	o[0], o[1], o[2], o[3] = b[3], b[2], b[1], b[0]
	o[4], o[5] = b[5], b[4]
	o[6], o[7] = b[7], b[6]
	copy(o[8:], b[8:])
	h := hex.EncodeToString(o[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// EncodeGUID is the inverse of DecodeGUID.
func EncodeGUID(s string) ([]byte, error) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return nil, fmt.Errorf("encode GUID %q: not of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", s)
	}
	o, err := hex.DecodeString(s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:])
	if err != nil {
		return nil, fmt.Errorf("encode GUID %q: %w", s, err)
	}
	b := make([]byte, 16)
	b[0], b[1], b[2], b[3] = o[3], o[2], o[1], o[0]
	b[4], b[5] = o[5], o[4]
	b[6], b[7] = o[7], o[6]
	copy(b[8:], o[8:])
	return b, nil
}
