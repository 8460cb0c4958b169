package config

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/zclconf/go-cty/cty"
)

// staticStrings decodes a literal list of strings (no variables allowed).
func staticStrings(expr hcl.Expression) ([]string, hcl.Diagnostics) {
	var out []string
	diags := gohcl.DecodeExpression(expr, nil, &out)
	return out, diags
}

// staticString decodes a literal string (no variables allowed).
func staticString(expr hcl.Expression) (string, hcl.Diagnostics) {
	var out string
	diags := gohcl.DecodeExpression(expr, nil, &out)
	return out, diags
}

// oneOf checks that value is one of allowed and says which are allowed.
func oneOf(what, value string, allowed []string, rng hcl.Range) *hcl.Diagnostic {
	for _, a := range allowed {
		if a == value {
			return nil
		}
	}
	detail := "Use one of: " + strings.Join(quoteAll(allowed), ", ") + "."
	if s := suggest(value, allowed); s != "" {
		detail = "Did you mean " + quote(s) + "? " + detail
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid " + what,
		Detail:   quote(value) + " is not a valid " + what + ". " + detail,
		Subject:  rng.Ptr(),
	}
}

// listItemRanges returns the range of each element of a literal list
// expression, or the whole expression's range for each when it is not a
// literal tuple.
func listItemRanges(expr hcl.Expression, n int) rangeList {
	out := make(rangeList, n)
	if expr == nil {
		return out
	}
	exprs, diags := hcl.ExprList(expr)
	for i := range out {
		if !diags.HasErrors() && i < len(exprs) {
			out[i] = exprs[i].Range()
		} else {
			out[i] = expr.Range()
		}
	}
	return out
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = quote(s)
	}
	return out
}

// Suggest returns the candidate closest to s (ignoring case), if close
// enough to be a typo, or "".
func Suggest(s string, candidates []string) string { return suggest(s, candidates) }

// suggest returns the candidate closest to s, if close enough to be a typo.
func suggest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := levenshtein(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// Ref is a static reference to another block, such as environment.source.
type Ref struct {
	Type  string // "environment", "workflow", "repository", "proxy"
	Name  string
	Range hcl.Range
}

// decodeRef decodes an expression that must be a reference TYPE.NAME.
func decodeRef(expr hcl.Expression, wantType string) (*Ref, hcl.Diagnostics) {
	tr, diags := hcl.AbsTraversalForExpr(expr)
	if diags.HasErrors() || len(tr) != 2 {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid reference",
			Detail:   "Expected a reference to a " + wantType + " block, like " + wantType + ".NAME.",
			Subject:  expr.Range().Ptr(),
		}}
	}
	attr, ok := tr[1].(hcl.TraverseAttr)
	if !ok || tr.RootName() != wantType {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid reference",
			Detail:   "Expected a reference to a " + wantType + " block, like " + wantType + ".NAME; got " + quote(traversalString(tr)) + ".",
			Subject:  expr.Range().Ptr(),
		}}
	}
	return &Ref{Type: wantType, Name: attr.Name, Range: expr.Range()}, nil
}

func traversalString(tr hcl.Traversal) string {
	var b strings.Builder
	for i, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			if s.Key.Type() == cty.String {
				b.WriteString(`["` + s.Key.AsString() + `"]`)
			} else {
				b.WriteString("[…]")
			}
		default:
			if i > 0 {
				b.WriteString("…")
			}
		}
	}
	return b.String()
}
