package ui

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/adshift/adshift/odj"
	"github.com/adshift/adshift/providers"
)

// sambaBlob is the blob Samba 4.17 wrote that package odj's tests use.
func sambaBlob(t *testing.T) *odj.ProvisionData {
	t.Helper()
	raw, err := os.ReadFile("../odj/testdata/samba-4.17.odj")
	if err != nil {
		t.Fatal(err)
	}
	p, err := odj.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	// Extra parts, so every kind of line shows.
	pk := p.Blobs[1].Package
	pk.Parts = append(pk.Parts, odj.Part{Type: odj.PartCertProvider, Flags: 3, Data: []byte{1, 2, 3}, Extension: []byte{}})
	pk.Extension = []byte{9}
	p.Blobs = append(p.Blobs, odj.Blob{Format: 9, Raw: []byte{1}})
	return p
}

func TestODJInspect(t *testing.T) {
	p := sambaBlob(t)
	var out bytes.Buffer
	v := &View{Out: &out}
	v.ODJInspect("samba.odj", p)
	golden(t, "odj.txt", out.Bytes())

	var doc bytes.Buffer
	if err := ODJDocument(&doc, "samba.odj", p); err != nil {
		t.Fatal(err)
	}
	golden(t, "odj.json", doc.Bytes())
	var m map[string]any
	if err := json.Unmarshal(doc.Bytes(), &m); err != nil {
		t.Fatal(err)
	}

	w7, _ := p.Win7()
	pw := string(utf16.Decode(w7.MachinePassword.Units()))
	for name, s := range map[string]string{"text": out.String(), "json": doc.String()} {
		if strings.Contains(s, pw) || strings.Contains(s, string(w7.MachinePassword.UTF16LE())) {
			t.Errorf("the %s output shows the password", name)
		}
	}
}

func TestODJProvisioned(t *testing.T) {
	r := providers.OfflineJoinResult{DN: "CN=WS1,OU=W,DC=t", GUID: "850d947e-38c9-4da7-b255-913a5ca8ff57",
		SID: "S-1-5-21-1-2-3-1105", Created: true, Path: "repo/WS1.odj", DC: "dc1.t"}
	var out bytes.Buffer
	v := &View{Out: &out}
	v.ODJProvisioned("WS1", r)
	r.Created = false
	v.ODJProvisioned("WS1", r)
	j := NewJSON(&out)
	j.now = func() time.Time { return time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC) }
	j.ODJProvisioned("WS1", r)
	golden(t, "odj_provisioned.txt", out.Bytes())

	var line bytes.Buffer
	j = NewJSON(&line)
	j.ODJProvisioned("WS1", r)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(line.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := compileSchema(t, "json-lines.schema.json").Validate(doc); err != nil {
		t.Errorf("odj_provisioned line against the published schema: %v", err)
	}
}
