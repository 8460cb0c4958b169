package reacl

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/adid"
)

const (
	srcDom = "S-1-5-21-1111-2222-3333"
	tgtDom = "S-1-5-21-4444-5555-6666"
)

// sddlVars expands $S<rid> and $T<rid> to source and target domain SIDs.
var sddlVars = strings.NewReplacer("$S", srcDom+"-", "$T", tgtDom+"-")

func testMap(t *testing.T) *Map {
	t.Helper()
	m := NewMap()
	for _, rid := range []string{"1107", "1188", "1190", "513"} {
		if err := m.Add(adid.MustSID(srcDom+"-"+rid), adid.MustSID(tgtDom+"-"+rid)); err != nil {
			t.Fatal(err)
		}
	}
	// jdoe's source account carries the SID of an older domain in sIDHistory.
	if err := m.AddHistory(adid.MustSID(tgtDom+"-1107"), adid.MustSID("S-1-5-21-7-8-9-1001")); err != nil {
		t.Fatal(err)
	}
	return m
}

// typicalFile is a file in a department share: 8 ACEs, 3 of them for
// source-domain principals (an explicit deny, a group, the owner user).
const typicalFile = "O:$S1107G:$S513D:AI(D;OICI;WDWO;;;$S1190)(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)" +
	"(A;OICI;0x1301bf;;;$S1188)(A;OICI;0x1200a9;;;BU)(A;OICIIO;GA;;;CO)(A;ID;FA;;;$S1107)(A;ID;0x1200a9;;;AU)"

func TestTranslate(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		in      string
		want    string
		counts  [5]int // added, replaced, removed, merged, kept
		unmaped []string
	}{
		{
			name:   "add typical file",
			opts:   Options{Mode: ModeAdd},
			in:     typicalFile,
			want:   "O:$T1107G:$T513D:AI(D;OICI;WDWO;;;$S1190)(D;OICI;WDWO;;;$T1190)(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1301bf;;;$S1188)(A;OICI;0x1301bf;;;$T1188)(A;OICI;0x1200a9;;;BU)(A;OICIIO;GA;;;CO)(A;ID;FA;;;$S1107)(A;ID;FA;;;$T1107)(A;ID;0x1200a9;;;AU)",
			counts: [5]int{3, 0, 0, 0, 0},
		},
		{
			name:   "replace typical file",
			opts:   Options{Mode: ModeReplace},
			in:     typicalFile,
			want:   "O:$T1107G:$T513D:AI(D;OICI;WDWO;;;$T1190)(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1301bf;;;$T1188)(A;OICI;0x1200a9;;;BU)(A;OICIIO;GA;;;CO)(A;ID;FA;;;$T1107)(A;ID;0x1200a9;;;AU)",
			counts: [5]int{0, 3, 0, 0, 0},
		},
		{
			name:   "remove without target twins keeps everything",
			opts:   Options{Mode: ModeRemove, SkipOwner: true, SkipGroup: true},
			in:     typicalFile,
			want:   typicalFile,
			counts: [5]int{0, 0, 0, 0, 3},
		},
		{
			name:   "remove after add",
			opts:   Options{Mode: ModeRemove},
			in:     "O:$T1107G:$T513D:AI(D;OICI;WDWO;;;$S1190)(D;OICI;WDWO;;;$T1190)(A;OICI;FA;;;SY)(A;OICI;0x1301bf;;;$S1188)(A;OICI;0x1301bf;;;$T1188)(A;ID;FA;;;$S1107)(A;ID;FA;;;$T1107)",
			want:   "O:$T1107G:$T513D:AI(D;OICI;WDWO;;;$T1190)(A;OICI;FA;;;SY)(A;OICI;0x1301bf;;;$T1188)(A;ID;FA;;;$T1107)",
			counts: [5]int{0, 0, 3, 0, 0},
		},
		{
			name:   "remove needs an equal twin, not just the target SID",
			opts:   Options{Mode: ModeRemove},
			in:     "D:(A;OICI;FA;;;$S1188)(A;OICI;0x1200a9;;;$T1188)(A;CI;FA;;;$S1190)(A;OI;FA;;;$T1190)",
			want:   "D:(A;OICI;FA;;;$S1188)(A;OICI;0x1200a9;;;$T1188)(A;CI;FA;;;$S1190)(A;OI;FA;;;$T1190)",
			counts: [5]int{0, 0, 0, 0, 2},
		},
		{
			name:   "replace after add merges twins",
			opts:   Options{Mode: ModeReplace},
			in:     "D:(A;OICI;FA;;;$S1188)(A;OICI;FA;;;$T1188)(A;;FR;;;$S1190)",
			want:   "D:(A;OICI;FA;;;$T1188)(A;;FR;;;$T1190)",
			counts: [5]int{0, 1, 0, 1, 0},
		},
		{
			name:   "add is repeatable",
			opts:   Options{Mode: ModeAdd},
			in:     "O:$T1107D:(A;OICI;FA;;;$S1188)(A;OICI;FA;;;$T1188)",
			want:   "O:$T1107D:(A;OICI;FA;;;$S1188)(A;OICI;FA;;;$T1188)",
			counts: [5]int{0, 0, 0, 0, 0},
		},
		{
			name:    "no mapped SIDs, unmapped source SIDs reported",
			opts:    Options{Mode: ModeAdd},
			in:      "O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;;FR;;;$S2001)(A;;FR;;;S-1-5-21-99-98-97-1000)(D;;FA;;;$S2001)",
			want:    "O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;;FR;;;$S2001)(A;;FR;;;S-1-5-21-99-98-97-1000)(D;;FA;;;$S2001)",
			unmaped: []string{srcDom + "-2001"},
		},
		{
			name: "sIDHistory SIDs translate too",
			opts: Options{Mode: ModeReplace},
			in:   "D:(A;OICI;FA;;;S-1-5-21-7-8-9-1001)(A;;FR;;;S-1-5-21-7-8-9-1002)",
			want: "D:(A;OICI;FA;;;$T1107)(A;;FR;;;S-1-5-21-7-8-9-1002)",
			// The history domain is a source domain: its other SIDs are reported.
			counts:  [5]int{0, 1, 0, 0, 0},
			unmaped: []string{"S-1-5-21-7-8-9-1002"},
		},
		{
			name:   "SACL and object ACEs",
			opts:   Options{Mode: ModeAdd},
			in:     "D:(OA;CI;RPWP;bf967a7f-0de6-11d0-a285-00aa003049e2;bf967aba-0de6-11d0-a285-00aa003049e2;$S1188)S:AI(AU;OICISAFA;FA;;;$S1190)(ML;;NW;;;LW)",
			want:   "D:(OA;CI;RPWP;bf967a7f-0de6-11d0-a285-00aa003049e2;bf967aba-0de6-11d0-a285-00aa003049e2;$S1188)(OA;CI;RPWP;bf967a7f-0de6-11d0-a285-00aa003049e2;bf967aba-0de6-11d0-a285-00aa003049e2;$T1188)S:AI(AU;OICISAFA;FA;;;$S1190)(AU;OICISAFA;FA;;;$T1190)(ML;;NW;;;LW)",
			counts: [5]int{2, 0, 0, 0, 0},
		},
		{
			name:   "skip SACL, owner and group",
			opts:   Options{Mode: ModeReplace, SkipSACL: true, SkipOwner: true, SkipGroup: true},
			in:     "O:$S1107G:$S513D:(A;;FA;;;$S1188)S:(AU;FA;FA;;;$S1190)",
			want:   "O:$S1107G:$S513D:(A;;FA;;;$T1188)S:(AU;FA;FA;;;$S1190)",
			counts: [5]int{0, 1, 0, 0, 0},
		},
		{
			name: "NULL DACL and absent components",
			opts: Options{Mode: ModeAdd},
			in:   "O:$S1107D:NO_ACCESS_CONTROL",
			want: "O:$T1107D:NO_ACCESS_CONTROL",
		},
	}
	m := testMap(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, err := ParseSDDL(sddlVars.Replace(tc.in), nil)
			if err != nil {
				t.Fatal(err)
			}
			orig := in.Clone()
			got, rep, err := Translate(in, m, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !in.Equal(orig) {
				t.Error("Translate modified its input")
			}
			gotSDDL, err := got.SDDL(nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(sddlVars.Replace(tc.want), gotSDDL); diff != "" {
				t.Errorf("SDDL (-want +got):\n%s", diff)
			}
			counts := [5]int{rep.Added, rep.Replaced, rep.Removed, rep.Merged, rep.Kept}
			if diff := cmp.Diff(tc.counts, counts); diff != "" {
				t.Errorf("counts added/replaced/removed/merged/kept (-want +got):\n%s", diff)
			}
			var unmapped []string
			for _, s := range rep.Unmapped {
				unmapped = append(unmapped, s.String())
			}
			if diff := cmp.Diff(tc.unmaped, unmapped); diff != "" {
				t.Errorf("unmapped (-want +got):\n%s", diff)
			}
			if rep.Changed != !got.Equal(in) {
				t.Errorf("Changed = %v but output equal to input is %v", rep.Changed, got.Equal(in))
			}

			// The binary path agrees with the structured one, and rolls back.
			src := mustBinary(t, in)
			out, brep, err := TranslateBinary(src, m, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(rep, brep); diff != "" {
				t.Errorf("binary report differs (-struct +binary):\n%s", diff)
			}
			back, err := ParseBinary(out)
			if err != nil {
				t.Fatal(err)
			}
			if !back.Equal(got) {
				t.Errorf("binary translation differs from structured one")
			}
			restored, err := Rollback(out, Record{Original: src, Translated: out})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(src, restored); diff != "" {
				t.Errorf("rollback (-original +restored):\n%s", diff)
			}
		})
	}
}

// TestTranslateCanonicalOrder checks that every mode keeps a canonical ACL
// canonical: explicit deny, explicit allow, then inherited ACEs.
func TestTranslateCanonicalOrder(t *testing.T) {
	m := testMap(t)
	in, err := ParseSDDL(sddlVars.Replace("D:AI(D;;FA;;;$S1190)(D;;WD;;;BU)(A;;FA;;;$S1188)(A;;FR;;;BU)(A;;FR;;;$S1107)(D;ID;WD;;;$S1188)(A;ID;FA;;;$S1190)(A;ID;FA;;;SY)"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []Mode{ModeAdd, ModeReplace, ModeRemove} {
		d := in
		// Remove after add, so that it has twins to remove.
		if mode == ModeRemove {
			d, _, _ = Translate(in, m, Options{Mode: ModeAdd})
		}
		got, _, err := Translate(d, m, Options{Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		if !got.DACL.IsCanonical() {
			s, _ := got.SDDL(nil)
			t.Errorf("%s: out of canonical order: %s", mode, s)
		}
	}
}

// TestRollbackLayouts restores descriptors whose original layout is not
// ours (Windows puts SACL and DACL before owner and group), byte for byte,
// also when the stored translation came back in another layout.
func TestRollbackLayouts(t *testing.T) {
	m := testMap(t)
	d, err := ParseSDDL(sddlVars.Replace(typicalFile+"S:(AU;FA;FA;;;WD)"), nil)
	if err != nil {
		t.Fatal(err)
	}
	orig := windowsLayout(t, d)
	for _, mode := range []Mode{ModeAdd, ModeReplace, ModeRemove} {
		t.Run(mode.String(), func(t *testing.T) {
			out, rep, err := TranslateBinary(orig, m, Options{Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			rec := Record{Original: orig, Translated: out}
			// The record survives JSON, as the agent stores it.
			js, err := json.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			var rec2 Record
			if err := json.Unmarshal(js, &rec2); err != nil {
				t.Fatal(err)
			}
			td, err := ParseBinary(out)
			if err != nil {
				t.Fatal(err)
			}
			stored := windowsLayout(t, td) // what the OS gives back later
			if !rep.Changed {
				stored = out
			}
			got, err := Rollback(stored, rec2)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(orig, got); diff != "" {
				t.Errorf("rollback (-original +restored):\n%s", diff)
			}
			// A descriptor changed after translation is refused.
			td.DACL.ACEs = td.DACL.ACEs[1:]
			if _, err := Rollback(mustBinary(t, td), rec2); !errors.Is(err, ErrRollbackConflict) {
				t.Errorf("rollback of a modified descriptor: %v, want ErrRollbackConflict", err)
			}
		})
	}
}

// windowsLayout encodes d the way MakeSelfRelativeSD does: header, SACL,
// DACL, owner, group.
func windowsLayout(t *testing.T, d *Descriptor) []byte {
	t.Helper()
	var sacl, dacl []byte
	var err error
	if d.SACL != nil {
		if sacl, err = d.SACL.appendBinary(nil); err != nil {
			t.Fatal(err)
		}
	}
	if d.DACL != nil {
		if dacl, err = d.DACL.appendBinary(nil); err != nil {
			t.Fatal(err)
		}
	}
	b := make([]byte, sdHeaderLen)
	b[0], b[1] = d.Revision, d.RMControl
	putU16(b[2:], uint16(d.Control|SelfRelative))
	if sacl != nil {
		putU32(b[12:], uint32(len(b)))
		b = append(b, sacl...)
	}
	if dacl != nil {
		putU32(b[16:], uint32(len(b)))
		b = append(b, dacl...)
	}
	if d.Owner != nil {
		putU32(b[4:], uint32(len(b)))
		b = appendSID(b, *d.Owner)
	}
	if d.Group != nil {
		putU32(b[8:], uint32(len(b)))
		b = appendSID(b, *d.Group)
	}
	return b
}

func putU16(b []byte, v uint16) { b[0], b[1] = byte(v), byte(v>>8) }
func putU32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

func TestMapConflicts(t *testing.T) {
	s1, s2 := adid.MustSID(srcDom+"-1"), adid.MustSID(srcDom+"-2")
	t1, t2 := adid.MustSID(tgtDom+"-1"), adid.MustSID(tgtDom+"-2")
	tests := []struct {
		name    string
		pairs   [][2]SID
		wantErr bool
	}{
		{"distinct", [][2]SID{{s1, t1}, {s2, t2}}, false},
		{"same pair twice", [][2]SID{{s1, t1}, {s1, t1}}, false},
		{"two sources one target (sIDHistory)", [][2]SID{{s1, t1}, {s2, t1}}, false},
		{"one source two targets", [][2]SID{{s1, t1}, {s1, t2}}, true},
		{"chain", [][2]SID{{s1, t1}, {t1, t2}}, true},
		{"reverse chain", [][2]SID{{t1, t2}, {s1, t1}}, true},
		{"self", [][2]SID{{s1, s1}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMap()
			var err error
			for _, p := range tc.pairs {
				if err = m.Add(p[0], p[1]); err != nil {
					break
				}
			}
			if (err != nil) != tc.wantErr {
				t.Errorf("err = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}

func TestTranslateBinaryUnchangedIsIdentical(t *testing.T) {
	// A descriptor in a non-canonical layout that needs no change comes
	// back byte for byte, so the agent can skip the write.
	d, err := ParseSDDL("O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)", nil)
	if err != nil {
		t.Fatal(err)
	}
	src := windowsLayout(t, d)
	tr, err := NewTranslator(testMap(t), Options{Mode: ModeReplace})
	if err != nil {
		t.Fatal(err)
	}
	out, rep, err := tr.TranslateBinary(nil, src)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Changed || string(out) != string(src) {
		t.Errorf("changed=%v, out %x, want %x", rep.Changed, out, src)
	}
}

// TestInverseTranslation undoes a translation of a descriptor that changed
// afterwards: the reversed map in the inverse mode restores the original
// ACEs and keeps the later change.
func TestInverseTranslation(t *testing.T) {
	m := NewMap()
	for _, rid := range []string{"1107", "1188", "1190", "513"} {
		if err := m.Add(adid.MustSID(srcDom+"-"+rid), adid.MustSID(tgtDom+"-"+rid)); err != nil {
			t.Fatal(err)
		}
	}
	rev, err := m.Reverse()
	if err != nil {
		t.Fatal(err)
	}
	orig, err := ParseSDDL(sddlVars.Replace(typicalFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	later := ACE{Type: AccessAllowed, Mask: 0x1200a9, SID: adid.MustSID("S-1-5-32-555")}
	for _, mode := range []Mode{ModeAdd, ModeReplace} {
		t.Run(mode.String(), func(t *testing.T) {
			tr, _, err := Translate(orig, m, Options{Mode: mode, SkipOwner: true, SkipGroup: true})
			if err != nil {
				t.Fatal(err)
			}
			tr.DACL.ACEs = append(tr.DACL.ACEs, later) // someone edits the ACL after cutover
			back, _, err := Translate(tr, rev, Options{Mode: mode.Inverse(), SkipOwner: true, SkipGroup: true})
			if err != nil {
				t.Fatal(err)
			}
			want := orig.Clone()
			want.DACL.ACEs = append(want.DACL.ACEs, later)
			if !back.Equal(want) {
				got, _ := back.SDDL(nil)
				w, _ := want.SDDL(nil)
				t.Errorf("inverse translation\n got %s\nwant %s", got, w)
			}
		})
	}
	if _, err := testMap(t).Reverse(); !errors.Is(err, ErrMapConflict) {
		t.Errorf("Reverse of a map with sIDHistory: %v, want ErrMapConflict", err)
	}
}

func TestReportJSON(t *testing.T) {
	d, err := ParseSDDL(sddlVars.Replace("O:$S1107D:(A;;FA;;;$S1188)(A;;FR;;;$S2001)"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, rep, err := Translate(d, testMap(t), Options{Mode: ModeAdd})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Changed":true,"Added":1,"Replaced":0,"Removed":0,"Merged":0,"Kept":0,"Changes":[` +
		`{"In":"owner","Index":0,"Action":"replaced","From":"$S1107","To":"$T1107"},` +
		`{"In":"DACL","Index":0,"Action":"added","From":"$S1188","To":"$T1188"}],"Unmapped":["$S2001"],"NonCanonicalDACL":false}`
	if diff := cmp.Diff(sddlVars.Replace(want), string(b)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var m Mode
	if err := json.Unmarshal([]byte(`"replace"`), &m); err != nil || m != ModeReplace {
		t.Errorf("mode from JSON: %v %v", m, err)
	}
}

func TestIsCanonical(t *testing.T) {
	tests := map[string]bool{
		"D:": true,
		"D:(D;;FA;;;WD)(A;;FA;;;SY)(A;ID;FA;;;BA)":                         true,
		"D:(A;;FA;;;SY)(D;;FA;;;WD)":                                       false,
		"D:(A;ID;FA;;;BA)(A;;FA;;;SY)":                                     false,
		"D:(A;ID;FA;;;BA)(D;ID;FA;;;WD)":                                   true, // inherited ACEs keep their parents' order
		"D:(OD;;CR;ab721a53-1e2f-11d0-9819-00aa0040529b;;WD)(OA;;RP;;;AU)": true,
	}
	for s, want := range tests {
		d, err := ParseSDDL(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.DACL.IsCanonical(); got != want {
			t.Errorf("%s: IsCanonical = %v, want %v", s, got, want)
		}
		_, rep, err := Translate(d, testMap(t), Options{Mode: ModeAdd})
		if err != nil || rep.NonCanonicalDACL == want {
			t.Errorf("%s: report NonCanonicalDACL = %v (%v)", s, rep.NonCanonicalDACL, err)
		}
	}
}
