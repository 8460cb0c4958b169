package reacl

import "strconv"

// parseDecimal parses the decimal digits f (no sign, not empty) as a
// number of at most max; SDDL rights, ACE counts and claim values use it.
func parseDecimal(f string, max uint64) (uint64, error) {
	if f == "" || len(f) > 20 {
		return 0, strconv.ErrSyntax
	}
	var v uint64
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
		d := uint64(c - '0')
		if d > max || v > (max-d)/10 {
			return 0, strconv.ErrRange
		}
		v = v*10 + d
	}
	return v, nil
}

// parseHex is parseDecimal for hexadecimal digits (without "0x").
func parseHex(f string, max uint64) (uint64, error) {
	if f == "" {
		return 0, strconv.ErrSyntax
	}
	var v uint64
	for i := 0; i < len(f); i++ {
		d, ok := hexVal(f[i])
		if !ok {
			return 0, strconv.ErrSyntax
		}
		if uint64(d) > max || v > (max-uint64(d))/16 {
			return 0, strconv.ErrRange
		}
		v = v*16 + uint64(d)
	}
	return v, nil
}

// hexVal returns the value of the hex digit c.
func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
