package reacl

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestLabNTSecurityDescriptors reads every nTSecurityDescriptor (with SACL)
// from the lab's Samba domain controllers and checks each against this
// package and against Samba's own code. The lab is described by the
// variables lab/env.sh prints; the test skips when they are absent.
func TestLabNTSecurityDescriptors(t *testing.T) {
	for _, dc := range []string{"SOURCE", "TARGET"} {
		t.Run(strings.ToLower(dc), func(t *testing.T) {
			url := os.Getenv("ADSHIFT_LAB_" + dc + "_URL")
			if url == "" || os.Getenv("ADSHIFT_LAB_PASSWORD") == "" {
				t.Skipf("lab not described (run eval \"$(lab/env.sh)\" with the lab up); ADSHIFT_LAB_%s_URL unset", dc)
			}
			if _, err := exec.LookPath("ldapsearch"); err != nil {
				t.Skip("ldapsearch not installed (apt-get install ldap-utils)")
			}
			base := os.Getenv("ADSHIFT_LAB_" + dc + "_BASE")
			ldap := func(scope, attr string) map[string][]byte {
				pw := filepath.Join(t.TempDir(), "pw")
				if err := os.WriteFile(pw, []byte(os.Getenv("ADSHIFT_LAB_PASSWORD")), 0o600); err != nil {
					t.Fatal(err)
				}
				cmd := exec.CommandContext(t.Context(), "ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-o", "nettimeout=10",
					"-H", url, "-x", "-D", os.Getenv("ADSHIFT_LAB_"+dc+"_ADMIN"), "-y", pw, "-b", base, "-s", scope,
					// LDAP_SERVER_SD_FLAGS_OID, value SEQUENCE { INTEGER 7 }: owner, group, DACL and SACL.
					"-E", "!1.2.840.113556.1.4.801=::MAMCAQc=", "-E", "pr=500/noprompt", "(objectClass=*)", attr)
				cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+os.Getenv("ADSHIFT_LAB_"+dc+"_CA"))
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("ldapsearch %s: %v", url, err)
				}
				return parseLDIFAttr(t, out, attr)
			}
			sids := ldap("base", "objectSid")
			var domSID SID
			for _, b := range sids {
				if err := domSID.UnmarshalBinary(b); err != nil {
					t.Fatal(err)
				}
			}
			if domSID.IsZero() {
				t.Fatal("no domain objectSid")
			}
			start := time.Now()
			sds := ldap("sub", "nTSecurityDescriptor")
			t.Logf("read %d descriptors in %v", len(sds), time.Since(start).Round(time.Millisecond))
			if len(sds) < 100 {
				t.Fatalf("only %d descriptors read", len(sds))
			}
			o := startOracleFor(t, domSID)
			dom := NewDomain(domSID)
			// Thousands of seeded users share a handful of descriptors:
			// check each distinct value once, under its first DN.
			all := make([]string, 0, len(sds))
			for dn := range sds {
				all = append(all, dn)
			}
			sort.Strings(all)
			seen := make(map[string]bool, len(all))
			var dns []string
			for _, dn := range all {
				if !seen[string(sds[dn])] {
					seen[string(sds[dn])] = true
					dns = append(dns, dn)
				}
			}
			reqs := make([]map[string]string, len(dns))
			for i, dn := range dns {
				reqs[i] = map[string]string{"op": "bin", "hex": hex.EncodeToString(sds[dn])}
			}
			start = time.Now()
			repacked := o.batch(reqs)
			t.Logf("samba re-packed them in %v", time.Since(start).Round(time.Millisecond))
			start = time.Now()
			var cases []sambaCase
			var caseDN []string
			failures := 0
			fail := func(dn, msg string) {
				failures++
				t.Errorf("%s: %s", dn, msg)
				if failures > 10 {
					t.FailNow()
				}
			}
			for i, dn := range dns {
				d, ours, msg := checkLabDescriptor(t, dom, sds[dn], repacked[i])
				if msg != "" {
					fail(dn, msg)
					continue
				}
				cases = append(cases, sambaCase{ours, mustParseSDDL(t, ours, dom)})
				caseDN = append(caseDN, dn)
				// Translation algebra on a real directory's descriptors: every
				// account of the DC's domain mapped to the same RID elsewhere.
				checkTranslationProperties(t, d, mapDomain(t, d, domSID))
			}
			t.Logf("checked and translated them in %v", time.Since(start).Round(time.Millisecond))
			start = time.Now()
			for i, err := range checkBatchAgainstSamba(t, o, cases) {
				if err != nil {
					fail(caseDN[i], err.Error())
				}
			}
			t.Logf("compared our SDDL with samba in %v", time.Since(start).Round(time.Millisecond))
			t.Logf("%s: %d nTSecurityDescriptor values read, %d distinct checked (domain %s)", dc, len(sds), len(dns), domSID)
		})
	}
}

// checkLabDescriptor checks one value read from a DC (b) and Samba's
// re-packing of it (r); it returns the descriptor and our SDDL for it, or
// a description of the first mismatch.
func checkLabDescriptor(t *testing.T, dom *Domain, b []byte, r oracleResp) (*Descriptor, string, string) {
	d, err := ParseBinary(b)
	if err != nil {
		return nil, "", "parse: " + err.Error()
	}
	if again := mustBinary(t, d); !bytes.Equal(again, b) {
		return nil, "", "re-encoding differs from the DC's bytes:\n" + hex.EncodeToString(b) + "\n" + hex.EncodeToString(again)
	}
	if r.Err != "" || r.Hex != hex.EncodeToString(b) {
		return nil, "", "samba repack: " + r.Err
	}
	fromSamba, err := ParseSDDL(r.SDDL, dom)
	if err != nil {
		return nil, "", "parse samba SDDL: " + err.Error()
	}
	// SDDL does not carry OWNER_DEFAULTED and the like, which the DC sets.
	if !sddlComparable(fromSamba).Equal(sddlComparable(d)) {
		return nil, "", "samba SDDL " + r.SDDL + " parses to another descriptor"
	}
	ours, err := d.SDDL(dom)
	if err != nil {
		return nil, "", "format: " + err.Error()
	}
	return d, ours, ""
}

func mustParseSDDL(t *testing.T, s string, dom *Domain) *Descriptor {
	t.Helper()
	d, err := ParseSDDL(s, dom)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return d
}

// parseLDIFAttr returns attr's base64 values by DN from unwrapped LDIF.
func parseLDIFAttr(t *testing.T, ldif []byte, attr string) map[string][]byte {
	out := map[string][]byte{}
	dn := ""
	sc := bufio.NewScanner(bytes.NewReader(ldif))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	prefix := strings.ToLower(attr) + ":: "
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "dn: "):
			dn = line[4:]
		case strings.HasPrefix(line, "dn:: "):
			b, _ := base64.StdEncoding.DecodeString(line[5:])
			dn = string(b)
		case strings.HasPrefix(strings.ToLower(line), prefix):
			b, err := base64.StdEncoding.DecodeString(line[len(prefix):])
			if err != nil {
				t.Fatalf("%s: %v", dn, err)
			}
			out[dn] = b
		}
	}
	return out
}
