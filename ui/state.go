package ui

import (
	"bufio"
	"fmt"
	"sort"
	"strings"

	"github.com/adshift/adshift/state"
)

// StateAddresses lists every address in state, sorted.
func StateAddresses(s *state.State) []string {
	out := make([]string, 0, len(s.Objects)+len(s.Devices))
	for a := range s.Objects {
		out = append(out, a)
	}
	for a := range s.Devices {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// StateList prints the addresses in state, optionally only those starting
// with one of the given prefixes.
func (v *View) StateList(s *state.State, prefixes []string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	bw := bufio.NewWriter(v.Out)
	defer bw.Flush()
	n := 0
	for _, a := range StateAddresses(s) {
		if len(prefixes) > 0 {
			ok := false
			for _, p := range prefixes {
				if strings.HasPrefix(a, p) {
					ok = true
				}
			}
			if !ok {
				continue
			}
		}
		fmt.Fprintln(bw, a)
		n++
	}
	return n
}

// StateObject prints one object or device of state; false when absent.
func (v *View) StateObject(s *state.State, addr string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	bw := bufio.NewWriter(v.Out)
	defer bw.Flush()
	pal := v.palette()
	ident := func(label string, id state.Identity) {
		fmt.Fprintf(bw, "  %s\n", pal.bold(label))
		fmt.Fprintf(bw, "    dn   = %s\n", dnText(id.DN))
		if id.GUID != "" {
			fmt.Fprintf(bw, "    guid = %q\n", id.GUID)
		}
		if id.SID != "" {
			fmt.Fprintf(bw, "    sid  = %q\n", id.SID)
		}
	}
	if o, ok := s.Objects[addr]; ok {
		fmt.Fprintf(bw, "# %s\n", o.Address)
		fmt.Fprintf(bw, "  kind     = %q\n", o.Kind)
		if o.Workflow != "" {
			fmt.Fprintf(bw, "  workflow = %q\n", o.Workflow)
		}
		fmt.Fprintf(bw, "  created  = %t  (adshift created the target object)\n", o.Created)
		if !o.Source.IsZero() {
			ident("source", o.Source)
		}
		ident("target", o.Target)
		if len(o.SIDHistory) > 0 {
			fmt.Fprintf(bw, "  sid_history = [%s]\n", strings.Join(o.SIDHistory, ", "))
		}
		if !o.UpdatedAt.IsZero() {
			fmt.Fprintf(bw, "  updated  = %s\n", o.UpdatedAt.Format("2006-01-02T15:04:05Z07:00"))
		}
		return true
	}
	if d, ok := s.Devices[addr]; ok {
		fmt.Fprintf(bw, "# %s\n", d.Address)
		fmt.Fprintf(bw, "  cutover = %q\n  name    = %q\n", d.Cutover, d.Name)
		ident("source", d.Source)
		if !d.Target.IsZero() {
			ident("target", d.Target)
		}
		for _, a := range d.Actions {
			fmt.Fprintf(bw, "  action %-20s %s %s %s\n", a.Name, a.Status, a.At.Format("2006-01-02T15:04:05Z07:00"), a.Detail)
		}
		return true
	}
	return false
}

// StateSummary prints what a state holds, for show without a plan.
func (v *View) StateSummary(s *state.State) {
	v.mu.Lock()
	counts := map[string]int{}
	for _, o := range s.Objects {
		counts[o.Kind]++
	}
	fmt.Fprintf(v.Out, "State lineage %s, serial %d: %d objects, %d devices.\n", s.Lineage, s.Serial, len(s.Objects), len(s.Devices))
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(v.Out, "  %-9s %d\n", k, counts[k])
	}
	v.mu.Unlock()
	v.StateList(s, nil)
}
