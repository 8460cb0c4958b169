package state

import (
	"strings"
	"testing"
)

// FuzzMove moves recorded objects and devices to arbitrary addresses: it
// must never panic, a refused move records nothing, and an accepted one
// keeps the number of entries, stores the entry under its new address and
// writes exactly two records.
func FuzzMove(f *testing.F) {
	f.Add(`workflow.identities.user["a"]`, `workflow.people.user["b"]`)
	f.Add(`device_cutover.wave1["WS1"]`, `device_cutover.wave2["WS1"]`)
	f.Add(`workflow.identities.user["a"]`, `workflow.identities.group["a"]`)
	f.Add(`workflow.identities.user["a"]`, `x[`)
	f.Add(`environment.target.ou["OU=x"]`, `environment.target.ou["OU=y"]`)
	f.Add(`..[]`, `a.b[]`)
	f.Fuzz(func(t *testing.T, from, to string) {
		s := New()
		for _, a := range []string{`workflow.identities.user["a"]`, `environment.target.ou["OU=x"]`, from} {
			s.Objects[a] = &Object{Address: a, Workflow: "identities", Kind: KindUser}
		}
		s.Devices[`device_cutover.wave1["WS1"]`] = &Device{Address: `device_cutover.wave1["WS1"]`, Cutover: "wave1"}
		if strings.HasPrefix(from, "device_cutover.") {
			delete(s.Objects, from)
			s.Devices[from] = &Device{Address: from, Cutover: "wave1"}
		}
		n := len(s.Objects) + len(s.Devices)
		j := &memJournal{}
		txn := NewTxn(s, j)
		err := txn.Move(from, to)
		if err != nil {
			if j.records != 0 {
				t.Fatalf("a refused move wrote %d records: %v", j.records, err)
			}
			return
		}
		if j.records != 2 || len(s.Objects)+len(s.Devices) != n {
			t.Fatalf("move wrote %d records, %d entries from %d", j.records, len(s.Objects)+len(s.Devices), n)
		}
		if o, ok := s.Objects[to]; ok && o.Address != to {
			t.Fatalf("object at %q has address %q", to, o.Address)
		}
		if d, ok := s.Devices[to]; ok && d.Address != to {
			t.Fatalf("device at %q has address %q", to, d.Address)
		}
		if _, ok := s.Objects[from]; ok {
			t.Fatalf("%q still recorded", from)
		}
		if _, ok := s.Devices[from]; ok {
			t.Fatalf("%q still recorded", from)
		}
	})
}
