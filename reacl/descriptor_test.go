package reacl

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSDDLErrors(t *testing.T) {
	for _, s := range []string{
		"X:", "O:", "O:ZZ", "O:BAO:BA", "D:(A;;FA;;;WD", "D:(A;;FA;;WD)", "D:(Q;;FA;;;WD)", "D:(A;XX;FA;;;WD)",
		"D:(A;;ZZ;;;WD)", "D:(A;;0x1ffffffff;;;WD)", "D:(A;;08;;;WD)", "D:(A;;FA;bad;;WD)",
		"D:(A;;FA;bf967a7f-0de6-11d0-a285-00aa003049e2;;WD)", "D:NO_ACCESS_CONTROL(A;;FA;;;WD)", "D:Q",
		"D:(A;;FA;;;WD)x", "D:(A;;FA;;;WD;(x))", "D:(A;;FA;;;DA)", "O:S-1-5-",
	} {
		if _, err := ParseSDDL(s, nil); !errors.Is(err, ErrInvalidSDDL) {
			t.Errorf("%q: err = %v, want ErrInvalidSDDL", s, err)
		}
	}
}

func TestSDDLCanonicalForm(t *testing.T) {
	tests := []struct{ in, want string }{
		{"G:SYO:BA", "O:BAG:SY"},
		{"S:(AU;SA;FA;;;WD)D:AIP", "D:PAIS:(AU;SA;FA;;;WD)"},
		{"D:(A;CIOI;0x1F01FF;;;WD)", "D:(A;OICI;FA;;;WD)"},
		{"D:(A;;0x001200a9;;;BU)", "D:(A;;0x1200a9;;;BU)"},
		{"D:(A;;RPWP;;;WD)", "D:(A;;RPWP;;;WD)"},
		{"D:(A;;WPRP;;;WD)", "D:(A;;RPWP;;;WD)"},
		{"D:(A;;0x30;;;WD)", "D:(A;;RPWP;;;WD)"},
		{"D:(A;;0;;;WD)", "D:(A;;;;;WD)"},
		{"D:(A;;0777;;;WD)", "D:(A;;RPWPCCDCLCSWLODTCR;;;WD)"},
		{"D:(A;;0377;;;WD)", "D:(A;;RPWPCCDCLCSWLODT;;;WD)"},
		{"D:(A;;511;;;WD)", "D:(A;;RPWPCCDCLCSWLODTCR;;;WD)"},
		{"D:(A;;KA;;;WD)(A;;KX;;;WD)(A;;KW;;;WD)", "D:(A;;KA;;;WD)(A;;KR;;;WD)(A;;KW;;;WD)"},
		{"S:(ML;;NWNR;;;HI)", "S:(ML;;NRNW;;;HI)"},
		{"D:(OA;;CR;AB721A53-1E2F-11D0-9819-00AA0040529B;;WD)", "D:(OA;;CR;ab721a53-1e2f-11d0-9819-00aa0040529b;;WD)"},
		{"D:PNO_ACCESS_CONTROL", "D:PNO_ACCESS_CONTROL"},
		{"O:s-1-5-32-544", "O:BA"},
		{"D:(A;CR;FA;;;WD)", "D:(A;CR;FA;;;WD)"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			d, err := ParseSDDL(tc.in, testDomain)
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.SDDL(testDomain)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSDDLNullAndEmptyDACL(t *testing.T) {
	null, err := ParseSDDL("D:NO_ACCESS_CONTROL", nil)
	if err != nil {
		t.Fatal(err)
	}
	empty, err := ParseSDDL("D:", nil)
	if err != nil {
		t.Fatal(err)
	}
	if null.DACL != nil || null.Control&DACLPresent == 0 {
		t.Errorf("NULL DACL: %+v", null)
	}
	if empty.DACL == nil || len(empty.DACL.ACEs) != 0 {
		t.Errorf("empty DACL: %+v", empty)
	}
	// In binary a NULL DACL is DACLPresent with offset 0.
	b := mustBinary(t, null)
	if binary.LittleEndian.Uint32(b[16:]) != 0 || Control(binary.LittleEndian.Uint16(b[2:]))&DACLPresent == 0 {
		t.Errorf("NULL DACL binary %x", b)
	}
}

// hostile builds a descriptor header with a DACL at offset 20 and the given
// ACL bytes.
func hostile(acl string) []byte {
	h, _ := hex.DecodeString("0100048000000000000000000000000014000000" + acl)
	return h
}

func TestParseBinaryHostile(t *testing.T) {
	tests := map[string][]byte{
		"empty":                nil,
		"short header":         []byte{1, 0, 4, 0x80},
		"not self-relative":    hostile("02000800000000000")[:20],
		"owner offset beyond":  append([]byte{1, 0, 0, 0x80, 0xff, 0xff, 0xff, 0x7f}, make([]byte, 12)...),
		"offset inside header": append([]byte{1, 0, 0, 0x80, 4, 0, 0, 0}, make([]byte, 12)...),
		"ACL count 65535":      hostile("02000800ffff0000"),
		"ACL size beyond":      hostile("0200ffff00000000"),
		"ACL size under 8":     hostile("0200040000000000"),
		"ACE size 0":           hostile("020010000100000000000000" + "00000000"),
		"ACE size beyond ACL":  hostile("02001000010000000000ff00" + "00000000"),
		"ACE without SID":      hostile("020010000100000000000800" + "ff011f00"),
		"ACE SID count 15":     hostile("020018000100000000001000" + "ff011f00" + "010f000000000005"),
		"object ACE short":     hostile("040010000100000005000800" + "ff011f00"),
		"object GUID short":    hostile("04001c000100000005001400" + "ff011f00" + "01000000" + "0000000000000000"),
	}
	tests["not self-relative"] = []byte{1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			allocs := testing.AllocsPerRun(10, func() {
				if _, err := ParseBinary(b); !errors.Is(err, ErrInvalidDescriptor) {
					t.Fatalf("err = %v, want ErrInvalidDescriptor", err)
				}
			})
			if allocs > 20 && !raceEnabled {
				t.Errorf("%v allocations for %d bytes of hostile input", allocs, len(b))
			}
		})
	}
}

// TestParseBinaryCountBound: the ACE slice is bounded by the bytes present,
// not by the count field.
func TestParseBinaryCountBound(t *testing.T) {
	// 65535 ACEs claimed, room for 3 minimal ones.
	b := hostile("02001400ffff0000" + strings.Repeat("0a000400", 3))
	if _, err := ParseBinary(b); err == nil {
		t.Fatal("accepted")
	}
	// Unknown ACE types of 4 bytes are legal: 3 of them parse.
	b = hostile("020014000300000" + "0" + strings.Repeat("20000400", 3))
	d, err := ParseBinary(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.DACL.ACEs) != 3 || d.DACL.ACEs[0].Type != 0x20 {
		t.Fatalf("%+v", d.DACL)
	}
	if _, err := d.SDDL(nil); !errors.Is(err, ErrNotRepresentable) {
		t.Errorf("unknown ACE type formatted: %v", err)
	}
	if again := mustBinary(t, d); hex.EncodeToString(again) != hex.EncodeToString(b) {
		t.Errorf("unknown ACEs not carried intact:\n%x\n%x", b, again)
	}
}

func TestEncodeLimits(t *testing.T) {
	acl := &ACL{Revision: 2}
	for range 4000 {
		acl.ACEs = append(acl.ACEs, ACE{Type: AccessAllowed, Mask: 1, SID: SIDEveryone})
	}
	d := &Descriptor{Revision: 1, Control: SelfRelative | DACLPresent, DACL: acl}
	if _, err := d.MarshalBinary(); !errors.Is(err, ErrInvalidDescriptor) {
		t.Errorf("ACL of 80000 bytes: err = %v", err)
	}
}
