package odj

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/adid"
)

// sambaFile is a blob Samba 4.17's `net offlinejoin provision` wrote for
// computer ODJSAMBA1 against the lab's target DC (the account was deleted
// afterwards, so its password opens nothing).
const sambaFile = "testdata/samba-4.17.odj"

var (
	labDomainSID  = adid.MustSID("S-1-5-21-181584758-3173678258-3350063720")
	labDomainGUID = mustGUID("6eb894d8-bddb-49b2-8c39-f6c3b804f1c0")
)

// sambaWin7 is what the Samba blob holds, field by field, except the
// password (checked apart: it is random).
func sambaWin7(pw Secret) *Win7Blob {
	return &Win7Blob{
		Domain:          "target.test",
		MachineName:     "ODJSAMBA1",
		MachinePassword: pw,
		Reserved:        0xffffffff,
		DNSDomain: DNSDomainInfo{
			NetBIOSName: "TARGET", DNSName: "target.test", ForestName: "target.test",
			GUID: labDomainGUID, SID: labDomainSID,
		},
		DC: DCInfo{
			UNC: `\\dc1.target.test`, Address: `\\127.0.0.3`, AddressType: AddressTypeInet,
			DomainGUID: labDomainGUID, DomainName: "target.test", ForestName: "target.test",
			Flags:      0xe00013fd,
			DCSiteName: "Default-First-Site-Name", ClientSiteName: "Default-First-Site-Name",
		},
		Options: 6,
	}
}

func readSamba(t *testing.T) (file, ndr []byte, p *ProvisionData) {
	t.Helper()
	file, err := os.ReadFile(sambaFile)
	if err != nil {
		t.Fatal(err)
	}
	ndr, err = DecodeFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p, err = Decode(ndr)
	if err != nil {
		t.Fatalf("decode %s: %v", sambaFile, err)
	}
	return file, ndr, p
}

func TestDecode_samba(t *testing.T) {
	file, ndr, p := readSamba(t)
	w7, err := p.Win7()
	if err != nil {
		t.Fatal(err)
	}
	if w7.MachinePassword.Len() != 120 {
		t.Errorf("password of %d units, Samba makes 120", w7.MachinePassword.Len())
	}
	want := &ProvisionData{Blobs: []Blob{
		{Format: FormatWin7, Win7: sambaWin7(w7.MachinePassword)},
		{Format: FormatWin8, Package: &Package{Parts: []Part{
			{Type: PartJoinProvider, Flags: PartEssential, Win7: sambaWin7(w7.MachinePassword)},
			{Type: PartJoinProvider3, JoinProv3: &JoinProv3{RID: 4203, SID: labDomainSID.String() + "-4203"}},
		}}},
	}}
	if d := cmp.Diff(want, p); d != "" {
		t.Errorf("decoded (-want +got):\n%s", d)
	}
	enc, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, ndr) {
		t.Errorf("re-encoding differs from Samba's %d bytes (%d bytes)", len(ndr), len(enc))
	}
	f, err := p.File()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f, file) {
		t.Errorf("file form differs from Samba's file")
	}
}

// New given the facts of the Samba blob writes Samba's bytes exactly.
func TestNew_sambaBytes(t *testing.T) {
	_, ndr, p := readSamba(t)
	w7, _ := p.Win7()
	got, err := New(Join{
		MachineName: "ODJSAMBA1", Password: w7.MachinePassword, RID: 4203,
		Domain: w7.DNSDomain, DC: w7.DC,
	})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := got.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, ndr) {
		t.Fatalf("New's %d bytes differ from Samba's %d", len(enc), len(ndr))
	}
}

func testJoin(t testing.TB, name string) Join {
	pw, err := RandomPassword(120)
	if err != nil {
		t.Fatal(err)
	}
	w := sambaWin7(pw)
	return Join{MachineName: name, Password: pw, RID: 1105, Domain: w.DNSDomain, DC: w.DC}
}

var emptyCertPart = serialized([]byte{0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})

// variants are provision data that exercise the optional and carried
// pieces: odd text, null strings, unknown formats, parts and extensions,
// an encrypted package.
func variants(t testing.TB) map[string]*ProvisionData {
	out := map[string]*ProvisionData{}
	for name, mod := range map[string]func(j *Join){
		"plain":   func(*Join) {},
		"unicode": func(j *Join) { j.MachineName = "WS-Ünïcødé-😀"; j.Domain.NetBIOSName = "ZIEL-Ø" },
		"no sites": func(j *Join) {
			j.DC.DCSiteName, j.DC.ClientSiteName = "", ""
		},
		"rid 0": func(j *Join) { j.RID = 0 },
	} {
		p, err := New(func() Join { j := testJoin(t, "WS0001"); mod(&j); return j }())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = p
	}
	p, _ := New(testJoin(t, "WS0002"))
	pkg := p.Blobs[1].Package
	pkg.Parts = append(pkg.Parts,
		// An empty OP_CERT_PART: pointer, no PFX or SST stores, no extension.
		Part{Type: PartCertProvider, Flags: PartEssential, Data: emptyCertPart, Extension: []byte{9, 8, 7}},
		Part{Type: mustGUID("01234567-89ab-cdef-0123-456789abcdef"), Data: serialized([]byte("some provider's data"))},
		Part{Type: PartPolicyProvider},
	)
	pkg.CollectionExtension = []byte{}
	pkg.Extension = []byte{0xaa}
	pkg.EncryptionContext = []byte{}
	p.Blobs = append(p.Blobs, Blob{Format: 7, Raw: serialized([]byte("carried intact"))})
	out["unknown parts"] = p
	out["encrypted"] = &ProvisionData{Blobs: []Blob{{Format: FormatWin8, Package: &Package{
		EncryptionType: mustGUID("11111111-2222-3333-4444-555555555555"), EncryptionContext: []byte{1},
		Wrapped: bytes.Repeat([]byte{0x5a}, 37), DecryptedSize: 4096,
	}}}}
	out["empty"] = &ProvisionData{}
	return out
}

func TestRoundTrip(t *testing.T) {
	for name, p := range variants(t) {
		t.Run(name, func(t *testing.T) {
			enc, err := p.Encode()
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(enc)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(p, got); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
			f, err := got.File()
			if err != nil {
				t.Fatal(err)
			}
			again, err := ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			enc2, _ := again.Encode()
			if !bytes.Equal(enc, enc2) {
				t.Fatal("encoding is not a fixed point")
			}
		})
	}
}

func TestUnknownPartsCarriedIntact(t *testing.T) {
	p := variants(t)["unknown parts"]
	enc, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range [][]byte{serialized([]byte("carried intact")), serialized([]byte("some provider's data")), emptyCertPart} {
		if !bytes.Contains(enc, want) {
			t.Errorf("encoding lacks % x", want)
		}
	}
}

// corrupt returns a copy of the Samba NDR with 4 bytes at off replaced.
func corrupt(ndr []byte, off int, v uint32) []byte {
	b := append([]byte{}, ndr...)
	binary.LittleEndian.PutUint32(b[off:], v)
	return b
}

func TestDecode_malformed(t *testing.T) {
	_, ndr, _ := readSamba(t)
	// Offsets in the Samba blob (see ndrdump's dump of it): the outer
	// header's size at 0x8, ulcBlobs at 0x18, the array count at 0x20, the
	// first cbBlob at 0x28, the first blob's conformance at 0x3c, the
	// domain string's counts at 0xc0, the domain SID's count at 0x264.
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "serialization header"},
		{"big-endian", append([]byte{1, 0}, ndr[2:]...), "only little-endian"},
		{"version 2", append([]byte{2}, ndr[1:]...), "serialization version 2"},
		{"size beyond the end", corrupt(ndr, 8, 0xfffffff0), "content bytes"},
		{"trailing bytes", append(append([]byte{}, ndr...), make([]byte, 8)...), "content bytes"},
		{"huge blob count", corrupt(corrupt(ndr, 0x18, 0x40000000), 0x20, 0x40000000), "elements of at least"},
		{"counts disagree", corrupt(ndr, 0x20, 3), "count field says 2"},
		{"blob size disagrees", corrupt(ndr, 0x28, 857), "size field says 857"},
		{"null blob", corrupt(ndr, 0x2c, 0), "null pointer"},
		{"huge string", corrupt(corrupt(ndr, 0xc0, 0x7fffffff), 0xc8, 0x7fffffff), "UTF-16 units announced"},
		{"string offset", corrupt(ndr, 0xc4, 1), "not those of a terminated string"},
		{"SID count", corrupt(ndr, 0x264, 5), "sub-authorities"},
		{"SID count huge", corrupt(ndr, 0x264, 0xffffffff), "sub-authorities"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.in)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrMalformed mentioning %q", err, tc.want)
			}
		})
	}
	// Every truncation, and every 4-byte field set to 0xffffffff, fails
	// cleanly or decodes to something that re-encodes.
	for n := 0; n < len(ndr); n++ {
		if _, err := Decode(ndr[:n]); err == nil {
			t.Fatalf("truncation to %d bytes decoded", n)
		}
	}
	for off := 0; off+4 <= len(ndr); off += 4 {
		if p, err := Decode(corrupt(ndr, off, 0xffffffff)); err == nil {
			if _, err := p.Encode(); err != nil {
				t.Fatalf("field at %#x: decoded but does not encode: %v", off, err)
			}
		}
	}
}

func TestEncode_errors(t *testing.T) {
	cases := map[string]func(p *ProvisionData){
		"zero in name":      func(p *ProvisionData) { p.Blobs[0].Win7.MachineName = "WS\x000" },
		"invalid UTF-8":     func(p *ProvisionData) { p.Blobs[0].Win7.Domain = "\xff" },
		"long LSA string":   func(p *ProvisionData) { p.Blobs[0].Win7.DNSDomain.DNSName = strings.Repeat("a", 40000) },
		"format mismatch":   func(p *ProvisionData) { p.Blobs[0].Format = FormatWin8 },
		"part mismatch":     func(p *ProvisionData) { p.Blobs[1].Package.Parts[0].Type = PartJoinProvider3 },
		"known part raw":    func(p *ProvisionData) { p.Blobs[1].Package.Parts[1] = Part{Type: PartJoinProvider3, Data: []byte{1}} },
		"zero in password":  func(p *ProvisionData) { p.Blobs[0].Win7.MachinePassword = SecretFromUnits([]uint16{'a', 0}) },
		"wrapped and parts": func(p *ProvisionData) { p.Blobs[1].Package.Wrapped = []byte{1} },
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := New(testJoin(t, "WS0001"))
			if err != nil {
				t.Fatal(err)
			}
			// Separate the blobs so a change to one does not show in the other.
			w := *p.Blobs[0].Win7
			p.Blobs[0].Win7 = &w
			mod(p)
			if _, err := p.Encode(); err == nil {
				t.Fatal("encoded")
			}
		})
	}
}

func TestNew_missing(t *testing.T) {
	_, err := New(Join{MachineName: "WS1$"})
	if err == nil || !strings.Contains(err.Error(), "missing NetBIOS domain name, DNS domain name, forest name, DC name, machine password, domain SID") {
		t.Fatalf("got %v", err)
	}
	j := testJoin(t, "WS1$")
	if _, err := New(j); err == nil || !strings.Contains(err.Error(), "without the trailing $") {
		t.Fatalf("got %v", err)
	}
}

func TestWin7_none(t *testing.T) {
	p := variants(t)["encrypted"]
	if _, err := p.Win7(); !errors.Is(err, ErrNoWin7Blob) {
		t.Fatalf("got %v", err)
	}
	if p.JoinProv3() != nil {
		t.Fatal("JoinProv3 in an encrypted package")
	}
}
