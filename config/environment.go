package config

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Environment is an environment "NAME" block: one directory (an AD domain,
// or an LDIF snapshot of one) with its scope.
type Environment struct {
	Name string
	// Provider names the provider serving this environment ("ldif", "ad").
	Provider      string
	ProviderRange hcl.Range
	// Include lists the object kinds in scope, in the seed's words:
	// "users", "groups", "devices", "contacts".
	Include      []string
	IncludeRange hcl.Range

	// These hold values once Evaluate has run.
	Domain     string
	BaseDN     string
	IncludeOUs []string
	ExcludeOUs []string

	// DomainController is the host name of the DC that devices talk to
	// ("dc1.source.test"); NetBIOSName the domain's NetBIOS name
	// ("SOURCE"; default: the first label of Domain, upper-cased).
	DomainController string
	NetBIOSName      string

	DomainExpr     hcl.Expression
	DCExpr         hcl.Expression
	NetBIOSExpr    hcl.Expression
	BaseDNExpr     hcl.Expression
	IncludeOUsExpr hcl.Expression
	ExcludeOUsExpr hcl.Expression

	// Config is the provider-owned rest of the block, decoded later against
	// the provider's schema.
	Config    hcl.Body
	DeclRange hcl.Range
}

// ObjectKinds are the words an environment's include list accepts.
var ObjectKinds = []string{"users", "groups", "devices", "contacts"}

var environmentSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "provider", Required: true},
		{Name: "domain"},
		{Name: "base_dn", Required: true},
		{Name: "include"},
		{Name: "domain_controller"},
		{Name: "netbios_name"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "scope"}},
}

var scopeSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "include_ous"}, {Name: "exclude_ous"}},
}

func decodeEnvironment(block *hcl.Block) (*Environment, hcl.Diagnostics) {
	e := &Environment{Name: block.Labels[0], DeclRange: block.DefRange, Include: []string{"users", "groups", "devices"}}
	var diags hcl.Diagnostics
	if !hclsyntax.ValidIdentifier(e.Name) {
		diags = append(diags, invalidName("environment", block))
	}
	content, remain, d := block.Body.PartialContent(environmentSchema)
	diags = append(diags, d...)
	e.Config = remain
	if attr, ok := content.Attributes["provider"]; ok {
		p, d := staticString(attr.Expr)
		diags = append(diags, d...)
		e.Provider, e.ProviderRange = p, attr.Expr.Range()
	}
	if attr, ok := content.Attributes["domain"]; ok {
		e.DomainExpr = attr.Expr
	}
	if attr, ok := content.Attributes["domain_controller"]; ok {
		e.DCExpr = attr.Expr
	}
	if attr, ok := content.Attributes["netbios_name"]; ok {
		e.NetBIOSExpr = attr.Expr
	}
	if attr, ok := content.Attributes["base_dn"]; ok {
		e.BaseDNExpr = attr.Expr
	}
	if attr, ok := content.Attributes["include"]; ok {
		inc, d := staticStrings(attr.Expr)
		diags = append(diags, d...)
		e.IncludeRange = attr.Expr.Range()
		if !d.HasErrors() {
			e.Include = inc
			seen := map[string]bool{}
			for i, rng := range listItemRanges(attr.Expr, len(inc)) {
				if dd := oneOf("object kind", inc[i], ObjectKinds, rng); dd != nil {
					diags = append(diags, dd)
				}
				if seen[inc[i]] {
					diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate object kind", Detail: quote(inc[i]) + " is listed twice; remove one.", Subject: rng.Ptr()})
				}
				seen[inc[i]] = true
			}
		}
	}
	for i, b := range content.Blocks {
		if i > 0 {
			diags = append(diags, duplicate("scope block", "", b.DefRange, content.Blocks[0].DefRange))
			continue
		}
		sc, d := b.Body.Content(scopeSchema)
		diags = append(diags, d...)
		if attr, ok := sc.Attributes["include_ous"]; ok {
			e.IncludeOUsExpr = attr.Expr
		}
		if attr, ok := sc.Attributes["exclude_ous"]; ok {
			e.ExcludeOUsExpr = attr.Expr
		}
	}
	return e, diags
}

// Includes reports whether the environment includes the kind ("users", …).
func (e *Environment) Includes(kind string) bool {
	for _, k := range e.Include {
		if k == kind {
			return true
		}
	}
	return false
}

// NetBIOS returns the domain's NetBIOS name: netbios_name, or the first
// label of domain upper-cased.
func (e *Environment) NetBIOS() string {
	if e.NetBIOSName != "" {
		return e.NetBIOSName
	}
	first, _, _ := strings.Cut(e.Domain, ".")
	return strings.ToUpper(first)
}
