package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Repository is a repository "NAME" block: a storage share reachable from
// both domains, holding offline-domain-join files, uploaded logs and
// device downloads.
type Repository struct {
	Name string
	// Path is the share, e.g. \\fs01.target.test\migration$ (set by Evaluate).
	Path      string
	PathExpr  hcl.Expression
	DeclRange hcl.Range
}

// Proxy is a proxy "NAME" block: the web proxy device agents use to reach
// the hub (TCP 80/443 only; UDP 3030 is then not needed).
type Proxy struct {
	Name string
	// URL, Username and Password are set by Evaluate. Password is usually
	// a sensitive variable; it never reaches state, plans or logs.
	URL          string
	Username     string
	Password     string
	URLExpr      hcl.Expression
	UsernameExpr hcl.Expression
	PasswordExpr hcl.Expression
	DeclRange    hcl.Range
}

var repositorySchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "path", Required: true}}}

var proxySchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "url", Required: true}, {Name: "username"}, {Name: "password"},
}}

func decodeRepository(block *hcl.Block) (*Repository, hcl.Diagnostics) {
	r := &Repository{Name: block.Labels[0], DeclRange: block.DefRange}
	var diags hcl.Diagnostics
	if !hclsyntax.ValidIdentifier(r.Name) {
		diags = append(diags, invalidName("repository", block))
	}
	content, d := block.Body.Content(repositorySchema)
	diags = append(diags, d...)
	if attr, ok := content.Attributes["path"]; ok {
		r.PathExpr = attr.Expr
	}
	return r, diags
}

func decodeProxy(block *hcl.Block) (*Proxy, hcl.Diagnostics) {
	p := &Proxy{Name: block.Labels[0], DeclRange: block.DefRange}
	var diags hcl.Diagnostics
	if !hclsyntax.ValidIdentifier(p.Name) {
		diags = append(diags, invalidName("proxy", block))
	}
	content, d := block.Body.Content(proxySchema)
	diags = append(diags, d...)
	if attr, ok := content.Attributes["url"]; ok {
		p.URLExpr = attr.Expr
	}
	if attr, ok := content.Attributes["username"]; ok {
		p.UsernameExpr = attr.Expr
	}
	if attr, ok := content.Attributes["password"]; ok {
		p.PasswordExpr = attr.Expr
	}
	return p, diags
}
