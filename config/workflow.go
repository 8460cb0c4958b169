package config

import (
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Workflow is a workflow "NAME" block: the Read → Match → Stage → Write
// steps that carry objects of some kinds from a source environment to a
// target environment.
type Workflow struct {
	Name   string
	Source *Ref
	Target *Ref
	// Steps are the workflow steps in order: "read", "match", "stage",
	// "write". Users and groups need all four to be written; devices need at
	// least read and match.
	Steps      []string
	StepsRange hcl.Range
	// Objects are the kinds this workflow carries ("users", "groups",
	// "devices", "contacts"). When the block does not say, the kinds named
	// in match or template, else the source environment's include list.
	Objects      []string
	ObjectsRange hcl.Range
	objectRanges rangeList
	// Match holds, per kind, the ordered match rules.
	Match map[string][]MatchRule
	// Templates holds, per kind, how target objects are staged.
	Templates map[string]*Template
	DeclRange hcl.Range
}

// HasStep reports whether the workflow runs the step.
func (w *Workflow) HasStep(step string) bool {
	for _, s := range w.Steps {
		if s == step {
			return true
		}
	}
	return false
}

// Carries reports whether the workflow handles the kind ("users", …).
func (w *Workflow) Carries(kind string) bool {
	for _, k := range w.Objects {
		if k == kind {
			return true
		}
	}
	return false
}

// MatchRule pairs a source attribute with a target attribute: objects whose
// values are equal (case-insensitively) match.
type MatchRule struct {
	SourceAttr string
	TargetAttr string
	Range      hcl.Range
}

// String returns the rule as written: "mail" or "employeeID=extensionAttribute1".
func (r MatchRule) String() string {
	if strings.EqualFold(r.SourceAttr, r.TargetAttr) {
		return r.SourceAttr
	}
	return r.SourceAttr + "=" + r.TargetAttr
}

// Template modes.
const (
	ModeCreateOrUpdate = "create_or_update"
	ModeCreateOnly     = "create_only"
	ModeUpdateOnly     = "update_only"
	ModeMatchOnly      = "match_only"
)

// Modes are the template modes.
var Modes = []string{ModeCreateOrUpdate, ModeCreateOnly, ModeUpdateOnly, ModeMatchOnly}

// What happens to a target object adshift created when its source object is
// gone from scope.
const (
	OnRemovedKeep    = "keep"
	OnRemovedDisable = "disable"
	OnRemovedDelete  = "delete"
)

// Template says how target objects of one kind are created and updated.
type Template struct {
	Kind string
	// TargetOU is evaluated per object over source.*: the OU new objects
	// are created in (and objects adshift created are moved to).
	TargetOU hcl.Expression
	// Name is evaluated per object: the RDN value (CN) of a new object.
	// Nil means the source object's own RDN value.
	Name hcl.Expression
	Mode string
	// Attributes are written on create and kept equal on update; nothing
	// else on a target object is touched.
	Attributes []*TemplateAttribute
	// OnSourceRemoved: keep, disable or delete.
	OnSourceRemoved      string
	OnSourceRemovedRange hcl.Range
	// MoveMatched moves pre-existing matched objects into TargetOU too.
	MoveMatched bool
	DeclRange   hcl.Range
}

// Creates reports whether the mode allows creating objects.
func (t *Template) Creates() bool { return t.Mode == ModeCreateOrUpdate || t.Mode == ModeCreateOnly }

// Updates reports whether the mode allows updating matched objects.
func (t *Template) Updates() bool { return t.Mode == ModeCreateOrUpdate || t.Mode == ModeUpdateOnly }

// TemplateAttribute is one entry of a template's attributes map.
type TemplateAttribute struct {
	Name      string
	Expr      hcl.Expression
	NameRange hcl.Range
}

// WorkflowSteps are the steps a workflow may list, in their order.
var WorkflowSteps = []string{"read", "match", "stage", "write"}

var workflowSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "source", Required: true},
		{Name: "target", Required: true},
		{Name: "steps"},
		{Name: "objects"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "match"}, {Type: "template"}},
}

var matchSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "users"}, {Name: "groups"}, {Name: "devices"}, {Name: "contacts"}},
}

var templateSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{{Type: "users"}, {Type: "groups"}, {Type: "devices"}, {Type: "contacts"}},
}

var templateKindSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "target_ou"}, {Name: "name"}, {Name: "mode"}, {Name: "attributes"},
		{Name: "on_source_removed"}, {Name: "move_matched"},
	},
}

func decodeWorkflow(block *hcl.Block) (*Workflow, hcl.Diagnostics) {
	w := &Workflow{
		Name:      block.Labels[0],
		Steps:     WorkflowSteps,
		Match:     map[string][]MatchRule{},
		Templates: map[string]*Template{},
		DeclRange: block.DefRange,
	}
	var diags hcl.Diagnostics
	if !hclsyntax.ValidIdentifier(w.Name) {
		diags = append(diags, invalidName("workflow", block))
	}
	content, d := block.Body.Content(workflowSchema)
	diags = append(diags, d...)
	if attr, ok := content.Attributes["source"]; ok {
		r, d := decodeRef(attr.Expr, "environment")
		diags = append(diags, d...)
		w.Source = r
	}
	if attr, ok := content.Attributes["target"]; ok {
		r, d := decodeRef(attr.Expr, "environment")
		diags = append(diags, d...)
		w.Target = r
	}
	if attr, ok := content.Attributes["steps"]; ok {
		steps, d := staticStrings(attr.Expr)
		diags = append(diags, d...)
		w.StepsRange = attr.Expr.Range()
		if !d.HasErrors() {
			w.Steps = steps
			diags = append(diags, checkSteps(steps, attr.Expr)...)
		}
	}
	if attr, ok := content.Attributes["objects"]; ok {
		objs, d := staticStrings(attr.Expr)
		diags = append(diags, d...)
		w.ObjectsRange = attr.Expr.Range()
		if !d.HasErrors() {
			w.Objects = objs
			w.objectRanges = listItemRanges(attr.Expr, len(objs))
			for i, rng := range w.objectRanges {
				if dd := oneOf("object kind", objs[i], ObjectKinds, rng); dd != nil {
					diags = append(diags, dd)
				}
			}
		}
	}
	named := map[string]bool{}
	for _, b := range content.Blocks {
		switch b.Type {
		case "match":
			mc, d := b.Body.Content(matchSchema)
			diags = append(diags, d...)
			for kind, attr := range mc.Attributes {
				rules, d := decodeMatchRules(attr.Expr)
				diags = append(diags, d...)
				w.Match[kind] = rules
				named[kind] = true
			}
		case "template":
			tc, d := b.Body.Content(templateSchema)
			diags = append(diags, d...)
			for _, kb := range tc.Blocks {
				if prev, ok := w.Templates[kb.Type]; ok {
					diags = append(diags, duplicate(kb.Type+" template", "", kb.DefRange, prev.DeclRange))
					continue
				}
				t, d := decodeTemplate(kb)
				diags = append(diags, d...)
				w.Templates[kb.Type] = t
				named[kb.Type] = true
			}
		}
	}
	if w.Objects == nil && len(named) > 0 {
		for k := range named {
			w.Objects = append(w.Objects, k)
		}
		sort.Strings(w.Objects)
	}
	return w, diags
}

func checkSteps(steps []string, expr hcl.Expression) hcl.Diagnostics {
	var diags hcl.Diagnostics
	last := -1
	for i, rng := range listItemRanges(expr, len(steps)) {
		if d := oneOf("workflow step", steps[i], WorkflowSteps, rng); d != nil {
			diags = append(diags, d)
			continue
		}
		pos := 0
		for j, s := range WorkflowSteps {
			if s == steps[i] {
				pos = j
			}
		}
		if pos <= last {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Workflow steps out of order",
				Detail:   "Steps run in the order read, match, stage, write, and each at most once. List them in that order.",
				Subject:  rng.Ptr(),
			})
		}
		last = pos
	}
	if len(steps) < 2 || steps[0] != "read" || steps[1] != "match" {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Workflow must read and match",
			Detail:   `Every workflow needs at least the "read" and "match" steps (devices need only these two; users and groups need "read", "match", "stage", "write" to be written).`,
			Subject:  expr.Range().Ptr(),
		})
	}
	return diags
}

func decodeMatchRules(expr hcl.Expression) ([]MatchRule, hcl.Diagnostics) {
	raw, diags := staticStrings(expr)
	if diags.HasErrors() {
		return nil, diags
	}
	if len(raw) == 0 {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Empty match rules",
			Detail:   `List at least one attribute to match on, e.g. ["sAMAccountName"]. Pairs are written "sourceAttr=targetAttr".`,
			Subject:  expr.Range().Ptr(),
		})
	}
	var rules []MatchRule
	for i, rng := range listItemRanges(expr, len(raw)) {
		src, tgt, pair := strings.Cut(raw[i], "=")
		if !pair {
			tgt = src
		}
		src, tgt = strings.TrimSpace(src), strings.TrimSpace(tgt)
		if !validAttrName(src) || !validAttrName(tgt) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid match rule",
				Detail:   quote(raw[i]) + ` is not an attribute name or a "sourceAttr=targetAttr" pair. LDAP attribute names start with a letter and hold letters, digits and hyphens.`,
				Subject:  rng.Ptr(),
			})
			continue
		}
		rules = append(rules, MatchRule{SourceAttr: src, TargetAttr: tgt, Range: rng})
	}
	return rules, diags
}

func validAttrName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '-'):
		default:
			return false
		}
	}
	return true
}

func decodeTemplate(block *hcl.Block) (*Template, hcl.Diagnostics) {
	t := &Template{Kind: block.Type, Mode: ModeCreateOrUpdate, OnSourceRemoved: OnRemovedKeep, DeclRange: block.DefRange}
	content, diags := block.Body.Content(templateKindSchema)
	if attr, ok := content.Attributes["target_ou"]; ok {
		t.TargetOU = attr.Expr
	}
	if attr, ok := content.Attributes["name"]; ok {
		t.Name = attr.Expr
	}
	if attr, ok := content.Attributes["mode"]; ok {
		m, d := staticString(attr.Expr)
		diags = append(diags, d...)
		if !d.HasErrors() {
			t.Mode = m
			if dd := oneOf("template mode", m, Modes, attr.Expr.Range()); dd != nil {
				diags = append(diags, dd)
			}
		}
	}
	if attr, ok := content.Attributes["on_source_removed"]; ok {
		m, d := staticString(attr.Expr)
		diags = append(diags, d...)
		t.OnSourceRemovedRange = attr.Expr.Range()
		if !d.HasErrors() {
			t.OnSourceRemoved = m
			if dd := oneOf("on_source_removed value", m, []string{OnRemovedKeep, OnRemovedDisable, OnRemovedDelete}, attr.Expr.Range()); dd != nil {
				diags = append(diags, dd)
			}
		}
	}
	if attr, ok := content.Attributes["move_matched"]; ok {
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &t.MoveMatched)...)
	}
	if attr, ok := content.Attributes["attributes"]; ok {
		pairs, d := hcl.ExprMap(attr.Expr)
		if d.HasErrors() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid template attributes",
				Detail:   `attributes must be written as an object, e.g. attributes = { displayName = source.displayName }.`,
				Subject:  attr.Expr.Range().Ptr(),
			})
		}
		seen := map[string]hcl.Range{}
		for _, p := range pairs {
			var name string
			if tr, td := hcl.AbsTraversalForExpr(p.Key); !td.HasErrors() && len(tr) == 1 {
				name = tr.RootName()
			} else {
				kv, kd := p.Key.Value(nil)
				if kd.HasErrors() || kv.IsNull() || !kv.IsKnown() || kv.Type().FriendlyName() != "string" {
					diags = append(diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Invalid attribute name",
						Detail:   "Template attribute names must be literal LDAP attribute names.",
						Subject:  p.Key.Range().Ptr(),
					})
					continue
				}
				name = kv.AsString()
			}
			if !validAttrName(name) {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid attribute name",
					Detail:   quote(name) + " is not an LDAP attribute name: use letters, digits and hyphens, starting with a letter.",
					Subject:  p.Key.Range().Ptr(),
				})
				continue
			}
			if prev, dup := seen[strings.ToLower(name)]; dup {
				diags = append(diags, duplicate("template attribute", name, p.Key.Range(), prev))
				continue
			}
			seen[strings.ToLower(name)] = p.Key.Range()
			t.Attributes = append(t.Attributes, &TemplateAttribute{Name: name, Expr: p.Value, NameRange: p.Key.Range()})
		}
	}
	if t.TargetOU == nil && t.Creates() {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing target_ou",
			Detail:   `A ` + t.Kind + ` template with mode "` + t.Mode + `" creates objects, so it needs target_ou, the OU they are created in. Set target_ou, or use mode = "update_only" or "match_only".`,
			Subject:  block.DefRange.Ptr(),
		})
	}
	return t, diags
}
