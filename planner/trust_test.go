package planner

import (
	"context"
	"strings"
	"testing"

	"github.com/adshift/adshift/providers"
)

// trustingDir is a fakeDir whose schema says it reads trusts.
type trustingDir struct{ *fakeDir }

func (d trustingDir) GetSchema(ctx context.Context) (*providers.Schema, error) {
	s, err := d.fakeDir.GetSchema(ctx)
	s.Kinds = []providers.Kind{providers.KindUser, providers.KindComputer, providers.KindTrust}
	return s, err
}

const trustConfig = `
environment "source" {
  provider = "src"
  file     = "s"
  domain   = "source.test"
  base_dn  = "DC=s"
}
environment "target" {
  provider = "tgt"
  file     = "t"
  domain   = "target.test"
  base_dn  = "DC=t"
}
workflow "dev" {
  source = environment.source
  target = environment.target
  steps  = ["read", "match"]
  match { devices = ["sAMAccountName"] }
}
device_cutover "w1" {
  workflow = workflow.dev
  actions  = ["cache_credentials", "cutover"]
}
`

func TestPlan_trustDiscoveredFromTheSource(t *testing.T) {
	ws := obj(providers.KindComputer, "CN=WS-1,DC=s", "sAMAccountName", "WS-1$", "operatingSystem", "Windows 10 Pro", "operatingSystemVersion", "10.0 (19045)", "objectGUID", "c1")
	target := newFakeDir(obj(providers.KindComputer, "CN=WS-1,DC=t", "sAMAccountName", "WS-1$", "objectGUID", "t1"))
	trust := func(partner, dir string) *providers.Object {
		return obj(providers.KindTrust, "CN="+partner+",CN=System,DC=s", "trustPartner", partner, "trustDirection", dir)
	}
	tests := []struct {
		name    string
		src     providers.Provider
		config  string
		blocker string // code, or "" when met
		message string
	}{
		{"outbound trust", trustingDir{newFakeDir(ws, trust("target.test", "2"))}, trustConfig, "", "one-way trust source.test → target.test found"},
		{"two-way trust", trustingDir{newFakeDir(ws, trust("TARGET.test", "3"))}, trustConfig, "", "two-way trust"},
		{"inbound only", trustingDir{newFakeDir(ws, trust("target.test", "1"))}, trustConfig, "trust_wrong_direction", "inbound only"},
		{"another domain", trustingDir{newFakeDir(ws, trust("other.test", "2"))}, trustConfig, "no_trust", "it trusts only other.test"},
		{"none", trustingDir{newFakeDir(ws)}, trustConfig, "no_trust", "no trust from source.test to target.test was found"},
		{"provider cannot read trusts", newFakeDir(ws, trust("target.test", "2")), trustConfig, "no_trust", "cannot read trusts"},
		{"stated by hand", newFakeDir(ws), strings.Replace(trustConfig, `actions  = ["cache_credentials", "cutover"]`, "actions  = [\"cache_credentials\", \"cutover\"]\n  requirements { trust = true }", 1), "", "stated by requirements"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, scope := loadConfig(t, tt.config)
			p, diags := Plan(context.Background(), Options{Config: cfg, Scope: scope, Launcher: providerLauncher{"src": tt.src, "tgt": target}})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			d := p.Devices[0]
			var codes, texts []string
			for _, b := range d.Blockers {
				codes = append(codes, b.Code)
				texts = append(texts, b.Message)
			}
			texts = append(texts, d.Checks...)
			if tt.blocker == "" && len(codes) != 0 {
				t.Fatalf("blocked: %v", texts)
			}
			if tt.blocker != "" && (len(codes) != 1 || codes[0] != tt.blocker) {
				t.Fatalf("blockers %v, want %s", codes, tt.blocker)
			}
			if !strings.Contains(strings.Join(texts, "\n"), tt.message) {
				t.Errorf("%q not said: %v", tt.message, texts)
			}
		})
	}
}
