package planner

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/providers"
)

// ProvisionOfflineJoin starts and configures environment envName's
// provider and has it provision an offline domain join blob (see
// providers.OfflineJoinProvisioner): the computer account in the target
// directory and its blob file, written by the provider (in its own
// process, so the machine password never reaches the host). A provider
// that cannot (any but ad) is an error diagnostic at the environment's
// provider attribute. The provider is stopped before returning.
func ProvisionOfflineJoin(ctx context.Context, cfg *config.Config, scope *config.Scope, l Launcher, envName string, req providers.OfflineJoinRequest) (providers.OfflineJoinResult, hcl.Diagnostics) {
	var res providers.OfflineJoinResult
	env, ok := cfg.Environments[envName]
	if !ok {
		detail := fmt.Sprintf("No environment %q is declared.", envName)
		names := config.SortedNames(cfg.Environments)
		if s := config.Suggest(envName, names); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		} else if len(names) > 0 {
			detail += " Declared: " + strings.Join(names, ", ") + "."
		}
		return res, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unknown environment", Detail: detail}}
	}
	c, diags := openEnv(ctx, env, "environment."+envName, scope, l, true)
	if c != nil {
		defer conns{envName: c}.close(ctx)
	}
	if diags.HasErrors() {
		return res, diags
	}
	res, d := provisionWith(ctx, c, req)
	return res, append(diags, d...)
}

// provisionWith provisions one offline domain join through an open
// environment's provider.
func provisionWith(ctx context.Context, c *conn, req providers.OfflineJoinRequest) (providers.OfflineJoinResult, hcl.Diagnostics) {
	var res providers.OfflineJoinResult
	env := c.env
	unsupported := hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Provider cannot provision offline domain join",
		Detail:   fmt.Sprintf("environment.%s uses provider %q, which cannot provision offline domain join blobs; use an environment of provider \"ad\".", env.Name, env.Provider),
		Subject:  env.ProviderRange.Ptr(),
	}}
	odj, ok := c.p.(providers.OfflineJoinProvisioner)
	if !ok {
		return res, unsupported
	}
	res, err := odj.ProvisionOfflineJoin(ctx, req)
	if errors.Is(err, providers.ErrUnsupported) {
		return res, unsupported
	}
	if err != nil {
		return res, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot provision offline domain join",
			Detail:   fmt.Sprintf("environment.%s: %v.", env.Name, err),
			Subject:  env.DeclRange.Ptr(),
		}}
	}
	return res, nil
}
