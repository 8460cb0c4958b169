package ui

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/adshift/adshift/planner/plans"
)

// A DN in the text plan reads exactly as RFC 4514 spells it, so a DN copied
// from the plan is right; attribute values keep their quoting.
func TestPlan_DNsAsRFC4514SpellsThem(t *testing.T) {
	p := &plans.Plan{FormatVersion: plans.FormatVersion, Changes: []*plans.Change{
		{ID: 1, Address: `workflow.id.user["q"]`, Environment: "target", Kind: "user", Action: plans.Create,
			DN:    `CN=Quote \"Q\"\; Semi,OU=Users,DC=t`,
			Attrs: []plans.AttrDiff{{Name: "displayName", Op: "replace", After: []string{`Quote "Q"`}}}},
		{ID: 2, Address: `workflow.id.group["g"]`, Environment: "target", Kind: "group", Action: plans.Update, DN: "CN=G,DC=t", Members: true,
			Attrs: []plans.AttrDiff{{Name: "member", Op: "add", After: []string{`CN=Smith\, John,DC=t`}}}},
		{ID: 3, Address: `workflow.id.user["n"]`, Environment: "target", Kind: "user", Action: plans.Move, DN: "CN=a\nb,DC=t", NewDN: `CN=a\0Ab,OU=X,DC=t`},
	}}
	var out bytes.Buffer
	v := &View{Out: &out, Err: &out}
	v.Plan(p)
	for _, want := range []string{
		`+ user "CN=Quote \"Q\"\; Semi,OU=Users,DC=t"`,
		`+ displayName = "Quote \"Q\""`,
		`+ member "CN=Smith\, John,DC=t"`,
		`→ user "CN=a\0Ab,DC=t"`,
		`-> "CN=a\0Ab,OU=X,DC=t"`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the plan lacks %s:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), `\\`) {
		t.Errorf("a doubled backslash:\n%s", out.String())
	}
}

// Long runs of one warning fold in the text view, saying where the rest is.
func TestPlan_warningsFold(t *testing.T) {
	p := &plans.Plan{FormatVersion: plans.FormatVersion, Changes: []*plans.Change{}}
	for i := range 14 {
		p.Warnings = append(p.Warnings, plans.Warning{Address: fmt.Sprintf("g%d", i), Summary: "Group members not mapped", Detail: "d"})
	}
	p.Warnings = append(p.Warnings, plans.Warning{Summary: "Other"})
	var out bytes.Buffer
	(&View{Out: &out, Err: &out}).Plan(p)
	s := out.String()
	if !strings.Contains(s, "g9: Group members not mapped") || strings.Contains(s, "g10:") ||
		!strings.Contains(s, `… and 4 more "Group members not mapped" warnings (plan -json lists each`) || !strings.Contains(s, "- Other") {
		t.Errorf("folded warnings:\n%s", s)
	}
}
