package reacl

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/adshift/adshift/adid"
)

// ErrInvalidSDDL reports an SDDL string that does not follow MS-DTYP 2.5.1.
var ErrInvalidSDDL = errors.New("invalid SDDL")

// ErrNotRepresentable reports a descriptor that SDDL cannot express (an ACE
// type SDDL has no name for, or application data that is not a valid
// conditional expression or claim).
var ErrNotRepresentable = errors.New("not representable in SDDL")

type sddlError struct {
	pos int
	msg string
}

func (e *sddlError) Error() string { return fmt.Sprintf("invalid SDDL at offset %d: %s", e.pos, e.msg) }
func (e *sddlError) Unwrap() error { return ErrInvalidSDDL }

var aceTypeCodes = [...]struct {
	code string
	t    ACEType
}{
	{"A", AccessAllowed}, {"D", AccessDenied}, {"AU", SystemAudit}, {"AL", SystemAlarm},
	{"OA", AccessAllowedObject}, {"OD", AccessDeniedObject}, {"OU", SystemAuditObject}, {"OL", SystemAlarmObject},
	{"XA", AccessAllowedCallback}, {"XD", AccessDeniedCallback}, {"ZA", AccessAllowedCallbackObject},
	{"XU", SystemAuditCallback}, {"ML", SystemMandatoryLabel}, {"RA", SystemResourceAttribute},
	{"SP", SystemScopedPolicyID},
}

var aceFlagCodes = [...]struct {
	code string
	f    ACEFlags
}{
	{"OI", ObjectInherit}, {"CI", ContainerInherit}, {"NP", NoPropagateInherit}, {"IO", InheritOnly},
	{"ID", Inherited}, {"CR", Critical}, {"SA", SuccessfulAccess}, {"FA", FailedAccess},
}

// rightCodes are the two-letter access right aliases in formatting order.
var rightCodes = [...]struct {
	code string
	m    AccessMask
}{
	{"GA", 0x10000000}, {"GR", 0x80000000}, {"GW", 0x40000000}, {"GX", 0x20000000},
	{"RC", 0x00020000}, {"SD", 0x00010000}, {"WD", 0x00040000}, {"WO", 0x00080000},
	{"RP", 0x00000010}, {"WP", 0x00000020}, {"CC", 0x00000001}, {"DC", 0x00000002},
	{"LC", 0x00000004}, {"SW", 0x00000008}, {"LO", 0x00000080}, {"DT", 0x00000040},
	{"CR", 0x00000100},
}

// compositeRights are aliases for several bits, written only when the whole
// mask equals them.
var compositeRights = [...]struct {
	code string
	m    AccessMask
}{
	{"FA", 0x001F01FF}, {"FR", 0x00120089}, {"FW", 0x00120116}, {"FX", 0x001200A0},
	{"KA", 0x000F003F}, {"KR", 0x00020019}, {"KW", 0x00020006}, {"KX", 0x00020019},
}

// labelRights are the mandatory label policy bits ("ML" ACEs only).
var labelRights = [...]struct {
	code string
	m    AccessMask
}{
	{"NR", 0x2}, {"NW", 0x1}, {"NX", 0x4},
}

// ParseSDDL parses a security descriptor string (MS-DTYP 2.5.1) into a
// descriptor. Domain-relative aliases (DA, DU, …) resolve against dom,
// which may be nil when the string uses none.
//
// The result has Revision 1 and the SelfRelative control bit; each ACL has
// revision ACLRevisionDS when it holds an object ACE, ACLRevision otherwise
// (as Windows does). Components may appear in any order, each at most once.
// Rights may be aliases or a number in hex ("0x1f01ff"), octal ("0777") or
// decimal. Conditional expressions of callback ACEs (XA, XD, ZA, XU) are
// compiled to their binary form (MS-DTYP 2.4.4.17); claims of RA ACEs to
// CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1 (MS-DTYP 2.4.10.1).
func ParseSDDL(s string, dom *Domain) (*Descriptor, error) {
	p := &sddlParser{s: s, dom: dom}
	d, err := p.descriptor()
	if err != nil {
		return nil, err
	}
	return d, nil
}

type sddlParser struct {
	s   string
	pos int
	dom *Domain
}

func (p *sddlParser) errf(format string, args ...any) error {
	return &sddlError{pos: p.pos, msg: fmt.Sprintf(format, args...)}
}

// componentAt reports whether a component tag ("O:", "G:", "D:", "S:")
// starts at i.
func (p *sddlParser) componentAt(i int) bool {
	if i+1 >= len(p.s) || p.s[i+1] != ':' {
		return false
	}
	switch p.s[i] {
	case 'O', 'G', 'D', 'S':
		return true
	}
	return false
}

func (p *sddlParser) descriptor() (*Descriptor, error) {
	d := &Descriptor{Revision: 1, Control: SelfRelative}
	var seen [4]bool
	for p.pos < len(p.s) {
		if !p.componentAt(p.pos) {
			return nil, p.errf("expected O:, G:, D: or S:")
		}
		tag := p.s[p.pos]
		idx := strings.IndexByte("OGDS", tag)
		if seen[idx] {
			return nil, p.errf("%c: given twice", tag)
		}
		seen[idx] = true
		p.pos += 2
		switch tag {
		case 'O', 'G':
			start := p.pos
			for p.pos < len(p.s) && !p.componentAt(p.pos) {
				p.pos++
			}
			sid, err := p.sidToken(p.s[start:p.pos], start)
			if err != nil {
				return nil, err
			}
			if tag == 'O' {
				d.Owner = &sid
			} else {
				d.Group = &sid
			}
		case 'D', 'S':
			acl, flags, null, err := p.acl()
			if err != nil {
				return nil, err
			}
			if tag == 'D' {
				d.Control |= DACLPresent | flags
				if !null {
					d.DACL = acl
				}
			} else {
				d.Control |= SACLPresent | flags<<1
				if !null {
					d.SACL = acl
				}
			}
		}
	}
	return d, nil
}

func (p *sddlParser) sidToken(tok string, at int) (SID, error) {
	if len(tok) >= 2 && (tok[0] == 'S' || tok[0] == 's') && tok[1] == '-' {
		s, err := adid.ParseSID(tok)
		if err != nil {
			return SID{}, &sddlError{pos: at, msg: err.Error()}
		}
		return s, nil
	}
	a, ok := lookupAlias(tok)
	if !ok {
		return SID{}, &sddlError{pos: at, msg: fmt.Sprintf("unknown SID alias %q", tok)}
	}
	s, err := a.resolve(p.dom)
	if err != nil {
		return SID{}, &sddlError{pos: at, msg: err.Error()}
	}
	return s, nil
}

// acl parses ACL flags and ACEs. flags are in DACL bit positions.
func (p *sddlParser) acl() (*ACL, Control, bool, error) {
	var flags Control
	null := false
	for p.pos < len(p.s) && p.s[p.pos] != '(' && !p.componentAt(p.pos) {
		rest := p.s[p.pos:]
		switch {
		case strings.HasPrefix(rest, "NO_ACCESS_CONTROL"):
			null = true
			p.pos += len("NO_ACCESS_CONTROL")
		case strings.HasPrefix(rest, "AI"):
			flags |= DACLAutoInherited
			p.pos += 2
		case strings.HasPrefix(rest, "AR"):
			flags |= DACLAutoInheritReq
			p.pos += 2
		case rest[0] == 'P':
			flags |= DACLProtected
			p.pos++
		default:
			return nil, 0, false, p.errf("unknown ACL flag")
		}
	}
	acl := &ACL{Revision: ACLRevision}
	for p.pos < len(p.s) && p.s[p.pos] == '(' {
		if null {
			return nil, 0, false, p.errf("ACEs after NO_ACCESS_CONTROL")
		}
		var a ACE
		if err := p.ace(&a); err != nil {
			return nil, 0, false, err
		}
		if a.Type.IsObject() {
			acl.Revision = ACLRevisionDS
		}
		acl.ACEs = append(acl.ACEs, a)
	}
	if p.pos < len(p.s) && !p.componentAt(p.pos) {
		return nil, 0, false, p.errf("unexpected %q after ACL", p.s[p.pos])
	}
	return acl, flags, null, nil
}

// field returns the text up to the next ';' or ')' and leaves pos on it.
func (p *sddlParser) field() (string, int, error) {
	start := p.pos
	for p.pos < len(p.s) && p.s[p.pos] != ';' && p.s[p.pos] != ')' {
		if p.s[p.pos] == '(' {
			return "", start, p.errf("unexpected '(' in ACE")
		}
		p.pos++
	}
	if p.pos >= len(p.s) {
		return "", start, p.errf("unterminated ACE")
	}
	return p.s[start:p.pos], start, nil
}

func (p *sddlParser) expect(c byte) error {
	if p.pos >= len(p.s) || p.s[p.pos] != c {
		return p.errf("expected %q", c)
	}
	p.pos++
	return nil
}

func (p *sddlParser) ace(a *ACE) error {
	p.pos++ // '('
	var fields [6]string
	var at [6]int
	for i := range fields {
		f, start, err := p.field()
		if err != nil {
			return err
		}
		fields[i], at[i] = f, start
		if i < 5 {
			if err := p.expect(';'); err != nil {
				return err
			}
		}
	}
	t, ok := lookupACEType(fields[0])
	if !ok {
		return &sddlError{pos: at[0], msg: fmt.Sprintf("unknown ACE type %q", fields[0])}
	}
	a.Type = t
	fl, err := parseACEFlags(fields[1])
	if err != nil {
		return &sddlError{pos: at[1], msg: err.Error()}
	}
	a.Flags = fl
	m, err := parseRights(fields[2], t)
	if err != nil {
		return &sddlError{pos: at[2], msg: err.Error()}
	}
	a.Mask = m
	for i, g := range []*GUID{&a.ObjectType, &a.InheritedObjectType} {
		f := fields[3+i]
		if f == "" {
			continue
		}
		if !t.IsObject() {
			return &sddlError{pos: at[3+i], msg: "object GUID on a non-object ACE"}
		}
		v, err := adid.ParseGUID(f)
		if err != nil {
			return &sddlError{pos: at[3+i], msg: err.Error()}
		}
		*g = v
		a.ObjectFlags |= 1 << i
	}
	sid, err := p.sidToken(fields[5], at[5])
	if err != nil {
		return err
	}
	a.SID = sid
	if p.pos < len(p.s) && p.s[p.pos] == ';' {
		p.pos++
		switch {
		case t == SystemResourceAttribute:
			data, err := p.claim()
			if err != nil {
				return err
			}
			a.Data = data
		case t.HasApplicationData():
			data, err := p.condition()
			if err != nil {
				return err
			}
			a.Data = data
		default:
			return p.errf("ACE type %s takes no seventh field", fields[0])
		}
	} else if t == SystemResourceAttribute {
		return p.errf("RA ACE without attribute")
	}
	return p.expect(')')
}

func lookupACEType(code string) (ACEType, bool) {
	for _, c := range aceTypeCodes {
		if c.code == code {
			return c.t, true
		}
	}
	return 0, false
}

func parseACEFlags(s string) (ACEFlags, error) {
	var f ACEFlags
	for len(s) > 0 {
		if len(s) < 2 {
			return 0, fmt.Errorf("bad ACE flag %q", s)
		}
		// TP (trust protected filter) shares bit 0x40 with SA; it is read
		// but written as SA.
		found := s[:2] == "TP"
		if found {
			f |= SuccessfulAccess
		}
		for _, c := range aceFlagCodes {
			if s[:2] == c.code {
				f |= c.f
				found = true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown ACE flag %q", s[:2])
		}
		s = s[2:]
	}
	return f, nil
}

func parseRights(s string, t ACEType) (AccessMask, error) {
	if s == "" {
		return 0, nil
	}
	if s[0] >= '0' && s[0] <= '9' {
		var v uint64
		var err error
		switch {
		case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
			v, err = parseHex(s[2:], 0xffffffff)
		case len(s) > 1 && s[0] == '0':
			v, err = strconv.ParseUint(s[1:], 8, 32)
		default:
			v, err = parseDecimal(s, 0xffffffff)
		}
		if err != nil {
			return 0, fmt.Errorf("bad access mask %q", s)
		}
		return AccessMask(v), nil
	}
	var m AccessMask
	for len(s) > 0 {
		if len(s) < 2 {
			return 0, fmt.Errorf("bad access right %q", s)
		}
		tok := s[:2]
		s = s[2:]
		v, ok := lookupRight(tok)
		if !ok {
			return 0, fmt.Errorf("unknown access right %q", tok)
		}
		m |= v
	}
	return m, nil
}

func lookupRight(tok string) (AccessMask, bool) {
	for _, r := range rightCodes {
		if r.code == tok {
			return r.m, true
		}
	}
	for _, r := range compositeRights {
		if r.code == tok {
			return r.m, true
		}
	}
	for _, r := range labelRights {
		if r.code == tok {
			return r.m, true
		}
	}
	return 0, false
}

// SDDL formats d as a security descriptor string: owner, group, DACL and
// SACL in that order. SIDs with an alias in dom are written as the alias;
// dom may be nil. The DACL (SACL) is written when the DACLPresent
// (SACLPresent) control bit is set; a present but nil ACL is written as
// NO_ACCESS_CONTROL. Rights are written as FA, FR, FW, FX, KA, KR or KW
// when the mask equals one, otherwise as two-letter aliases when they cover
// every bit, otherwise in hex. Parsing the result with the same dom gives
// back d except for what SDDL cannot carry: Revision, RMControl, control
// bits other than present/protected/auto-inherit, and ACL revisions.
func (d *Descriptor) SDDL(dom *Domain) (string, error) {
	b := make([]byte, 0, 64+48*d.aceCount())
	if d.Owner != nil {
		b = append(b, "O:"...)
		b = appendSIDToken(b, *d.Owner, dom)
	}
	if d.Group != nil {
		b = append(b, "G:"...)
		b = appendSIDToken(b, *d.Group, dom)
	}
	var err error
	if d.Control&DACLPresent != 0 {
		b = append(b, "D:"...)
		if b, err = appendACL(b, d.DACL, d.Control, dom); err != nil {
			return "", fmt.Errorf("format DACL: %w", err)
		}
	}
	if d.Control&SACLPresent != 0 {
		b = append(b, "S:"...)
		if b, err = appendACL(b, d.SACL, d.Control>>1, dom); err != nil {
			return "", fmt.Errorf("format SACL: %w", err)
		}
	}
	return string(b), nil
}

func (d *Descriptor) aceCount() int {
	n := 0
	if d.DACL != nil {
		n += len(d.DACL.ACEs)
	}
	if d.SACL != nil {
		n += len(d.SACL.ACEs)
	}
	return n
}

func appendSIDToken(b []byte, s SID, dom *Domain) []byte {
	if a := dom.Alias(s); a != "" {
		return append(b, a...)
	}
	return s.AppendText(b)
}

// appendACL writes flags and ACEs; c holds the flags in DACL positions.
func appendACL(b []byte, acl *ACL, c Control, dom *Domain) ([]byte, error) {
	if c&DACLProtected != 0 {
		b = append(b, 'P')
	}
	if c&DACLAutoInheritReq != 0 {
		b = append(b, "AR"...)
	}
	if c&DACLAutoInherited != 0 {
		b = append(b, "AI"...)
	}
	if acl == nil {
		return append(b, "NO_ACCESS_CONTROL"...), nil
	}
	var err error
	for i := range acl.ACEs {
		if b, err = appendACE(b, &acl.ACEs[i], dom); err != nil {
			return nil, fmt.Errorf("ACE %d: %w", i, err)
		}
	}
	return b, nil
}

func appendACE(b []byte, a *ACE, dom *Domain) ([]byte, error) {
	code := ""
	for _, c := range aceTypeCodes {
		if c.t == a.Type {
			code = c.code
			break
		}
	}
	if code == "" {
		return nil, fmt.Errorf("%w: ACE type %#x", ErrNotRepresentable, uint8(a.Type))
	}
	b = append(b, '(')
	b = append(b, code...)
	b = append(b, ';')
	for _, c := range aceFlagCodes {
		if a.Flags&c.f != 0 {
			b = append(b, c.code...)
		}
	}
	b = append(b, ';')
	b = appendRights(b, a.Mask, a.Type)
	b = append(b, ';')
	if a.Type.IsObject() {
		if a.ObjectFlags&ObjectTypePresent != 0 {
			b = append(b, a.ObjectType.String()...)
		}
		b = append(b, ';')
		if a.ObjectFlags&InheritedObjectTypePresent != 0 {
			b = append(b, a.InheritedObjectType.String()...)
		}
		b = append(b, ';')
		if a.ObjectFlags&^(ObjectTypePresent|InheritedObjectTypePresent) != 0 {
			return nil, fmt.Errorf("%w: object flags %#x", ErrNotRepresentable, a.ObjectFlags)
		}
	} else {
		b = append(b, ";;"...)
	}
	b = appendSIDToken(b, a.SID, dom)
	if a.Type.HasApplicationData() && (len(a.Data) > 0 || a.Type == SystemResourceAttribute) {
		b = append(b, ';')
		var err error
		if a.Type == SystemResourceAttribute {
			b, err = appendClaim(b, a.Data)
		} else {
			b, err = appendCondition(b, a.Data)
		}
		if err != nil {
			return nil, err
		}
	}
	return append(b, ')'), nil
}

func appendRights(b []byte, m AccessMask, t ACEType) []byte {
	if m == 0 {
		return b
	}
	if t == SystemMandatoryLabel && m&^7 == 0 {
		for _, r := range labelRights {
			if m&r.m != 0 {
				b = append(b, r.code...)
			}
		}
		return b
	}
	for _, r := range compositeRights {
		if m == r.m {
			return append(b, r.code...)
		}
	}
	var covered AccessMask
	for _, r := range rightCodes {
		covered |= r.m
	}
	if m&^covered != 0 {
		return fmt.Appendf(b, "0x%x", uint32(m))
	}
	for _, r := range rightCodes {
		if m&r.m != 0 {
			b = append(b, r.code...)
		}
	}
	return b
}
