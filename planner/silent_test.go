package planner

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/adshift/adshift/providers"
	"github.com/adshift/adshift/state"
)

func diagWith(diags hcl.Diagnostics, sev hcl.DiagnosticSeverity, summary string) *hcl.Diagnostic {
	for _, d := range diags {
		if d.Severity == sev && d.Summary == summary {
			return d
		}
	}
	return nil
}

// Two source entries with one sAMAccountName would be two creates under one
// address and one state entry: a plan that never converges.
func TestPlan_twoSourceObjectsOneAddress(t *testing.T) {
	source := newFakeDir(
		obj(providers.KindUser, "CN=Ann A,OU=One,DC=s", "sAMAccountName", "ann", "objectGUID", "s-1"),
		obj(providers.KindUser, "CN=Ann B,OU=Two,DC=s", "sAMAccountName", "ann", "objectGUID", "s-2"),
	)
	target := newFakeDir(obj(providers.KindOU, "OU=M,DC=t"))
	p, diags := tryPlan(t, baseConfig+identities, source, target, state.New())
	d := diagWith(diags, hcl.DiagError, "Two source objects have one address")
	if p != nil || d == nil {
		t.Fatalf("want an error and no plan, got %v", diags)
	}
	for _, want := range []string{`workflow.id.user["ann"]`, "CN=Ann A,OU=One,DC=s", "CN=Ann B,OU=Two,DC=s", "sAMAccountName"} {
		if !strings.Contains(d.Detail, want) {
			t.Errorf("the error does not name %q: %s", want, d.Detail)
		}
	}
	if d.Subject == nil || d.Subject.Filename != "main.hcl" {
		t.Errorf("the error points at no workflow: %v", d.Subject)
	}
}

// Two source objects that a template would write to one target DN are an
// error pointing at the template, never one create and a warning.
func TestPlan_twoObjectsOneTargetDN(t *testing.T) {
	source := newFakeDir(
		obj(providers.KindUser, "CN=Ann,OU=One,DC=s", "sAMAccountName", "ann1", "objectGUID", "s-1"),
		obj(providers.KindUser, "CN=Ann,OU=Two,DC=s", "sAMAccountName", "ann2", "objectGUID", "s-2"),
	)
	target := newFakeDir(obj(providers.KindOU, "OU=M,DC=t"))
	p, diags := tryPlan(t, baseConfig+identities, source, target, state.New())
	d := diagWith(diags, hcl.DiagError, "Two objects would get the same DN")
	if p != nil || d == nil {
		t.Fatalf("want an error and no plan, got %v", diags)
	}
	for _, want := range []string{`workflow.id.user["ann1"]`, `workflow.id.user["ann2"]`, "CN=Ann,OU=Users,OU=M,DC=t", "name expression"} {
		if !strings.Contains(d.Detail, want) {
			t.Errorf("the error does not name %q: %s", want, d.Detail)
		}
	}
	if d.Subject == nil {
		t.Error("the error points at no template")
	}
}

// An empty or wrong-scoped source must not read as "No changes" (or as
// "delete everything"): losing more than half of what state knows is
// refused until confirmed with MaxMissing.
func TestPlan_sourceLossIsRefusedUnlessConfirmed(t *testing.T) {
	target := newFakeDir(obj(providers.KindOU, "OU=M,DC=t"))
	st := state.New()
	var all []*providers.Object
	for _, n := range []string{"a", "b", "c", "d"} {
		addr := `workflow.id.user["` + n + `"]`
		st.Objects[addr] = &state.Object{Address: addr, Workflow: "id", Kind: "user", Source: state.Identity{GUID: "s-" + n}, Target: state.Identity{GUID: "t-" + n}}
		all = append(all, obj(providers.KindUser, "CN="+n+",DC=s", "sAMAccountName", n, "objectGUID", "s-"+n))
	}
	tests := []struct {
		name    string
		source  []*providers.Object
		max     int
		refused string // the error's words, or "" when the plan is made
		warned  bool
	}{
		{"empty source", nil, 0, "no longer returns all 4 source objects", false},
		{"three of four gone", all[:1], 0, "no longer returns 3 of the 4 source objects", false},
		{"half gone is allowed, with a warning", all[:2], 0, "", true},
		{"empty source confirmed", nil, 4, "", true},
		{"confirmed too low", nil, 3, "-max-missing=4", false},
		{"no limit", nil, -1, "", true},
		{"nothing gone", all, 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, diags := tryPlan(t, baseConfig+identities, newFakeDir(tt.source...), target, st, func(o *Options) { o.MaxMissing = tt.max })
			d := diagWith(diags, hcl.DiagError, "Source is missing objects state knows")
			if tt.refused != "" {
				if d == nil || p != nil || !strings.Contains(d.Detail, tt.refused) {
					t.Fatalf("want the plan refused with %q, got %v", tt.refused, diags)
				}
				return
			}
			if d != nil || p == nil {
				t.Fatalf("want a plan, got %v", diags)
			}
			warned := false
			for _, w := range p.Warnings {
				warned = warned || w.Summary == "Source objects gone"
			}
			if warned != tt.warned {
				t.Fatalf("warning %v, want %v: %+v", warned, tt.warned, p.Warnings)
			}
		})
	}
}

// A misspelt source attribute in a template validates and plans, but must
// not drop the attribute from every object without a word.
func TestPlan_templateReadsAnAttributeNoSourceHas(t *testing.T) {
	source := newFakeDir(obj(providers.KindUser, "CN=Ann,DC=s", "sAMAccountName", "ann", "displayName", "Ann", "objectGUID", "s-1"))
	target := newFakeDir(obj(providers.KindOU, "OU=M,DC=t"))
	cfg := strings.Replace(identities, "displayName = source.displayName", "displayName = source.displayNmae", 1)
	p, diags := tryPlan(t, baseConfig+cfg, source, target, state.New())
	d := diagWith(diags, hcl.DiagWarning, "Template reads an attribute no source object has")
	if p == nil || d == nil {
		t.Fatalf("want a plan and a warning, got %v", diags)
	}
	for _, want := range []string{"users template of workflow.id", "source.displayNmae", "Did you mean displayName?"} {
		if !strings.Contains(d.Detail, want) {
			t.Errorf("the warning does not say %q: %s", want, d.Detail)
		}
	}
	if d.Subject == nil || d.Subject.Start.Line == 0 || !strings.Contains(baseConfig+cfg, "source.displayNmae") {
		t.Errorf("the warning points nowhere: %v", d.Subject)
	}
	// Spelt right, no warning.
	_, diags = tryPlan(t, baseConfig+identities, source, target, state.New())
	if d := diagWith(diags, hcl.DiagWarning, "Template reads an attribute no source object has"); d != nil {
		t.Errorf("a warning for an attribute the source has: %s", d.Detail)
	}
}

// State holds a DN as adshift wrote it; the DC may return it hex-escaped.
// The same entry must not be "a match to record" on every plan.
func TestPlan_stateDNComparedByKey(t *testing.T) {
	source := newFakeDir(obj(providers.KindUser, `CN=Semi\;Eq\=,OU=M,DC=s`, "sAMAccountName", "semi", "displayName", "S", "objectGUID", "s-1"))
	target := newFakeDir(
		obj(providers.KindOU, "OU=Users,OU=M,DC=t"),
		obj(providers.KindUser, `CN=Semi\3BEq\3D,OU=Users,OU=M,DC=t`, "sAMAccountName", "semi", "displayName", "S", "objectGUID", "t-1"),
	)
	st := state.New()
	addr := `workflow.id.user["semi"]`
	st.Objects[addr] = &state.Object{Address: addr, Workflow: "id", Kind: "user", Created: true,
		Source: state.Identity{GUID: "s-1", DN: `CN=Semi\;Eq\=,OU=M,DC=s`}, Target: state.Identity{GUID: "t-1", DN: `CN=Semi\;Eq\=,OU=Users,OU=M,DC=t`}}
	p := mustPlan(t, baseConfig+identities, source, target, st)
	if p.HasChanges() {
		t.Fatalf("a clean re-plan has changes: %v, matches %+v", summary(p), p.Matches)
	}
}

// A disabled source account is created disabled unless the template sets
// userAccountControl.
func TestPlan_disabledAccountsStayDisabled(t *testing.T) {
	src := baseConfig + `
workflow "id" {
  source = environment.source
  target = environment.target
  objects = ["users", "devices"]
  template {
    users   { target_ou = "OU=M,DC=t" }
    devices { target_ou = "OU=M,DC=t" }
  }
}
`
	source := newFakeDir(
		obj(providers.KindUser, "CN=Off,DC=s", "sAMAccountName", "off", "userAccountControl", "514", "objectGUID", "s-1"),
		obj(providers.KindUser, "CN=On,DC=s", "sAMAccountName", "on", "userAccountControl", "512", "objectGUID", "s-2"),
		obj(providers.KindComputer, "CN=PC1,DC=s", "sAMAccountName", "PC1$", "userAccountControl", "4098", "objectGUID", "s-3"),
	)
	target := newFakeDir(obj(providers.KindOU, "OU=M,DC=t"))
	p := mustPlan(t, src, source, target, state.New())
	want := []string{
		`create workflow.id.user["off"] replace:sAMAccountName=off replace:userAccountControl=514`,
		`create workflow.id.user["on"] replace:sAMAccountName=on`,
		`create workflow.id.device["PC1"] replace:sAMAccountName=PC1$ replace:userAccountControl=4098`,
	}
	if diff := cmp.Diff(want, summary(p)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// The template decides when it names the attribute.
	set := strings.Replace(src, `users   { target_ou = "OU=M,DC=t" }`, `users   {
      target_ou  = "OU=M,DC=t"
      attributes = { userAccountControl = "512" }
    }`, 1)
	p = mustPlan(t, set, source, target, state.New())
	if got := summary(p)[0]; got != `create workflow.id.user["off"] replace:userAccountControl=512 replace:sAMAccountName=off` {
		t.Errorf("with the template's value: %s", got)
	}
}

// Source objects sharing a match value are reported per rule and value;
// creating several objects with one value of a rule's target attribute is
// refused.
func TestPlan_sharedMatchValues(t *testing.T) {
	source := newFakeDir(
		obj(providers.KindUser, "CN=A,DC=s", "sAMAccountName", "a", "mail", "x@s", "objectGUID", "s-1"),
		obj(providers.KindUser, "CN=B,DC=s", "sAMAccountName", "b", "mail", "X@s", "objectGUID", "s-2"),
		obj(providers.KindUser, "CN=C,DC=s", "sAMAccountName", "c", "mail", "c@s", "objectGUID", "s-3"),
	)
	target := newFakeDir(obj(providers.KindOU, "OU=M,DC=t"))
	writesMail := strings.Replace(identities, "sAMAccountName = source.sAMAccountName", "sAMAccountName = source.sAMAccountName, mail = source.mail", 1)
	p, diags := tryPlan(t, baseConfig+writesMail, source, target, state.New())
	d := diagWith(diags, hcl.DiagError, "New objects would share a match value")
	if p != nil || d == nil {
		t.Fatalf("want the creates refused, got %v", diags)
	}
	for _, want := range []string{`workflow.id.user["a"] (CN=A,DC=s)`, `workflow.id.user["b"] (CN=B,DC=s)`, `mail = "x@s"`} {
		if !strings.Contains(d.Detail, want) {
			t.Errorf("the error does not say %q: %s", want, d.Detail)
		}
	}
	// Without writing mail the creates are distinct; the source still
	// shares a value, which is reported.
	p = mustPlan(t, baseConfig+identities, source, target, state.New())
	var found bool
	for _, w := range p.Warnings {
		if w.Summary == "Source users share one mail" {
			found = true
			if !strings.Contains(w.Detail, "CN=A,DC=s, CN=B,DC=s") || strings.Contains(w.Detail, "CN=C") {
				t.Errorf("warning names the wrong objects: %s", w.Detail)
			}
		}
	}
	if !found {
		t.Errorf("no warning for the shared mail: %+v", p.Warnings)
	}
}

// An ambiguous identity blocks ReACL with what fixes it (the data or the
// rules), not "apply them first", which cannot help.
func TestPlan_deviceBlockerSaysWhatFixesTheSIDMap(t *testing.T) {
	source := newFakeDir(
		obj(providers.KindComputer, "CN=WS-1,OU=WS,DC=s", "sAMAccountName", "WS-1$", "operatingSystem", "Windows 10 Pro", "operatingSystemVersion", "10.0 (19045)", "objectGUID", "c1"),
		obj(providers.KindUser, "CN=Amb,DC=s", "sAMAccountName", "amb", "mail", "amb@x", "objectGUID", "s-amb"),
		obj(providers.KindUser, "CN=New,DC=s", "sAMAccountName", "new", "objectGUID", "s-new"),
	)
	target := newFakeDir(
		obj(providers.KindOU, "OU=M,DC=t"),
		obj(providers.KindComputer, "CN=WS-1,DC=t", "sAMAccountName", "WS-1$", "objectGUID", "t1"),
		obj(providers.KindUser, "CN=Amb1,DC=t", "sAMAccountName", "amb1", "mail", "amb@x", "objectGUID", "t-a1"),
		obj(providers.KindUser, "CN=Amb2,DC=t", "sAMAccountName", "amb2", "mail", "amb@x", "objectGUID", "t-a2"),
	)
	p := mustPlan(t, baseConfig+identities+devicesConfig, source, target, nil)
	msgs := map[string]string{}
	for _, b := range p.Devices[0].Blockers {
		msgs[b.Code] = b.Message
	}
	if m := msgs["sid_map_ambiguous"]; !strings.Contains(m, `workflow.id.user["amb"]`) || !strings.Contains(m, "fix the data or the match rules") {
		t.Errorf("ambiguous blocker: %q", m)
	}
	if m := msgs["sid_map_incomplete"]; !strings.Contains(m, `workflow.id.user["new"]`) || !strings.Contains(m, "apply it first") || strings.Contains(m, "amb") {
		t.Errorf("pending blocker: %q", m)
	}
}

// Every left-out member of a group is in its warning's Items (plan -json
// lists them), however many groups have some.
func TestPlan_leftOutMembersListedPerGroup(t *testing.T) {
	var objs []*providers.Object
	for g := range 25 {
		name := fmt.Sprintf("g%02d", g)
		objs = append(objs, obj(providers.KindGroup, "CN="+name+",DC=s", "sAMAccountName", name, "objectGUID", "s-"+name,
			"member", "CN=Out1,OU=Elsewhere,DC=s", "member", "CN=Out2,OU=Elsewhere,DC=s"))
	}
	p := mustPlan(t, baseConfig+identities, newFakeDir(objs...), newFakeDir(obj(providers.KindOU, "OU=M,DC=t")), state.New())
	n := 0
	for _, w := range p.Warnings {
		if w.Summary != "Group members not mapped" {
			continue
		}
		n++
		if diff := cmp.Diff([]string{"CN=Out1,OU=Elsewhere,DC=s", "CN=Out2,OU=Elsewhere,DC=s"}, w.Items); diff != "" || w.Address == "" {
			t.Errorf("%s: items (-want +got):\n%s", w.Address, diff)
		}
	}
	if n != 25 {
		t.Errorf("%d group warnings, want one per group (25)", n)
	}
}

// An object read twice (moved while the directory was read in parallel
// parts) is an error, not two objects, one of them made up.
func TestPlan_objectReadTwice(t *testing.T) {
	source := newFakeDir(
		obj(providers.KindUser, "CN=Ann,OU=A,DC=s", "sAMAccountName", "ann", "objectGUID", "s-1"),
		obj(providers.KindUser, "CN=Ann,OU=B,DC=s", "sAMAccountName", "ann", "objectGUID", "S-1"),
	)
	_, diags := tryPlan(t, baseConfig+identities, source, newFakeDir(), state.New())
	// The fake emits in map order: either copy may come second.
	if msg := strings.ToLower(diags.Error()); !diags.HasErrors() || !strings.Contains(msg, "objectguid s-1 was read twice") ||
		!strings.Contains(msg, `"cn=ann,ou=a,dc=s"`) || !strings.Contains(msg, `"cn=ann,ou=b,dc=s"`) || !strings.Contains(msg, "run plan again") {
		t.Fatalf("got %v", diags)
	}
}
