package planner

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/providers"
	"github.com/adshift/adshift/state"
)

func TestCheckSavedPlan(t *testing.T) {
	cfg := &config.Config{Hash: "h1"}
	plan := func() *plans.Plan { return &plans.Plan{ConfigHash: "h1", Lineage: "L1", Serial: 4} }
	tests := []struct {
		name string
		p    *plans.Plan
		cfg  *config.Config
		st   *state.State
		ws   string
		want string // "" for applicable
	}{
		{"applicable", plan(), cfg, &state.State{Lineage: "L1", Serial: 4}, "", ""},
		{"config moved", plan(), &config.Config{Hash: "h2"}, &state.State{Lineage: "L1", Serial: 4}, "", "the configuration changed"},
		{"serial moved", plan(), cfg, &state.State{Lineage: "L1", Serial: 5}, "", "from serial 4 to 5"},
		{"other lineage", plan(), cfg, &state.State{Lineage: "L2", Serial: 4}, "", "lineage L1, but the state is lineage L2"},
		{"never written state takes the plan's lineage", &plans.Plan{ConfigHash: "h1", Lineage: "L1"}, cfg, &state.State{Lineage: "fresh"}, "", ""},
		{"default workspace by name", plan(), cfg, &state.State{Lineage: "L1", Serial: 4}, "default", ""},
		{"other workspace", plan(), cfg, &state.State{Lineage: "L1", Serial: 4}, "wave2", `made in workspace "default", but the current workspace is "wave2"`},
		{"made in a workspace", &plans.Plan{ConfigHash: "h1", Lineage: "L1", Serial: 4, Workspace: "wave2"}, cfg, &state.State{Lineage: "L1", Serial: 4}, "wave2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSavedPlan(tt.p, tt.cfg, tt.st, tt.ws)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tt.st.Lineage != tt.p.Lineage {
					t.Fatalf("state lineage %s after the check, want the plan's %s", tt.st.Lineage, tt.p.Lineage)
				}
				return
			}
			if !errors.Is(err, ErrStalePlan) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want ErrStalePlan with %q", err, tt.want)
			}
		})
	}
}

func TestReadPlan_keyFromTheBackend(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := state.NewLocal(filepath.Join(dir, "s.json"))
	p := &plans.Plan{FormatVersion: plans.FormatVersion, Lineage: "L1", Changes: []*plans.Change{}}
	path := filepath.Join(dir, "p")
	if err := SavePlan(ctx, path, p, b); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPlan(ctx, path, b); err != nil {
		t.Fatalf("the plan's own state: %v", err)
	}
	other := state.NewLocal(filepath.Join(t.TempDir(), "s.json"))
	_, err := ReadPlan(ctx, path, other)
	if !errors.Is(err, ErrStalePlan) || !strings.Contains(err.Error(), "lineage L1") {
		t.Fatalf("another state: got %v, want a stale plan naming lineage L1", err)
	}
	// A second lineage's key is another key: a plan re-headed with it fails.
	if _, err := b.PlanKey(ctx, "L2", true); err != nil {
		t.Fatal(err)
	}
	p.Lineage = "L2"
	k1, _ := b.PlanKey(ctx, "L1", false)
	if err := plans.WriteFile(path, p, k1); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPlan(ctx, path, b); !errors.Is(err, ErrPlanAltered) {
		t.Fatalf("a plan signed with another lineage's key: got %v, want ErrPlanAltered", err)
	}
}

type providerLauncher map[string]providers.Provider

func (l providerLauncher) Launch(_ context.Context, typ string) (providers.Provider, error) {
	return l[typ], nil
}

type versionedDir struct {
	*fakeDir
	version string
}

func (v versionedDir) GetSchema(ctx context.Context) (*providers.Schema, error) {
	s, err := v.fakeDir.GetSchema(ctx)
	s.Version = v.version
	return s, err
}

func TestApply_refusesAnotherProviderVersion(t *testing.T) {
	source := newFakeDir(obj(providers.KindUser, "CN=Ann,DC=s", "sAMAccountName", "ann", "objectGUID", "s-ann"))
	target := newFakeDir(obj(providers.KindOU, "OU=M,DC=t"))
	cfg, scope := loadConfig(t, baseConfig+identities)
	launch := providerLauncher{"src": versionedDir{source, "1.0"}, "tgt": versionedDir{target, "1.0"}}
	p, diags := Plan(context.Background(), Options{Config: cfg, Scope: scope, Launcher: launch})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if p.Providers["tgt"] != "1.0" || p.Providers["src"] != "1.0" {
		t.Fatalf("the plan records provider versions %v, want src and tgt 1.0", p.Providers)
	}
	b := state.NewLocal(filepath.Join(t.TempDir(), "s.json"))
	st, _ := b.Load(context.Background())
	txn, err := b.Begin(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Close()
	launch = providerLauncher{"src": versionedDir{source, "1.0"}, "tgt": versionedDir{target, "1.1"}}
	diags = Apply(context.Background(), ApplyOptions{Plan: p, Config: cfg, Scope: scope, Txn: txn, Launcher: launch})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), `provider "tgt" was version 1.0, now 1.1`) {
		t.Fatalf("got %v, want the provider version named", diags)
	}
	if len(target.applied) != 0 {
		t.Fatalf("changes were sent to a provider of another version: %v", target.applied)
	}
}
