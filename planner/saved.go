package planner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/state"
)

// ErrStalePlan is wrapped by the errors that refuse a saved plan because
// the configuration, the state, the variables or a provider moved since it
// was made: the plan is genuine but no longer says what apply would do.
var ErrStalePlan = errors.New("saved plan is stale")

// ErrPlanAltered is wrapped by the errors that refuse a saved plan file
// that changed after plan -out wrote it.
var ErrPlanAltered = plans.ErrPlanAltered

// StaleError says why a saved plan is stale; it wraps ErrStalePlan.
type StaleError struct {
	// What changed, in a sentence.
	What string
}

func (e *StaleError) Error() string {
	return e.What + ". Run adshift plan -out again and review the new plan"
}

func (e *StaleError) Unwrap() error { return ErrStalePlan }

// SavePlan writes p to path, authenticated with the state's plan key for
// p.Lineage (made on first use). The caller holds the state lock.
func SavePlan(ctx context.Context, path string, p *plans.Plan, b state.Backend) error {
	key, err := b.PlanKey(ctx, p.Lineage, true)
	if err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	return plans.WriteFile(path, p, key)
}

// ReadPlan reads a saved plan and checks the whole file before any of it
// is used: its authentication code against the plan key the backend keeps
// for the plan's lineage, its gzip checksum and length. An altered file is
// an error wrapping ErrPlanAltered; a plan whose lineage has no key in the
// backend (made against another state) is a *StaleError.
func ReadPlan(ctx context.Context, path string, b state.Backend) (*plans.Plan, error) {
	return plans.ReadFile(path, func(lineage string) ([]byte, error) {
		key, err := b.PlanKey(ctx, lineage, false)
		if errors.Is(err, state.ErrNoPlanKey) {
			return nil, &StaleError{What: fmt.Sprintf("the plan was made for state lineage %s, which this state does not know (the plan belongs to another state, or its header was altered)", lineage)}
		}
		return key, err
	})
}

// SavedPlanInputs returns the variable values a saved plan applies with:
// the plan's own values, and from given only the sensitive ones, which
// plans never store. Any other variable given explicitly (flag or file) is
// an error; ADSHIFT_VAR_ values from the environment are ignored.
func SavedPlanInputs(p *plans.Plan, path string, given config.Inputs) (config.Inputs, hcl.Diagnostics) {
	sensitive := map[string]bool{}
	for _, n := range p.Sensitive {
		sensitive[n] = true
	}
	var diags hcl.Diagnostics
	in := config.Inputs{}
	names := make([]string, 0, len(given))
	for name := range given {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := given[name]
		switch {
		case sensitive[name]:
			in[name] = v
		case !v.FromEnv:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Variable set for a saved plan",
				Detail:   fmt.Sprintf("The variable %q was set (%s), but a saved plan applies with the values it was made with. Only sensitive variables, which plans never store, may be given again.", name, v.Source),
			})
		}
	}
	for name, text := range p.Variables {
		expr, d := hclsyntax.ParseExpression([]byte(text), path, hcl.InitialPos)
		if d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		in[name] = &config.InputValue{Expr: expr, Source: "the saved plan"}
	}
	return in, diags
}

// CheckSavedPlan decides whether a saved plan, read by ReadPlan, still
// applies to the configuration and the state (loaded under the lock): the
// configuration hash, the workspace, the state's lineage and serial. A
// state that was never written takes the plan's lineage (st is changed).
// The error is a *StaleError naming what moved; workspace is the current
// one ("" and "default" are the same).
func CheckSavedPlan(p *plans.Plan, cfg *config.Config, st *state.State, workspace string) error {
	if made, now := workspaceName(p.Workspace), workspaceName(workspace); made != now {
		return &StaleError{What: fmt.Sprintf("the plan was made in workspace %q, but the current workspace is %q; select it with adshift workspace select %s (or set ADSHIFT_WORKSPACE=%s) to apply it", made, now, made, made)}
	}
	if cfg.Hash != p.ConfigHash {
		return &StaleError{What: "the configuration changed since the plan was made, so the plan may no longer say what the configuration asks for"}
	}
	if st.Serial == 0 && p.Serial == 0 && len(st.Objects) == 0 && len(st.Devices) == 0 {
		// No state was ever written: the plan's lineage was made up for it,
		// and this apply writes the state under that lineage.
		st.Lineage = p.Lineage
	}
	if st.Lineage != p.Lineage {
		return &StaleError{What: fmt.Sprintf("the plan was made for state lineage %s, but the state is lineage %s (the plan belongs to another state)", p.Lineage, st.Lineage)}
	}
	if st.Serial != p.Serial {
		return &StaleError{What: fmt.Sprintf("the state moved from serial %d to %d since the plan was made (it was applied already, or another apply ran since)", p.Serial, st.Serial)}
	}
	return nil
}

func workspaceName(ws string) string {
	if ws == "" {
		return state.DefaultWorkspace
	}
	return ws
}

// checkProviderVersions refuses a saved plan when a provider now reports
// another version than the plan was made with.
func checkProviderVersions(p *plans.Plan, cs conns) error {
	if p.Providers == nil {
		return nil
	}
	var moved []string
	for _, name := range config.SortedNames(cs) {
		c := cs[name]
		typ := c.env.Provider
		if was, ok := p.Providers[typ]; ok && c.schema != nil && was != c.schema.Version {
			moved = append(moved, fmt.Sprintf("provider %q was version %s, now %s", typ, was, c.schema.Version))
		}
	}
	if len(moved) > 0 {
		return &StaleError{What: "the providers changed since the plan was made: " + strings.Join(moved, "; ")}
	}
	return nil
}

// providerVersions records the versions of the providers a plan used.
func providerVersions(cs conns) map[string]string {
	out := map[string]string{}
	for _, c := range cs {
		if c.schema != nil {
			out[c.env.Provider] = c.schema.Version
		}
	}
	return out
}

// StaleDiag is the diagnostic for a refused saved plan.
func StaleDiag(err error) *hcl.Diagnostic {
	switch {
	case errors.Is(err, ErrPlanAltered):
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Saved plan was altered",
			Detail:   err.Error() + ". Nothing was applied and no provider was started. A plan file must be applied exactly as adshift plan -out wrote it: make a new plan and review it.",
		}
	case errors.Is(err, ErrStalePlan):
		var se *StaleError
		if errors.As(err, &se) {
			err = se // the path and "read plan" add nothing here
		}
		msg := err.Error()
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Saved plan is stale", Detail: strings.ToUpper(msg[:1]) + msg[1:] + "."}
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read plan", Detail: err.Error() + "."}
}
