package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Variable is a variable "NAME" block: an input to the configuration.
type Variable struct {
	Name        string
	Description string
	// Type is the declared type constraint; cty.DynamicPseudoType when the
	// block sets none (values given on the command line are then strings).
	Type cty.Type
	// Default is the default value, or cty.NilVal when the variable is
	// required.
	Default cty.Value
	// Sensitive values are marked and never shown, logged, or written to
	// state or plan files.
	Sensitive   bool
	Validations []*Validation
	DeclRange   hcl.Range
}

// Required reports whether the variable has no default.
func (v *Variable) Required() bool { return v.Default == cty.NilVal }

// Validation is a validation block inside a variable.
type Validation struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"}, {Name: "default"}, {Name: "sensitive"}, {Name: "description"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true}, {Name: "error_message", Required: true},
	},
}

func decodeVariable(block *hcl.Block) (*Variable, hcl.Diagnostics) {
	v := &Variable{Name: block.Labels[0], Type: cty.DynamicPseudoType, DeclRange: block.DefRange}
	var diags hcl.Diagnostics
	if !hclsyntax.ValidIdentifier(v.Name) {
		diags = append(diags, invalidName("variable", block))
	}
	content, d := block.Body.Content(variableSchema)
	diags = append(diags, d...)
	if attr, ok := content.Attributes["description"]; ok {
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &v.Description)...)
	}
	if attr, ok := content.Attributes["sensitive"]; ok {
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &v.Sensitive)...)
	}
	if attr, ok := content.Attributes["type"]; ok {
		ty, d := typeexpr.TypeConstraint(attr.Expr)
		diags = append(diags, d...)
		if !d.HasErrors() {
			v.Type = ty
		}
	}
	if attr, ok := content.Attributes["default"]; ok {
		val, d := attr.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			conv, err := convert.Convert(val, v.Type)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid default value for variable",
					Detail:   "The default value does not fit the variable's type: " + err.Error() + ". Change the default or the type.",
					Subject:  attr.Expr.Range().Ptr(),
				})
			} else {
				v.Default = conv
			}
		}
	}
	for _, b := range content.Blocks {
		vc, d := b.Body.Content(validationSchema)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		val := &Validation{
			Condition:    vc.Attributes["condition"].Expr,
			ErrorMessage: vc.Attributes["error_message"].Expr,
			DeclRange:    b.DefRange,
		}
		ok := false
		for _, tr := range val.Condition.Variables() {
			if tr.RootName() == "var" && len(tr) > 1 {
				if a, isAttr := tr[1].(hcl.TraverseAttr); isAttr && a.Name == v.Name {
					ok = true
				}
			}
		}
		if !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid variable validation condition",
				Detail:   "The condition must refer to var." + v.Name + ", the variable it validates.",
				Subject:  val.Condition.Range().Ptr(),
			})
		}
		v.Validations = append(v.Validations, val)
	}
	return v, diags
}

// Local is one attribute of a locals block.
type Local struct {
	Name      string
	Expr      hcl.Expression
	DeclRange hcl.Range
}

func decodeLocals(block *hcl.Block) ([]*Local, hcl.Diagnostics) {
	attrs, diags := block.Body.JustAttributes()
	var ls []*Local
	for name, attr := range attrs {
		ls = append(ls, &Local{Name: name, Expr: attr.Expr, DeclRange: attr.Range})
	}
	return ls, diags
}

func invalidName(kind string, block *hcl.Block) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid " + kind + " name",
		Detail:   "A name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes.",
		Subject:  block.LabelRanges[0].Ptr(),
	}
}
