package lab

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestInventory_probesAndClaims(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	// A device without smb.conf: the claims stand.
	os.WriteFile(filepath.Join(dir, InventoryFile), []byte(`{"os": "Windows 10 Enterprise", "domain": "claimed.test"}`), 0o644)
	s := &Secrets{Domains: map[string]DomainAccount{
		"source.test": {DC: "dc1.source.test"}, "target.test": {DC: "dc1.target.test"}, "again.test": {DC: "dc1.source.test"},
	}}
	if err := WriteSecrets(dir, s); err != nil {
		t.Fatal(err)
	}
	b := New(dir, "https://"+ln.Addr().String(), "https://"+closedAddr, "not a url\x00")
	inv, err := b.Inventory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if inv.OS != "Windows 10 Enterprise" || inv.Domain != "claimed.test" {
		t.Errorf("inventory os %q domain %q: want the claims (no smb.conf)", inv.OS, inv.Domain)
	}
	var targets []string
	for _, p := range inv.Reachable {
		targets = append(targets, p.Target)
		switch p.Target {
		case ln.Addr().String():
			if !p.OK {
				t.Errorf("listening hub port: %+v", p)
			}
		case closedAddr:
			if p.OK || p.Detail == "" {
				t.Errorf("closed hub port: %+v, want failed with a detail", p)
			}
		}
	}
	want := []string{"dc1.source.test:389", "dc1.source.test:445", "dc1.target.test:389", "dc1.target.test:445", ln.Addr().String(), closedAddr}
	if diff := cmp.Diff(want, targets); diff != "" {
		t.Errorf("probe targets (-want +got)\n%s", diff)
	}
	if err := b.reachable(t.Context(), closedAddr); err == nil || !strings.Contains(err.Error(), closedAddr) {
		t.Errorf("reachable of a closed port: %v", err)
	}

	// With Samba membership in no domain, the claim goes.
	if err := WriteSambaConfig(dir, SambaConfig{NetBIOSName: "WS001"}); err != nil {
		t.Fatal(err)
	}
	if inv, err = b.Inventory(t.Context()); err != nil || inv.Domain != "" {
		t.Errorf("inventory of a device in no domain: domain %q, %v; want none", inv.Domain, err)
	}
}

func TestInventory_withoutNet(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	dir := t.TempDir()
	if err := WriteSambaConfig(dir, SambaConfig{NetBIOSName: "WS001", Workgroup: "SOURCE", Realm: "SOURCE.TEST", DC: "dc1.source.test"}); err != nil {
		t.Fatal(err)
	}
	inv, err := New(dir).Inventory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if inv.Domain != "" || len(inv.Reachable) == 0 || inv.Reachable[0].OK || !strings.Contains(inv.Reachable[0].Detail, "net installed") {
		t.Errorf("inventory without Samba's net: domain %q, probes %+v; want no domain and a failed join probe saying why", inv.Domain, inv.Reachable)
	}
}
