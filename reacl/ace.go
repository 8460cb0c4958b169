package reacl

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/adshift/adshift/adid"
)

//go:generate stringer -type=ACEType

// ACEType is the AceType byte of an ACE header (MS-DTYP 2.4.4.1).
type ACEType uint8

// ACE types.
const (
	AccessAllowed               ACEType = 0x00 // SDDL "A"
	AccessDenied                ACEType = 0x01 // "D"
	SystemAudit                 ACEType = 0x02 // "AU"
	SystemAlarm                 ACEType = 0x03 // "AL"
	AccessAllowedCompound       ACEType = 0x04 // no SDDL form
	AccessAllowedObject         ACEType = 0x05 // "OA"
	AccessDeniedObject          ACEType = 0x06 // "OD"
	SystemAuditObject           ACEType = 0x07 // "OU"
	SystemAlarmObject           ACEType = 0x08 // "OL"
	AccessAllowedCallback       ACEType = 0x09 // "XA"
	AccessDeniedCallback        ACEType = 0x0A // "XD"
	AccessAllowedCallbackObject ACEType = 0x0B // "ZA"
	AccessDeniedCallbackObject  ACEType = 0x0C // no SDDL form
	SystemAuditCallback         ACEType = 0x0D // "XU"
	SystemAlarmCallback         ACEType = 0x0E // no SDDL form
	SystemAuditCallbackObject   ACEType = 0x0F // no SDDL form
	SystemAlarmCallbackObject   ACEType = 0x10 // no SDDL form
	SystemMandatoryLabel        ACEType = 0x11 // "ML"
	SystemResourceAttribute     ACEType = 0x12 // "RA"
	SystemScopedPolicyID        ACEType = 0x13 // "SP"
)

// Known reports whether t is one of the ACE types MS-DTYP defines with the
// mask + SID layout (every type but AccessAllowedCompound and unknown ones).
func (t ACEType) Known() bool { return t <= SystemScopedPolicyID && t != AccessAllowedCompound }

// IsObject reports whether t has the object layout (flags and GUIDs).
func (t ACEType) IsObject() bool {
	switch t {
	case AccessAllowedObject, AccessDeniedObject, SystemAuditObject, SystemAlarmObject,
		AccessAllowedCallbackObject, AccessDeniedCallbackObject, SystemAuditCallbackObject, SystemAlarmCallbackObject:
		return true
	}
	return false
}

// HasApplicationData reports whether bytes after the SID are meaningful
// for t: the conditional expression of callback ACEs, the claim of a
// resource attribute ACE.
func (t ACEType) HasApplicationData() bool {
	return (t >= AccessAllowedCallback && t <= SystemAlarmCallbackObject) || t == SystemResourceAttribute
}

// IsDeny reports whether t denies access.
func (t ACEType) IsDeny() bool {
	return t == AccessDenied || t == AccessDeniedObject || t == AccessDeniedCallback || t == AccessDeniedCallbackObject
}

// hasPrincipal reports whether the SID of an ACE of type t is a principal
// that SID translation applies to (not a label, policy ID or attribute).
func (t ACEType) hasPrincipal() bool {
	return t.Known() && t != SystemMandatoryLabel && t != SystemResourceAttribute && t != SystemScopedPolicyID
}

// ACEFlags is the AceFlags byte (MS-DTYP 2.4.4.1).
type ACEFlags uint8

// ACE flags.
const (
	ObjectInherit      ACEFlags = 0x01 // "OI"
	ContainerInherit   ACEFlags = 0x02 // "CI"
	NoPropagateInherit ACEFlags = 0x04 // "NP"
	InheritOnly        ACEFlags = 0x08 // "IO"
	Inherited          ACEFlags = 0x10 // "ID"
	Critical           ACEFlags = 0x20 // "CR"
	SuccessfulAccess   ACEFlags = 0x40 // "SA"
	FailedAccess       ACEFlags = 0x80 // "FA"
)

// AccessMask is an ACCESS_MASK (MS-DTYP 2.4.3).
type AccessMask uint32

// Object ACE flags: which GUIDs are present (MS-DTYP 2.4.4.3).
const (
	ObjectTypePresent          uint32 = 1
	InheritedObjectTypePresent uint32 = 2
)

// ACE is one access control entry. The fields used depend on Type:
//
//   - Known types: Mask and SID; object types also ObjectFlags and the GUIDs
//     that ObjectFlags marks present (GUIDs not marked are ignored and
//     encoded as absent).
//   - Data holds bytes after the SID: the conditional expression of
//     callback ACEs ("artx"…) or the claim of a resource attribute ACE,
//     carried intact. For other known types trailing bytes are padding and
//     are dropped (as Windows and Samba do), so Data is empty.
//   - Unknown types (and AccessAllowedCompound): Data holds the whole body
//     after the 4-byte header, carried intact; Mask and SID are unused.
type ACE struct {
	Type                ACEType
	Flags               ACEFlags
	Mask                AccessMask
	ObjectFlags         uint32
	ObjectType          GUID
	InheritedObjectType GUID
	SID                 SID
	Data                []byte
}

// Equal reports whether two ACEs encode to the same bytes.
func (a *ACE) Equal(o *ACE) bool {
	return a.equalExceptSID(o) && a.SID == o.SID
}

// equalExceptSID compares everything but the trustee.
func (a *ACE) equalExceptSID(o *ACE) bool {
	if a.Type != o.Type || a.Flags != o.Flags || !bytes.Equal(a.Data, o.Data) {
		return false
	}
	if !a.Type.Known() {
		return true
	}
	if a.Mask != o.Mask {
		return false
	}
	if a.Type.IsObject() {
		if a.ObjectFlags != o.ObjectFlags {
			return false
		}
		if a.ObjectFlags&ObjectTypePresent != 0 && a.ObjectType != o.ObjectType {
			return false
		}
		if a.ObjectFlags&InheritedObjectTypePresent != 0 && a.InheritedObjectType != o.InheritedObjectType {
			return false
		}
	}
	return true
}

// Len returns the binary size of a, AceSize.
func (a *ACE) Len() int {
	if !a.Type.Known() {
		return 4 + len(a.Data)
	}
	n := 8 + a.SID.Len()
	if a.Type.IsObject() {
		n += 4
		if a.ObjectFlags&ObjectTypePresent != 0 {
			n += 16
		}
		if a.ObjectFlags&InheritedObjectTypePresent != 0 {
			n += 16
		}
	}
	if a.Type.HasApplicationData() {
		n += len(a.Data)
	}
	return n
}

func (a *ACE) appendBinary(b []byte) ([]byte, error) {
	size := a.Len()
	if size > 0xffff {
		return nil, fmt.Errorf("%w: ACE of %d bytes exceeds 65535", ErrInvalidDescriptor, size)
	}
	b = append(b, byte(a.Type), byte(a.Flags))
	b = binary.LittleEndian.AppendUint16(b, uint16(size))
	if !a.Type.Known() {
		return append(b, a.Data...), nil
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(a.Mask))
	if a.Type.IsObject() {
		b = binary.LittleEndian.AppendUint32(b, a.ObjectFlags)
		if a.ObjectFlags&ObjectTypePresent != 0 {
			b = append(b, a.ObjectType[:]...)
		}
		if a.ObjectFlags&InheritedObjectTypePresent != 0 {
			b = append(b, a.InheritedObjectType[:]...)
		}
	}
	b = appendSID(b, a.SID)
	if a.Type.HasApplicationData() {
		b = append(b, a.Data...)
	}
	return b, nil
}

// decode parses one ACE at the start of p and returns its size.
func (a *ACE) decode(p []byte) (int, error) {
	if len(p) < 4 {
		return 0, fmt.Errorf("%w: ACE header needs 4 bytes, have %d", ErrInvalidDescriptor, len(p))
	}
	*a = ACE{Type: ACEType(p[0]), Flags: ACEFlags(p[1])}
	size := int(binary.LittleEndian.Uint16(p[2:]))
	if size < 4 || size > len(p) {
		return 0, fmt.Errorf("%w: ACE size %d outside 4..%d", ErrInvalidDescriptor, size, len(p))
	}
	body := p[4:size]
	if !a.Type.Known() {
		if len(body) > 0 {
			a.Data = bytes.Clone(body)
		}
		return size, nil
	}
	if len(body) < 4 {
		return 0, fmt.Errorf("%w: ACE type %#x of %d bytes has no access mask", ErrInvalidDescriptor, a.Type, size)
	}
	a.Mask = AccessMask(binary.LittleEndian.Uint32(body))
	body = body[4:]
	if a.Type.IsObject() {
		if len(body) < 4 {
			return 0, fmt.Errorf("%w: object ACE of %d bytes has no flags", ErrInvalidDescriptor, size)
		}
		a.ObjectFlags = binary.LittleEndian.Uint32(body)
		body = body[4:]
		if a.ObjectFlags&ObjectTypePresent != 0 {
			if len(body) < 16 {
				return 0, fmt.Errorf("%w: object ACE too short for its object type", ErrInvalidDescriptor)
			}
			copy(a.ObjectType[:], body)
			body = body[16:]
		}
		if a.ObjectFlags&InheritedObjectTypePresent != 0 {
			if len(body) < 16 {
				return 0, fmt.Errorf("%w: object ACE too short for its inherited object type", ErrInvalidDescriptor)
			}
			copy(a.InheritedObjectType[:], body)
			body = body[16:]
		}
	}
	s, n, err := adid.DecodeSID(body)
	if err != nil {
		return 0, fmt.Errorf("%w: ACE trustee: %w", ErrInvalidDescriptor, err)
	}
	a.SID = s
	if a.Type.HasApplicationData() && len(body) > n {
		a.Data = bytes.Clone(body[n:])
	}
	return size, nil
}
