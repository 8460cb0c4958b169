package lab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSambaConfig_roundTrip(t *testing.T) {
	for _, c := range []SambaConfig{
		{NetBIOSName: "WS001", Workgroup: "SOURCE", Realm: "SOURCE.TEST", DC: "dc1.source.test"},
		{NetBIOSName: "WS002"},
	} {
		dir := t.TempDir()
		if err := WriteSambaConfig(dir, c); err != nil {
			t.Fatal(err)
		}
		got, err := ReadSambaConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c, got); diff != "" {
			t.Errorf("(-want +got)\n%s", diff)
		}
		for _, d := range []string{"private", "state", "cache", "lock", "pid"} {
			if fi, err := os.Stat(filepath.Join(dir, SambaDir, d)); err != nil || !fi.IsDir() {
				t.Errorf("samba/%s: %v", d, err)
			}
		}
		data, _ := os.ReadFile(SambaConfigPath(dir))
		if !strings.Contains(string(data), "name resolve order = host") || !strings.Contains(string(data), filepath.Join(dir, SambaDir, "private")) {
			t.Errorf("smb.conf lacks its own directories or host name resolution:\n%s", data)
		}
	}
}

func TestParseSambaConfig(t *testing.T) {
	tests := []struct {
		name, in string
		want     SambaConfig
	}{
		{"spacing and case", "[global]\n  NetBIOS   Name=ws9\n\tworkgroup = target\n realm =target.test\npassword server = dc1.target.test\n",
			SambaConfig{NetBIOSName: "WS9", Workgroup: "TARGET", Realm: "TARGET.TEST", DC: "dc1.target.test"}},
		{"comments", "# realm = EVIL.TEST\n; workgroup = EVIL\nrealm = A.TEST\nworkgroup = A\n", SambaConfig{Workgroup: "A", Realm: "A.TEST"}},
		{"last wins", "realm = A.TEST\nrealm = B.TEST\nworkgroup = B\n", SambaConfig{Workgroup: "B", Realm: "B.TEST"}},
		{"no realm: no domain", "workgroup = WORKGROUP\nnetbios name = X\n", SambaConfig{NetBIOSName: "X"}},
		{"empty", "", SambaConfig{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, parseSambaConfig([]byte(tt.in))); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func FuzzParseSambaConfig(f *testing.F) {
	f.Add([]byte("[global]\nrealm = SOURCE.TEST\nworkgroup = SOURCE\npassword server = dc1.source.test\n"))
	f.Add([]byte("# x = y\n;a=b\n=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := parseSambaConfig(data)
		if c.Realm == "" && c.Workgroup != "" {
			t.Errorf("workgroup %q without a realm", c.Workgroup)
		}
	})
}

func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadSecrets(dir); err == nil || !strings.Contains(err.Error(), "devices.sh") {
		t.Errorf("missing secrets: %v, want an error saying how to make the device", err)
	}
	s := &Secrets{Domains: map[string]DomainAccount{"source.test": {NetBIOS: "SOURCE", DC: "dc1.source.test", Admin: "Administrator", Password: "pw-1"}}, Users: map[string]string{"WS001-u1": "pw-2"}}
	if err := WriteSecrets(dir, s); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, SecretsFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("secrets.json mode: %v, %v; want 0600", fi.Mode(), err)
	}
	got, err := ReadSecrets(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := got.Domain("SOURCE.test"); err != nil {
		t.Error(err)
	}
	if _, err := got.Domain("target.test"); err == nil || !strings.Contains(err.Error(), "target.test") {
		t.Errorf("unknown domain: %v", err)
	}
	if pw, ok := got.UserPassword("ws001-U1"); !ok || pw != "pw-2" {
		t.Errorf("user password lookup ignoring case: %q %v", pw, ok)
	}
	os.WriteFile(filepath.Join(dir, SecretsFile), []byte(`{"users": {"a": "hunter2"`), 0o600)
	if _, err := ReadSecrets(dir); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("malformed secrets: %v; want an error without the file's content", err)
	}
}
