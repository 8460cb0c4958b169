package reacl

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/adshift/adshift/adid"
)

// Conditional ACE expressions (MS-DTYP 2.4.4.17): the application data of
// callback ACEs, "artx" followed by tokens in reverse Polish order, zero
// padded to a multiple of four bytes. In SDDL they are the seventh ACE
// field: (XA;;FA;;;AU;(@User.Department == "Sales")).

// Conditional ACE token bytes.
const (
	condPadding     = 0x00
	condInt8        = 0x01
	condInt16       = 0x02
	condInt32       = 0x03
	condInt64       = 0x04
	condUnicode     = 0x10
	condOctets      = 0x18
	condComposite   = 0x50
	condSID         = 0x51
	condLocalAttr   = 0xf8
	condUserAttr    = 0xf9
	condResAttr     = 0xfa
	condDeviceAttr  = 0xfb
	condAnd         = 0xa0
	condOr          = 0xa1
	condNot         = 0xa2
	condExists      = 0x87
	condNotExists   = 0x8d
	condMaxDepth    = 64
	condIntSignPos  = 1
	condIntSignNeg  = 2
	condIntSignNone = 3
	condIntBase8    = 1
	condIntBase10   = 2
	condIntBase16   = 3
)

var condMagic = []byte("artx")

// condBinaryOps are the relational operators written between their operands.
var condBinaryOps = map[byte]string{
	0x80: "==", 0x81: "!=", 0x82: "<", 0x83: "<=", 0x84: ">", 0x85: ">=",
	0x86: "Contains", 0x88: "Any_of", 0x8e: "Not_Contains", 0x8f: "Not_Any_of",
}

// condUnaryOps are the prefix operators taking a SID or list of SIDs, or
// an attribute (Exists).
var condUnaryOps = map[byte]string{
	0x89: "Member_of", 0x8a: "Device_Member_of", 0x8b: "Member_of_Any", 0x8c: "Device_Member_of_Any",
	0x90: "Not_Member_of", 0x91: "Not_Device_Member_of", 0x92: "Not_Member_of_Any", 0x93: "Not_Device_Member_of_Any",
	condExists: "Exists", condNotExists: "Not_Exists",
}

var condAttrPrefixes = [...]struct {
	prefix string
	tok    byte
}{{"@User.", condUserAttr}, {"@Device.", condDeviceAttr}, {"@Resource.", condResAttr}}

func condKeyword(word string) (byte, bool) {
	for tok, name := range condUnaryOps {
		if strings.EqualFold(word, name) {
			return tok, true
		}
	}
	for tok, name := range condBinaryOps {
		if len(name) > 2 && strings.EqualFold(word, name) {
			return tok, true
		}
	}
	return 0, false
}

// condition compiles the conditional expression starting at p.pos (which
// must be '(') and leaves p.pos after its closing parenthesis.
func (p *sddlParser) condition() ([]byte, error) {
	if p.pos >= len(p.s) || p.s[p.pos] != '(' {
		return nil, p.errf("conditional expression must start with '('")
	}
	c := &condCompiler{p: p}
	out := append([]byte(nil), condMagic...)
	out, err := c.primary(out, 0)
	if err != nil {
		return nil, err
	}
	for len(out)%4 != 0 {
		out = append(out, condPadding)
	}
	return out, nil
}

type condCompiler struct {
	p *sddlParser
}

func (c *condCompiler) space() {
	p := c.p
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\n' || p.s[p.pos] == '\r') {
		p.pos++
	}
}

func (c *condCompiler) peek(s string) bool {
	c.space()
	return strings.HasPrefix(c.p.s[c.p.pos:], s)
}

// or := and { "||" and }
func (c *condCompiler) or(out []byte, depth int) ([]byte, error) {
	out, err := c.and(out, depth)
	if err != nil {
		return nil, err
	}
	for c.peek("||") {
		c.p.pos += 2
		if out, err = c.and(out, depth); err != nil {
			return nil, err
		}
		out = append(out, condOr)
	}
	return out, nil
}

// and := unary { "&&" unary }
func (c *condCompiler) and(out []byte, depth int) ([]byte, error) {
	out, err := c.unary(out, depth)
	if err != nil {
		return nil, err
	}
	for c.peek("&&") {
		c.p.pos += 2
		if out, err = c.unary(out, depth); err != nil {
			return nil, err
		}
		out = append(out, condAnd)
	}
	return out, nil
}

// unary := "!" unary | primary
func (c *condCompiler) unary(out []byte, depth int) ([]byte, error) {
	if c.peek("!") && !c.peek("!=") {
		if depth > condMaxDepth {
			return nil, c.p.errf("conditional expression nested too deeply")
		}
		c.p.pos++
		out, err := c.unary(out, depth+1)
		if err != nil {
			return nil, err
		}
		return append(out, condNot), nil
	}
	return c.primary(out, depth)
}

// primary := "(" or ")" | unary-op operand | attr [relop operand]
func (c *condCompiler) primary(out []byte, depth int) ([]byte, error) {
	p := c.p
	if depth > condMaxDepth {
		return nil, p.errf("conditional expression nested too deeply")
	}
	c.space()
	if p.pos >= len(p.s) {
		return nil, p.errf("unterminated conditional expression")
	}
	if p.s[p.pos] == '(' {
		p.pos++
		out, err := c.or(out, depth+1)
		if err != nil {
			return nil, err
		}
		c.space()
		if err := p.expect(')'); err != nil {
			return nil, err
		}
		return out, nil
	}
	start := p.pos
	word := c.word()
	if tok, ok := condKeyword(word); ok {
		if _, unary := condUnaryOps[tok]; !unary {
			return nil, &sddlError{pos: start, msg: fmt.Sprintf("%s needs a left operand", word)}
		}
		c.space()
		var err error
		if tok == condExists || tok == condNotExists {
			out, err = c.attr(out)
		} else {
			out, err = c.operand(out, depth+1)
		}
		if err != nil {
			return nil, err
		}
		return append(out, tok), nil
	}
	p.pos = start
	out, err := c.attr(out)
	if err != nil {
		return nil, err
	}
	op, ok := c.relop()
	if !ok {
		return out, nil // a bare attribute: its truth value
	}
	if out, err = c.operand(out, depth+1); err != nil {
		return nil, err
	}
	return append(out, op), nil
}

func isAttrChar(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
		b == ':' || b == '.' || b == '/' || b == '_' || b == '@' || b == '%'
}

// word reads a run of attribute characters.
func (c *condCompiler) word() string {
	p := c.p
	start := p.pos
	for p.pos < len(p.s) && isAttrChar(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos]
}

func (c *condCompiler) relop() (byte, bool) {
	c.space()
	p := c.p
	rest := p.s[p.pos:]
	for _, op := range []struct {
		s   string
		tok byte
	}{{"==", 0x80}, {"!=", 0x81}, {"<=", 0x83}, {">=", 0x85}, {"<", 0x82}, {">", 0x84}} {
		if strings.HasPrefix(rest, op.s) {
			p.pos += len(op.s)
			return op.tok, true
		}
	}
	start := p.pos
	if tok, ok := condKeyword(c.word()); ok {
		if _, unary := condUnaryOps[tok]; !unary {
			return tok, true
		}
	}
	p.pos = start
	return 0, false
}

// attr compiles an attribute name: local ("Title") or prefixed
// ("@User.Title"); %XXXX escapes one UTF-16 code unit.
func (c *condCompiler) attr(out []byte) ([]byte, error) {
	c.space()
	p := c.p
	start := p.pos
	w := c.word()
	if w == "" {
		return nil, p.errf("expected an attribute name")
	}
	if _, kw := condKeyword(w); kw {
		return nil, &sddlError{pos: start, msg: fmt.Sprintf("expected an attribute name, found %s", w)}
	}
	tok := byte(condLocalAttr)
	name := w
	if w[0] == '@' {
		found := false
		for _, a := range condAttrPrefixes {
			if len(w) > len(a.prefix) && strings.EqualFold(w[:len(a.prefix)], a.prefix) {
				tok, name, found = a.tok, w[len(a.prefix):], true
				break
			}
		}
		if !found {
			return nil, &sddlError{pos: start, msg: fmt.Sprintf("unknown attribute prefix in %q", w)}
		}
	}
	units, err := unescapeAttr(name)
	if err != nil {
		return nil, &sddlError{pos: start, msg: err.Error()}
	}
	out = append(out, tok)
	return appendUTF16Units(out, units), nil
}

func unescapeAttr(name string) ([]uint16, error) {
	var units []uint16
	for i := 0; i < len(name); i++ {
		if name[i] == '%' {
			if i+5 > len(name) {
				return nil, fmt.Errorf("bad %% escape in attribute %q", name)
			}
			v, err := parseHex(name[i+1:i+5], 0xffff)
			if err != nil {
				return nil, fmt.Errorf("bad %% escape in attribute %q", name)
			}
			units = append(units, uint16(v))
			i += 4
			continue
		}
		units = append(units, uint16(name[i]))
	}
	return units, nil
}

func appendUTF16Units(out []byte, units []uint16) []byte {
	out = binary.LittleEndian.AppendUint32(out, uint32(2*len(units)))
	for _, u := range units {
		out = binary.LittleEndian.AppendUint16(out, u)
	}
	return out
}

// operand := attr | literal | "{" [literal {"," literal}] "}"
func (c *condCompiler) operand(out []byte, depth int) ([]byte, error) {
	c.space()
	p := c.p
	if p.pos >= len(p.s) {
		return nil, p.errf("missing operand")
	}
	switch b := p.s[p.pos]; {
	case b == '{':
		if depth > condMaxDepth {
			return nil, p.errf("conditional expression nested too deeply")
		}
		p.pos++
		var inner []byte
		var err error
		c.space()
		if p.pos < len(p.s) && p.s[p.pos] == '}' {
			p.pos++
		} else {
			for {
				if inner, err = c.operand(inner, depth+1); err != nil {
					return nil, err
				}
				c.space()
				if p.pos < len(p.s) && p.s[p.pos] == ',' {
					p.pos++
					continue
				}
				if err := p.expect('}'); err != nil {
					return nil, err
				}
				break
			}
		}
		out = append(out, condComposite)
		out = binary.LittleEndian.AppendUint32(out, uint32(len(inner)))
		return append(out, inner...), nil
	case b == '"':
		end := strings.IndexByte(p.s[p.pos+1:], '"')
		if end < 0 {
			return nil, p.errf("unterminated string")
		}
		s := p.s[p.pos+1 : p.pos+1+end]
		p.pos += end + 2
		out = append(out, condUnicode)
		return appendUTF16Units(out, utf16.Encode([]rune(s))), nil
	case b == '#':
		p.pos++
		start := p.pos
		for p.pos < len(p.s) {
			if _, ok := hexVal(p.s[p.pos]); !ok {
				break
			}
			p.pos++
		}
		hx := p.s[start:p.pos]
		if len(hx)%2 != 0 {
			return nil, &sddlError{pos: start, msg: "odd number of hex digits in octet string"}
		}
		out = append(out, condOctets)
		out = binary.LittleEndian.AppendUint32(out, uint32(len(hx)/2))
		for i := 0; i < len(hx); i += 2 {
			hi, _ := hexVal(hx[i])
			lo, _ := hexVal(hx[i+1])
			out = append(out, hi<<4|lo)
		}
		return out, nil
	case b == '+' || b == '-' || b >= '0' && b <= '9':
		return c.integer(out)
	case b == '@':
		return c.attr(out)
	}
	start := p.pos
	if len(p.s)-p.pos >= 4 && strings.EqualFold(p.s[p.pos:p.pos+4], "SID(") {
		p.pos += 4
		end := strings.IndexByte(p.s[p.pos:], ')')
		if end < 0 {
			return nil, p.errf("unterminated SID(")
		}
		sid, err := p.sidToken(strings.TrimSpace(p.s[p.pos:p.pos+end]), p.pos)
		if err != nil {
			return nil, err
		}
		p.pos += end + 1
		out = append(out, condSID)
		out = binary.LittleEndian.AppendUint32(out, uint32(sid.Len()))
		return appendSID(out, sid), nil
	}
	p.pos = start
	return c.attr(out)
}

func (c *condCompiler) integer(out []byte) ([]byte, error) {
	p := c.p
	start := p.pos
	sign := byte(condIntSignNone)
	switch p.s[p.pos] {
	case '+':
		sign = condIntSignPos
		p.pos++
	case '-':
		sign = condIntSignNeg
		p.pos++
	}
	dstart := p.pos
	for p.pos < len(p.s) && (isAttrChar(p.s[p.pos]) && p.s[p.pos] != '@' && p.s[p.pos] != '.') {
		p.pos++
	}
	digits := p.s[dstart:p.pos]
	base := byte(condIntBase10)
	var mag uint64
	var err error
	switch {
	case len(digits) > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X'):
		base = condIntBase16
		mag, err = parseHex(digits[2:], math.MaxUint64)
	case len(digits) > 1 && digits[0] == '0':
		base = condIntBase8
		mag, err = strconv.ParseUint(digits[1:], 8, 64)
	default:
		mag, err = parseDecimal(digits, math.MaxUint64)
	}
	if err != nil {
		return nil, &sddlError{pos: start, msg: fmt.Sprintf("bad integer %q", p.s[start:p.pos])}
	}
	var v int64
	if sign == condIntSignNeg {
		if mag > 1<<63 {
			return nil, &sddlError{pos: start, msg: "integer out of range"}
		}
		v = -int64(mag)
	} else {
		if mag > math.MaxInt64 {
			return nil, &sddlError{pos: start, msg: "integer out of range"}
		}
		v = int64(mag)
	}
	out = append(out, condInt64)
	out = binary.LittleEndian.AppendUint64(out, uint64(v))
	return append(out, sign, base), nil
}

// appendCondition writes the SDDL form of a conditional expression,
// parenthesised. It refuses (ErrNotRepresentable) any expression whose SDDL
// would not compile back to exactly the same bytes.
func appendCondition(b []byte, data []byte) ([]byte, error) {
	s, err := decompileCondition(data)
	if err != nil {
		return nil, fmt.Errorf("%w: conditional expression: %w", ErrNotRepresentable, err)
	}
	p := &sddlParser{s: s, dom: nil}
	again, err := p.condition()
	if err != nil || p.pos != len(s) || !bytes.Equal(again, data) {
		if len(s) > 80 {
			s = s[:80] + "…"
		}
		return nil, fmt.Errorf("%w: conditional expression %q does not round-trip", ErrNotRepresentable, s)
	}
	return append(b, s...), nil
}

type condItem struct {
	s    string
	attr bool // an attribute reference (valid left operand)
}

// condNode is a node of the expression tree decompilation builds: a leaf
// (s) or an operator over kids. Writing the tree once at the end keeps the
// work linear; concatenating strings per operator would be quadratic in a
// hostile chain of thousands of operators.
type condNode struct {
	s    string
	op   byte
	kids []int
}

func decompileCondition(data []byte) (string, error) {
	if len(data) < 4 || !bytes.Equal(data[:4], condMagic) {
		return "", fmt.Errorf("no artx signature")
	}
	var nodes []condNode
	var stack []int
	if err := decodeCondTokens(data[4:], 0, func(it condItem, op byte, nargs int) error {
		if nargs == 0 {
			nodes = append(nodes, condNode{s: it.s})
			stack = append(stack, len(nodes)-1)
			return nil
		}
		if len(stack) < nargs {
			return fmt.Errorf("operator %#x lacks operands", op)
		}
		kids := append([]int(nil), stack[len(stack)-nargs:]...)
		stack = stack[:len(stack)-nargs]
		nodes = append(nodes, condNode{op: op, kids: kids})
		stack = append(stack, len(nodes)-1)
		return nil
	}); err != nil {
		return "", err
	}
	if len(stack) != 1 {
		return "", fmt.Errorf("expression leaves %d values", len(stack))
	}
	var sb strings.Builder
	root := &nodes[stack[0]]
	if root.op == 0 {
		sb.WriteByte('(')
		sb.WriteString(root.s)
		sb.WriteByte(')')
		return sb.String(), nil
	}
	writeCondNode(&sb, nodes, stack[0], false)
	return sb.String(), nil
}

// writeCondNode writes node i parenthesised, or bare when it continues a
// left-associative chain of the same logical operator ("(a && b && c)"
// compiles to the same tokens as "((a && b) && c)" and nests no deeper).
func writeCondNode(sb *strings.Builder, nodes []condNode, i int, bare bool) {
	n := &nodes[i]
	if n.op == 0 {
		sb.WriteString(n.s)
		return
	}
	if !bare {
		sb.WriteByte('(')
	}
	switch {
	case n.op == condAnd || n.op == condOr:
		writeCondNode(sb, nodes, n.kids[0], nodes[n.kids[0]].op == n.op)
		if n.op == condAnd {
			sb.WriteString(" && ")
		} else {
			sb.WriteString(" || ")
		}
		writeCondNode(sb, nodes, n.kids[1], false)
	case n.op == condNot:
		sb.WriteByte('!')
		writeCondNode(sb, nodes, n.kids[0], false)
	case len(n.kids) == 1:
		sb.WriteString(condUnaryOps[n.op])
		sb.WriteByte(' ')
		writeCondNode(sb, nodes, n.kids[0], false)
	default:
		writeCondNode(sb, nodes, n.kids[0], false)
		sb.WriteByte(' ')
		sb.WriteString(condBinaryOps[n.op])
		sb.WriteByte(' ')
		writeCondNode(sb, nodes, n.kids[1], false)
	}
	if !bare {
		sb.WriteByte(')')
	}
}

// decodeCondTokens walks tokens, calling emit with each operand (nargs 0)
// or operator (nargs > 0).
func decodeCondTokens(b []byte, depth int, emit func(condItem, byte, int) error) error {
	if depth > condMaxDepth {
		return fmt.Errorf("composite nested too deeply")
	}
	for len(b) > 0 {
		tok := b[0]
		b = b[1:]
		switch {
		case tok == condPadding:
			// Padding ends the expression: zero bytes to the end. A zero
			// byte can also end a token's data (a UTF-16 "0" is 30 00), so
			// padding is only recognised here, at a token boundary.
			if depth > 0 || !allZero(b) {
				return fmt.Errorf("zero token inside the expression")
			}
			return nil
		case tok == condAnd || tok == condOr:
			if err := emit(condItem{}, tok, 2); err != nil {
				return err
			}
		case tok == condNot:
			if err := emit(condItem{}, tok, 1); err != nil {
				return err
			}
		case condBinaryOps[tok] != "":
			if err := emit(condItem{}, tok, 2); err != nil {
				return err
			}
		case condUnaryOps[tok] != "":
			if err := emit(condItem{}, tok, 1); err != nil {
				return err
			}
		case tok >= condInt8 && tok <= condInt64:
			if len(b) < 10 {
				return fmt.Errorf("truncated integer")
			}
			if tok != condInt64 {
				return fmt.Errorf("integer token %#x has no SDDL form", tok)
			}
			s, err := formatCondInt(int64(binary.LittleEndian.Uint64(b)), b[8], b[9])
			if err != nil {
				return err
			}
			b = b[10:]
			if err := emit(condItem{s: s}, 0, 0); err != nil {
				return err
			}
		default:
			if len(b) < 4 {
				return fmt.Errorf("truncated token %#x", tok)
			}
			n := binary.LittleEndian.Uint32(b)
			if uint64(n) > uint64(len(b)-4) {
				return fmt.Errorf("token %#x length %d exceeds data", tok, n)
			}
			val := b[4 : 4+n]
			b = b[4+n:]
			var it condItem
			switch tok {
			case condUnicode:
				s, err := utf16String(val)
				if err != nil || strings.ContainsRune(s, '"') {
					return fmt.Errorf("string has no SDDL form")
				}
				it.s = `"` + s + `"`
			case condOctets:
				it.s = "#" + fmt.Sprintf("%x", val)
			case condSID:
				sid, used, err := adid.DecodeSID(val)
				if err != nil || used != len(val) {
					return fmt.Errorf("bad SID token")
				}
				it.s = "SID(" + sid.String() + ")"
			case condComposite:
				var parts []string
				if err := decodeCondTokens(val, depth+1, func(e condItem, op byte, nargs int) error {
					if nargs != 0 {
						return fmt.Errorf("operator inside composite")
					}
					parts = append(parts, e.s)
					return nil
				}); err != nil {
					return err
				}
				it.s = "{" + strings.Join(parts, ", ") + "}"
			case condLocalAttr, condUserAttr, condResAttr, condDeviceAttr:
				if len(val)%2 != 0 || len(val) == 0 {
					return fmt.Errorf("bad attribute name")
				}
				prefix := ""
				for _, a := range condAttrPrefixes {
					if a.tok == tok {
						prefix = a.prefix
					}
				}
				it = condItem{s: prefix + escapeAttr(val), attr: true}
			default:
				return fmt.Errorf("unknown token %#x", tok)
			}
			if err := emit(it, 0, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

func escapeAttr(val []byte) string {
	var sb strings.Builder
	for i := 0; i+1 < len(val); i += 2 {
		u := binary.LittleEndian.Uint16(val[i:])
		if u < 0x80 && isAttrChar(byte(u)) && u != '%' && u != '@' {
			sb.WriteByte(byte(u))
		} else {
			fmt.Fprintf(&sb, "%%%04x", u)
		}
	}
	return sb.String()
}

func utf16String(b []byte) (string, error) {
	if len(b)%2 != 0 {
		return "", fmt.Errorf("odd UTF-16 length")
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	s := string(utf16.Decode(units))
	if !slicesEqual(utf16.Encode([]rune(s)), units) {
		return "", fmt.Errorf("invalid UTF-16")
	}
	return s, nil
}

func slicesEqual(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func formatCondInt(v int64, sign, base byte) (string, error) {
	var mag uint64
	prefix := ""
	switch sign {
	case condIntSignNone:
		if v < 0 {
			return "", fmt.Errorf("negative integer without sign")
		}
		mag = uint64(v)
	case condIntSignPos:
		if v < 0 {
			return "", fmt.Errorf("negative integer marked positive")
		}
		mag, prefix = uint64(v), "+"
	case condIntSignNeg:
		if v > 0 {
			return "", fmt.Errorf("positive integer marked negative")
		}
		mag, prefix = uint64(-v), "-" // -MinInt64 wraps to 1<<63, as wanted
	default:
		return "", fmt.Errorf("bad integer sign %d", sign)
	}
	switch base {
	case condIntBase8:
		return prefix + "0" + strconv.FormatUint(mag, 8), nil
	case condIntBase10:
		return prefix + strconv.FormatUint(mag, 10), nil
	case condIntBase16:
		return prefix + "0x" + strconv.FormatUint(mag, 16), nil
	}
	return "", fmt.Errorf("bad integer base %d", base)
}

// mapConditionSIDs returns the conditional expression data with every SID
// token that m maps replaced by its target, and whether anything changed.
// SIDs of source domains without a mapping are passed to unmapped. Data
// that is not a well-formed expression comes back unchanged.
func mapConditionSIDs(data []byte, m *Map, unmapped func(SID)) ([]byte, bool) {
	if len(data) < 4 || !bytes.Equal(data[:4], condMagic) || len(m.m) == 0 {
		return data, false
	}
	out, changed, err := mapCondTokens(append([]byte(nil), condMagic...), data[4:], 0, m, unmapped)
	if err != nil || !changed {
		return data, false
	}
	for len(out)%4 != 0 {
		out = append(out, condPadding)
	}
	return out, true
}

func mapCondTokens(out, b []byte, depth int, m *Map, unmapped func(SID)) ([]byte, bool, error) {
	if depth > condMaxDepth {
		return nil, false, fmt.Errorf("nested too deeply")
	}
	changed := false
	for len(b) > 0 {
		tok := b[0]
		switch {
		case tok == condPadding:
			if depth > 0 || !allZero(b) {
				return nil, false, fmt.Errorf("zero token inside the expression")
			}
			return out, changed, nil
		case tok >= condInt8 && tok <= condInt64:
			if len(b) < 11 {
				return nil, false, fmt.Errorf("truncated integer")
			}
			out = append(out, b[:11]...)
			b = b[11:]
		case tok == condUnicode || tok == condOctets || tok == condSID || tok == condComposite ||
			tok >= condLocalAttr && tok <= condDeviceAttr:
			if len(b) < 5 {
				return nil, false, fmt.Errorf("truncated token")
			}
			n := binary.LittleEndian.Uint32(b[1:])
			if uint64(n) > uint64(len(b)-5) {
				return nil, false, fmt.Errorf("token length exceeds data")
			}
			val := b[5 : 5+n]
			switch tok {
			case condSID:
				sid, used, err := adid.DecodeSID(val)
				if err != nil || used != len(val) {
					return nil, false, fmt.Errorf("bad SID token")
				}
				if to, ok := m.Lookup(sid); ok {
					out = append(out, condSID)
					out = binary.LittleEndian.AppendUint32(out, uint32(to.Len()))
					out = appendSID(out, to)
					changed = true
				} else {
					if m.isSource(sid) {
						unmapped(sid)
					}
					out = append(out, b[:5+n]...)
				}
			case condComposite:
				inner, ch, err := mapCondTokens(nil, val, depth+1, m, unmapped)
				if err != nil {
					return nil, false, err
				}
				out = append(out, condComposite)
				out = binary.LittleEndian.AppendUint32(out, uint32(len(inner)))
				out = append(out, inner...)
				changed = changed || ch
			default:
				out = append(out, b[:5+n]...)
			}
			b = b[5+n:]
		case condBinaryOps[tok] != "" || condUnaryOps[tok] != "" || tok == condAnd || tok == condOr || tok == condNot:
			out = append(out, tok)
			b = b[1:]
		default:
			return nil, false, fmt.Errorf("unknown token %#x", tok)
		}
	}
	return out, changed, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
