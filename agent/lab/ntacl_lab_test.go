//go:build linux

package lab

import (
	"bytes"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/reacl"
	"golang.org/x/sys/unix"
)

// The tests in this file use Samba's own tools as the independent reader
// and writer of security.NTACL: samba-tool ntacl get/set, either straight
// on the xattr (--use-ntvfs --xattr-backend=native: version 1, no hash
// check) or through smbd's VFS (vfs_acl_xattr: version 4, trusted only
// while its hashes of the POSIX side match). samba-tool only needs a
// domain's smb.conf for the domain SID; the lab's source DC gives one.

// sambaTool runs samba-tool ntacl with the lab's smb.conf.
func sambaTool(t *testing.T, args ...string) string {
	t.Helper()
	conf := os.Getenv("ADSHIFT_LAB_SOURCE_SMBCONF")
	if conf == "" || os.Getenv("ADSHIFT_LAB") == "" {
		t.Skip("lab not described (ADSHIFT_LAB, ADSHIFT_LAB_SOURCE_SMBCONF unset): run eval \"$(lab/env.sh)\" with the lab up")
	}
	if _, err := exec.LookPath("samba-tool"); err != nil {
		t.Fatalf("ADSHIFT_LAB is set but samba-tool is missing: %v", err)
	}
	cmd := exec.CommandContext(t.Context(), "samba-tool", append(append([]string{"ntacl"}, args...), "-s", conf)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("samba-tool ntacl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// sambaGet is samba-tool ntacl get FILE --as-sddl: straight from the xattr
// (ntvfs) or through smbd's VFS.
func sambaGet(t *testing.T, path string, ntvfs bool) string {
	t.Helper()
	args := []string{"get", path, "--as-sddl"}
	if ntvfs {
		args = append(args, "--use-ntvfs", "--xattr-backend=native")
	}
	return sambaTool(t, args...)
}

// canonical parses SDDL with reacl and formats it back, so that two
// writers' SDDL compare as descriptors.
func canonical(t *testing.T, sddl string) string {
	t.Helper()
	d, err := reacl.ParseSDDL(sddl, nil)
	if err != nil {
		t.Fatalf("%s: %v", sddl, err)
	}
	s, err := d.SDDL(nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// noSACL is canonical SDDL without the SACL: samba-tool ntacl get through
// smbd does not ask for it (smbd stores SACL-present with a null SACL,
// "S:NO_ACCESS_CONTROL", and serves the rest).
func noSACL(t *testing.T, sddl string) string {
	t.Helper()
	d, err := reacl.ParseSDDL(sddl, nil)
	if err != nil {
		t.Fatalf("%s: %v", sddl, err)
	}
	d.SACL, d.Control = nil, d.Control&^reacl.SACLPresent
	s, err := d.SDDL(nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ourSDDL is the descriptor of path as this package decodes it.
func ourSDDL(t *testing.T, path string) (string, *NTACL) {
	t.Helper()
	d, n := readDescriptor(t, path)
	s, err := d.SDDL(nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, n
}

// TestLabNTACL_sambaReadsOurs: what PopulateDisk and reacl write, Samba
// reads as the same descriptors.
func TestLabNTACL_sambaReadsOurs(t *testing.T) {
	b := newDevice(t, 3)
	items := []string{DiskDir, filepath.Join(DiskDir, "d000"), filepath.Join(DiskDir, "d000", "d000"),
		filepath.Join(DiskDir, "d000", "d000", "f000000.txt"), filepath.Join(DiskDir, "d000", "d000", "f000001.txt")}
	check := func(when string) {
		for _, rel := range items {
			p := filepath.Join(b.dir, rel)
			ours, n := ourSDDL(t, p)
			if n.Version != 1 {
				t.Errorf("%s: %s is version %d, want 1 (what samba-tool --use-ntvfs writes)", when, rel, n.Version)
			}
			if got := canonical(t, sambaGet(t, p, true)); got != ours {
				t.Errorf("%s: %s\n samba reads %s\n we wrote    %s", when, rel, got, ours)
			}
		}
	}
	check("populated")
	mustRun(t, b, api.ActionReACL, reaclParams("add"))
	check("after reacl add")
	if s, _ := ourSDDL(t, filepath.Join(b.dir, items[3])); !strings.Contains(s, tgt(1102)) {
		t.Errorf("reacl add did not add the target SID: %s", s)
	}
}

// TestLabNTACL_oursReadsSamba: what samba-tool writes (version 1 straight,
// version 4 through smbd) decodes here to the descriptor Samba reads back,
// and re-encodes to the same bytes.
func TestLabNTACL_oursReadsSamba(t *testing.T) {
	dir := t.TempDir()
	sddl := "O:" + src(1101) + "G:" + src(513) + "D:AI(A;;0x1f01ff;;;" + src(1102) + ")(D;OICI;0x1301bf;;;" + src(1105) + ")(A;ID;0x1200a9;;;SY)(A;ID;0x1f01ff;;;BA)"
	for _, tc := range []struct {
		name    string
		ntvfs   bool
		version uint16
	}{{"ntvfs", true, 1}, {"smbd", false, 4}} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"set", sddl, p}
			if tc.ntvfs {
				args = append(args, "--use-ntvfs", "--xattr-backend=native")
			}
			sambaTool(t, args...)
			ours, n := ourSDDL(t, p)
			if n.Version != tc.version {
				t.Errorf("samba wrote version %d, want %d", n.Version, tc.version)
			}
			if !tc.ntvfs {
				ours = noSACL(t, ours)
			}
			if want := canonical(t, sambaGet(t, p, tc.ntvfs)); ours != want {
				t.Errorf("\n we read    %s\n samba reads %s", ours, want)
			}
			raw, _ := getNTACL(p, nil)
			if enc, err := n.Encode(); err != nil || !bytes.Equal(enc, raw) {
				t.Errorf("re-encoded %x (%v), samba wrote %x", enc, err, raw)
			}
		})
	}
}

// TestLabNTACL_smbdStillTrustsTranslated: smbd keeps a version 4 blob only
// while its hashes of the POSIX side match; reacl replaces the descriptor
// and keeps the hashes, and smbd serves the translated descriptor. The
// controls show the check is live: a changed POSIX mode, or a version 3
// hash "recomputed" over the new descriptor, makes smbd fall back to the
// descriptor it maps from POSIX permissions.
func TestLabNTACL_smbdStillTrustsTranslated(t *testing.T) {
	b := newDevice(t, 3)
	rel := filepath.Join(DiskDir, "d000", "d000", "f000000.txt")
	p := filepath.Join(b.dir, rel)
	sddl := "O:" + src(1101) + "G:" + src(513) + "D:AI(A;;0x1f01ff;;;" + src(1102) + ")(A;ID;0x1301bf;;;" + src(1103) + ")(A;ID;0x1f01ff;;;SY)"
	sambaTool(t, "set", sddl, p)
	if got := sambaGet(t, p, false); canonical(t, got) != canonical(t, sddl) {
		t.Fatalf("smbd does not serve what it stored: %s", got)
	}
	// A version 3 twin of the same file, from smbd's own hash (version 4
	// keeps it too: the hash of the POSIX-mapped descriptor).
	p3 := filepath.Join(b.dir, DiskDir, "d000", "d000", "f000001.txt")
	raw, _ := getNTACL(p, nil)
	n4, err := DecodeNTACL(raw)
	if err != nil {
		t.Fatal(err)
	}
	v3 := v3From(t, n4)
	copyPOSIX(t, p, p3)
	if err := setNTACL(p3, v3); err != nil {
		t.Fatal(err)
	}
	if got := sambaGet(t, p3, false); canonical(t, got) != canonical(t, sddl) {
		t.Fatalf("smbd does not trust the version 3 twin: %s", got)
	}

	mustRun(t, b, api.ActionReACL, reaclParams("replace"))
	for _, f := range []string{p, p3} {
		ours, _ := ourSDDL(t, f)
		if !strings.Contains(ours, tgt(1102)) || strings.Contains(ours, src(1102)) {
			t.Fatalf("%s not translated: %s", f, ours)
		}
		if got := canonical(t, sambaGet(t, f, false)); got != noSACL(t, ours) {
			t.Errorf("%s: smbd serves %s, want the translated %s (hash no longer trusted?)", f, got, ours)
		}
	}

	// Control 1: the hash recomputed over the new descriptor is refused.
	raw3, _ := getNTACL(p3, nil)
	n3, _ := DecodeNTACL(raw3)
	bad := bytes.Clone(raw3)
	sum := sha256.Sum256(n3.SD)
	copy(bad[14:], append(sum[:], make([]byte, 32)...))
	setNTACL(p3, bad)
	if got, ours := canonical(t, sambaGet(t, p3, false)), canonical(t, sambaGet(t, p3, true)); got == ours {
		t.Errorf("smbd trusted a version 3 hash of the stored descriptor; the hash check is not what this test assumes")
	}
	// Control 2: a POSIX change behind smbd's back.
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, ours := canonical(t, sambaGet(t, p, false)), canonical(t, sambaGet(t, p, true)); got == ours {
		t.Errorf("smbd still trusted the blob after chmod; the hash check is not live")
	}
}

// v3From builds a version 3 value from a version 4 one: its hash type and
// hash, and its descriptor.
func v3From(t *testing.T, n4 *NTACL) []byte {
	t.Helper()
	if n4.Version != 4 {
		t.Fatalf("version %d, want 4", n4.Version)
	}
	head := []byte{3, 0, 3, 0, 0, 0, 2, 0, 4, 0, 2, 0}
	head = append(head, n4.head[12:12+2+64]...) // hash_type, hash
	head = append(head, 0, 0)                   // align to 4
	enc, err := (&NTACL{Version: 3, SD: n4.SD, head: head}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeNTACL(enc); err != nil {
		t.Fatal(err)
	}
	return enc
}

// copyPOSIX gives dst src's owner, mode and POSIX ACL, so that smbd maps
// both to the same descriptor.
func copyPOSIX(t *testing.T, src, dst string) {
	t.Helper()
	fi, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sh", "-c", `chown --reference="$1" "$2" && chmod --reference="$1" "$2"`, "sh", src, dst).CombinedOutput()
	if err != nil {
		t.Fatalf("copy owner and mode: %v\n%s", err, out)
	}
	for _, name := range []string{"system.posix_acl_access"} {
		v, err := lgetxattrRaw(src, name)
		if err != nil {
			continue
		}
		if err := lsetxattrRaw(dst, name, v); err != nil {
			t.Fatal(err)
		}
	}
	_ = fi
}

func lgetxattrRaw(path, name string) ([]byte, error) {
	size, err := unix.Lgetxattr(path, name, nil)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, size)
	n, err := unix.Lgetxattr(path, name, buf)
	return buf[:n], err
}

func lsetxattrRaw(path, name string, v []byte) error { return unix.Lsetxattr(path, name, v, 0) }
