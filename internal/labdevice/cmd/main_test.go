package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/agent/lab"
)

func TestDeviceNames(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"ws001/samba", "ws002", "notes", ".adshift-agent.d/samba"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "ws001", lab.SambaDir, "smb.conf"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "ws002", lab.SecretsFile), nil, 0o600)
	os.WriteFile(filepath.Join(dir, ".adshift-agent.d", lab.SambaDir, "smb.conf"), nil, 0o644)
	got, err := deviceNames(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ws001", "ws002"}, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if got, err := deviceNames(filepath.Join(dir, "missing")); err != nil || got != nil {
		t.Errorf("missing directory: %v, %v", got, err)
	}
}

func TestRun_needsLabEnvironment(t *testing.T) {
	for _, k := range []string{"ADSHIFT_LAB_SOURCE_DOMAIN", "ADSHIFT_LAB_SOURCE_URL", "ADSHIFT_LAB_PASSWORD"} {
		t.Setenv(k, "")
	}
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"2", t.TempDir()}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "lab/env.sh") {
		t.Errorf("run without the lab's environment: exit %d, %q", code, errb.String())
	}
}
