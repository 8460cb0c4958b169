package ad

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/providers"
)

// cfgVal builds a config value from the implied type, overriding attrs.
func cfgVal(over map[string]cty.Value) cty.Value {
	ty := configSchema.ImpliedType()
	m := map[string]cty.Value{}
	for name, at := range ty.AttributeTypes() {
		m[name] = cty.NullVal(at)
	}
	m["servers"] = cty.ListVal([]cty.Value{cty.StringVal("ldaps://127.0.0.3:636")})
	m["bind"] = cty.ObjectVal(map[string]cty.Value{"username": cty.StringVal("admin@target.test"), "password": cty.StringVal("s3cret-Pw")})
	for k, v := range over {
		m[k] = v
	}
	return cty.ObjectVal(m)
}

func TestDecodeConfig(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	// Any self-signed PEM certificate will do for parsing.
	if err := os.WriteFile(ca, testCA(t), 0o600); err != nil {
		t.Fatal(err)
	}
	tlsBlock := func(caFile string, insecure bool) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"ca_file": cty.StringVal(caFile), "start_tls": cty.NullVal(cty.Bool), "insecure_skip_verify": cty.BoolVal(insecure)})
	}
	tests := []struct {
		name      string
		over      map[string]cty.Value
		check     func(t *testing.T, c *Config)
		summaries []string
	}{
		{name: "defaults", check: func(t *testing.T, c *Config) {
			got := []any{c.PageSize, c.RangeSize, c.Timeout, c.Connections, c.WriteConnections, c.NewUserPassword, c.MarkerAttr, c.MarkerValue}
			want := []any{1000, 1500, 30 * time.Second, DefaultConnections, 1, "random", "adminDescription", "adshift"}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if c.tls.InsecureSkipVerify || c.tls.RootCAs != nil {
				t.Error("verification must be on with system roots by default")
			}
		}},
		{name: "all set", over: map[string]cty.Value{
			"page_size": cty.NumberIntVal(100), "range_size": cty.NumberIntVal(100), "connections": cty.NumberIntVal(2), "timeout": cty.StringVal("5s"),
			"write_connections": cty.NumberIntVal(3),
			"tls":               tlsBlock(ca, false),
			"new_users":         cty.ObjectVal(map[string]cty.Value{"password": cty.StringVal("disabled")}),
			"created_marker":    cty.ObjectVal(map[string]cty.Value{"attribute": cty.StringVal("extensionAttribute1"), "value": cty.StringVal("by-adshift")}),
		}, check: func(t *testing.T, c *Config) {
			got := []any{c.PageSize, c.RangeSize, c.Timeout, c.Connections, c.WriteConnections, c.NewUserPassword, c.MarkerAttr, c.MarkerValue, c.tls.RootCAs != nil}
			want := []any{100, 100, 5 * time.Second, 2, 3, "disabled", "extensionAttribute1", "by-adshift", true}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		}},
		{name: "insecure warns", over: map[string]cty.Value{"tls": tlsBlock(ca, true)}, summaries: []string{"TLS certificate verification is disabled"}},
		{name: "plain ldap warns", over: map[string]cty.Value{"servers": cty.ListVal([]cty.Value{cty.StringVal("ldap://dc:389")})}, summaries: []string{"Unencrypted LDAP connection"}},
		{name: "bad values", over: map[string]cty.Value{
			"servers":   cty.ListVal([]cty.Value{cty.StringVal("http://dc"), cty.StringVal("ldaps://")}),
			"page_size": cty.NumberIntVal(0), "range_size": cty.NumberFloatVal(1.5), "connections": cty.NumberIntVal(1000),
			"write_connections": cty.NumberIntVal(0),
			"timeout":           cty.StringVal("soon"),
			"bind":              cty.ObjectVal(map[string]cty.Value{"username": cty.StringVal(""), "password": cty.NullVal(cty.String)}),
			"new_users":         cty.ObjectVal(map[string]cty.Value{"password": cty.StringVal("hunter2")}),
		}, summaries: []string{"Invalid server URL", "Invalid server URL", "Missing bind user name", "Missing bind password", "Invalid value", "Invalid value", "Invalid value", "Invalid value", "Invalid timeout", "Invalid new_users password mode"}},
		{name: "missing servers and bind", over: map[string]cty.Value{"servers": cty.NullVal(cty.List(cty.String)), "bind": cty.NullVal(configSchema.ImpliedType().AttributeType("bind"))},
			summaries: []string{"Missing domain controller", "Missing bind block"}},
		{name: "missing CA file", over: map[string]cty.Value{"tls": tlsBlock(filepath.Join(t.TempDir(), "none.pem"), false)}, summaries: []string{"Cannot read CA file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, diags := decodeConfig(cfgVal(tt.over))
			var got []string
			for _, d := range diags {
				got = append(got, d.Summary)
				if strings.Contains(d.Detail, "s3cret-Pw") || strings.Contains(d.Detail, "hunter2") && d.Summary != "Invalid new_users password mode" {
					t.Errorf("diagnostic leaks a secret: %s", d.Detail)
				}
				if d.Attribute == nil && d.Summary != "Missing ad provider configuration" {
					t.Errorf("diagnostic %q has no attribute path", d.Summary)
				}
			}
			if d := cmp.Diff(tt.summaries, got); d != "" {
				t.Errorf("diagnostics (-want +got):\n%s", d)
			}
			if tt.check != nil {
				if c == nil {
					t.Fatalf("no config: %v", diags.Err())
				}
				tt.check(t, c)
				if strings.Contains(c.String(), "s3cret") {
					t.Error("Config.String prints the password")
				}
			}
		})
	}
}

func TestGetSchema(t *testing.T) {
	s, err := New(nil).GetSchema(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "ad" || len(s.Kinds) != 7 || s.Kinds[6] != providers.KindTrust || s.PID != os.Getpid() {
		t.Errorf("schema %+v", s)
	}
	var sensitive []string
	for _, b := range s.Config.Blocks {
		for _, a := range b.Block.Attributes {
			if a.Sensitive {
				sensitive = append(sensitive, b.Name+"."+a.Name)
			}
		}
	}
	if d := cmp.Diff([]string{"bind.password"}, sensitive); d != "" {
		t.Errorf("sensitive attributes (-want +got):\n%s", d)
	}
	if err := New(nil).Discover(t.Context(), providers.Scope{}, nil); err == nil {
		t.Error("Discover before Configure succeeded")
	}
}

func TestKindFilter(t *testing.T) {
	f, err := KindFilter([]providers.Kind{providers.KindUser, providers.KindGroup})
	if err != nil {
		t.Fatal(err)
	}
	if want := "(|(objectClass=organizationalUnit)(sAMAccountType=805306368)(objectClass=group))"; f != want {
		t.Errorf("KindFilter = %s, want %s", f, want)
	}
	if _, err := KindFilter([]providers.Kind{"printer"}); err == nil {
		t.Error("unknown kind accepted")
	}
	for _, tt := range []struct {
		classes []string
		want    providers.Kind
	}{
		{[]string{"top", "person", "organizationalPerson", "user"}, providers.KindUser},
		{[]string{"top", "person", "organizationalPerson", "user", "computer"}, providers.KindComputer},
		{[]string{"top", "group"}, providers.KindGroup},
		{[]string{"top", "organizationalUnit"}, providers.KindOU},
		{[]string{"top", "person", "organizationalPerson", "contact"}, providers.KindContact},
		{[]string{"top", "foreignSecurityPrincipal"}, providers.KindForeignPrincipal},
		{[]string{"top", "container"}, ""},
	} {
		var raw [][]byte
		for _, c := range tt.classes {
			raw = append(raw, []byte(strings.ToUpper(c)))
		}
		if got := kindOf(raw); got != tt.want {
			t.Errorf("kindOf(%v) = %q, want %q", tt.classes, got, tt.want)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		pw, err := generatePassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != generatedPasswordLength || seen[pw] {
			t.Fatalf("password of length %d, repeated %v", len(pw), seen[pw])
		}
		seen[pw] = true
		for _, class := range []string{"ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "!#%+-=?@^_~"} {
			if !strings.ContainsAny(pw, class) {
				t.Fatalf("password lacks a character of %q", class)
			}
		}
	}
	if got := encodePassword("Aé1"); got != "\"\x00A\x00\xe9\x001\x00\"\x00" {
		t.Errorf("encodePassword = %q", got)
	}
}

// testCA returns a fresh self-signed CA certificate in PEM.
func testCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// docs/ad-provider.md is the users' reference: every attribute of the
// schema must be in it.
func TestDocsListEveryAttribute(t *testing.T) {
	doc, err := os.ReadFile("../../docs/ad-provider.md")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range configSchema.Attributes {
		names = append(names, a.Name)
	}
	for _, b := range configSchema.Blocks {
		for _, a := range b.Block.Attributes {
			names = append(names, b.Name+"."+a.Name)
		}
	}
	for _, n := range names {
		if !strings.Contains(string(doc), "`"+n+"`") {
			t.Errorf("docs/ad-provider.md does not describe %s", n)
		}
	}
}
