package planner

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/providers"
)

// Launcher starts providers by type name ("ldif", "ad"). The CLI launches
// plugin processes; tests may hand out in-memory providers.
type Launcher interface {
	Launch(ctx context.Context, providerType string) (providers.Provider, error)
}

// closer is implemented by launched providers that own a process.
type closer interface{ Close() }

// conn is one environment's configured provider.
type conn struct {
	env    *config.Environment
	p      providers.Provider
	schema *providers.Schema
	// value is the decoded provider configuration (marks removed).
	value cty.Value
	spec  hcldec.Spec
}

// conns are the providers of one run, by environment name.
type conns map[string]*conn

func (cs conns) close(ctx context.Context) {
	for _, c := range cs {
		_ = c.p.Stop(ctx)
		if cl, ok := c.p.(closer); ok {
			cl.Close()
		}
	}
}

// blockSpec builds the hcldec spec of a provider's configuration schema.
func blockSpec(b providers.Block) hcldec.ObjectSpec {
	spec := hcldec.ObjectSpec{}
	for _, a := range b.Attributes {
		spec[a.Name] = &hcldec.AttrSpec{Name: a.Name, Type: a.Type, Required: a.Required}
	}
	for _, nb := range b.Blocks {
		spec[nb.Name] = &hcldec.BlockSpec{TypeName: nb.Name, Nested: blockSpec(nb.Block), Required: nb.Required}
	}
	return spec
}

// openEnvs launches the providers of the named environments, decodes each
// environment's provider-owned settings against the provider's schema, and
// (when configure is set) configures them. On error every launched provider
// is closed.
func openEnvs(ctx context.Context, cfg *config.Config, scope *config.Scope, l Launcher, names []string, configure bool) (conns, hcl.Diagnostics) {
	sort.Strings(names)
	// Providers start and load in parallel: a large snapshot or a slow DC
	// on one side does not hold up the other.
	results := make([]*conn, len(names))
	perEnv := make([]hcl.Diagnostics, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], perEnv[i] = openEnv(ctx, cfg.Environments[name], "environment."+name, scope, l, configure)
		}()
	}
	wg.Wait()
	var diags hcl.Diagnostics
	cs := conns{}
	for i, name := range names {
		diags = append(diags, perEnv[i]...)
		if results[i] != nil {
			cs[name] = results[i]
		}
	}
	if diags.HasErrors() {
		cs.close(ctx)
		return nil, diags
	}
	return cs, diags
}

// openEnv launches, checks and (when configure is set) configures one
// environment's provider (or a hub's, see openHub); label names the block
// in messages ("environment.source"). The returned conn is nil when it
// could not be launched; otherwise the caller closes it.
func openEnv(ctx context.Context, env *config.Environment, label string, scope *config.Scope, l Launcher, configure bool) (*conn, hcl.Diagnostics) {
	p, err := l.Launch(ctx, env.Provider)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot start provider",
			Detail:   fmt.Sprintf("%s uses provider %q, which could not be started: %v.", label, env.Provider, err),
			Subject:  env.ProviderRange.Ptr(),
		}}
	}
	c := &conn{env: env, p: p}
	schema, err := p.GetSchema(ctx)
	if err != nil {
		return c, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Provider failed",
			Detail:   fmt.Sprintf("Asking provider %q for its schema failed: %v.", env.Provider, err),
			Subject:  env.ProviderRange.Ptr(),
		}}
	}
	c.schema = schema
	c.spec = blockSpec(schema.Config)
	val, diags := hcldec.Decode(env.Config, c.spec, scope.EvalContext())
	if diags.HasErrors() {
		return c, diags
	}
	val, _ = val.UnmarkDeep()
	c.value = val
	if !configure {
		return c, diags
	}
	if !val.IsWhollyKnown() {
		return c, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Provider settings not known",
			Detail:   fmt.Sprintf("Some settings of %s depend on variables without a value. Set them with -var, -var-file or ADSHIFT_VAR_ names.", label),
			Subject:  env.DeclRange.Ptr(),
		})
	}
	pd, err := p.Configure(ctx, val)
	if err != nil {
		return c, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Provider failed",
			Detail:   fmt.Sprintf("Configuring provider %q for %s failed: %v.", env.Provider, label, err),
			Subject:  env.DeclRange.Ptr(),
		})
	}
	return c, append(diags, c.providerDiags(pd)...)
}

// pathSpec narrows spec to the attribute or block at path, so that
// hcldec.SourceRange finds that attribute's range.
func pathSpec(spec hcldec.Spec, path cty.Path) hcldec.Spec {
	if len(path) == 0 {
		return spec
	}
	obj, ok := spec.(hcldec.ObjectSpec)
	if !ok {
		return spec
	}
	step, ok := path[0].(cty.GetAttrStep)
	if !ok {
		return spec
	}
	switch s := obj[step.Name].(type) {
	case *hcldec.AttrSpec:
		return s
	case *hcldec.BlockSpec:
		if len(path) == 1 {
			return s
		}
		return &hcldec.BlockSpec{TypeName: s.TypeName, Nested: pathSpec(s.Nested, path[1:]), Required: s.Required}
	}
	return spec
}

// providerDiags turns a provider's diagnostics into HCL diagnostics at the
// attribute they concern.
func (c *conn) providerDiags(pd providers.Diagnostics) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, d := range pd {
		sev := hcl.DiagError
		if d.Severity == providers.SeverityWarning {
			sev = hcl.DiagWarning
		}
		rng := c.env.DeclRange
		if len(d.Attribute) > 0 {
			if r := hcldec.SourceRange(c.env.Config, pathSpec(c.spec, d.Attribute)); r.Filename != "" {
				rng = r
			}
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: sev,
			Summary:  d.Summary,
			Detail:   d.Detail,
			Subject:  rng.Ptr(),
			Context:  c.env.DeclRange.Ptr(),
		})
	}
	return diags
}

// Validate checks a configuration as far as it can without reaching any
// directory: it starts each environment's provider and checks the
// provider-owned settings against the provider's schema.
func Validate(ctx context.Context, cfg *config.Config, scope *config.Scope, l Launcher) hcl.Diagnostics {
	var names []string
	for _, name := range config.SortedNames(cfg.Environments) {
		if cfg.Environments[name].Provider != "" {
			names = append(names, name)
		}
	}
	cs, diags := openEnvs(ctx, cfg, scope, l, names, false)
	if cs != nil {
		cs.close(ctx)
	}
	for _, name := range config.SortedNames(cfg.Hubs) {
		h := cfg.Hubs[name]
		c, d := openHub(ctx, h, scope, l, false)
		if c != nil {
			conns{"hub." + name: c}.close(ctx)
		}
		diags = append(diags, d...)
	}
	return diags
}

// openHub launches and (when configure is set) configures the device
// provider of a hub block.
func openHub(ctx context.Context, h *config.Hub, scope *config.Scope, l Launcher, configure bool) (*conn, hcl.Diagnostics) {
	env := &config.Environment{Name: h.Name, Provider: config.HubProvider, ProviderRange: h.DeclRange, Config: h.Config, DeclRange: h.DeclRange}
	return openEnv(ctx, env, "hub."+h.Name, scope, l, configure)
}
