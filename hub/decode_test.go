package hub

import (
	"bytes"
	"strings"
	"testing"
)

// The fuzz targets of every decoder of agent input; their kept corpora are
// in testdata/fuzz. Each must never panic, and what it accepts must be
// valid.

func FuzzDecodeEnroll(f *testing.F) {
	f.Add([]byte(`{"token":"t","hostname":"ws1","csr":"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, csr, err := decodeEnroll(bytes.NewReader(b))
		if err != nil {
			return
		}
		if csr == nil || csr.Subject.CommonName != req.Hostname || req.Validate() != nil {
			t.Fatalf("accepted an invalid enrollment: %+v", req)
		}
	})
}

func FuzzDecodeHeartbeat(f *testing.F) {
	f.Add([]byte(`{"inventory":{"os":"Windows 10","dotnet_release":528040},"leases":[{"job_id":"j","lease_id":"l"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := decodeHeartbeat(bytes.NewReader(b))
		if err == nil && h.Validate() != nil {
			t.Fatalf("accepted an invalid heartbeat: %+v", h)
		}
	})
}

func FuzzDecodeReport(f *testing.F) {
	f.Add([]byte(`{"id":"r1","job_id":"j","lease_id":"l","action":0,"kind":"result","status":"ok","output":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeReport(bytes.NewReader(b))
		if err == nil && r.Validate() != nil {
			t.Fatalf("accepted an invalid report: %+v", r)
		}
	})
}

func FuzzParseWait(f *testing.F) {
	f.Add("30s")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseWait(s)
		if err == nil && (d < 0 || d > 60e9) {
			t.Fatalf("accepted wait %v", d)
		}
	})
}

func TestDecodeEnroll_checksTheCSR(t *testing.T) {
	_, good := csr(t, "ws1")
	_, other := csr(t, "ws2")
	cases := map[string]struct {
		body string
		ok   bool
	}{
		"valid":           {`{"token":"t","hostname":"ws1","csr":` + quote(good) + `}`, true},
		"name mismatch":   {`{"token":"t","hostname":"ws1","csr":` + quote(other) + `}`, false},
		"not PEM":         {`{"token":"t","hostname":"ws1","csr":"hello"}`, false},
		"two blocks":      {`{"token":"t","hostname":"ws1","csr":` + quote(good+good) + `}`, false},
		"bad signature":   {`{"token":"t","hostname":"ws1","csr":` + quote(flipBody(good)) + `}`, false},
		"hostname spaces": {`{"token":"t","hostname":"ws 1","csr":` + quote(good) + `}`, false},
		"no token":        {`{"hostname":"ws1","csr":` + quote(good) + `}`, false},
	}
	for name, c := range cases {
		_, _, err := decodeEnroll(strings.NewReader(c.body))
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok=%v", name, err, c.ok)
		}
	}
}

func quote(s string) string {
	return `"` + strings.ReplaceAll(s, "\n", `\n`) + `"`
}

// flipBody changes one base64 character inside a PEM block's body.
func flipBody(pemText string) string {
	i := strings.Index(pemText, "\n") + 40
	c := byte('A')
	if pemText[i] == 'A' {
		c = 'B'
	}
	return pemText[:i] + string(c) + pemText[i+1:]
}

func FuzzDecodeRenew(f *testing.F) {
	f.Add([]byte(`{"csr":"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		csr, err := decodeRenew(bytes.NewReader(b), "ws1")
		if err == nil && (csr == nil || csr.Subject.CommonName != "ws1") {
			t.Fatalf("accepted a renewal for another host: %+v", csr)
		}
	})
}

func TestDecodeRenew_checksTheHostName(t *testing.T) {
	_, good := csr(t, "ws1")
	if _, err := decodeRenew(strings.NewReader(`{"csr":`+quote(good)+`}`), "ws1"); err != nil {
		t.Errorf("valid renewal: %v", err)
	}
	if _, err := decodeRenew(strings.NewReader(`{"csr":`+quote(good)+`}`), "ws2"); err == nil {
		t.Error("a CSR for ws1 renewed ws2's certificate")
	}
}
