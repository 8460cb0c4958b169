package reacl

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
			sds := ldap("sub", "nTSecurityDescriptor")
			if len(sds) < 100 {
				t.Fatalf("only %d descriptors read", len(sds))
			}
			o := startOracleFor(t, domSID)
			dom := NewDomain(domSID)
			failures := 0
			for dn, b := range sds {
				if err := checkLabDescriptor(t, o, dom, b); err != "" {
					failures++
					t.Errorf("%s: %s", dn, err)
					if failures > 10 {
						t.FailNow()
					}
				}
			}
			t.Logf("%s: %d nTSecurityDescriptor values checked (domain %s)", dc, len(sds), domSID)
		})
	}
}

func checkLabDescriptor(t *testing.T, o *oracle, dom *Domain, b []byte) string {
	d, err := ParseBinary(b)
	if err != nil {
		return "parse: " + err.Error()
	}
	if again := mustBinary(t, d); !bytes.Equal(again, b) {
		return "re-encoding differs from the DC's bytes:\n" + hex.EncodeToString(b) + "\n" + hex.EncodeToString(again)
	}
	r := o.repack(b)
	if r.Err != "" || r.Hex != hex.EncodeToString(b) {
		return "samba repack: " + r.Err
	}
	fromSamba, err := ParseSDDL(r.SDDL, dom)
	if err != nil {
		return "parse samba SDDL: " + err.Error()
	}
	// SDDL does not carry OWNER_DEFAULTED and the like, which the DC sets.
	if !sddlComparable(fromSamba).Equal(sddlComparable(d)) {
		return "samba SDDL " + r.SDDL + " parses to another descriptor"
	}
	ours, err := d.SDDL(dom)
	if err != nil {
		return "format: " + err.Error()
	}
	if err := checkAgainstSamba(t, o, ours, mustParseSDDL(t, ours, dom)); err != nil {
		return err.Error()
	}
	// Translation algebra on a real directory's descriptors: every account
	// of the DC's domain mapped to the same RID elsewhere.
	checkTranslationProperties(t, d, mapDomain(t, d, dom.SID))
	return ""
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
