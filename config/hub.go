package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// HubProvider is the provider type that serves hub blocks.
const HubProvider = "device"

// Hub is a hub "NAME" block: the agent hub that device cutovers run
// through. Its body is the device provider's configuration (url, token,
// ca_file), decoded against the provider's schema like the provider-owned
// part of an environment; token is usually a sensitive variable.
type Hub struct {
	Name      string
	Config    hcl.Body
	DeclRange hcl.Range
}

func decodeHub(block *hcl.Block) (*Hub, hcl.Diagnostics) {
	h := &Hub{Name: block.Labels[0], Config: block.Body, DeclRange: block.DefRange}
	var diags hcl.Diagnostics
	if !hclsyntax.ValidIdentifier(h.Name) {
		diags = append(diags, invalidName("hub", block))
	}
	return h, diags
}
