package reacl

import (
	"math/rand/v2"

	"github.com/adshift/adshift/adid"
)

// testDomain is the domain SID the tests and the Samba oracle resolve
// domain-relative aliases against.
var testDomainSID = adid.MustSID("S-1-5-21-1004336348-1177238915-682003330")

var testDomain = NewDomain(testDomainSID)

// genOptions limits the random generator to what an implementation
// understands.
type genOptions struct {
	// samba417 keeps to what Samba 4.17's SDDL parser handles: the eight
	// classic ACE types, the seven classic ACE flags, decimal authorities.
	samba417 bool
}

var classicTypes = []ACEType{AccessAllowed, AccessDenied, SystemAudit, SystemAlarm,
	AccessAllowedObject, AccessDeniedObject, SystemAuditObject, SystemAlarmObject}

var allSDDLTypes = append(append([]ACEType{}, classicTypes...), SystemMandatoryLabel, SystemScopedPolicyID)

var wellKnownMasks = []AccessMask{0x1f01ff, 0x120089, 0x120116, 0x1200a0, 0x1301bf, 0x1200a9, 0xf003f, 0x20019,
	0x10000000, 0x80000000, 0xa0000000, 0xe0000000, 0x20094, 0xf01ff, 0x100, 0x30, 0x10, 0x3}

var guidPool = func() []GUID {
	var out []GUID
	for _, s := range []string{"bf967a7f-0de6-11d0-a285-00aa003049e2", "bf967aba-0de6-11d0-a285-00aa003049e2",
		"4c164200-20c0-11d0-a768-00aa006e0529", "4828cc14-1437-45bc-9b07-ad6f015e5f28",
		"00299570-246d-11d0-a768-00aa006e0529", "ab721a53-1e2f-11d0-9819-00aa0040529b"} {
		g, err := adid.ParseGUID(s)
		if err != nil {
			panic(err)
		}
		out = append(out, g)
	}
	return out
}()

func genSID(r *rand.Rand, o genOptions) SID {
	switch r.IntN(5) {
	case 0: // a fixed alias
		for {
			a := &sidAliases[r.IntN(len(sidAliases))]
			if a.scope == scopeFixed {
				return a.sid
			}
		}
	case 1: // a domain-relative alias
		for {
			a := &sidAliases[r.IntN(len(sidAliases))]
			if a.scope != scopeFixed {
				s, _ := a.resolve(testDomain)
				return s
			}
		}
	case 2: // an account of the test domain
		s, _ := testDomainSID.Child(1000 + r.Uint32N(100000))
		return s
	case 3: // an account of another domain
		return mk(5, 21, r.Uint32(), r.Uint32(), r.Uint32(), r.Uint32())
	default: // anything
		n := r.IntN(adid.MaxSubAuthorities + 1)
		subs := make([]uint32, n)
		for i := range subs {
			subs[i] = r.Uint32()
		}
		auth := uint64(r.Uint32())
		if !o.samba417 && r.IntN(4) == 0 {
			auth = r.Uint64() >> 16
		}
		return mk(auth, subs...)
	}
}

func genMask(r *rand.Rand) AccessMask {
	switch r.IntN(3) {
	case 0:
		return wellKnownMasks[r.IntN(len(wellKnownMasks))]
	case 1:
		var m AccessMask
		for range 1 + r.IntN(4) {
			m |= rightCodes[r.IntN(len(rightCodes))].m
		}
		return m
	default:
		return AccessMask(r.Uint32())
	}
}

func genACE(r *rand.Rand, o genOptions) ACE {
	types := allSDDLTypes
	if o.samba417 {
		types = classicTypes
	}
	a := ACE{Type: types[r.IntN(len(types))], Mask: genMask(r), SID: genSID(r, o)}
	a.Flags = ACEFlags(r.IntN(256))
	if o.samba417 {
		a.Flags &^= Critical
	}
	if a.Type.IsObject() {
		if r.IntN(2) == 0 {
			a.ObjectFlags |= ObjectTypePresent
			a.ObjectType = guidPool[r.IntN(len(guidPool))]
		}
		if r.IntN(2) == 0 {
			a.InheritedObjectType = guidPool[r.IntN(len(guidPool))]
			a.ObjectFlags |= InheritedObjectTypePresent
		}
	}
	return a
}

func genACL(r *rand.Rand, o genOptions) *ACL {
	acl := &ACL{Revision: ACLRevision}
	n := r.IntN(12)
	if r.IntN(10) == 0 {
		n = r.IntN(100)
	}
	for range n {
		a := genACE(r, o)
		if a.Type.IsObject() {
			acl.Revision = ACLRevisionDS
		}
		acl.ACEs = append(acl.ACEs, a)
	}
	return acl
}

// genDescriptor returns a random descriptor that SDDL can express exactly
// (so that parse(format(d)) == d).
func genDescriptor(r *rand.Rand, o genOptions) *Descriptor {
	d := &Descriptor{Revision: 1, Control: SelfRelative}
	if r.IntN(4) != 0 {
		s := genSID(r, o)
		d.Owner = &s
	}
	if r.IntN(4) != 0 {
		s := genSID(r, o)
		d.Group = &s
	}
	flags := []Control{DACLProtected, DACLAutoInherited, DACLAutoInheritReq}
	if r.IntN(5) != 0 {
		d.Control |= DACLPresent
		d.DACL = genACL(r, o)
		for _, f := range flags {
			if r.IntN(3) == 0 {
				d.Control |= f
			}
		}
	}
	if o.samba417 && d.DACL != nil && len(d.DACL.ACEs) == 0 && d.Control&(DACLProtected|DACLAutoInherited|DACLAutoInheritReq) != 0 {
		d.DACL.ACEs = append(d.DACL.ACEs, ACE{Type: AccessAllowed, Mask: 0x1f01ff, SID: SIDLocalSystem})
	}
	if r.IntN(3) == 0 {
		d.Control |= SACLPresent
		d.SACL = genACL(r, o)
		for _, f := range flags {
			if r.IntN(3) == 0 {
				d.Control |= f << 1
			}
		}
	}
	return d
}
