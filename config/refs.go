package config

import (
	"sort"

	"github.com/hashicorp/hcl/v2"
)

// resolveReferences checks that every static reference names a declared
// block of the right type, and the cross-block rules that need them.
func (c *Config) resolveReferences() hcl.Diagnostics {
	var diags hcl.Diagnostics
	check := func(r *Ref, names []string) bool {
		if r == nil {
			return false
		}
		for _, n := range names {
			if n == r.Name {
				return true
			}
		}
		detail := "No " + r.Type + " block named " + quote(r.Name) + " is declared."
		if s := suggest(r.Name, names); s != "" {
			detail += " Did you mean " + r.Type + "." + s + "?"
		} else if len(names) > 0 {
			detail += " Declared: " + joinRefs(r.Type, names) + "."
		} else {
			detail += " Declare one with a " + r.Type + ` "` + r.Name + `" { ... } block.`
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Reference to undeclared " + r.Type,
			Detail:   detail,
			Subject:  r.Range.Ptr(),
		})
		return false
	}
	envs, wfs := sortedKeys(c.Environments), sortedKeys(c.Workflows)
	repos, proxies, hubs := sortedKeys(c.Repositories), sortedKeys(c.Proxies), sortedKeys(c.Hubs)
	for _, name := range wfs {
		w := c.Workflows[name]
		okS := check(w.Source, envs)
		okT := check(w.Target, envs)
		if okS && okT && w.Source.Name == w.Target.Name {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Source and target are the same environment",
				Detail:   "A workflow moves objects from one environment to another; point target at a different environment.",
				Subject:  w.Target.Range.Ptr(),
			})
		}
		if okS && w.Objects == nil {
			w.Objects = append([]string(nil), c.Environments[w.Source.Name].Include...)
		}
		if okS {
			src := c.Environments[w.Source.Name]
			for i, k := range w.Objects {
				if !src.Includes(k) {
					rng := w.objectRanges.get(i, w.DeclRange)
					diags = append(diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Object kind not included by the source",
						Detail:   "The workflow carries " + k + ", but environment." + src.Name + " does not include them. Add " + quote(k) + " to its include list, or remove it from this workflow.",
						Subject:  rng.Ptr(),
					})
				}
			}
		}
		for _, k := range w.Objects {
			if (k == "users" || k == "groups" || k == "contacts") && w.HasStep("write") && !w.HasStep("stage") {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Write without stage",
					Detail:   "Users and groups are written from staged data: add \"stage\" before \"write\" in steps.",
					Subject:  w.StepsRange.Ptr(),
				})
				break
			}
		}
	}
	for _, name := range sortedKeys(c.DeviceCutovers) {
		dc := c.DeviceCutovers[name]
		if check(dc.Workflow, wfs) {
			w := c.Workflows[dc.Workflow.Name]
			if !w.Carries("devices") {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Workflow does not carry devices",
					Detail:   "workflow." + w.Name + " does not carry devices. Point workflow at a workflow whose objects (or match/template) include \"devices\".",
					Subject:  dc.Workflow.Range.Ptr(),
				})
			}
		}
		if dc.Identities != nil {
			check(dc.Identities, wfs)
		}
		if dc.Repository != nil {
			check(dc.Repository, repos)
		}
		if dc.Proxy != nil {
			check(dc.Proxy, proxies)
		}
		if dc.Hub != nil {
			check(dc.Hub, hubs)
		}
	}
	return diags
}

type rangeList []hcl.Range

func (r rangeList) get(i int, fallback hcl.Range) hcl.Range {
	if i < len(r) {
		return r[i]
	}
	return fallback
}

func joinRefs(typ string, names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += typ + "." + n
	}
	return out
}

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
