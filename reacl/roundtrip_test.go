package reacl

import (
	"math/rand/v2"
	"testing"
)

// conditionPool are application data for random callback and RA ACEs.
var conditionPool = []string{
	`(@User.Title == "PM")`,
	`((Member_of {SID(S-1-5-32-544), SID(S-1-5-21-1-2-3-1104)}) || (!(Exists @Resource.Project)))`,
	`(@Device.x >= -0x10)`,
}

var claimPool = []string{
	`("Project",TS,0x0,"Windows","SQL")`, `("Owners",TD,0x0,S-1-5-32-544)`, `("N",TI,0x10,-5,7)`,
}

// TestRandomRoundTrip checks, without Samba, that random descriptors using
// every ACE type SDDL names survive SDDL and binary round trips exactly.
func TestRandomRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(conformanceSeed(t), 2))
	var conds, claims [][]byte
	for _, c := range conditionPool {
		d, err := ParseSDDL("D:(XA;;FA;;;WD;"+c+")", nil)
		if err != nil {
			t.Fatal(err)
		}
		conds = append(conds, d.DACL.ACEs[0].Data)
	}
	for _, c := range claimPool {
		d, err := ParseSDDL("S:(RA;;;;;WD;"+c+")", nil)
		if err != nil {
			t.Fatal(err)
		}
		claims = append(claims, d.SACL.ACEs[0].Data)
	}
	types := append(append([]ACEType{}, allSDDLTypes...), AccessAllowedCallback, AccessDeniedCallback,
		AccessAllowedCallbackObject, SystemAuditCallback, SystemResourceAttribute)
	for i := range 3000 {
		d := genDescriptor(r, genOptions{})
		for _, acl := range []*ACL{d.DACL, d.SACL} {
			if acl == nil {
				continue
			}
			for j := range acl.ACEs {
				a := &acl.ACEs[j]
				if r.IntN(4) != 0 {
					continue
				}
				a.Type = types[r.IntN(len(types))]
				switch {
				case a.Type == SystemResourceAttribute:
					a.Data = claims[r.IntN(len(claims))]
				case a.Type.HasApplicationData():
					a.Data = conds[r.IntN(len(conds))]
				}
				if a.Type.IsObject() {
					acl.Revision = ACLRevisionDS
				} else {
					a.ObjectFlags = 0
				}
			}
			// The ACL revision SDDL gives back depends on object ACEs only.
			acl.Revision = ACLRevision
			for j := range acl.ACEs {
				if acl.ACEs[j].Type.IsObject() {
					acl.Revision = ACLRevisionDS
				}
			}
		}
		s, err := d.SDDL(testDomain)
		if err != nil {
			t.Fatalf("descriptor %d: format: %v", i, err)
		}
		back, err := ParseSDDL(s, testDomain)
		if err != nil {
			t.Fatalf("descriptor %d: parse %q: %v", i, s, err)
		}
		if !back.Equal(d) {
			t.Fatalf("descriptor %d: SDDL round trip changed %q", i, s)
		}
		b := mustBinary(t, d)
		fromBin, err := ParseBinary(b)
		if err != nil {
			t.Fatalf("descriptor %d: parse binary: %v", i, err)
		}
		if !fromBin.Equal(d) {
			t.Fatalf("descriptor %d: binary round trip changed %q", i, s)
		}
	}
}
