package plans

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func samplePlan() *Plan {
	return &Plan{
		FormatVersion: FormatVersion,
		Version:       "test",
		Created:       time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
		ConfigHash:    "abc",
		Lineage:       "lin",
		Serial:        3,
		Changes: []*Change{
			{ID: 1, Address: `environment.target.ou["OU=X,DC=t"]`, Environment: "target", Kind: "ou", Action: Create, DN: "OU=X,DC=t"},
			{ID: 2, DependsOn: []int64{1}, Address: `workflow.w.user["a"]`, Workflow: "w", Environment: "target", Kind: "user", Action: Create, DN: "CN=a,OU=X,DC=t",
				Attrs: []AttrDiff{{Name: "displayName", Op: "replace", After: []string{"Ä"}}}},
		},
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	want := samplePlan()
	if err := WriteFile(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got)\n%s", diff)
	}
}

func TestReadRejects(t *testing.T) {
	good := filepath.Join(t.TempDir(), "p")
	if err := WriteFile(good, samplePlan()); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(good)
	bad := samplePlan()
	bad.Changes[1].DependsOn = []int64{99}
	badPath := filepath.Join(t.TempDir(), "bad")
	if err := WriteFile(badPath, bad); err != nil {
		t.Fatal(err)
	}
	badRaw, _ := os.ReadFile(badPath)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "does not start with the plan header"},
		{"state file", []byte(`{"version":1,"lineage":"x"}`), "does not start with the plan header"},
		{"truncated", raw[:len(raw)/2], "damaged"},
		{"dangling dependency", badRaw, "depends on unknown change"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrNotPlan) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	path := filepath.Join(f.TempDir(), "p")
	if err := WriteFile(path, samplePlan()); err != nil {
		f.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	f.Add(raw)
	f.Add(buf.Bytes())
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Read(bytes.NewReader(data))
		if err == nil && p == nil {
			t.Fatal("nil plan without error")
		}
	})
}
