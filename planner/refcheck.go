package planner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/planner/plans"
)

// wellKnownAttributes are ldapDisplayNames of the AD schema that templates
// commonly read: the candidates for "did you mean" when a template reads an
// attribute no source object has (discovery reads only the attributes the
// templates name, so the source alone cannot suggest the right one).
var wellKnownAttributes = []string{
	"accountExpires", "adminDescription", "adminDisplayName", "c", "cn", "co", "comment", "company",
	"countryCode", "department", "departmentNumber", "description", "directReports", "displayName",
	"displayNamePrintable", "distinguishedName", "division", "dNSHostName", "employeeID", "employeeNumber",
	"employeeType", "extensionAttribute1", "extensionAttribute2", "extensionAttribute3", "extensionAttribute4",
	"extensionAttribute5", "extensionAttribute6", "extensionAttribute7", "extensionAttribute8",
	"extensionAttribute9", "extensionAttribute10", "extensionAttribute11", "extensionAttribute12",
	"extensionAttribute13", "extensionAttribute14", "extensionAttribute15", "facsimileTelephoneNumber",
	"generationQualifier", "givenName", "groupType", "homeDirectory", "homeDrive", "homePhone", "info",
	"initials", "ipPhone", "l", "mail", "mailNickname", "managedBy", "manager", "member", "memberOf",
	"middleName", "mobile", "name", "objectClass", "objectGUID", "objectSid", "operatingSystem",
	"operatingSystemServicePack", "operatingSystemVersion", "otherHomePhone", "otherMailbox", "otherMobile",
	"otherTelephone", "pager", "personalTitle", "physicalDeliveryOfficeName", "postalAddress", "postalCode",
	"postOfficeBox", "primaryGroupID", "profilePath", "proxyAddresses", "sAMAccountName", "scriptPath",
	"servicePrincipalName", "sIDHistory", "sn", "st", "street", "streetAddress", "targetAddress",
	"telephoneNumber", "thumbnailPhoto", "title", "url", "userAccountControl", "userPrincipalName",
	"userWorkstations", "wWWHomePage",
}

// identityRefs are names every source object answers for (see attrValues
// and sourceRefs.sourceValue).
var identityRefs = map[string]bool{"dn": true, "distinguishedname": true, "objectguid": true, "objectsid": true}

// checkTemplateRefs warns about every attribute a template reads that no
// source object of its kind has: the template would leave it out of every
// object without a word, which is how a misspelt name looks.
func (pl *planning) checkTemplateRefs() {
	for _, wname := range config.SortedNames(pl.cfg.Workflows) {
		w := pl.cfg.Workflows[wname]
		if w.Source == nil || pl.invs[w.Source.Name] == nil {
			continue
		}
		inv := pl.invs[w.Source.Name]
		for _, ki := range kindOrder {
			t := w.Templates[ki.word]
			objs := inv.byKind[ki.kind]
			if t == nil || !w.Carries(ki.word) || len(objs) == 0 {
				continue
			}
			for _, name := range pl.refs(t).names {
				lname := strings.ToLower(name)
				if identityRefs[lname] || anyHas(inv, ki, lname) {
					continue
				}
				detail := fmt.Sprintf("The %s template of workflow.%s reads source.%s, but none of the %d source %s in environment.%s has %s, so it is left out of every object.",
					ki.word, w.Name, name, len(objs), ki.word, w.Source.Name, name)
				if s := config.Suggest(name, seenNames(inv, ki)); s != "" && !strings.EqualFold(s, name) {
					detail += fmt.Sprintf(" Did you mean %s?", s)
				} else {
					detail += " Check the spelling, or remove it if the source never has it."
				}
				pl.diags = append(pl.diags, &hcl.Diagnostic{
					Severity: hcl.DiagWarning,
					Summary:  "Template reads an attribute no source object has",
					Detail:   detail,
					Subject:  refRange(t, name),
				})
			}
		}
	}
}

func anyHas(inv *inventory, ki kindInfo, lname string) bool {
	for _, o := range inv.byKind[ki.kind] {
		if len(attrValues(o, lname)) > 0 {
			return true
		}
	}
	return false
}

// seenNames are the suggestion candidates: the well-known attributes and
// those the source's objects of the kind carry.
func seenNames(inv *inventory, ki kindInfo) []string {
	seen := map[string]bool{}
	out := append([]string(nil), wellKnownAttributes...)
	for _, n := range wellKnownAttributes {
		seen[strings.ToLower(n)] = true
	}
	for i, o := range inv.byKind[ki.kind] {
		if i == 1000 {
			break
		}
		for n := range o.Attrs {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	sort.Strings(out[len(wellKnownAttributes):])
	return out
}

// refRange is the range of the first source.NAME reference in t.
func refRange(t *config.Template, name string) *hcl.Range {
	exprs := []hcl.Expression{t.TargetOU, t.Name}
	for _, a := range t.Attributes {
		exprs = append(exprs, a.Expr)
	}
	for _, e := range exprs {
		if e == nil {
			continue
		}
		for _, tr := range e.Variables() {
			if tr.RootName() != "source" || len(tr) < 2 {
				continue
			}
			if a, ok := tr[1].(hcl.TraverseAttr); ok && a.Name == name {
				r := tr.SourceRange()
				return &r
			}
			if ix, ok := tr[1].(hcl.TraverseIndex); ok && ix.Key.Type() == cty.String && ix.Key.IsKnown() && !ix.Key.IsNull() && ix.Key.AsString() == name {
				r := tr.SourceRange()
				return &r
			}
		}
	}
	return t.DeclRange.Ptr()
}

// checkSourceLoss refuses a plan whose source read lost more of the objects
// state knows than the limit: an empty or truncated export, or a wrong
// scope, would otherwise read as "everything left the source" and plan
// "No changes" (or remove what was migrated). Like MaxDeletes, the limit
// is an explicit confirmation.
func (pl *planning) checkSourceLoss() {
	type count struct{ known, missing int }
	counts := map[string]*count{}
	for _, o := range pl.opts.State.Objects {
		w := pl.cfg.Workflows[o.Workflow]
		if w == nil || w.Source == nil || o.Source.GUID == "" || pl.invs[w.Source.Name] == nil {
			continue
		}
		carried := false
		for _, k := range kindOrder {
			if k.state == o.Kind && w.Carries(k.word) {
				carried = true
			}
		}
		if !carried {
			continue
		}
		c := counts[w.Name]
		if c == nil {
			c = &count{}
			counts[w.Name] = c
		}
		c.known++
		if pl.invs[w.Source.Name].byGUID[strings.ToLower(o.Source.GUID)] == nil {
			c.missing++
		}
	}
	for _, name := range config.SortedNames(counts) {
		c, w := counts[name], pl.cfg.Workflows[name]
		if c.missing == 0 {
			continue
		}
		limit := pl.opts.MaxMissing
		if limit == 0 {
			limit = c.known / 2
		}
		if limit >= 0 && c.missing > limit {
			what := fmt.Sprintf("%d of the %d source objects", c.missing, c.known)
			if c.missing == c.known {
				what = fmt.Sprintf("all %d source objects", c.known)
			}
			pl.diags = append(pl.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Source is missing objects state knows",
				Detail: fmt.Sprintf("environment.%s no longer returns %s that state records for workflow.%s. "+
					"An empty or truncated export, or a wrong base_dn or scope, reads as if everything left the source, and a plan made from it would be wrong. "+
					"Check the source (its file or server, base_dn and scope); if the objects really left the source, run again with -max-missing=%d.",
					w.Source.Name, what, w.Name, c.missing),
				Subject: w.DeclRange.Ptr(),
			})
			continue
		}
		pl.plan.Warnings = append(pl.plan.Warnings, plans.Warning{
			Summary: "Source objects gone",
			Detail: fmt.Sprintf("%d of the %d source objects state records for workflow.%s are no longer in environment.%s; each template's on_source_removed says what happens to their target objects.",
				c.missing, c.known, w.Name, w.Source.Name),
		})
	}
}
