package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
)

// Settings is the adshift block: tool-wide settings.
type Settings struct {
	// RequiredVersion is a version constraint such as ">= 0.1", or "".
	RequiredVersion      string
	RequiredVersionRange hcl.Range
	// Backend says where state lives. Nil means the local default.
	Backend *Backend
}

// Backend types.
const (
	BackendLocal = "local"
	BackendPG    = "pg"
)

// Backend is a backend "TYPE" { ... } block: "local" (Path) or "pg"
// (ConnStr, Schema).
type Backend struct {
	Type string
	// Path is the local backend's state file of the default workspace,
	// relative to the configuration directory ("" means adshift.state).
	Path string
	// ConnStr is the pg backend's connection string expression, or nil
	// when the block sets none (the environment variables
	// ADSHIFT_PG_CONN_STR or PG_CONN_STR then give it). It may refer to
	// variables (a sensitive one, typically), so it stays an expression
	// until the CLI evaluates it; its value is never shown.
	ConnStr hcl.Expression
	// Schema is the pg backend's schema name ("" means adshift).
	Schema    string
	DeclRange hcl.Range
}

var settingsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "required_version"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "backend", LabelNames: []string{"type"}}},
}

var localBackendSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "path"}},
}

var pgBackendSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "conn_str"}, {Name: "schema"}},
}

func decodeSettings(block *hcl.Block) (*Settings, hcl.Diagnostics) {
	s := &Settings{}
	content, diags := block.Body.Content(settingsSchema)
	if attr, ok := content.Attributes["required_version"]; ok {
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &s.RequiredVersion)...)
		s.RequiredVersionRange = attr.Expr.Range()
	}
	for _, b := range content.Blocks {
		if s.Backend != nil {
			diags = append(diags, duplicate("backend block", "", b.DefRange, s.Backend.DeclRange))
			continue
		}
		be, d := decodeBackend(b)
		diags = append(diags, d...)
		s.Backend = be
	}
	return s, diags
}

// decodeBackend decodes one backend "TYPE" block.
func decodeBackend(b *hcl.Block) (*Backend, hcl.Diagnostics) {
	be := &Backend{Type: b.Labels[0], DeclRange: b.DefRange}
	var diags hcl.Diagnostics
	switch be.Type {
	case BackendLocal:
		bc, d := b.Body.Content(localBackendSchema)
		diags = append(diags, d...)
		if attr, ok := bc.Attributes["path"]; ok {
			diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &be.Path)...)
		}
	case BackendPG:
		bc, d := b.Body.Content(pgBackendSchema)
		diags = append(diags, d...)
		if attr, ok := bc.Attributes["conn_str"]; ok {
			be.ConnStr = attr.Expr
		}
		if attr, ok := bc.Attributes["schema"]; ok {
			diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &be.Schema)...)
			if be.Schema != "" && !validSchemaName(be.Schema) {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid schema name",
					Detail:   `The pg backend's schema must be a lower-case SQL identifier: a letter or "_", then letters, digits or "_", at most 63 characters.`,
					Subject:  attr.Expr.Range().Ptr(),
				})
			}
		}
	default:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unsupported backend type",
			Detail:   `The backend "` + be.Type + `" is not known. Use backend "local" { path = "adshift.state" } or backend "pg" { schema = "adshift" } with the connection string in ADSHIFT_PG_CONN_STR.`,
			Subject:  b.LabelRanges[0].Ptr(),
		})
	}
	return be, diags
}

// validSchemaName reports whether s is a plain lower-case SQL identifier,
// safe to use unquoted.
func validSchemaName(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c >= 'a' && c <= 'z':
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}
