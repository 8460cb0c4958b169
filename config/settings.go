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

// Backend is a backend "TYPE" { ... } block.
type Backend struct {
	Type string
	// Path is the local backend's state file, relative to the configuration
	// directory.
	Path      string
	DeclRange hcl.Range
}

var settingsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "required_version"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "backend", LabelNames: []string{"type"}}},
}

var localBackendSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "path"}},
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
		be := &Backend{Type: b.Labels[0], DeclRange: b.DefRange}
		s.Backend = be
		switch be.Type {
		case "local":
			bc, d := b.Body.Content(localBackendSchema)
			diags = append(diags, d...)
			if attr, ok := bc.Attributes["path"]; ok {
				diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &be.Path)...)
			}
		default:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unsupported backend type",
				Detail:   `The backend "` + be.Type + `" is not known. Use backend "local" { path = "adshift.state" }.`,
				Subject:  b.LabelRanges[0].Ptr(),
			})
		}
	}
	return s, diags
}
