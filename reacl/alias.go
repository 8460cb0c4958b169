package reacl

import (
	"fmt"

	"github.com/adshift/adshift/adid"
)

// Well-known SIDs (MS-DTYP 2.4.2.4) that translation and tests refer to.
var (
	SIDEveryone            = mk(1, 0)       // WD
	SIDCreatorOwner        = mk(3, 0)       // CO
	SIDCreatorGroup        = mk(3, 1)       // CG
	SIDOwnerRights         = mk(3, 4)       // OW
	SIDAuthenticatedUsers  = mk(5, 11)      // AU
	SIDLocalSystem         = mk(5, 18)      // SY
	SIDBuiltinAdmins       = mk(5, 32, 544) // BA
	SIDBuiltinUsers        = mk(5, 32, 545) // BU
	SIDSelf                = mk(5, 10)      // PS
	SIDTrustedInstallerSvc = mk(5, 80, 956008885, 3418522649, 1831038044, 1853292631, 2271478464)
)

// mk builds a well-known SID of the tables below; they are constants, so
// an error is a bug in this file.
func mk(auth uint64, subs ...uint32) SID {
	s, err := adid.NewSID(auth, subs...)
	if err != nil {
		panic(err)
	}
	return s
}

// aliasScope says what an SDDL SID alias is relative to.
type aliasScope uint8

const (
	scopeFixed   aliasScope = iota // a fixed well-known SID
	scopeDomain                    // domain SID + RID
	scopeRoot                      // forest root domain SID + RID
	scopeMachine                   // machine (account domain) SID + RID
)

type sidAlias struct {
	code  string
	scope aliasScope
	sid   SID    // scopeFixed
	rid   uint32 // other scopes
}

// sidAliases is the SDDL sid-token table of MS-DTYP 2.5.1.1. It holds the
// same 66 codes Samba's libcli/security/sddl.c accepts (checked by the
// conformance test).
var sidAliases = [...]sidAlias{
	{code: "AA", sid: mk(5, 32, 579)},
	{code: "AC", sid: mk(15, 2, 1)},
	{code: "AN", sid: mk(5, 7)},
	{code: "AO", sid: mk(5, 32, 548)},
	{code: "AP", scope: scopeDomain, rid: 525},
	{code: "AS", sid: mk(18, 1)},
	{code: "AU", sid: mk(5, 11)},
	{code: "BA", sid: mk(5, 32, 544)},
	{code: "BG", sid: mk(5, 32, 546)},
	{code: "BO", sid: mk(5, 32, 551)},
	{code: "BU", sid: mk(5, 32, 545)},
	{code: "CA", scope: scopeDomain, rid: 517},
	{code: "CD", sid: mk(5, 32, 574)},
	{code: "CG", sid: mk(3, 1)},
	{code: "CN", scope: scopeDomain, rid: 522},
	{code: "CO", sid: mk(3, 0)},
	{code: "CY", sid: mk(5, 32, 569)},
	{code: "DA", scope: scopeDomain, rid: 512},
	{code: "DC", scope: scopeDomain, rid: 515},
	{code: "DD", scope: scopeDomain, rid: 516},
	{code: "DG", scope: scopeDomain, rid: 514},
	{code: "DU", scope: scopeDomain, rid: 513},
	{code: "EA", scope: scopeRoot, rid: 519},
	{code: "ED", sid: mk(5, 9)},
	{code: "EK", scope: scopeRoot, rid: 527},
	{code: "ER", sid: mk(5, 32, 573)},
	{code: "ES", sid: mk(5, 32, 576)},
	{code: "HA", sid: mk(5, 32, 578)},
	{code: "HI", sid: mk(16, 12288)},
	{code: "IS", sid: mk(5, 32, 568)},
	{code: "IU", sid: mk(5, 4)},
	{code: "KA", scope: scopeDomain, rid: 526},
	{code: "LA", scope: scopeMachine, rid: 500},
	{code: "LG", scope: scopeMachine, rid: 501},
	{code: "LS", sid: mk(5, 19)},
	{code: "LU", sid: mk(5, 32, 559)},
	{code: "LW", sid: mk(16, 4096)},
	{code: "ME", sid: mk(16, 8192)},
	{code: "MP", sid: mk(16, 8448)},
	{code: "MS", sid: mk(5, 32, 577)},
	{code: "MU", sid: mk(5, 32, 558)},
	{code: "NO", sid: mk(5, 32, 556)},
	{code: "NS", sid: mk(5, 20)},
	{code: "NU", sid: mk(5, 2)},
	{code: "OW", sid: mk(3, 4)},
	{code: "PA", scope: scopeDomain, rid: 520},
	{code: "PO", sid: mk(5, 32, 550)},
	{code: "PS", sid: mk(5, 10)},
	{code: "PU", sid: mk(5, 32, 547)},
	{code: "RA", sid: mk(5, 32, 575)},
	{code: "RC", sid: mk(5, 12)},
	{code: "RD", sid: mk(5, 32, 555)},
	{code: "RE", sid: mk(5, 32, 552)},
	{code: "RM", sid: mk(5, 32, 580)},
	{code: "RO", scope: scopeRoot, rid: 498},
	{code: "RS", scope: scopeDomain, rid: 553},
	{code: "RU", sid: mk(5, 32, 554)},
	{code: "SA", scope: scopeRoot, rid: 518},
	{code: "SI", sid: mk(16, 16384)},
	{code: "SO", sid: mk(5, 32, 549)},
	{code: "SS", sid: mk(18, 2)},
	{code: "SU", sid: mk(5, 6)},
	{code: "SY", sid: mk(5, 18)},
	{code: "UD", sid: mk(5, 84, 0, 0, 0, 0, 0)},
	{code: "WD", sid: mk(1, 0)},
	{code: "WR", sid: mk(5, 33)},
}

// Domain names the SIDs that SDDL's domain-relative aliases resolve
// against. SDDL "DA" is Domain Admins of whichever domain reads it, so the
// same SDDL string means different SIDs in different domains; the binary
// form always carries the full SID.
//
// A nil *Domain (or a zero SID field) makes the corresponding aliases
// unavailable: parsing them fails and formatting writes full SID strings.
type Domain struct {
	// SID is the domain SID (S-1-5-21-x-y-z) for DA, DU, DG, DC, DD, CA,
	// PA, CN, AP, KA and RS.
	SID SID
	// Root is the forest root domain SID for SA, EA, EK and RO; zero means
	// SID (what Samba's from_sddl does with its single domain argument).
	Root SID
	// Machine is the account domain for LA and LG; zero means SID (right
	// on a domain controller; on a member the local machine SID).
	Machine SID
}

// NewDomain returns a Domain whose aliases all resolve against sid.
func NewDomain(sid SID) *Domain { return &Domain{SID: sid} }

func (d *Domain) base(scope aliasScope) SID {
	if d == nil {
		return SID{}
	}
	switch scope {
	case scopeRoot:
		if !d.Root.IsZero() {
			return d.Root
		}
	case scopeMachine:
		if !d.Machine.IsZero() {
			return d.Machine
		}
	}
	return d.SID
}

// ParseSIDAlias resolves a two-letter SDDL alias ("BA", "DA", …) against d.
// Domain-relative aliases fail when d does not name the needed domain.
func ParseSIDAlias(code string, d *Domain) (SID, error) {
	a, ok := lookupAlias(code)
	if !ok {
		return SID{}, fmt.Errorf("%w: unknown SDDL alias %q", adid.ErrInvalidSID, code)
	}
	return a.resolve(d)
}

func lookupAlias(code string) (*sidAlias, bool) {
	if len(code) != 2 {
		return nil, false
	}
	// The table is sorted: binary search on two bytes.
	lo, hi := 0, len(sidAliases)
	for lo < hi {
		m := (lo + hi) / 2
		c := sidAliases[m].code
		if c == code {
			return &sidAliases[m], true
		}
		if c < code {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return nil, false
}

func (a *sidAlias) resolve(d *Domain) (SID, error) {
	if a.scope == scopeFixed {
		return a.sid, nil
	}
	base := d.base(a.scope)
	if base.IsZero() {
		return SID{}, fmt.Errorf("%w: alias %q needs a domain SID", adid.ErrInvalidSID, a.code)
	}
	return base.Child(a.rid)
}

// Alias returns the SDDL alias for s in domain d, or "" when s has none.
// A nil d has only the fixed well-known aliases ("BA", "SY", …). Where two
// aliases name the same SID (Root equal to SID) the domain-relative one
// that appears first in MS-DTYP's table wins.
func (d *Domain) Alias(s SID) string {
	for i := range sidAliases {
		a := &sidAliases[i]
		if a.scope == scopeFixed {
			if a.sid == s {
				return a.code
			}
			continue
		}
		rid, ok := s.RID()
		if !ok || rid != a.rid {
			continue
		}
		base := d.base(a.scope)
		if base.IsZero() {
			continue
		}
		if dom, _ := s.Domain(); dom == base {
			return a.code
		}
	}
	return ""
}
