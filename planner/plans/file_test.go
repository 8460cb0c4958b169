package plans

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testKey = bytes.Repeat([]byte{7}, 32)

func keyFor(lineage string) ([]byte, error) {
	if lineage != "lin" {
		return nil, errors.New("no key for " + lineage)
	}
	return testKey, nil
}

func samplePlan() *Plan {
	return &Plan{
		FormatVersion: FormatVersion,
		Version:       "test",
		Created:       time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
		ConfigHash:    "abc",
		Lineage:       "lin",
		Serial:        3,
		Providers:     map[string]string{"ldif": "0.1.0"},
		Changes: []*Change{
			{ID: 1, Address: `environment.target.ou["OU=X,DC=t"]`, Environment: "target", Kind: "ou", Action: Create, DN: "OU=X,DC=t"},
			{ID: 2, DependsOn: []int64{1}, Address: `workflow.w.user["a"]`, Workflow: "w", Environment: "target", Kind: "user", Action: Create, DN: "CN=a,OU=X,DC=t",
				Attrs: []AttrDiff{{Name: "displayName", Op: "replace", After: []string{"Ä"}}}},
		},
	}
}

func readBytes(data []byte) (*Plan, error) {
	return Read(bytes.NewReader(data), int64(len(data)), keyFor)
}

func writeBytes(t testing.TB, p *Plan) []byte {
	path := filepath.Join(t.TempDir(), "p")
	if err := WriteFile(path, p, testKey); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	want := samplePlan()
	if err := WriteFile(path, want, testKey); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path, keyFor)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got)\n%s", diff)
	}
}

// recompress rewrites the gzip member of a plan file after edit changed
// its JSON, keeping the header and the old trailer: what someone without
// the key can do.
func recompress(t *testing.T, raw []byte, edit func(string) string) []byte {
	t.Helper()
	hdrEnd := len(magic) + bytes.IndexByte(raw[len(magic):], '\n') + 1
	zr, err := gzip.NewReader(bytes.NewReader(raw[hdrEnd : len(raw)-trailerLen]))
	if err != nil {
		t.Fatal(err)
	}
	js, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	edited := edit(string(js))
	if edited == string(js) {
		t.Fatal("the edit changed nothing")
	}
	var out bytes.Buffer
	out.Write(raw[:hdrEnd])
	zw := gzip.NewWriter(&out)
	zw.Write([]byte(edited))
	zw.Close()
	out.Write(raw[len(raw)-trailerLen:])
	return out.Bytes()
}

func TestReadRefusesAlteredFiles(t *testing.T) {
	raw := writeBytes(t, samplePlan())
	flip := func(i int) []byte {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		return b
	}
	gzipEnd := len(raw) - trailerLen
	injected := recompress(t, raw, func(js string) string {
		return strings.Replace(js, `"action":"create","dn":"CN=a,OU=X,DC=t"`, `"action":"delete","dn":"CN=Administrator,CN=Users,DC=t"`, 1)
	})
	otherLineage := bytes.Replace(raw, []byte("lineage lin\n"), []byte("lineage lix\n"), 1)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"gzip trailer byte flipped", flip(gzipEnd - 3), "does not match its authentication code"},
		{"gzip length byte flipped", flip(gzipEnd - 1), "does not match its authentication code"},
		{"inner byte flipped", flip(len(raw) / 2), "does not match its authentication code"},
		{"header lineage edited", flip(len(magic) + len(lineagePrefix) + 1), "no key for"},
		{"mac flipped", flip(len(raw) - 5), "does not match its authentication code"},
		{"recompressed with an injected delete", injected, "does not match its authentication code"},
		{"truncated", raw[:len(raw)/2], "authentication code"},
		{"trailer cut", raw[:len(raw)-1], "authentication code is missing"},
		{"appended", append(bytes.Clone(raw), "x\n"...), "authentication code is missing"},
		{"lineage with no key", otherLineage, "no key for lix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readBytes(tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			if strings.Contains(tt.want, "authentication code") && !errors.Is(err, ErrPlanAltered) {
				t.Fatalf("%v is not ErrPlanAltered", err)
			}
		})
	}
	if _, err := readBytes(raw); err != nil {
		t.Fatalf("the untouched plan: %v", err)
	}
}

// TestReadRefusesEveryFlip flips each byte of a small plan in turn: none
// may be read.
func TestReadRefusesEveryFlip(t *testing.T) {
	raw := writeBytes(t, samplePlan())
	for i := range raw {
		b := bytes.Clone(raw)
		b[i] ^= 0x20
		if p, err := readBytes(b); err == nil {
			t.Fatalf("byte %d flipped: read %+v", i, p)
		}
	}
}

func TestReadRejects(t *testing.T) {
	bad := samplePlan()
	bad.Changes[1].DependsOn = []int64{99}
	badRaw := writeBytes(t, bad)
	v1 := append([]byte(magic), 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "does not start with the plan header"},
		{"state file", []byte(`{"version":1,"lineage":"x"}`), "does not start with the plan header"},
		{"format 1", v1, "older adshift"},
		{"dangling dependency", badRaw, "depends on unknown change"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readBytes(tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrNotPlan) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestWriteRefusesNoKey(t *testing.T) {
	if err := WriteFile(filepath.Join(t.TempDir(), "p"), samplePlan(), nil); err == nil {
		t.Fatal("a plan was written without a key")
	}
}

func FuzzRead(f *testing.F) {
	raw := writeBytes(f, samplePlan())
	f.Add(raw)
	f.Add([]byte(magic))
	f.Add([]byte(magic + "lineage lin\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := readBytes(data)
		if err == nil && p == nil {
			t.Fatal("nil plan without error")
		}
		if err == nil && !bytes.Equal(data, raw) {
			t.Fatalf("an altered plan was read")
		}
	})
}
