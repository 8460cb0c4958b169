package reacl

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"runtime"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/adid"
)

// Token builders that follow MS-DTYP 2.4.4.17 directly, to check the
// compiler against the spec rather than against itself.
func tUTF16(tok byte, s string) []byte {
	u := utf16.Encode([]rune(s))
	b := binary.LittleEndian.AppendUint32([]byte{tok}, uint32(2*len(u)))
	for _, v := range u {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	return b
}

func tInt(v int64, sign, base byte) []byte {
	return append(binary.LittleEndian.AppendUint64([]byte{0x04}, uint64(v)), sign, base)
}

func tSID(s string) []byte {
	b, _ := adid.MustSID(s).MarshalBinary()
	return append(binary.LittleEndian.AppendUint32([]byte{0x51}, uint32(len(b))), b...)
}

func tComposite(parts ...[]byte) []byte {
	var inner []byte
	for _, p := range parts {
		inner = append(inner, p...)
	}
	return append(binary.LittleEndian.AppendUint32([]byte{0x50}, uint32(len(inner))), inner...)
}

func artx(parts ...[]byte) []byte {
	b := []byte("artx")
	for _, p := range parts {
		b = append(b, p...)
	}
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func TestConditionCompile(t *testing.T) {
	tests := []struct {
		name string
		sddl string // the seventh ACE field
		want []byte
		// canonical is how we format it back ("" means sddl itself).
		canonical string
	}{
		{
			name: "string equality",
			sddl: `(@User.Title == "PM")`,
			want: artx(tUTF16(0xf9, "Title"), tUTF16(0x10, "PM"), []byte{0x80}),
		},
		{
			name:      "and/or precedence and case-insensitive prefixes",
			sddl:      `(@User.Title=="PM" && (@User.Division=="Finance" || @device.Managed == 1))`,
			want:      artx(tUTF16(0xf9, "Title"), tUTF16(0x10, "PM"), []byte{0x80}, tUTF16(0xf9, "Division"), tUTF16(0x10, "Finance"), []byte{0x80}, tUTF16(0xfb, "Managed"), tInt(1, 3, 2), []byte{0x80, 0xa1, 0xa0}),
			canonical: `((@User.Title == "PM") && ((@User.Division == "Finance") || (@Device.Managed == 1)))`,
		},
		{
			name:      "or binds looser than and",
			sddl:      `(a || b && c)`,
			want:      artx(tUTF16(0xf8, "a"), tUTF16(0xf8, "b"), tUTF16(0xf8, "c"), []byte{0xa0, 0xa1}),
			canonical: `(a || (b && c))`,
		},
		{
			name:      "member of a SID list",
			sddl:      `(Member_of {SID(BA), SID(S-1-5-21-1-2-3-1104)})`,
			want:      artx(tComposite(tSID("S-1-5-32-544"), tSID("S-1-5-21-1-2-3-1104")), []byte{0x89}),
			canonical: `(Member_of {SID(S-1-5-32-544), SID(S-1-5-21-1-2-3-1104)})`,
		},
		{
			name: "device member of any, single SID",
			sddl: `(Device_Member_of_Any SID(S-1-5-21-1-2-3-515))`,
			want: artx(tSID("S-1-5-21-1-2-3-515"), []byte{0x8c}),
		},
		{
			name:      "not exists and negation",
			sddl:      `(!(Not_Exists @Resource.Project))`,
			want:      artx(tUTF16(0xfa, "Project"), []byte{0x8d, 0xa2}),
			canonical: `(!(Not_Exists @Resource.Project))`,
		},
		{
			name: "integers keep sign and base",
			sddl: `((@User.clearance >= +0x10) && (@User.x < -010) && (@User.y != 0))`,
			want: artx(tUTF16(0xf9, "clearance"), tInt(16, 1, 3), []byte{0x85}, tUTF16(0xf9, "x"), tInt(-8, 2, 1), []byte{0x82, 0xa0},
				tUTF16(0xf9, "y"), tInt(0, 3, 2), []byte{0x81, 0xa0}),
			canonical: `((@User.clearance >= +0x10) && (@User.x < -010) && (@User.y != 0))`,
		},
		{
			name: "contains, any_of, octets and attribute escapes",
			sddl: `((@Resource.Tags Contains {"a", "b"}) && (@User.blob Any_of {#00ff, #}) && (@User.a%002db <= @Device.c))`,
			want: artx(tUTF16(0xfa, "Tags"), tComposite(tUTF16(0x10, "a"), tUTF16(0x10, "b")), []byte{0x86},
				tUTF16(0xf9, "blob"), tComposite([]byte{0x18, 2, 0, 0, 0, 0, 0xff}, []byte{0x18, 0, 0, 0, 0}), []byte{0x88, 0xa0},
				tUTF16(0xf9, "a-b"), tUTF16(0xfb, "c"), []byte{0x83, 0xa0}),
			canonical: `((@Resource.Tags Contains {"a", "b"}) && (@User.blob Any_of {#00ff, #}) && (@User.a%002db <= @Device.c))`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ace := "D:(XA;;FA;;;WD;" + tc.sddl + ")"
			d, err := ParseSDDL(ace, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := d.DACL.ACEs[0].Data
			if diff := cmp.Diff(hex.EncodeToString(tc.want), hex.EncodeToString(got)); diff != "" {
				t.Errorf("binary (-want +got):\n%s", diff)
			}
			s, err := d.SDDL(nil)
			if err != nil {
				t.Fatal(err)
			}
			canonical := tc.canonical
			if canonical == "" {
				canonical = tc.sddl
			}
			if diff := cmp.Diff("D:(XA;;FA;;;WD;"+canonical+")", s); diff != "" {
				t.Errorf("formatted (-want +got):\n%s", diff)
			}
			// The binary survives our own encoding intact.
			b := mustBinary(t, d)
			back, err := ParseBinary(b)
			if err != nil {
				t.Fatal(err)
			}
			if !back.Equal(d) {
				t.Error("binary round trip changed the descriptor")
			}
		})
	}
}

func TestConditionErrors(t *testing.T) {
	for _, s := range []string{
		`(@User.Title == )`, `(== "x")`, `(@User.Title == "PM"`, `(@Foo.x == 1)`, `(Member_of)`,
		`(@User.x == 99999999999999999999)`, `(@User.x == #abc)`, `()`, `(@User.x Member_of SID(BA))`,
	} {
		if _, err := ParseSDDL("D:(XA;;FA;;;WD;"+s+")", nil); !errors.Is(err, ErrInvalidSDDL) {
			t.Errorf("%s: err = %v, want ErrInvalidSDDL", s, err)
		}
	}
}

// TestConditionNotRepresentable: binary expressions SDDL cannot say are
// carried intact in binary but refused by the formatter.
func TestConditionNotRepresentable(t *testing.T) {
	for name, data := range map[string][]byte{
		"int32 token":      artx(tUTF16(0xf9, "x"), append([]byte{0x03}, tInt(1, 3, 2)[1:]...), []byte{0x80}),
		"literal on left":  artx(tInt(1, 3, 2), tUTF16(0xf9, "x"), []byte{0x80}),
		"two values left":  artx(tUTF16(0xf9, "x"), tUTF16(0xf9, "y")),
		"extra padding":    append(artx(tUTF16(0xf8, "x")), 0, 0, 0, 0),
		"not artx":         []byte("xxxx\x01\x02\x03\x04"),
		"truncated length": []byte("artx\xf9\xff\xff\xff\xff"),
	} {
		t.Run(name, func(t *testing.T) {
			d := &Descriptor{Revision: 1, Control: SelfRelative | DACLPresent, DACL: &ACL{Revision: 2, ACEs: []ACE{
				{Type: AccessAllowedCallback, Mask: 0x1f01ff, SID: SIDEveryone, Data: data}}}}
			if _, err := d.SDDL(nil); !errors.Is(err, ErrNotRepresentable) {
				t.Errorf("err = %v, want ErrNotRepresentable", err)
			}
			back, err := ParseBinary(mustBinary(t, d))
			if err != nil || !back.Equal(d) {
				t.Errorf("binary round trip: %v", err)
			}
		})
	}
}

func TestTranslateConditionSIDs(t *testing.T) {
	m := testMap(t)
	in := sddlVars.Replace("D:(XA;;FA;;;$S1107;(Member_of_Any {SID($S1188), SID(BA), SID($S2001)}))")
	d, err := ParseSDDL(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, rep, err := Translate(d, m, Options{Mode: ModeAdd})
	if err != nil {
		t.Fatal(err)
	}
	s, err := got.SDDL(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := sddlVars.Replace("D:(XA;;FA;;;$S1107;(Member_of_Any {SID($S1188), SID(S-1-5-32-544), SID($S2001)}))" +
		"(XA;;FA;;;$T1107;(Member_of_Any {SID($T1188), SID(S-1-5-32-544), SID($S2001)}))")
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if len(rep.Unmapped) != 1 || rep.Unmapped[0] != adid.MustSID(srcDom+"-2001") {
		t.Errorf("unmapped = %v", rep.Unmapped)
	}
	// Remove then finds the twin, condition included.
	got2, rep2, err := Translate(got, m, Options{Mode: ModeRemove})
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Removed != 1 || len(got2.DACL.ACEs) != 1 {
		t.Errorf("remove: %+v", rep2)
	}
}

func TestResourceAttributeClaims(t *testing.T) {
	tests := []struct{ in, want string }{
		{`S:(RA;CI;;;;WD;("Project",TS,0x0,"Windows","SQL"))`, ""},
		{`S:(RA;;;;;WD;("Secrecy",TU,0x0,3))`, ""},
		{`S:(RA;;;;;WD;( "Level" , TI , 0x10 , -5 , 7 ))`, `S:(RA;;;;;WD;("Level",TI,0x10,-5,7))`},
		{`S:(RA;;;;;WD;("Owners",TD,0x0,BA,S-1-5-21-1-2-3-1104))`, `S:(RA;;;;;WD;("Owners",TD,0x0,S-1-5-32-544,S-1-5-21-1-2-3-1104))`},
		{`S:(RA;;;;;WD;("Blob",TX,0x0,#00ff10))`, ""},
		{`S:(RA;;;;;WD;("Flag",TB,0x0,1,0))`, ""},
		{`S:(RA;;;;;WD;("Empty",TS,0x0))`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			d, err := ParseSDDL(tc.in, nil)
			if err != nil {
				t.Fatal(err)
			}
			data := d.SACL.ACEs[0].Data
			if len(data)%4 != 0 || binary.LittleEndian.Uint32(data) < 16 {
				t.Errorf("claim layout: %x", data)
			}
			s, err := d.SDDL(nil)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want == "" {
				want = tc.in
			}
			if diff := cmp.Diff(want, s); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// The header says what MS-DTYP 2.4.10.1 says it says.
	d, err := ParseSDDL(`S:(RA;;;;;WD;("Secrecy",TU,0x3,3))`, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := d.SACL.ACEs[0].Data
	hdr := []uint32{binary.LittleEndian.Uint32(data[0:]), uint32(binary.LittleEndian.Uint16(data[4:])),
		binary.LittleEndian.Uint32(data[8:]), binary.LittleEndian.Uint32(data[12:])}
	if diff := cmp.Diff([]uint32{20, claimUint64, 3, 1}, hdr); diff != "" {
		t.Errorf("header name-offset/type/flags/count (-want +got):\n%s", diff)
	}
	valOff := binary.LittleEndian.Uint32(data[16:])
	if valOff%8 != 0 || binary.LittleEndian.Uint64(data[valOff:]) != 3 {
		t.Errorf("value at %d: %x", valOff, data)
	}
	for _, bad := range []string{`S:(RA;;;;;WD;("x",TQ,0x0,1))`, `S:(RA;;;;;WD;("x",TB,0x0,2))`, `S:(RA;;;;;WD)`,
		`S:(RA;;;;;WD;("x",TI,0x0,"s"))`, `S:(RA;;;;;WD;("x",TU,0x100000000,1))`} {
		if _, err := ParseSDDL(bad, nil); !errors.Is(err, ErrInvalidSDDL) {
			t.Errorf("%s: err = %v, want ErrInvalidSDDL", bad, err)
		}
	}
}

// TestConditionHostileSize formats the largest chain of operators an ACE
// can hold and a claim whose value offsets all point at one long string:
// work and memory stay linear in the input.
func TestConditionHostileSize(t *testing.T) {
	a := tUTF16(0xf8, "a")
	data := []byte("artx")
	data = append(data, a...)
	for len(data)+len(a)+1 < 60000 {
		data = append(data, a...)
		data = append(data, 0xa0)
	}
	data = artx(data[4:])
	d := &Descriptor{Revision: 1, Control: SelfRelative | DACLPresent, DACL: &ACL{Revision: 2, ACEs: []ACE{
		{Type: AccessAllowedCallback, Mask: 1, SID: SIDEveryone, Data: data}}}}
	var s string
	alloc := allocBytes(func() {
		var err error
		if s, err = d.SDDL(nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("formatting %d bytes of conditions allocated %d bytes", len(data), alloc)
	if alloc > 200*int64(len(data)) {
		t.Errorf("formatting %d bytes of conditions allocated %d bytes", len(data), alloc)
	}
	back, err := ParseSDDL(s, nil)
	if err != nil || !back.Equal(d) {
		t.Errorf("round trip of the long chain: %v", err)
	}

	// A claim of 4,000 string values that all point at one 30,000-character string.
	long := make([]uint16, 30000)
	for i := range long {
		long[i] = 'x'
	}
	cl := &claim{name: []uint16{'n'}, typ: claimString, nvalue: 1, strs: [][]uint16{long}}
	raw := cl.encode()
	n := 4000
	hostile := make([]byte, 16+4*n)
	copy(hostile, raw[:16])
	binary.LittleEndian.PutUint32(hostile[0:], uint32(len(hostile)))
	binary.LittleEndian.PutUint32(hostile[12:], uint32(n))
	shift := uint32(len(hostile) - 20)
	hostile = append(hostile, raw[20:]...)
	valOff := binary.LittleEndian.Uint32(raw[16:]) + shift
	binary.LittleEndian.PutUint32(hostile[0:], binary.LittleEndian.Uint32(raw[0:])+shift)
	for i := range n {
		binary.LittleEndian.PutUint32(hostile[16+4*i:], valOff)
	}
	alloc = allocBytes(func() {
		if _, err := decodeClaim(hostile); err == nil {
			t.Error("overlapping claim values accepted")
		}
	})
	if alloc > 20*int64(len(hostile)) {
		t.Errorf("decoding a %d-byte hostile claim allocated %d bytes", len(hostile), alloc)
	}
}

func allocBytes(f func()) int64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc - before.TotalAlloc)
}
