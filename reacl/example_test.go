package reacl_test

import (
	"fmt"

	"github.com/adshift/adshift/adid"
	"github.com/adshift/adshift/reacl"
)

// A device agent translates each file's descriptor in add mode before
// cutover, keeping a Record for rollback.
func Example() {
	m := reacl.NewMap()
	// jdoe and the Finance group, matched in state.
	_ = m.Add(adid.MustSID("S-1-5-21-1111-2222-3333-1107"), adid.MustSID("S-1-5-21-4444-5555-6666-2107"))
	_ = m.Add(adid.MustSID("S-1-5-21-1111-2222-3333-1188"), adid.MustSID("S-1-5-21-4444-5555-6666-2188"))

	src, _ := reacl.ParseSDDL("O:S-1-5-21-1111-2222-3333-1107G:SYD:AI(A;OICI;FA;;;SY)"+
		"(A;OICI;0x1301bf;;;S-1-5-21-1111-2222-3333-1188)(A;ID;FA;;;S-1-5-21-1111-2222-3333-1107)"+
		"(A;ID;FR;;;S-1-5-21-1111-2222-3333-1999)", nil)
	orig, _ := src.MarshalBinary() // what GetNamedSecurityInfo returned

	tr, _ := reacl.NewTranslator(m, reacl.Options{Mode: reacl.ModeAdd})
	out, rep, err := tr.TranslateBinary(nil, orig)
	if err != nil {
		fmt.Println(err)
		return
	}
	d, _ := reacl.ParseBinary(out)
	s, _ := d.SDDL(nil)
	fmt.Println(s)
	fmt.Printf("added %d ACEs, unmapped %v\n", rep.Added, rep.Unmapped)

	back, _ := reacl.Rollback(out, reacl.Record{Original: orig, Translated: out})
	fmt.Println("rollback restores the original bytes:", string(back) == string(orig))
	// Output:
	// O:S-1-5-21-4444-5555-6666-2107G:SYD:AI(A;OICI;FA;;;SY)(A;OICI;0x1301bf;;;S-1-5-21-1111-2222-3333-1188)(A;OICI;0x1301bf;;;S-1-5-21-4444-5555-6666-2188)(A;ID;FA;;;S-1-5-21-1111-2222-3333-1107)(A;ID;FA;;;S-1-5-21-4444-5555-6666-2107)(A;ID;FR;;;S-1-5-21-1111-2222-3333-1999)
	// added 2 ACEs, unmapped [S-1-5-21-1111-2222-3333-1999]
	// rollback restores the original bytes: true
}

// The same SDDL names different SIDs in different domains; the binary form
// always carries the full SID.
func ExampleParseSDDL_domainRelative() {
	source := reacl.NewDomain(adid.MustSID("S-1-5-21-1111-2222-3333"))
	target := reacl.NewDomain(adid.MustSID("S-1-5-21-4444-5555-6666"))
	d, _ := reacl.ParseSDDL("O:DAD:(A;;FA;;;DU)", source)
	s, _ := d.SDDL(target)
	fmt.Println(s)
	s, _ = d.SDDL(source)
	fmt.Println(s)
	// Output:
	// O:S-1-5-21-1111-2222-3333-512D:(A;;FA;;;S-1-5-21-1111-2222-3333-513)
	// O:DAD:(A;;FA;;;DU)
}
