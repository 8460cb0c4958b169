package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenState is a small state with every field set, for the golden file.
func goldenState() *State {
	s := New()
	s.Lineage = "7d1f5c9e-3a52-4b8e-9a61-2f0e4c1b8d70"
	s.Serial = 42
	o := testObject(1)
	o.SIDHistory = []string{"S-1-5-21-7-7-7-1107"}
	s.Objects[o.Address] = o
	ou := &Object{Address: `workflow.identities.ou["Staff & <Co>"]`, Workflow: "identities", Kind: KindOU,
		Source: Identity{DN: "OU=Staff & <Co>,DC=source,DC=test"}}
	s.Objects[ou.Address] = ou
	d := testDevice(1)
	s.Devices[d.Address] = d
	return s
}

// trickyState has every optional field both set and empty and strings that
// need escaping.
func trickyState() *State {
	s := New()
	s.Lineage = "quote\" back\\ <html> & \u2028 \x00"
	s.Serial = 1<<64 - 1
	odd := []string{
		"", "plain", "tab\tnl\nret\r bs\b ff\f", "\x00\x01\x1f\x7f", "invalid \xff\xfe utf8",
		"sep \u2028 \u2029", "é ü 日本 🎉", `<script>&amp;</script>`, "half \xe6\x97",
	}
	zone := time.FixedZone("CET", 3600)
	for i, v := range odd {
		o := &Object{Address: "o" + v, Workflow: v, Kind: v, Source: Identity{DN: v}, Target: Identity{GUID: v, SID: v}}
		if i%2 == 0 {
			o.SIDHistory = []string{v, v + "x"}
			o.Created = true
			o.UpdatedAt = time.Date(2026, 1, 2, 3, 4, 5, 123456789, zone)
		} else {
			o.SIDHistory = []string{}
		}
		s.Objects[o.Address] = o
		d := &Device{Address: "d" + v, Cutover: v, Name: v, Target: Identity{DN: v}}
		if i%2 == 1 {
			d.Actions = []DeviceAction{{Name: v, Status: v, Detail: v, At: at}, {}}
			d.UpdatedAt = at
		}
		s.Devices[d.Address] = d
	}
	s.Objects["nil"] = nil
	s.Devices["nil"] = nil
	return s
}

func TestEncode_golden(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, goldenState()); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "golden.state")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("Encode (-want +got), run with -update if intended:\n%s", diff)
	}
}

// TestEncode_isPrettyJSON checks that the streaming encoder writes exactly
// what encoding/json writes for the whole State, indented, so the file is
// valid, sorted and stable.
func TestEncode_isPrettyJSON(t *testing.T) {
	for _, s := range []*State{New(), goldenState(), testState(50), trickyState()} {
		var got, want bytes.Buffer
		if err := Encode(&got, s); err != nil {
			t.Fatal(err)
		}
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.String(), got.String()); diff != "" {
			t.Errorf("Encode differs from encoding/json (-want +got):\n%s", diff)
		}
	}
}

func TestDecode_roundTrip(t *testing.T) {
	for _, s := range []*State{New(), goldenState(), testState(100)} {
		var buf bytes.Buffer
		if err := Encode(&buf, s); err != nil {
			t.Fatal(err)
		}
		got, err := Decode("test", buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(s, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
}

func TestDecode(t *testing.T) {
	const lin = `"lineage": "L"`
	tests := []struct {
		name    string
		data    string
		want    *State
		wantErr string
		is      error
	}{
		{
			name: "minimal",
			data: `{"version": 1, ` + lin + `}`,
			want: &State{Version: 1, Lineage: "L", Objects: map[string]*Object{}, Devices: map[string]*Device{}},
		},
		{
			name: "keys in any order, address filled from the key",
			data: `{"objects": {"a": {"kind": "user"}}, "serial": 3, ` + lin + `, "version": 1, "devices": {"d": {}}}`,
			want: &State{Version: 1, Lineage: "L", Serial: 3,
				Objects: map[string]*Object{"a": {Address: "a", Kind: "user"}},
				Devices: map[string]*Device{"d": {Address: "d"}}},
		},
		{
			name:    "newer version",
			data:    `{"version": 7, ` + lin + `, "objects": {"a": ["a new shape"]}}`,
			wantErr: "state file adshift.state has format version 7; this adshift understands up to 1: upgrade adshift",
			is:      ErrNewerFormat,
		},
		{name: "no version", data: `{` + lin + `}`, wantErr: "missing or invalid format version 0"},
		{name: "no lineage", data: `{"version": 1}`, wantErr: "missing lineage"},
		{name: "address differs from key", data: `{"version": 1, ` + lin + `, "objects": {"a": {"address": "b"}}}`, wantErr: `object "a" has address "b"`},
		{name: "null object", data: `{"version": 1, ` + lin + `, "objects": {"a": null}}`, wantErr: `object "a" is null`},
		{name: "null device", data: `{"version": 1, ` + lin + `, "devices": {"a": null}}`, wantErr: `device "a" is null`},
		{name: "not an object", data: `[1]`, wantErr: "line 1, column 2: the document holds a list, but must be an object"},
		{name: "truncated", data: `{"version": 1, ` + lin + `, "objects": {"a": {`, wantErr: "the file ends at line 1, column 50, in the middle of the document: it was truncated"},
		{name: "empty", data: ``, wantErr: "the file is empty"},
		{name: "wrong type", data: `{"version": "1"}`, wantErr: `line 1, column 16: field version holds a string, but must be a whole number`},
		{name: "negative serial", data: "{\"version\": 1,\n " + lin + ",\n \"serial\": -5}", wantErr: `line 3, column 14: field serial holds the number -5, but must be a whole number of 0 or more`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode("state file adshift.state", []byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Errorf("err = %v, want errors.Is %v", err, tt.is)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecode_newerVersionMessage(t *testing.T) {
	_, err := Decode("state file adshift.state", []byte(`{"version": 7, "lineage": "L"}`))
	const want = "state file adshift.state has format version 7; this adshift understands up to 1: upgrade adshift"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want exactly %q", err, want)
	}
}

// TestUpgrade exercises the upgrade chain with a made-up table, since only
// format version 1 exists so far.
func TestUpgrade(t *testing.T) {
	table := map[int]func([]byte) ([]byte, error){
		1: func(b []byte) ([]byte, error) { return append(b, "+2"...), nil },
		2: func(b []byte) ([]byte, error) { return append(b, "+3"...), nil },
		4: func([]byte) ([]byte, error) { return nil, errors.New("boom") },
	}
	tests := []struct {
		name     string
		from, to int
		want     string
		wantErr  string
	}{
		{name: "current", from: 3, to: 3, want: "v"},
		{name: "one step", from: 2, to: 3, want: "v+3"},
		{name: "chain", from: 1, to: 3, want: "v+2+3"},
		{name: "missing step", from: 3, to: 4, wantErr: "no upgrade from format version 3"},
		{name: "failing step", from: 4, to: 5, wantErr: "from format version 4: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := upgrade([]byte("v"), tt.from, tt.to, table)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if len(upgrades) != FormatVersion-1 || len(recordUpgrades) != FormatVersion-1 {
		t.Errorf("upgrades has %d functions and recordUpgrades %d, want one per old version (%d)",
			len(upgrades), len(recordUpgrades), FormatVersion-1)
	}
}

// TestDecode_fastPath checks that everything Encode writes takes the fast
// parser and that it reads exactly what encoding/json reads.
func TestDecode_fastPath(t *testing.T) {
	tricky := trickyState()
	delete(tricky.Objects, "nil")
	delete(tricky.Devices, "nil")
	for name, s := range map[string]*State{"new": New(), "golden": goldenState(), "100": testState(100), "tricky": tricky} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Encode(&buf, s); err != nil {
				t.Fatal(err)
			}
			fast, ok := fastDecode(buf.Bytes())
			if !ok {
				t.Fatal("fastDecode gave up on Encode's output")
			}
			slow, err := decodeSlow(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(slow, fast); diff != "" {
				t.Errorf("(-encoding/json +fast):\n%s", diff)
			}
		})
	}
	for _, doc := range []string{
		`{"version": 1, "lineage": "L", "objects": {"a": {"Address": "a"}}}`, // field names match case-insensitively
		`{"version": 1, "lineage": "L", "objects": {"a": {"source": {"dn": "x"}, "source": {"sid": "y"}}}}`,
		`{"version": 1, "lineage": "L", "objects": null}`,
		`{"version": 1, "lineage": "L", "serial": 1e3}`,
		`{"version": 1, "lineage": "L", "unknown": 1}`,
	} {
		if _, ok := fastDecode([]byte(doc)); ok {
			t.Errorf("fastDecode accepted %s; it must leave it to encoding/json", doc)
		}
	}
}
