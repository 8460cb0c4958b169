package odj

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// ndrdump is Samba's independent NDR decoder (Debian: samba-testsuite). It
// prints every field of a blob, the machine password redacted, and warns
// about bytes it did not read.
func ndrdump(t *testing.T, ndr []byte) string {
	t.Helper()
	bin, err := exec.LookPath("ndrdump")
	if err != nil {
		t.Skip("ndrdump not installed (Debian: apt-get install samba-testsuite); Samba cross-check skipped")
	}
	f := filepath.Join(t.TempDir(), "blob.ndr")
	if err := os.WriteFile(f, ndr, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "ODJ", "ODJ_PROVISION_DATA_serialized_ptr", "struct", f).CombinedOutput()
	if err != nil {
		t.Fatalf("ndrdump: %v\n%s", err, out)
	}
	s := string(out)
	if !strings.Contains(s, "pull returned Success") || !strings.Contains(s, "dump OK") {
		t.Fatalf("ndrdump did not parse the blob:\n%s", s)
	}
	if m := regexp.MustCompile(`WARNING! \d+ unread bytes`).FindString(s); m != "" {
		t.Fatalf("ndrdump: %s\n%s", m, s)
	}
	return s
}

// field finds "name : value" lines of ndrdump's output.
func fields(out, name string) []string {
	re := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(name) + `\s+: (.*)$`)
	var vals []string
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		vals = append(vals, strings.TrimSpace(m[1]))
	}
	return vals
}

// TestNdrdump_parsesOurBlobs: Samba's decoder reads every variant adshift
// writes with nothing left over, and reads back the values we wrote.
func TestNdrdump_parsesOurBlobs(t *testing.T) {
	for name, p := range variants(t) {
		t.Run(name, func(t *testing.T) {
			if name == "encrypted" {
				t.Skip("Samba's ODJ IDL always reads the part collection in clear; an encrypted package is adshift's own round trip only")
			}
			enc, err := p.Encode()
			if err != nil {
				t.Fatal(err)
			}
			out := ndrdump(t, enc)
			if got := fields(out, "ulcBlobs"); len(got) != 1 || !strings.HasSuffix(got[0], "("+strconv.Itoa(len(p.Blobs))+")") {
				t.Errorf("ulcBlobs = %v, want %d", got, len(p.Blobs))
			}
			w7, err := p.Win7()
			if err != nil {
				return
			}
			// The Win7 blob appears twice (as a blob and as a package part).
			for _, c := range []struct{ field, want string }{
				{"lpMachineName", "'" + w7.MachineName + "'"},
				{"lpDomain", "'" + w7.Domain + "'"},
				{"Sid", w7.DNSDomain.SID.String()},
				{"DomainGuid", w7.DNSDomain.GUID.String()},
				{"dc_unc", "'" + w7.DC.UNC + "'"},
				{"dc_address", "'" + w7.DC.Address + "'"},
				{"lpMachinePassword", "<REDACTED SECRET VALUE>"},
			} {
				got := fields(out, c.field)
				n := 0
				for _, v := range got {
					if v == c.want {
						n++
					}
				}
				if n != 2 {
					t.Errorf("%s: ndrdump shows %q, want %q twice", c.field, got, c.want)
				}
			}
			if j := p.JoinProv3(); j != nil {
				if got := fields(out, "lpSid"); !contains(got, "'"+j.SID+"'") {
					t.Errorf("lpSid: %q, want %q", got, j.SID)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
