package reacl

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/adshift/adshift/adid"
)

// Control is the SECURITY_DESCRIPTOR_CONTROL bit field (MS-DTYP 2.4.6).
type Control uint16

// Control bits.
const (
	OwnerDefaulted     Control = 0x0001
	GroupDefaulted     Control = 0x0002
	DACLPresent        Control = 0x0004
	DACLDefaulted      Control = 0x0008
	SACLPresent        Control = 0x0010
	SACLDefaulted      Control = 0x0020
	DACLTrusted        Control = 0x0040
	ServerSecurity     Control = 0x0080
	DACLAutoInheritReq Control = 0x0100
	SACLAutoInheritReq Control = 0x0200
	DACLAutoInherited  Control = 0x0400
	SACLAutoInherited  Control = 0x0800
	DACLProtected      Control = 0x1000
	SACLProtected      Control = 0x2000
	RMControlValid     Control = 0x4000
	SelfRelative       Control = 0x8000
)

// ACL revisions (MS-DTYP 2.4.5).
const (
	ACLRevision   byte = 2 // ACLs without object ACEs
	ACLRevisionDS byte = 4 // ACLs holding object ACEs
)

// ErrInvalidDescriptor reports a binary security descriptor, ACL or ACE
// that cannot be parsed.
var ErrInvalidDescriptor = errors.New("invalid security descriptor")

// Descriptor is a security descriptor (MS-DTYP 2.4.6). Binary encoding is
// always self-relative.
//
// Owner and Group nil mean absent. SACL and DACL nil mean absent, except
// that DACLPresent set with DACL nil is a NULL DACL (SDDL
// "D:NO_ACCESS_CONTROL", everyone has full access), unlike a present empty
// DACL, which denies everyone. The same holds for the SACL.
type Descriptor struct {
	// Revision is 1 for every descriptor Windows writes.
	Revision byte
	// RMControl is the Sbz1 byte; it carries resource manager bits when
	// Control has RMControlValid.
	RMControl byte
	Control   Control
	Owner     *SID
	Group     *SID
	SACL      *ACL
	DACL      *ACL
}

// ACL is an access control list (MS-DTYP 2.4.5).
type ACL struct {
	// Revision is ACLRevision or ACLRevisionDS (kept as read).
	Revision byte
	ACEs     []ACE
}

// Equal reports whether d and o describe the same descriptor, field by
// field; binary layout (component order, offsets) does not matter.
func (d *Descriptor) Equal(o *Descriptor) bool {
	if d == nil || o == nil {
		return d == o
	}
	return d.Revision == o.Revision && d.RMControl == o.RMControl && d.Control == o.Control &&
		sidPtrEqual(d.Owner, o.Owner) && sidPtrEqual(d.Group, o.Group) &&
		d.SACL.Equal(o.SACL) && d.DACL.Equal(o.DACL)
}

func sidPtrEqual(a, b *SID) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// Equal reports whether two ACLs hold the same revision and ACEs in order.
func (a *ACL) Equal(o *ACL) bool {
	if a == nil || o == nil {
		return a == o
	}
	if a.Revision != o.Revision || len(a.ACEs) != len(o.ACEs) {
		return false
	}
	for i := range a.ACEs {
		if !a.ACEs[i].Equal(&o.ACEs[i]) {
			return false
		}
	}
	return true
}

// Clone returns a deep copy of d.
func (d *Descriptor) Clone() *Descriptor {
	if d == nil {
		return nil
	}
	c := *d
	if d.Owner != nil {
		o := *d.Owner
		c.Owner = &o
	}
	if d.Group != nil {
		g := *d.Group
		c.Group = &g
	}
	c.SACL = d.SACL.Clone()
	c.DACL = d.DACL.Clone()
	return &c
}

// Clone returns a deep copy of a.
func (a *ACL) Clone() *ACL {
	if a == nil {
		return nil
	}
	c := &ACL{Revision: a.Revision, ACEs: make([]ACE, len(a.ACEs))}
	for i := range a.ACEs {
		c.ACEs[i] = a.ACEs[i]
		c.ACEs[i].Data = bytes.Clone(a.ACEs[i].Data)
	}
	return c
}

// Len returns the size of the binary form of a.
func (a *ACL) Len() int {
	n := 8
	for i := range a.ACEs {
		n += a.ACEs[i].Len()
	}
	return n
}

const sdHeaderLen = 20

// Len returns the size of the self-relative binary form of d.
func (d *Descriptor) Len() int {
	n := sdHeaderLen
	if d.Owner != nil {
		n += d.Owner.Len()
	}
	if d.Group != nil {
		n += d.Group.Len()
	}
	if d.SACL != nil {
		n += d.SACL.Len()
	}
	if d.DACL != nil {
		n += d.DACL.Len()
	}
	return n
}

// MarshalBinary returns the self-relative binary form.
func (d *Descriptor) MarshalBinary() ([]byte, error) {
	return d.AppendBinary(make([]byte, 0, d.Len()))
}

// AppendBinary appends the self-relative binary form to b. The layout is
// canonical and the same as Samba's NDR encoding: the 20-byte header, then
// owner, group, SACL and DACL, each directly after the previous. The
// SelfRelative control bit is always set in the output. It fails when an
// ACL or ACE is larger than its 16-bit size field can say.
func (d *Descriptor) AppendBinary(b []byte) ([]byte, error) {
	start := len(b)
	b = append(b, d.Revision, d.RMControl)
	b = binary.LittleEndian.AppendUint16(b, uint16(d.Control|SelfRelative))
	b = append(b, make([]byte, 16)...)
	off := sdHeaderLen
	put := func(field int) {
		binary.LittleEndian.PutUint32(b[start+4+4*field:], uint32(off))
	}
	if d.Owner != nil {
		put(0)
		b = appendSID(b, *d.Owner)
		off = len(b) - start
	}
	if d.Group != nil {
		put(1)
		b = appendSID(b, *d.Group)
		off = len(b) - start
	}
	var err error
	if d.SACL != nil {
		put(2)
		if b, err = d.SACL.appendBinary(b); err != nil {
			return nil, fmt.Errorf("encode SACL: %w", err)
		}
		off = len(b) - start
	}
	if d.DACL != nil {
		put(3)
		if b, err = d.DACL.appendBinary(b); err != nil {
			return nil, fmt.Errorf("encode DACL: %w", err)
		}
	}
	return b, nil
}

func (a *ACL) appendBinary(b []byte) ([]byte, error) {
	start := len(b)
	if len(a.ACEs) > 0xffff {
		return nil, fmt.Errorf("%w: %d ACEs exceed 65535", ErrInvalidDescriptor, len(a.ACEs))
	}
	b = append(b, a.Revision, 0, 0, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(a.ACEs)))
	b = append(b, 0, 0)
	var err error
	for i := range a.ACEs {
		if b, err = a.ACEs[i].appendBinary(b); err != nil {
			return nil, fmt.Errorf("ACE %d: %w", i, err)
		}
	}
	size := len(b) - start
	if size > 0xffff {
		return nil, fmt.Errorf("%w: ACL of %d bytes exceeds 65535", ErrInvalidDescriptor, size)
	}
	binary.LittleEndian.PutUint16(b[start+2:], uint16(size))
	return b, nil
}

// UnmarshalBinary parses a self-relative security descriptor (what
// GetSecurityInfo returns and what AD stores in nTSecurityDescriptor).
func (d *Descriptor) UnmarshalBinary(b []byte) error {
	v, err := ParseBinary(b)
	if err != nil {
		return err
	}
	*d = *v
	return nil
}

// ParseBinary parses a self-relative security descriptor. Components are
// found through their offsets, in any order and possibly with gaps; bytes no
// offset points to are ignored. Every count and size field is checked
// against the input, so hostile input can neither panic nor make it
// allocate more than a small multiple of len(b).
func ParseBinary(b []byte) (*Descriptor, error) {
	d := new(Descriptor)
	if err := parseBinaryInto(d, b, nil); err != nil {
		return nil, err
	}
	return d, nil
}

// parseScratch is storage a Translator reuses between calls so that parsing
// allocates nothing.
type parseScratch struct {
	owner, group SID
	sacl, dacl   ACL
	aces         []ACE
}

// parseBinaryInto parses b into d. With scratch, the components point into
// it (valid until the next call); without, they are freshly allocated.
func parseBinaryInto(d *Descriptor, b []byte, scratch *parseScratch) error {
	var aceBuf []ACE
	if scratch != nil {
		aceBuf = scratch.aces[:0]
	}
	if len(b) < sdHeaderLen {
		return fmt.Errorf("%w: %d bytes, need at least %d", ErrInvalidDescriptor, len(b), sdHeaderLen)
	}
	d.Revision = b[0]
	d.RMControl = b[1]
	d.Control = Control(binary.LittleEndian.Uint16(b[2:]))
	if d.Control&SelfRelative == 0 {
		return fmt.Errorf("%w: not self-relative (control %#04x)", ErrInvalidDescriptor, uint16(d.Control))
	}
	offs := [4]uint32{}
	for i := range offs {
		offs[i] = binary.LittleEndian.Uint32(b[4+4*i:])
	}
	for i, o := range offs {
		if o != 0 && (o < sdHeaderLen || uint64(o) >= uint64(len(b))) {
			return fmt.Errorf("%w: %s offset %d outside %d bytes", ErrInvalidDescriptor, componentNames[i], o, len(b))
		}
	}
	d.Owner, d.Group, d.SACL, d.DACL = nil, nil, nil, nil
	for i := 0; i < 2; i++ {
		if offs[i] == 0 {
			continue
		}
		s, _, err := adid.DecodeSID(b[offs[i]:])
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalidDescriptor, componentNames[i], err)
		}
		var p *SID
		switch {
		case scratch == nil:
			p = new(SID)
		case i == 0:
			p = &scratch.owner
		default:
			p = &scratch.group
		}
		*p = s
		if i == 0 {
			d.Owner = p
		} else {
			d.Group = p
		}
	}
	if offs[2] != 0 {
		var acl *ACL
		if scratch != nil {
			acl = &scratch.sacl
		}
		acl, rest, err := parseACL(b[offs[2]:], acl, aceBuf)
		if err != nil {
			return fmt.Errorf("SACL: %w", err)
		}
		d.SACL, aceBuf = acl, rest
	}
	if offs[3] != 0 {
		var acl *ACL
		if scratch != nil {
			acl = &scratch.dacl
		}
		acl, rest, err := parseACL(b[offs[3]:], acl, aceBuf)
		if err != nil {
			return fmt.Errorf("DACL: %w", err)
		}
		d.DACL, aceBuf = acl, rest
	}
	if scratch != nil && cap(aceBuf) > cap(scratch.aces) {
		scratch.aces = aceBuf[:0]
	}
	return nil
}

var componentNames = [4]string{"owner", "group", "SACL", "DACL"}

// parseACL parses an ACL at the start of b into acl (allocated when nil).
// The ACE slice is carved from buf when it has room; buf is returned
// extended by the ACEs carved, for the next ACL.
func parseACL(b []byte, acl *ACL, buf []ACE) (*ACL, []ACE, error) {
	if len(b) < 8 {
		return nil, buf, fmt.Errorf("%w: ACL header needs 8 bytes, have %d", ErrInvalidDescriptor, len(b))
	}
	size := int(binary.LittleEndian.Uint16(b[2:]))
	count := int(binary.LittleEndian.Uint16(b[4:]))
	if size < 8 || size > len(b) {
		return nil, buf, fmt.Errorf("%w: ACL size %d outside 8..%d", ErrInvalidDescriptor, size, len(b))
	}
	// Every ACE takes at least 4 bytes: bound the count before allocating.
	if count > (size-8)/4 {
		return nil, buf, fmt.Errorf("%w: %d ACEs cannot fit in an ACL of %d bytes", ErrInvalidDescriptor, count, size)
	}
	if acl == nil {
		acl = new(ACL)
	}
	acl.Revision = b[0]
	if cap(buf)-len(buf) >= count {
		acl.ACEs = buf[len(buf) : len(buf)+count : len(buf)+count]
		buf = buf[:len(buf)+count]
	} else {
		acl.ACEs = make([]ACE, count)
	}
	p := b[8:size]
	for i := 0; i < count; i++ {
		n, err := acl.ACEs[i].decode(p)
		if err != nil {
			return nil, buf, fmt.Errorf("ACE %d: %w", i, err)
		}
		p = p[n:]
	}
	return acl, buf, nil
}
