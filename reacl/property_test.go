package reacl

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/adshift/adshift/adid"
)

// mapDomain maps every account of the test domain that d names (owner,
// group, trustees) to the same RID in another domain.
func mapDomain(t *testing.T, d *Descriptor, from SID) *Map {
	t.Helper()
	to := adid.MustSID("S-1-5-21-9-9-9")
	m := NewMap()
	add := func(s SID) {
		if dom, ok := s.Domain(); ok && dom == from {
			rid, _ := s.RID()
			ts, _ := to.Child(rid)
			if err := m.Add(s, ts); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, p := range []*SID{d.Owner, d.Group} {
		if p != nil {
			add(*p)
		}
	}
	for _, acl := range []*ACL{d.DACL, d.SACL} {
		if acl != nil {
			for _, a := range acl.ACEs {
				add(a.SID)
			}
		}
	}
	return m
}

// checkTranslationProperties checks the algebra of the modes on d:
// add is idempotent, remove after add equals replace, and the reversed map
// in the inverse mode undoes add and replace.
func checkTranslationProperties(t *testing.T, d *Descriptor, m *Map) {
	t.Helper()
	tr := func(x *Descriptor, m *Map, mode Mode) *Descriptor {
		y, _, err := Translate(x, m, Options{Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		return y
	}
	sddl := func(x *Descriptor) string { s, _ := x.SDDL(nil); return s }
	added := tr(d, m, ModeAdd)
	if again := tr(added, m, ModeAdd); !again.Equal(added) {
		t.Fatalf("add is not idempotent on %s", sddl(d))
	}
	replaced := tr(d, m, ModeReplace)
	if got := tr(added, m, ModeRemove); !got.Equal(replaced) {
		t.Fatalf("remove(add(x)) != replace(x) for %s\nremove(add) %s\nreplace     %s", sddl(d), sddl(got), sddl(replaced))
	}
	rev, err := m.Reverse()
	if err != nil {
		t.Fatal(err)
	}
	// Undoing add drops exactly the added ACEs; owner and group come back too.
	if back := tr(added, rev, ModeRemove); !back.Equal(d) {
		t.Fatalf("undo add differs for %s\n%s", sddl(d), describeDiff(d, back))
	}
	// Replace merges repeated ACEs (Samba DCs write some descriptors with
	// every inherited ACE twice), so undoing it gives them back once.
	if back := tr(replaced, rev, ModeReplace); !back.Equal(dedupMapped(d, m)) {
		t.Fatalf("undo replace differs for %s\n%s", sddl(d), describeDiff(dedupMapped(d, m), back))
	}
}

// dedupMapped returns d without repeated ACEs for mapped SIDs: translating
// merges such duplicates (an exact copy of an ACE grants nothing more), so
// that is what a round trip gives back.
func dedupMapped(d *Descriptor, m *Map) *Descriptor {
	c := d.Clone()
	for _, acl := range []*ACL{c.DACL, c.SACL} {
		if acl == nil {
			continue
		}
		var out []ACE
		for i := range acl.ACEs {
			a := acl.ACEs[i]
			if _, ok := m.Lookup(a.SID); ok && a.Type.hasPrincipal() && hasTwin(out, &a) {
				continue
			}
			out = append(out, a)
		}
		acl.ACEs = out
	}
	return c
}

func TestTranslationProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(conformanceSeed(t), 3))
	for range 2000 {
		d := genDescriptor(r, genOptions{})
		checkTranslationProperties(t, d, mapDomain(t, d, testDomainSID))
	}
	for _, tc := range realWorldSDDL {
		d, err := ParseSDDL(tc.sddl, testDomain)
		if err != nil {
			t.Fatal(err)
		}
		checkTranslationProperties(t, d, mapDomain(t, d, testDomainSID))
	}
}

func describeDiff(a, b *Descriptor) string {
	switch {
	case a.Revision != b.Revision || a.RMControl != b.RMControl || a.Control != b.Control:
		return fmt.Sprintf("header %d/%d/%#x vs %d/%d/%#x", a.Revision, a.RMControl, a.Control, b.Revision, b.RMControl, b.Control)
	case !sidPtrEqual(a.Owner, b.Owner) || !sidPtrEqual(a.Group, b.Group):
		return "owner/group"
	}
	for i, pair := range [][2]*ACL{{a.SACL, b.SACL}, {a.DACL, b.DACL}} {
		x, y := pair[0], pair[1]
		if x == nil || y == nil {
			if x != y {
				return fmt.Sprintf("ACL %d nil-ness", i)
			}
			continue
		}
		if x.Revision != y.Revision || len(x.ACEs) != len(y.ACEs) {
			return fmt.Sprintf("ACL %d revision %d/%d count %d/%d", i, x.Revision, y.Revision, len(x.ACEs), len(y.ACEs))
		}
		for j := range x.ACEs {
			if !x.ACEs[j].Equal(&y.ACEs[j]) {
				return fmt.Sprintf("ACL %d ACE %d: %+v vs %+v", i, j, x.ACEs[j], y.ACEs[j])
			}
		}
	}
	return "equal?"
}
