package device

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/hub"
	"github.com/adshift/adshift/hub/hubtest"
)

func TestConfigure_diagnostics(t *testing.T) {
	h := hubtest.Start(t, hub.Options{})
	other := hubtest.Start(t, hub.Options{}) // another hub: another CA
	ca, otherCA := caFile(t, h), caFile(t, other)
	missing := filepath.Join(t.TempDir(), "nope.pem")
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "https://" + ln.Addr().String()
	ln.Close()
	// The hub's certificate names 127.0.0.1 and localhost, not the
	// machine's own name (when that resolves to 127.0.0.1).
	otherName := ""
	if name, err := os.Hostname(); err == nil && name != "localhost" {
		if addrs, _ := net.LookupHost(name); slices.Contains(addrs, "127.0.0.1") {
			otherName = strings.Replace(h.URL, "127.0.0.1", name, 1)
		}
	}

	tests := []struct {
		name   string
		config cty.Value
		want   string // "attribute: summary", "" for none
	}{
		{"ok", config(h.URL, h.Admin.AdminToken, ca), ""},
		{"no url", config("", h.Admin.AdminToken, ca), "url: Missing hub URL"},
		{"http", config(strings.Replace(h.URL, "https", "http", 1), h.Admin.AdminToken, ca), "url: Invalid hub URL"},
		{"path", config(h.URL+"/v1", h.Admin.AdminToken, ca), "url: Invalid hub URL"},
		{"no token", config(h.URL, "", ca), "token: Missing hub admin token"},
		{"wrong token", config(h.URL, "adshift-admin-wrong", ca), "token: Hub refused the admin token"},
		{"missing CA file", config(h.URL, h.Admin.AdminToken, missing), "ca_file: Cannot read the hub CA file"},
		{"not PEM", config(h.URL, h.Admin.AdminToken, notPEM), "ca_file: Invalid hub CA file"},
		{"other CA", config(h.URL, h.Admin.AdminToken, otherCA), "ca_file: Hub CA mismatch"},
		{"system CAs", config(h.URL, h.Admin.AdminToken, ""), "ca_file: Hub certificate not trusted"},
		{"unreachable", config(closed, h.Admin.AdminToken, ca), "url: Hub unreachable"},
		{"name not in certificate", config(otherName, h.Admin.AdminToken, ca), "url: Hub certificate is for another name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "name not in certificate" && otherName == "" {
				t.Skip("the host name does not resolve to 127.0.0.1")
			}
			p := New(nil)
			diags, err := p.Configure(t.Context(), tt.config)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range diags {
				attr := ""
				if len(d.Attribute) == 1 {
					attr = d.Attribute[0].(cty.GetAttrStep).Name
				}
				got = append(got, attr+": "+d.Summary)
				if d.Detail == "" || strings.Contains(d.Detail, h.Admin.AdminToken) {
					t.Errorf("detail %q: empty, or showing the token", d.Detail)
				}
			}
			if strings.Join(got, "; ") != tt.want {
				t.Errorf("diagnostics %q, want %q", got, tt.want)
			}
			if _, err := p.ListDevices(t.Context()); (err == nil) != (tt.want == "") {
				t.Errorf("ListDevices after Configure: %v", err)
			}
		})
	}
}
