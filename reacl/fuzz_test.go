package reacl

import (
	"bytes"
	"testing"

	"github.com/adshift/adshift/adid"
)

// FuzzParseBinary feeds arbitrary bytes to the binary parser. Whatever
// parses must re-encode, and the re-encoding must parse to the same
// descriptor and encode to the same bytes (canonical form is a fixed point).
// The translator must accept it too.
func FuzzParseBinary(f *testing.F) {
	var seeds []string
	for _, tc := range realWorldSDDL {
		seeds = append(seeds, tc.sddl)
	}
	for _, s := range append(seeds, fuzzSeeds...) {
		d, err := ParseSDDL(s, testDomain)
		if err != nil {
			f.Fatal(err)
		}
		b, err := d.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	m := NewMap()
	if err := m.Add(adid.MustSID(srcDom+"-1107"), adid.MustSID(tgtDom+"-1107")); err != nil {
		f.Fatal(err)
	}
	m.AddSourceDomain(testDomainSID)
	tr, err := NewTranslator(m, Options{Mode: ModeAdd})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseBinary(b)
		if err != nil {
			if _, _, terr := tr.TranslateBinary(nil, b); terr == nil {
				t.Fatalf("translator accepted what the parser refused: %v", err)
			}
			return
		}
		enc, err := d.MarshalBinary()
		if err != nil {
			return // e.g. an ACL that grew past 64 KiB is refused, not truncated
		}
		d2, err := ParseBinary(enc)
		if err != nil {
			t.Fatalf("re-parse of our own encoding %x: %v", enc, err)
		}
		if !d2.Equal(d) {
			t.Fatalf("re-parse differs")
		}
		enc2, err := d2.MarshalBinary()
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not a fixed point: %v", err)
		}
		if _, _, err := tr.TranslateBinary(nil, b); err != nil {
			t.Fatalf("translate parsed descriptor: %v", err)
		}
		// Formatting may refuse (ErrNotRepresentable) but what it writes
		// must parse back to the same descriptor, less what SDDL cannot say.
		s, err := d.SDDL(testDomain)
		if err != nil {
			return
		}
		d3, err := ParseSDDL(s, testDomain)
		if err != nil {
			t.Fatalf("parse our SDDL %q: %v", s, err)
		}
		if !sddlComparable(d).Equal(sddlComparable(d3)) {
			t.Fatalf("SDDL round trip differs: %q", s)
		}
	})
}

// sddlComparable drops what SDDL does not carry.
func sddlComparable(d *Descriptor) *Descriptor {
	c := d.Clone()
	c.Revision, c.RMControl = 1, 0
	c.Control &= SelfRelative | DACLPresent | SACLPresent | DACLProtected | SACLProtected |
		DACLAutoInherited | SACLAutoInherited | DACLAutoInheritReq | SACLAutoInheritReq
	if c.Control&DACLPresent == 0 {
		c.DACL = nil
		c.Control &^= DACLProtected | DACLAutoInherited | DACLAutoInheritReq
	}
	if c.Control&SACLPresent == 0 {
		c.SACL = nil
		c.Control &^= SACLProtected | SACLAutoInherited | SACLAutoInheritReq
	}
	for _, a := range []*ACL{c.DACL, c.SACL} {
		if a == nil {
			continue
		}
		a.Revision = 0
		// SDDL gives a claim's meaning; parsing lays it out canonically.
		for i := range a.ACEs {
			if a.ACEs[i].Type == SystemResourceAttribute {
				if cl, err := decodeClaim(a.ACEs[i].Data); err == nil {
					a.ACEs[i].Data = cl.encode()
				}
			}
		}
	}
	return c
}

// fuzzSeeds are SDDL strings beyond the real-world set: every ACE type with
// an SDDL name, conditions and claims.
var fuzzSeeds = []string{
	"", "D:NO_ACCESS_CONTROL", "S:(ML;;NW;;;LW)", "O:S-1-0x123456789ABC-1",
	"D:(A;;0777;;;WD)(A;;123;;;WD)", "D:(OA;;CR;1131f6aa-9c07-11d1-f79f-00c04fc2dcd2;;ED)",
	`D:(XA;;FA;;;WD;((@User.Title == "PM") && (Member_of {SID(BA), SID(S-1-5-21-1-2-3-1104)})))`,
	`D:(XD;OICI;0x1301bf;;;AU;(!(Exists @Resource.Project)))(ZA;;CR;1131f6aa-9c07-11d1-f79f-00c04fc2dcd2;;WD;(@Device.x >= -0x10))`,
	`S:(XU;SA;FA;;;WD;(@User.a Any_of {#00ff, "s", 7}))(SP;;;;;S-1-17-1)`,
	`S:(RA;CI;;;;WD;("Project",TS,0x0,"Windows","SQL"))(RA;;;;;WD;("Owners",TD,0x0,BA,S-1-5-21-1-2-3-1104))`,
	`S:(RA;;;;;WD;("Blob",TX,0x0,#00ff10))(RA;;;;;WD;("Flag",TB,0x0,1,0))(RA;;;;;WD;("N",TI,0x10,-5,7))`,
}

// FuzzParseSDDL feeds arbitrary strings to the SDDL parser. Whatever parses
// must format, and the formatted string must parse to the same descriptor
// and format to itself.
func FuzzParseSDDL(f *testing.F) {
	for _, tc := range realWorldSDDL {
		f.Add(tc.sddl)
	}
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseSDDL(s, testDomain)
		if err != nil {
			return
		}
		if _, err := d.MarshalBinary(); err != nil {
			return
		}
		out, err := d.SDDL(testDomain)
		if err != nil {
			t.Fatalf("format parsed %q: %v", s, err)
		}
		d2, err := ParseSDDL(out, testDomain)
		if err != nil {
			t.Fatalf("parse formatted %q (from %q): %v", out, s, err)
		}
		if !sddlComparable(d).Equal(sddlComparable(d2)) {
			t.Fatalf("round trip %q -> %q differs", s, out)
		}
		out2, err := d2.SDDL(testDomain)
		if err != nil || out2 != out {
			t.Fatalf("formatting is not a fixed point: %q -> %q (%v)", out, out2, err)
		}
	})
}
