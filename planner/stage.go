package planner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/providers"
)

// multiValued are attributes whose values a template sees as a list; all
// others are single strings (the first value).
var multiValued = map[string]bool{
	"member": true, "memberof": true, "objectclass": true, "serviceprincipalname": true,
	"proxyaddresses": true, "sidhistory": true, "othermailbox": true, "othertelephone": true,
	"url": true, "othermobile": true, "otherhomephone": true,
}

// sourceRefs are the source attributes a set of expressions reads.
type sourceRefs struct {
	names []string // as spelled in the configuration
	whole bool     // some expression uses source as a whole
}

func collectSourceRefs(exprs ...hcl.Expression) sourceRefs {
	var r sourceRefs
	seen := map[string]bool{}
	for _, e := range exprs {
		if e == nil {
			continue
		}
		for _, tr := range e.Variables() {
			if tr.RootName() != "source" {
				continue
			}
			if len(tr) < 2 {
				r.whole = true
				continue
			}
			var name string
			switch s := tr[1].(type) {
			case hcl.TraverseAttr:
				name = s.Name
			case hcl.TraverseIndex:
				if s.Key.Type() == cty.String && s.Key.IsKnown() && !s.Key.IsNull() {
					name = s.Key.AsString()
				}
			}
			if name == "" {
				r.whole = true
				continue
			}
			if !seen[name] {
				seen[name] = true
				r.names = append(r.names, name)
			}
		}
	}
	sort.Strings(r.names)
	return r
}

// lower returns the lower-cased attribute names, for discovery.
func (r sourceRefs) lower() []string {
	out := make([]string, len(r.names))
	for i, n := range r.names {
		out[i] = strings.ToLower(n)
	}
	return out
}

// attrCty is the value a template sees for an attribute.
func attrCty(name string, vals []string) cty.Value {
	lname := strings.ToLower(name)
	if multiValued[lname] {
		if len(vals) == 0 {
			return cty.ListValEmpty(cty.String)
		}
		l := make([]cty.Value, len(vals))
		for i, v := range vals {
			l[i] = cty.StringVal(v)
		}
		return cty.ListVal(l)
	}
	if len(vals) == 0 {
		return cty.NullVal(cty.String)
	}
	return cty.StringVal(vals[0])
}

// sourceValue builds the source object a template sees: only the attributes
// it reads (or all of them when it uses source as a whole).
func (r sourceRefs) sourceValue(o *providers.Object) cty.Value {
	if r.whole {
		m := make(map[string]cty.Value, len(o.Attrs)+3)
		for k, v := range o.Attrs {
			m[k] = attrCty(k, v)
		}
		for _, k := range []string{"dn", "objectGUID", "objectSid"} {
			m[k] = attrCty(k, attrValues(o, strings.ToLower(k)))
		}
		for _, n := range r.names {
			m[n] = attrCty(n, attrValues(o, strings.ToLower(n)))
		}
		return cty.ObjectVal(m)
	}
	if len(r.names) == 0 {
		return cty.EmptyObjectVal
	}
	m := make(map[string]cty.Value, len(r.names))
	for _, n := range r.names {
		m[n] = attrCty(n, attrValues(o, strings.ToLower(n)))
	}
	return cty.ObjectVal(m)
}

// toValues converts a template result to LDAP values; ok is false for null
// (the attribute is then left alone on this object).
func toValues(v cty.Value) (vals []string, ok bool, err error) {
	if v.IsNull() {
		return nil, false, nil
	}
	if !v.IsWhollyKnown() {
		return nil, false, fmt.Errorf("the value is not known")
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return []string{v.AsString()}, true, nil
	case ty == cty.Number:
		bf := v.AsBigFloat()
		if bf.IsInt() {
			i, _ := bf.Int(nil)
			return []string{i.String()}, true, nil
		}
		return []string{bf.Text('f', -1)}, true, nil
	case ty == cty.Bool:
		if v.True() {
			return []string{"TRUE"}, true, nil
		}
		return []string{"FALSE"}, true, nil
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			sub, ok, err := toValues(ev)
			if err != nil {
				return nil, false, err
			}
			if !ok {
				continue
			}
			if len(sub) != 1 || ev.Type().IsListType() || ev.Type().IsTupleType() {
				return nil, false, fmt.Errorf("a list of lists cannot be written to an attribute")
			}
			vals = append(vals, sub...)
		}
		return vals, true, nil
	}
	return nil, false, fmt.Errorf("a value of type %s cannot be written to an attribute; use a string, number, bool or a list of them", ty.FriendlyName())
}

// stagedObject is a template evaluated for one source object.
type stagedObject struct {
	targetOU string
	name     string
	attrs    []stagedAttr
}

type stagedAttr struct {
	name string
	vals []string
}

// evalErrors collects per-object evaluation errors, keeping a few per
// expression so a template wrong for 50,000 objects gives one message.
type evalErrors struct {
	byExpr map[hcl.Range]*evalError
	order  []hcl.Range
}

type evalError struct {
	diag  *hcl.Diagnostic
	count int
}

func (e *evalErrors) add(rng hcl.Range, summary, detail string) {
	if e.byExpr == nil {
		e.byExpr = map[hcl.Range]*evalError{}
	}
	if x, ok := e.byExpr[rng]; ok {
		x.count++
		return
	}
	r := rng
	e.byExpr[rng] = &evalError{diag: &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: &r}, count: 1}
	e.order = append(e.order, rng)
}

// merge adds o's errors to e.
func (e *evalErrors) merge(o *evalErrors) {
	for _, r := range o.order {
		x := o.byExpr[r]
		if e.byExpr == nil {
			e.byExpr = map[hcl.Range]*evalError{}
		}
		if have, ok := e.byExpr[r]; ok {
			have.count += x.count
			continue
		}
		e.byExpr[r] = x
		e.order = append(e.order, r)
	}
}

func (e *evalErrors) diags() hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, r := range e.order {
		x := e.byExpr[r]
		if x.count > 1 {
			x.diag.Detail += fmt.Sprintf("\n\nThe same expression failed for %d more objects.", x.count-1)
		}
		out = append(out, x.diag)
	}
	return out
}

// stage evaluates tmpl for one source object.
func stage(scope *config.Scope, tmpl *config.Template, refs sourceRefs, src *providers.Object, errs *evalErrors) (*stagedObject, bool) {
	ctx := scope.ObjectContext(refs.sourceValue(src))
	st := &stagedObject{}
	ok := true
	evalStr := func(expr hcl.Expression, what string) string {
		if expr == nil {
			return ""
		}
		v, d := expr.Value(ctx)
		if d.HasErrors() {
			errs.add(expr.Range(), d[0].Summary, d[0].Detail+"\n\nWhile staging "+src.DN+".")
			ok = false
			return ""
		}
		if v.IsMarked() {
			errs.add(expr.Range(), "Sensitive value in a template", "The "+what+" derives from a sensitive variable; adshift never writes secrets into directory data. Remove the sensitive value.")
			ok = false
			return ""
		}
		if v.IsNull() || v.Type() != cty.String {
			errs.add(expr.Range(), "Invalid "+what, "The "+what+" must be a string; for "+src.DN+" it is "+friendly(v)+".")
			ok = false
			return ""
		}
		return v.AsString()
	}
	st.targetOU = evalStr(tmpl.TargetOU, "target_ou")
	st.name = evalStr(tmpl.Name, "name")
	for _, a := range tmpl.Attributes {
		v, d := a.Expr.Value(ctx)
		if d.HasErrors() {
			errs.add(a.Expr.Range(), d[0].Summary, d[0].Detail+"\n\nWhile staging "+a.Name+" of "+src.DN+".")
			ok = false
			continue
		}
		if v.ContainsMarked() {
			errs.add(a.Expr.Range(), config.SensitiveTemplateDiag(a).Summary, config.SensitiveTemplateDiag(a).Detail)
			ok = false
			continue
		}
		vals, set, err := toValues(v)
		if err != nil {
			errs.add(a.Expr.Range(), "Invalid attribute value", "The value of "+a.Name+" for "+src.DN+": "+err.Error()+".")
			ok = false
			continue
		}
		if set {
			st.attrs = append(st.attrs, stagedAttr{name: a.Name, vals: vals})
		}
	}
	return st, ok
}

func friendly(v cty.Value) string {
	if v.IsNull() {
		return "null"
	}
	return "a " + v.Type().FriendlyName()
}
