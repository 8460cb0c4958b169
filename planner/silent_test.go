package planner

import (
	"strings"
	"testing"

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
