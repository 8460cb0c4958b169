package ldif

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// DecodeGUID formats a 16-byte objectGUID as AD tools show it: lower-case
// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" with the first three groups
// little-endian (Microsoft GUID layout).
func DecodeGUID(b []byte) (string, error) {
	if len(b) != 16 {
		return "", fmt.Errorf("decode objectGUID: %d bytes, want 16", len(b))
	}
	var out [36]byte
	order := [16]int{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15}
	p := 0
	for i, j := range order {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[p] = '-'
			p++
		}
		hex.Encode(out[p:p+2], b[j:j+1])
		p += 2
	}
	return string(out[:]), nil
}

// EncodeGUID is the inverse of DecodeGUID. It accepts upper or lower case
// and optional braces.
func EncodeGUID(s string) ([]byte, error) {
	t := s
	if len(t) == 38 && t[0] == '{' && t[37] == '}' {
		t = t[1:37]
	}
	if len(t) != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
		return nil, fmt.Errorf("parse GUID %q: want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", s)
	}
	raw, err := hex.DecodeString(t[0:8] + t[9:13] + t[14:18] + t[19:23] + t[24:])
	if err != nil {
		return nil, fmt.Errorf("parse GUID %q: %w", s, err)
	}
	order := [16]int{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15}
	b := make([]byte, 16)
	for i, j := range order {
		b[j] = raw[i]
	}
	return b, nil
}

// DecodeSID formats a binary SID (objectSid, sIDHistory) as "S-1-5-21-…".
func DecodeSID(b []byte) (string, error) {
	if len(b) < 8 || b[0] != 1 {
		return "", fmt.Errorf("decode SID: not a revision-1 SID (%d bytes)", len(b))
	}
	n := int(b[1])
	if n > 15 || len(b) != 8+4*n {
		return "", fmt.Errorf("decode SID: %d bytes for %d sub-authorities", len(b), n)
	}
	var auth uint64
	for _, x := range b[2:8] {
		auth = auth<<8 | uint64(x)
	}
	var stack [16 + 11*15]byte // n <= 15: one allocation, the string
	buf := stack[:0]
	buf = append(buf, "S-1-"...)
	buf = strconv.AppendUint(buf, auth, 10)
	for i := 0; i < n; i++ {
		buf = append(buf, '-')
		buf = strconv.AppendUint(buf, uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10)
	}
	return string(buf), nil
}

// EncodeSID is the inverse of DecodeSID.
func EncodeSID(s string) ([]byte, error) {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || !strings.EqualFold(parts[0], "S") || parts[1] != "1" || len(parts)-3 > 15 {
		return nil, fmt.Errorf("parse SID %q: want S-1-<authority>-<sub-authorities>", s)
	}
	auth, err := strconv.ParseUint(parts[2], 10, 48)
	if err != nil {
		return nil, fmt.Errorf("parse SID %q: authority: %w", s, err)
	}
	n := len(parts) - 3
	b := make([]byte, 8+4*n)
	b[0], b[1] = 1, byte(n)
	for i := 0; i < 6; i++ {
		b[7-i] = byte(auth >> (8 * i))
	}
	for i, p := range parts[3:] {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("parse SID %q: sub-authority %d: %w", s, i+1, err)
		}
		binary.LittleEndian.PutUint32(b[8+4*i:], uint32(v))
	}
	return b, nil
}

// IsBinaryIdentity reports whether the lower-cased attribute name holds a
// GUID or SID that Discover decodes to its string form.
func IsBinaryIdentity(lowerName string) bool {
	switch lowerName {
	case "objectguid", "objectsid", "sidhistory":
		return true
	}
	return false
}

// DecodeIdentity returns the string form of a value of objectGUID,
// objectSid or sIDHistory (lower-cased name), accepting the binary form or
// a value already in string form. Other attributes are returned unchanged.
func DecodeIdentity(lowerName, v string) (string, error) {
	switch lowerName {
	case "objectguid":
		if len(v) == 16 {
			return DecodeGUID([]byte(v))
		}
		b, err := EncodeGUID(v)
		if err != nil {
			return "", err
		}
		return DecodeGUID(b)
	case "objectsid", "sidhistory":
		if strings.HasPrefix(v, "S-") || strings.HasPrefix(v, "s-") {
			b, err := EncodeSID(v)
			if err != nil {
				return "", err
			}
			return DecodeSID(b)
		}
		return DecodeSID([]byte(v))
	}
	return v, nil
}

// EncodeIdentity is the inverse of DecodeIdentity: string GUIDs and SIDs
// become their binary form (binary input is kept); other attributes are
// returned unchanged.
func EncodeIdentity(lowerName, v string) (string, error) {
	s, err := DecodeIdentity(lowerName, v)
	if err != nil {
		return "", err
	}
	switch lowerName {
	case "objectguid":
		b, err := EncodeGUID(s)
		return string(b), err
	case "objectsid", "sidhistory":
		b, err := EncodeSID(s)
		return string(b), err
	}
	return v, nil
}
