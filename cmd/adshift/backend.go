package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/planner"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/state"
	"github.com/adshift/adshift/state/pg"
)

// Environment variables that choose the workspace and give the pg
// backend's connection string.
const (
	envWorkspace = "ADSHIFT_WORKSPACE"
	envPGConn    = "ADSHIFT_PG_CONN_STR"
	envPGConnAlt = "PG_CONN_STR"
)

// workspaceFile remembers the selected workspace (workspace select).
func (m *meta) workspaceFile() string {
	return filepath.Join(m.dir, ".adshift", "environment")
}

// workspace returns the current workspace: ADSHIFT_WORKSPACE, else the one
// workspace select remembered, else "default"; and where it came from.
func (m *meta) workspace() (name, from string, err error) {
	if v := os.Getenv(envWorkspace); v != "" {
		return v, "the environment variable " + envWorkspace, state.CheckWorkspaceName(v)
	}
	data, err := os.ReadFile(m.workspaceFile())
	if errors.Is(err, os.ErrNotExist) {
		return state.DefaultWorkspace, "the default", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("read the selected workspace: %w", err)
	}
	name = strings.TrimSpace(string(data))
	if err := state.CheckWorkspaceName(name); err != nil {
		return "", "", fmt.Errorf("%s: %w; select a workspace again with adshift workspace select", m.workspaceFile(), err)
	}
	return name, m.workspaceFile(), nil
}

// workspaces returns the backend configuration's workspaces: local unless
// the configuration has a backend "pg" block. scope, when not nil, is the
// evaluated configuration a conn_str expression refers to; otherwise it is
// evaluated with the ADSHIFT_VAR_ variables of the environment. The
// connection string joins m.secrets: no message shows it.
func (m *meta) workspaces(cfg *config.Config, scope *config.Scope) (state.Workspaces, hcl.Diagnostics) {
	var be *config.Backend
	if cfg != nil {
		be = cfg.Settings.Backend
	}
	if be == nil || be.Type != config.BackendPG {
		path := "adshift.state"
		if be != nil && be.Path != "" {
			path = be.Path
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(m.dir, path)
		}
		return state.NewLocalWorkspaces(m.dir, path), nil
	}
	conn, diags := m.connStr(cfg, be, scope)
	if diags.HasErrors() {
		return nil, diags
	}
	if len(conn) >= 3 {
		m.secrets = append(m.secrets, conn)
	}
	s, err := pg.New(pg.Options{ConnString: conn, Schema: be.Schema})
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid pg backend", Detail: err.Error() + ".", Subject: be.DeclRange.Ptr()}}
	}
	return s, nil
}

// connStr evaluates the pg backend's connection string: conn_str, else
// ADSHIFT_PG_CONN_STR, else PG_CONN_STR.
func (m *meta) connStr(cfg *config.Config, be *config.Backend, scope *config.Scope) (string, hcl.Diagnostics) {
	if be.ConnStr == nil {
		for _, name := range []string{envPGConn, envPGConnAlt} {
			if v := os.Getenv(name); v != "" {
				return v, nil
			}
		}
		return "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No connection string for the pg backend",
			Detail:   `Set ` + envPGConn + ` (or ` + envPGConnAlt + `) to the PostgreSQL connection string, or conn_str = var.NAME in the backend block with a sensitive variable.`,
			Subject:  be.DeclRange.Ptr(),
		}}
	}
	var ctx *hcl.EvalContext
	if len(be.ConnStr.Variables()) > 0 {
		if scope == nil {
			in := config.Inputs{}
			in.AddEnv(os.Environ())
			scope, _ = cfg.Evaluate(config.EvalOptions{Inputs: in, AllowMissing: true})
		}
		ctx = scope.EvalContext()
	}
	v, diags := be.ConnStr.Value(ctx)
	if diags.HasErrors() {
		return "", diags
	}
	v, marks := v.UnmarkDeep()
	if len(be.ConnStr.Variables()) > 0 && !marks.Has(config.Sensitive) {
		return "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Connection string from a variable that is not sensitive",
			Detail:   "conn_str refers to a variable not declared sensitive = true, so its value (with the database password) could be saved in plan files. Declare the variable sensitive, or set " + envPGConn + " instead.",
			Subject:  be.ConnStr.Range().Ptr(),
		}}
	}
	if !v.IsKnown() || v.IsNull() || v.Type() != cty.String || v.AsString() == "" {
		return "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No connection string for the pg backend",
			Detail:   "conn_str has no value: give the variable it refers to a value (ADSHIFT_VAR_NAME in the environment, or -var for plan and apply), or remove conn_str and set " + envPGConn + ".",
			Subject:  be.ConnStr.Range().Ptr(),
		}}
	}
	return v.AsString(), nil
}

// backend returns the current workspace's state backend.
func (m *meta) backend(cfg *config.Config, scope *config.Scope) (state.Backend, hcl.Diagnostics) {
	ws, diags := m.workspaces(cfg, scope)
	if diags.HasErrors() {
		return nil, diags
	}
	name, from, err := m.workspace()
	if err != nil {
		return nil, errDiag("Invalid workspace", err, "")
	}
	b, err := ws.Backend(m.ctx, name)
	if errors.Is(err, state.ErrNoWorkspace) {
		return nil, errDiag("No such workspace", err, fmt.Sprintf("The workspace comes from %s. Create it with adshift workspace new %s, or pick another with adshift workspace select (adshift workspace list shows them).", from, name))
	}
	if err != nil {
		return nil, errDiag("Cannot open the state", err, "")
	}
	return b, nil
}

// discoveryCache returns the directory where the providers keep what
// they read of the workspace's environments (see planner.Options): beside
// the state file for the local backend; under .adshift/discovery in the
// working directory for pg (TODO: keep it in the database, so that every
// machine sharing the state shares it #15).
func (m *meta) discoveryCache(cfg *config.Config, workspace string) string {
	dir := ""
	if be := cfg.Settings.Backend; be != nil && be.Type == config.BackendPG {
		dir = filepath.Join(m.dir, ".adshift", "discovery", workspace)
	} else {
		ws, diags := m.workspaces(cfg, nil)
		lw, ok := ws.(*state.LocalWorkspaces)
		if diags.HasErrors() || !ok {
			return ""
		}
		dir = lw.Path(workspace) + ".discovery"
	}
	// Absolute: provider plugins need not share the working directory.
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return dir
}

// showDiags shows diagnostics scrubbed of every secret (sensitive values
// and the pg connection string).
func (m *meta) showDiags(d hcl.Diagnostics) {
	m.view.Diagnostics(scrub(d, m.secrets))
}

// readPlan reads a saved plan with the current workspace's plan keys
// (given are the inputs a conn_str may refer to). A plan whose lineage the
// current workspace does not know, but another workspace does, is refused
// naming the workspace it was made in.
func (m *meta) readPlan(cfg *config.Config, given config.Inputs, path string) (*plans.Plan, hcl.Diagnostics) {
	var scope *config.Scope
	if cfg != nil {
		scope, _ = cfg.Evaluate(config.EvalOptions{Inputs: given, AllowMissing: true})
	}
	ws, diags := m.workspaces(cfg, scope)
	if diags.HasErrors() {
		return nil, diags
	}
	b, diags := m.backend(cfg, scope)
	if diags.HasErrors() {
		return nil, diags
	}
	rec := &lineageRecorder{Backend: b}
	p, err := planner.ReadPlan(m.ctx, path, rec)
	if err == nil {
		return p, nil
	}
	if errors.Is(err, planner.ErrStalePlan) && rec.lineage != "" {
		cur, _, _ := m.workspace()
		if names, lerr := ws.List(m.ctx); lerr == nil {
			for _, name := range names {
				if name == cur {
					continue
				}
				other, oerr := ws.Backend(m.ctx, name)
				if oerr != nil {
					continue
				}
				if _, kerr := other.PlanKey(m.ctx, rec.lineage, false); kerr == nil {
					return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Saved plan is for another workspace",
						Detail: fmt.Sprintf("The plan was made in workspace %q, but the current workspace is %q. Select it with adshift workspace select %s (or set %s=%s) to apply it.", name, cur, name, envWorkspace, name)}}
				}
			}
		}
	}
	return nil, hcl.Diagnostics{planner.StaleDiag(err)}
}

// lineageRecorder notes the lineage a plan file asks the key of.
type lineageRecorder struct {
	state.Backend
	lineage string
}

func (r *lineageRecorder) PlanKey(ctx context.Context, lineage string, create bool) ([]byte, error) {
	r.lineage = lineage
	return r.Backend.PlanKey(ctx, lineage, create)
}
