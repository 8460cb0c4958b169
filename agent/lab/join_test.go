package lab

import (
	"strings"
	"testing"

	"github.com/adshift/adshift/hub/api"
)

func TestCheckAccount(t *testing.T) {
	tests := []struct {
		dn, device, err string
	}{
		{"CN=WS001,CN=Computers,DC=source,DC=test", "WS001", ""},
		{"cn=ws001,OU=x,DC=t", "WS001", ""},
		{"", "WS001", ""},
		{"CN=WS002,CN=Computers,DC=source,DC=test", "WS001", "not this device's account"},
		{"not a dn", "WS001", "not a DN"},
	}
	for _, tt := range tests {
		a := api.Action{Name: api.ActionCutover, Params: map[string]string{api.ParamSourceAccount: tt.dn}}
		err := checkAccount(a, api.ParamSourceAccount, tt.device)
		if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("checkAccount(%q, %s): %v, want %q", tt.dn, tt.device, err, tt.err)
		}
	}
}

func TestParamsDigest(t *testing.T) {
	a := api.Action{Name: "x", Params: map[string]string{"a": "1", "b": "2"}}
	b := api.Action{Name: "x", Params: map[string]string{"b": "2", "a": "1"}}
	c := api.Action{Name: "x", Params: map[string]string{"a": "1", "b": "2\n"}}
	d := api.Action{Name: "x", Params: map[string]string{"a": "1=\"b\"", "": ""}}
	if paramsDigest(a) != paramsDigest(b) {
		t.Error("digest depends on map order")
	}
	if paramsDigest(a) == paramsDigest(c) || paramsDigest(a) == paramsDigest(d) {
		t.Error("different parameters, same digest")
	}
}

func TestJournalSteps(t *testing.T) {
	b := New(t.TempDir())
	a := api.Action{Name: api.ActionCutover, Params: map[string]string{"target_domain": "target.test"}}
	r, err := b.startRun(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.mark("leave_source"); err != nil {
		t.Fatal(err)
	}
	r, err = b.startRun(a)
	if err != nil {
		t.Fatal(err)
	}
	if !r.done("leave_source") || r.done("switch") {
		t.Errorf("resumed run's steps %v, want leave_source only", r.entry.Steps)
	}
	a.Params["target_domain"] = "other.test"
	if r, err = b.startRun(a); err != nil {
		t.Fatal(err)
	}
	if r.done("leave_source") {
		t.Error("a run with other parameters kept the old steps")
	}
}

func TestRun_missingParams(t *testing.T) {
	b := New(t.TempDir())
	if err := WriteSambaConfig(b.Dir(), SambaConfig{NetBIOSName: "WS001", Workgroup: "SOURCE", Realm: "SOURCE.TEST", DC: "dc1.source.test"}); err != nil {
		t.Fatal(err)
	}
	target := map[string]string{api.ParamTargetDomain: "target.test", api.ParamTargetDC: "dc1.target.test", api.ParamTargetNetBIOS: "TARGET"}
	for notice, want := range map[string]string{"-1": "notice_seconds", "99999999999999": "notice_seconds", "5": "secrets.json"} {
		target[api.ParamNoticeSeconds] = notice
		if _, err := b.Run(t.Context(), api.Action{Name: api.ActionCutover, Params: target}, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("cutover with notice %s: %v, want %q", notice, err, want)
		}
	}
	for _, tt := range []struct{ action, want string }{
		{api.ActionCutover, `"target_domain" is missing`},
		{api.ActionOfflineDomainJoin, `"blob" is missing`},
		{api.ActionCacheCredentials, `"source_dc" is missing`},
		{api.ActionRollback, "does not know its source domain"},
	} {
		_, err := b.Run(t.Context(), api.Action{Name: tt.action}, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s without parameters: %v, want %q", tt.action, err, tt.want)
		}
	}
}

func TestDomainConfig_validates(t *testing.T) {
	base := map[string]string{api.ParamTargetDomain: "target.test", api.ParamTargetDC: "dc1.target.test", api.ParamTargetNetBIOS: "target"}
	c, err := domainConfig(api.Action{Name: "cutover", Params: base}, "WS001", api.ParamTargetDomain, api.ParamTargetDC, api.ParamTargetNetBIOS)
	if err != nil || c != (SambaConfig{NetBIOSName: "WS001", Workgroup: "TARGET", Realm: "TARGET.TEST", DC: "dc1.target.test"}) {
		t.Fatalf("domainConfig: %+v, %v", c, err)
	}
	for key, bad := range map[string]string{
		api.ParamTargetDomain:  "target.test\ninclude = /etc/passwd",
		api.ParamTargetDC:      "--option=client min protocol=NT1",
		api.ParamTargetNetBIOS: "TARGET\n\tinclude = x",
	} {
		p := map[string]string{}
		for k, v := range base {
			p[k] = v
		}
		p[key] = bad
		if _, err := domainConfig(api.Action{Name: "cutover", Params: p}, "WS001", api.ParamTargetDomain, api.ParamTargetDC, api.ParamTargetNetBIOS); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s = %q: %v, want refused", key, bad, err)
		}
	}
	for _, h := range []string{"", "a..b", "-a.b", "a_b.test", strings.Repeat("a", 64) + ".test"} {
		if validHost(h) {
			t.Errorf("validHost(%q) = true", h)
		}
	}
}
