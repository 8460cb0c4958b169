package lab

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/internal/sambapy"
	"github.com/adshift/adshift/reacl"
)

// ntaclOracle is a running testdata/ntacl_oracle.py: Samba's own NDR
// codec for xattr_NTACL.
type ntaclOracle struct {
	t   *testing.T
	in  *bufio.Writer
	out *bufio.Scanner
}

func newNTACLOracle(t *testing.T) *ntaclOracle {
	py := sambapy.Python(t, "samba.dcerpc.xattr")
	cmd := exec.CommandContext(t.Context(), py, "testdata/ntacl_oracle.py")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil && t.Context().Err() == nil {
			t.Errorf("ntacl oracle: %v\n%s", err, stderr.String())
		}
	})
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return &ntaclOracle{t: t, in: bufio.NewWriter(stdin), out: sc}
}

type oracleAnswer struct {
	Blob    string `json:"blob"`
	Version int    `json:"version"`
	SD      string `json:"sd"`
	Err     string `json:"err"`
}

func (o *ntaclOracle) ask(req map[string]any) oracleAnswer {
	o.t.Helper()
	data, _ := json.Marshal(req)
	o.in.Write(append(data, '\n'))
	if err := o.in.Flush(); err != nil {
		o.t.Fatal(err)
	}
	if !o.out.Scan() {
		o.t.Fatalf("ntacl oracle stopped: %v", o.out.Err())
	}
	var a oracleAnswer
	if err := json.Unmarshal(o.out.Bytes(), &a); err != nil {
		o.t.Fatal(err)
	}
	return a
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// randomSDDL makes a file-system descriptor: domain owner and group, a
// DACL of allow and deny ACEs with inheritance flags, sometimes a SACL.
func randomSDDL(r *rand.Rand) string {
	sid := func() string {
		switch r.IntN(4) {
		case 0:
			return []string{"SY", "BA", "WD", "BU", "CO", "AU"}[r.IntN(6)]
		default:
			return fmt.Sprintf("S-1-5-21-%d-%d-%d-%d", r.Uint32(), r.Uint32(), r.Uint32(), 500+r.IntN(5000))
		}
	}
	ace := func(types []string) string {
		flags := []string{"", "OICI", "OICIID", "ID", "CIIO", "OI"}[r.IntN(6)]
		mask := []string{"FA", "0x1301bf", "0x1200a9", "FR", "FW", "FX", "SD"}[r.IntN(7)]
		return fmt.Sprintf("(%s;%s;%s;;;%s)", types[r.IntN(len(types))], flags, mask, sid())
	}
	var sb strings.Builder
	if r.IntN(8) != 0 {
		sb.WriteString("O:" + sid())
	}
	if r.IntN(8) != 0 {
		sb.WriteString("G:" + sid())
	}
	sb.WriteString("D:" + []string{"", "P", "AI", "PAI"}[r.IntN(4)])
	for range r.IntN(9) {
		sb.WriteString(ace([]string{"A", "D"}))
	}
	if r.IntN(4) == 0 {
		sb.WriteString("S:")
		for range 1 + r.IntN(3) {
			sb.WriteString(ace([]string{"AU"}))
		}
	}
	return sb.String()
}

func sdBinary(t testing.TB, sddl string) []byte {
	t.Helper()
	d, err := reacl.ParseSDDL(sddl, nil)
	if err != nil {
		t.Fatalf("%s: %v", sddl, err)
	}
	b, err := d.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNTACL_samba compares the codec with Samba's NDR in both directions,
// for every version: what Samba packs decodes to the descriptor Samba
// packs alone and re-encodes to the same bytes; what we encode Samba
// unpacks to our descriptor.
func TestNTACL_samba(t *testing.T) {
	o := newNTACLOracle(t)
	r := rand.New(rand.NewPCG(13, 2026))
	descs := []string{"", "a", "ab", "abc", "abcd", "posix_acl", "ünïcødé"}
	for i := range 400 {
		sddl := randomSDDL(r)
		sd := sdBinary(t, sddl)
		version := 1 + i%4
		req := map[string]any{"op": "pack", "sd": hex.EncodeToString(sd), "version": version,
			"desc": descs[r.IntN(len(descs))], "time": r.Int64(),
			"hash": fmt.Sprintf("%064x", r.Uint64()), "sys": fmt.Sprintf("%032x", r.Uint64())}
		a := o.ask(req)
		if a.Err != "" {
			t.Fatalf("%s: samba pack: %s", sddl, a.Err)
		}
		blob := unhex(t, a.Blob)
		n, err := DecodeNTACL(blob)
		if err != nil {
			t.Fatalf("%s v%d: decode samba's %x: %v", sddl, version, blob, err)
		}
		if int(n.Version) != version || !bytes.Equal(n.SD, sd) {
			t.Fatalf("%s v%d: decoded v%d sd %x, want %x", sddl, version, n.Version, n.SD, sd)
		}
		if enc, err := n.Encode(); err != nil || !bytes.Equal(enc, blob) {
			t.Fatalf("%s v%d: re-encoded %x (%v), want samba's %x", sddl, version, enc, err, blob)
		}
		// Ours to Samba: a new item (version 1), and this one with another
		// descriptor in its version (hash fields kept).
		other := sdBinary(t, randomSDDL(r))
		for _, m := range []*NTACL{NewNTACL(sd), n.WithSD(other)} {
			enc, err := m.Encode()
			if err != nil {
				t.Fatal(err)
			}
			a := o.ask(map[string]any{"op": "unpack", "blob": hex.EncodeToString(enc)})
			if a.Err != "" || a.Version != int(m.Version) || a.SD != hex.EncodeToString(m.SD) {
				t.Fatalf("samba unpacks our v%d %x as v%d %s (%s), want %x", m.Version, enc, a.Version, a.SD, a.Err, m.SD)
			}
		}
		if version == 1 {
			if enc, _ := NewNTACL(sd).Encode(); !bytes.Equal(enc, blob) {
				t.Fatalf("NewNTACL: %x, samba packs %x", enc, blob)
			}
		}
	}
}

func TestDecodeNTACL_invalid(t *testing.T) {
	sd := sdBinary(t, "O:BAG:SYD:(A;;FA;;;WD)")
	v1, _ := NewNTACL(sd).Encode()
	set := func(b []byte, at int, v ...byte) []byte {
		c := bytes.Clone(b)
		copy(c[at:], v)
		return c
	}
	for _, tc := range []struct {
		name string
		blob []byte
		want string
	}{
		{"empty", nil, "too short for a header"},
		{"unknown version", set(v1, 0, 5, 0, 5, 0), "unknown version 5"},
		{"version 0", set(v1, 0, 0, 0, 0, 0), "unknown version 0"},
		{"level mismatch", set(v1, 2, 2), "version 1 but union level 2"},
		{"null descriptor", set(v1, 4, 0, 0, 0, 0), "null pointer"},
		{"short descriptor", v1[:20], "need at least 20"},
		{"owner before descriptor", set(v1, 12, 4, 0, 0, 0), "owner offset 4 outside"},
		{"dacl past end", set(v1, 24, 0xff, 0, 0, 0), "DACL offset 255 outside"},
		{"v4 no nul", append([]byte{4, 0, 4, 0, 0, 0, 2, 0, 4, 0, 2, 0, 1, 0}, bytes.Repeat([]byte{'x'}, 100)...), "inside the description"},
		{"v3 short hash", []byte{3, 0, 3, 0, 0, 0, 2, 0, 4, 0, 2, 0, 1, 0, 1, 2}, "inside the hash"},
		{"v3 padding", append(append([]byte{3, 0, 3, 0, 0, 0, 2, 0, 4, 0, 2, 0, 1, 0}, make([]byte, 64)...), 1, 0), "non-zero padding"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeNTACL(tc.blob)
			if err == nil || !errors.Is(err, ErrInvalidNTACL) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrInvalidNTACL with %q", err, tc.want)
			}
		})
	}
}

func TestNTACLEncode_zeroValue(t *testing.T) {
	sd := sdBinary(t, "O:BAG:SYD:(A;;FA;;;WD)")
	want, _ := NewNTACL(sd).Encode()
	if got, err := (&NTACL{Version: 1, SD: sd}).Encode(); err != nil || !bytes.Equal(got, want) {
		t.Errorf("version 1 literal: %x (%v), want %x", got, err, want)
	}
	if _, err := (&NTACL{Version: 4, SD: sd}).Encode(); err == nil || !strings.Contains(err.Error(), "without its hash fields") {
		t.Errorf("version 4 literal: %v", err)
	}
	if _, err := NewNTACL(sd[:10]).Encode(); err == nil {
		t.Error("a 10-byte descriptor encoded")
	}
}

// FuzzDecodeNTACL checks that decoding never panics and that whatever
// decodes encodes back to the same bytes.
func FuzzDecodeNTACL(f *testing.F) {
	sd := sdBinary(f, "O:BAG:SYD:PAI(A;OICI;FA;;;WD)(D;;FA;;;S-1-5-21-1-2-3-1104)S:(AU;SA;FA;;;WD)")
	v1, _ := NewNTACL(sd).Encode()
	f.Add(v1)
	f.Add([]byte{})
	hdr := []byte{4, 0, 4, 0, 0, 0, 2, 0, 4, 0, 2, 0, 1, 0}
	v4 := append(append(append(bytes.Clone(hdr), make([]byte, 64)...), "posix_acl\x00\x00\x00"...), make([]byte, 72)...)
	n4, err := DecodeNTACL(append(bytes.Clone(v4), make([]byte, 20)...))
	if err == nil {
		if b, err := n4.WithSD(sd).Encode(); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := DecodeNTACL(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidNTACL) {
				t.Fatalf("error %v is not ErrInvalidNTACL", err)
			}
			return
		}
		enc, err := n.Encode()
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("re-encoded %x (%v), want %x", enc, err, b)
		}
		_, _ = reacl.ParseBinary(n.SD) // the engine gets these bytes; it must not panic either
	})
}

// TestNTACL_sambaReadsDevice reads every item of a lab device with
// Samba's NDR (os.getxattr and ndr_unpack, what samba-tool ntacl get
// --use-ntvfs does) after PopulateDisk and after each reacl mode, and
// compares with what this package decodes.
func TestNTACL_sambaReadsDevice(t *testing.T) {
	o := newNTACLOracle(t)
	b := newDevice(t, 300)
	check := func(when string) {
		items, err := b.diskItems()
		if err != nil {
			t.Fatal(err)
		}
		for _, rel := range items {
			p := filepath.Join(b.dir, rel)
			_, n := readDescriptor(t, p)
			a := o.ask(map[string]any{"op": "read", "path": p})
			if a.Err != "" || a.Version != int(n.Version) || a.SD != hex.EncodeToString(n.SD) {
				t.Fatalf("%s: %s: samba reads v%d %s (%s), we read v%d %x", when, rel, a.Version, a.SD, a.Err, n.Version, n.SD)
			}
		}
	}
	check("populated")
	for _, mode := range []string{"add", "replace", "remove"} {
		mustRun(t, b, api.ActionReACL, reaclParams(mode))
		check("after reacl " + mode)
	}
	mustRun(t, b, api.ActionReACLRollback, nil)
	check("after rollback")
}
