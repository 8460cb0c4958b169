package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adshift/adshift/adid"
	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/reacl"
	"github.com/google/go-cmp/cmp"
)

// The lab's two domains as the tests use them: users 1101-1104 and the
// group 1200 of the source are mapped to the target; 1105 is not.
const (
	srcDom = "S-1-5-21-1000-2000-3000"
	tgtDom = "S-1-5-21-4000-5000-6000"
)

func src(rid int) string { return fmt.Sprintf("%s-%d", srcDom, rid) }
func tgt(rid int) string { return fmt.Sprintf("%s-%d", tgtDom, rid) }

func testSIDMap() string {
	var sb strings.Builder
	for _, rid := range []int{1101, 1102, 1103, 1104, 1200} {
		fmt.Fprintf(&sb, "%s=%s\n", src(rid), tgt(rid))
	}
	return sb.String()
}

// newDevice makes a lab device with files files under disk/, profiles and
// local groups naming source SIDs. It skips when security xattrs cannot
// be written (not root).
func newDevice(t testing.TB, files int) *Backend {
	t.Helper()
	dir := t.TempDir()
	probe := filepath.Join(dir, "probe")
	if err := os.WriteFile(probe, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := setNTACL(probe, []byte{1}); err != nil {
		t.Skipf("cannot write security xattrs here (root on ext4 or xfs needed): %v", err)
	}
	os.Remove(probe)
	spec := DiskSpec{
		Files: files, FilesPerFolder: 50, Owner: src(1101), Group: src(513),
		Principals: []string{src(1101), src(1102), src(1103), src(1104), src(1200), src(1105)},
	}
	if err := PopulateDisk(dir, spec); err != nil {
		t.Fatal(err)
	}
	if err := WriteProfiles(dir, []Profile{
		{SID: src(1101), Name: `SOURCE\alice`, Path: `C:\Users\alice`},
		{SID: src(1105), Name: `SOURCE\eve`, Path: `C:\Users\eve`},
		{SID: "S-1-5-18", Name: "SYSTEM", Path: `C:\Windows\system32\config\systemprofile`},
	}); err != nil {
		t.Fatal(err)
	}
	if err := WriteGroups(dir, []LocalGroup{
		{Name: "Administrators", SID: "S-1-5-32-544", Members: []string{"S-1-5-21-9-9-9-500", src(1200), src(1102)}},
		{Name: "Remote Desktop Users", SID: "S-1-5-32-555", Members: []string{src(1103), src(1105)}},
	}); err != nil {
		t.Fatal(err)
	}
	return New(dir)
}

// snapshot is every security.NTACL under disk/ and the JSON files, raw.
func snapshot(t testing.TB, b *Backend) map[string]string {
	t.Helper()
	items, err := b.diskItems()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, rel := range items {
		v, err := getNTACL(filepath.Join(b.dir, rel), nil)
		if err != nil {
			t.Fatal(err)
		}
		out[rel] = string(v)
	}
	for _, f := range []string{ProfilesFile, GroupsFile} {
		data, err := os.ReadFile(filepath.Join(b.dir, f))
		if err != nil {
			t.Fatal(err)
		}
		out[f] = string(data)
	}
	return out
}

func run(t testing.TB, ctx context.Context, b *Backend, name string, params map[string]string) (string, error) {
	t.Helper()
	return b.Run(ctx, api.Action{Name: name, Params: params}, nil)
}

func mustRun(t testing.TB, b *Backend, name string, params map[string]string) string {
	t.Helper()
	out, err := run(t, context.Background(), b, name, params)
	if err != nil {
		t.Fatalf("%s: %v (output %q)", name, err, out)
	}
	return out
}

func reaclParams(mode string) map[string]string {
	return map[string]string{api.ParamMode: mode, api.ParamSIDMap: testSIDMap()}
}

// descriptorOf reads and parses one item's descriptor.
func descriptorOf(t testing.TB, b *Backend, rel string) *reacl.Descriptor {
	t.Helper()
	d, _ := readDescriptor(t, filepath.Join(b.dir, rel))
	return d
}

// readDescriptor reads and decodes the security.NTACL of path.
func readDescriptor(t testing.TB, path string) (*reacl.Descriptor, *NTACL) {
	t.Helper()
	raw, err := getNTACL(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := DecodeNTACL(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	d, err := reacl.ParseBinary(n.SD)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d, n
}

func trustees(d *reacl.Descriptor) []string {
	var out []string
	for _, a := range d.DACL.ACEs {
		out = append(out, a.SID.String())
	}
	return out
}

func TestReACL_addThenRollback(t *testing.T) {
	b := newDevice(t, 120)
	before := snapshot(t, b)
	items := len(before) - 2 + 2 // disk items, profiles.json, groups.json

	out := mustRun(t, b, api.ActionReACL, reaclParams("add"))
	unmapped := fmt.Sprintf("; 2 source SIDs without a mapping keep only their source access (%s, %s)", src(513), src(1105))
	want := fmt.Sprintf("reacl add: %d items, %d changed, 0 unchanged, 0 skipped, 0 failed (journal reacl-0001)", items, items) + unmapped
	if out != want {
		t.Errorf("output\n %s\nwant\n %s", out, want)
	}
	// A file: owner replaced, each mapped trustee followed by its target,
	// the unmapped one (1105) alone.
	f := descriptorOf(t, b, filepath.Join(DiskDir, "d000", "d000", "f000000.txt"))
	if f.Owner.String() != tgt(1101) || f.Group.String() != src(513) {
		t.Errorf("owner %s group %s, want %s and %s (513 is not mapped)", f.Owner, f.Group, tgt(1101), src(513))
	}
	wantTrustees := []string{src(1101), tgt(1101), "S-1-5-18", "S-1-5-32-544",
		src(1101), tgt(1101), src(1102), tgt(1102), src(1103), tgt(1103), src(1104), tgt(1104), src(1200), tgt(1200), src(1105)}
	if diff := cmp.Diff(wantTrustees, trustees(f)); diff != "" {
		t.Errorf("file trustees (-want +got):\n%s", diff)
	}
	var profiles []Profile
	readJSON(filepath.Join(b.dir, ProfilesFile), &profiles)
	if diff := cmp.Diff([]Profile{
		{SID: src(1101), Name: `SOURCE\alice`, Path: `C:\Users\alice`},
		{SID: tgt(1101), Name: `SOURCE\alice`, Path: `C:\Users\alice`},
		{SID: src(1105), Name: `SOURCE\eve`, Path: `C:\Users\eve`},
		{SID: "S-1-5-18", Name: "SYSTEM", Path: `C:\Windows\system32\config\systemprofile`},
	}, profiles); diff != "" {
		t.Errorf("profiles (-want +got):\n%s", diff)
	}
	var groups []LocalGroup
	readJSON(filepath.Join(b.dir, GroupsFile), &groups)
	if diff := cmp.Diff([]string{"S-1-5-21-9-9-9-500", src(1200), tgt(1200), src(1102), tgt(1102)}, groups[0].Members); diff != "" {
		t.Errorf("Administrators members (-want +got):\n%s", diff)
	}

	// Idempotent: a second run changes nothing and journals nothing.
	again := mustRun(t, b, api.ActionReACL, reaclParams("add"))
	if want := fmt.Sprintf("reacl add: %d items, 0 changed, %d unchanged, 0 skipped, 0 failed (journal reacl-0001)", items, items) + unmapped; again != want {
		t.Errorf("second run\n %s\nwant\n %s", again, want)
	}
	j, err := openJournal(filepath.Join(b.dir, JournalDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(j.gens) != 1 || len(j.gens[0].items) != items {
		t.Fatalf("%d generations, first with %d items; want 1 with %d", len(j.gens), len(j.gens[0].items), items)
	}

	rb := mustRun(t, b, api.ActionReACLRollback, nil)
	if want := fmt.Sprintf("reacl_rollback: %d items, %d restored, 0 already original, 0 missing, 0 conflicts (rolled back: reacl-0001)", items, items); rb != want {
		t.Errorf("rollback\n %s\nwant\n %s", rb, want)
	}
	if diff := cmp.Diff(before, snapshot(t, b)); diff != "" {
		t.Fatalf("after rollback, raw bytes differ from before (-before +after):\n%s", diff)
	}
	// Idempotent too, and a later reacl starts a new generation.
	if rb := mustRun(t, b, api.ActionReACLRollback, nil); !strings.Contains(rb, "nothing to roll back") {
		t.Errorf("second rollback: %s", rb)
	}
	if out := mustRun(t, b, api.ActionReACL, reaclParams("add")); !strings.Contains(out, "(journal reacl-0002)") {
		t.Errorf("reacl after rollback: %s, want a new journal generation reacl-0002", out)
	}
}

// TestReACL_cleanupRollsBackInLayers runs add, then cleanup (remove), then
// rolls both back: newest generation first, to the original bytes.
func TestReACL_cleanupRollsBackInLayers(t *testing.T) {
	b := newDevice(t, 60)
	before := snapshot(t, b)
	mustRun(t, b, api.ActionReACL, reaclParams("add"))
	afterAdd := snapshot(t, b)
	out := mustRun(t, b, api.ActionCleanup, map[string]string{api.ParamSIDMap: testSIDMap()})
	if !strings.Contains(out, "journal reacl-0002") {
		t.Errorf("cleanup: %s, want its own generation reacl-0002", out)
	}
	f := descriptorOf(t, b, filepath.Join(DiskDir, "d000", "d000", "f000001.txt"))
	for _, s := range trustees(f) {
		if strings.HasPrefix(s, srcDom) && s != src(1105) {
			t.Errorf("after cleanup the file still names mapped source SID %s: %v", s, trustees(f))
		}
	}
	if _, err := run(t, context.Background(), b, api.ActionCleanup, map[string]string{api.ParamSIDMap: testSIDMap(), api.ParamMode: "add"}); err == nil {
		t.Error("cleanup with mode add was accepted")
	}
	_ = afterAdd
	mustRun(t, b, api.ActionReACLRollback, nil)
	if diff := cmp.Diff(before, snapshot(t, b)); diff != "" {
		t.Fatalf("after rolling back cleanup and add (-before +after):\n%s", diff)
	}
}

// TestReACL_resume cancels a run part way, runs it again, and compares
// with a clean run on a twin device.
func TestReACL_resume(t *testing.T) {
	clean := newDevice(t, 3000)
	mustRun(t, clean, api.ActionReACL, reaclParams("replace"))
	want := snapshot(t, clean)

	b := newDevice(t, 3000)
	original := snapshot(t, b)
	ctx, cancel := context.WithCancel(context.Background())
	var stoppedAt int64
	_, err := b.Run(ctx, api.Action{Name: api.ActionReACL, Params: reaclParams("replace")}, func(done, total int64) {
		if done > 0 && stoppedAt == 0 {
			stoppedAt = done
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v, want context.Canceled", err)
	}
	mid := snapshot(t, b)
	changed := 0
	for k, v := range mid {
		if v != want[k] {
			changed++
		}
	}
	if changed == 0 || changed == len(want) {
		t.Fatalf("interrupted after %d items: %d of %d items still differ from a clean run; want some", stoppedAt, changed, len(want))
	}
	resumeAndCheck(t, b, "replace", want, original)
}

// resumeAndCheck runs reacl again on an interrupted device b and checks
// the result equals a clean run (want), each item is journaled once in
// one generation, a further run changes nothing, and rollback gives back
// the original bytes.
func resumeAndCheck(t *testing.T, b *Backend, mode string, want, original map[string]string) {
	t.Helper()
	out := mustRun(t, b, api.ActionReACL, reaclParams(mode))
	if diff := cmp.Diff(want, snapshot(t, b)); diff != "" {
		t.Fatalf("resumed run (%s) differs from a clean run (-clean +resumed):\n%s", out, diff)
	}
	j, err := openJournal(filepath.Join(b.dir, JournalDir)) // refuses an item journaled twice
	if err != nil {
		t.Fatal(err)
	}
	if len(j.gens) != 1 || len(j.gens[0].items) != len(want) {
		t.Fatalf("%d generations, %d items journaled; want 1 generation holding each of %d items once (resumed run: %s)",
			len(j.gens), len(j.gens[0].items), len(want), out)
	}
	if out := mustRun(t, b, api.ActionReACL, reaclParams(mode)); !strings.Contains(out, " 0 changed,") {
		t.Errorf("run after the resumed one: %s, want 0 changed", out)
	}
	mustRun(t, b, api.ActionReACLRollback, nil)
	if diff := cmp.Diff(original, snapshot(t, b)); diff != "" {
		t.Fatalf("rollback after a resumed run (-original +rolled back):\n%s", diff)
	}
}

// TestReACL_tornJournal simulates a crash in the middle of a journal write:
// the torn last line is dropped and the run goes on.
func TestReACL_tornJournal(t *testing.T) {
	b := newDevice(t, 10)
	mustRun(t, b, api.ActionReACL, reaclParams("add"))
	jnl := filepath.Join(b.dir, JournalDir, "reacl-0001.jnl")
	f, err := os.OpenFile(jnl, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"k":"item","kind":"xattr","pa`)
	f.Close()
	if out := mustRun(t, b, api.ActionReACL, reaclParams("add")); !strings.Contains(out, " 0 changed,") {
		t.Errorf("after a torn line: %s", out)
	}
	data, _ := os.ReadFile(jnl)
	if bytes.Contains(data, []byte(`"pa{`)) || !bytes.HasSuffix(data, []byte("\n")) {
		t.Errorf("torn line kept in the journal")
	}
	// A damaged line that is not the last one is an error naming the file.
	os.WriteFile(jnl, append([]byte("garbage\n"), data...), 0o600)
	_, err = run(t, context.Background(), b, api.ActionReACLRollback, nil)
	if err == nil || !strings.Contains(err.Error(), "reacl-0001.jnl line 1") {
		t.Errorf("damaged journal: %v", err)
	}
}

// TestReACL_journalCreationCrash: a generation file torn before its first
// line was whole (a crash while creating it) is dropped, and numbering
// goes on past a generation moved aside.
func TestReACL_journalCreationCrash(t *testing.T) {
	b := newDevice(t, 5)
	mustRun(t, b, api.ActionReACL, reaclParams("add"))
	mustRun(t, b, api.ActionReACLRollback, nil)
	jdir := filepath.Join(b.dir, JournalDir)
	os.WriteFile(filepath.Join(jdir, "reacl-0002.jnl"), []byte(`{"k":"beg`), 0o600)
	if out := mustRun(t, b, api.ActionReACL, reaclParams("add")); !strings.Contains(out, "(journal reacl-0002)") {
		t.Errorf("after a torn new generation: %s, want reacl-0002 made again", out)
	}
	mustRun(t, b, api.ActionReACLRollback, nil)
	os.Rename(filepath.Join(jdir, "reacl-0001.jnl"), filepath.Join(t.TempDir(), "aside.jnl"))
	if out := mustRun(t, b, api.ActionReACL, reaclParams("add")); !strings.Contains(out, "(journal reacl-0003)") {
		t.Errorf("with reacl-0001 moved aside: %s, want reacl-0003", out)
	}
}

// TestReACL_locked: while another holder has the device's ReACL lock,
// reacl and reacl_rollback refuse at once and change nothing.
func TestReACL_locked(t *testing.T) {
	b := newDevice(t, 5)
	before := snapshot(t, b)
	unlock, err := lockJournal(filepath.Join(b.dir, JournalDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{api.ActionReACL, api.ActionReACLRollback} {
		if _, err := run(t, context.Background(), b, name, reaclParams("add")); err == nil || !strings.Contains(err.Error(), "another process is running") {
			t.Errorf("%s while locked: %v", name, err)
		}
	}
	if diff := cmp.Diff(before, snapshot(t, b)); diff != "" {
		t.Errorf("changed while locked (-before +after):\n%s", diff)
	}
	unlock()
	mustRun(t, b, api.ActionReACL, reaclParams("add"))
}

func TestReACL_badParams(t *testing.T) {
	b := New(t.TempDir())
	for _, tc := range []struct {
		params map[string]string
		want   string
	}{
		{map[string]string{api.ParamMode: "swap", api.ParamSIDMap: testSIDMap()}, `unknown reacl mode "swap"`},
		{map[string]string{api.ParamMode: "add"}, `"sid_map" is empty`},
		{map[string]string{api.ParamMode: "add", api.ParamSIDMap: "S-1-5-21-1-2-3-4"}, `line 1: "S-1-5-21-1-2-3-4" is not SOURCE=TARGET`},
		{map[string]string{api.ParamMode: "add", api.ParamSIDMap: src(1) + "=" + tgt(1) + "\n" + src(1) + "=" + tgt(2)}, "line 2: conflicting SID mapping"},
	} {
		_, err := run(t, context.Background(), b, api.ActionReACL, tc.params)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.params, err, tc.want)
		}
	}
}

// TestReACL_undecodable: an item whose xattr is not an NTACL fails the
// run by name, everything else is translated.
func TestReACL_undecodable(t *testing.T) {
	b := newDevice(t, 10)
	bad := filepath.Join(DiskDir, "d000", "d000", "f000002.txt")
	setNTACL(filepath.Join(b.dir, bad), []byte{9, 0, 9, 0, 1, 1, 1, 1})
	out, err := run(t, context.Background(), b, api.ActionReACL, reaclParams("add"))
	if err == nil || !strings.Contains(err.Error(), bad+": invalid security.NTACL: unknown version 9") {
		t.Fatalf("%v", err)
	}
	if !strings.Contains(out, " 1 failed") {
		t.Errorf("output %q, want 1 failed", out)
	}
}

func TestTranslateSIDs_modes(t *testing.T) {
	m, _, err := parseSIDMap(src(1) + "=" + tgt(1) + "\n" + src(2) + "=" + tgt(2))
	if err != nil {
		t.Fatal(err)
	}
	in := []string{src(1), "S-1-5-32-544", src(2), tgt(2), src(3)}
	for _, tc := range []struct {
		mode reacl.Mode
		want []string
		n    int
	}{
		{reacl.ModeAdd, []string{src(1), tgt(1), "S-1-5-32-544", src(2), tgt(2), src(3)}, 1},
		{reacl.ModeReplace, []string{tgt(1), "S-1-5-32-544", tgt(2), src(3)}, 2},
		{reacl.ModeRemove, []string{src(1), "S-1-5-32-544", tgt(2), src(3)}, 1},
	} {
		got, n, err := translateSIDs(in, func(s string) string { return s }, func(_ string, s adid.SID) string { return s.String() }, m, tc.mode)
		if err != nil || n != tc.n {
			t.Errorf("%s: %d changes, %v; want %d", tc.mode, n, err, tc.n)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.mode, diff)
		}
	}
}

// TestReACL_progress: done never goes back, never passes total, ends at
// total, and is reported in steps, not per item.
func TestReACL_progress(t *testing.T) {
	b := newDevice(t, 3000)
	var calls [][2]int64
	_, err := b.Run(context.Background(), api.Action{Name: api.ActionReACL, Params: reaclParams("add")}, func(done, total int64) {
		calls = append(calls, [2]int64{done, total})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) < 2 || len(calls) > 110 {
		t.Fatalf("%d progress reports for %d items; want a few, not one per item", len(calls), calls[len(calls)-1][1])
	}
	for i, c := range calls {
		if c[0] > c[1] || (i > 0 && c[0] < calls[i-1][0]) || c[1] != calls[0][1] {
			t.Fatalf("report %d: %v after %v", i, c, calls[max(i-1, 0)])
		}
	}
	if last := calls[len(calls)-1]; last[0] != last[1] {
		t.Errorf("last report %v, want done = total", last)
	}
}

// TestReACL_inventoryDuringRun takes inventory while reacl runs (go test
// -race checks the shared state).
func TestReACL_inventoryDuringRun(t *testing.T) {
	b := newDevice(t, 1000)
	done := make(chan error)
	go func() {
		_, err := b.Run(context.Background(), api.Action{Name: api.ActionReACL, Params: reaclParams("replace")}, nil)
		done <- err
	}()
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			running = false
		default:
			if _, err := b.Inventory(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	inv, err := b.Inventory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range inv.Principals {
		if p.Where == whereACL && strings.HasPrefix(p.SID, srcDom) && p.SID != src(1105) && p.SID != src(513) {
			t.Errorf("after reacl replace, inventory still lists %s from the descriptors", p.SID)
		}
	}
}

// TestReACL_tooLargeForXattr: a descriptor that add mode grows past what
// the file system holds fails by name, is left as it was, and rolls back
// cleanly.
func TestReACL_tooLargeForXattr(t *testing.T) {
	b := newDevice(t, 5)
	before := snapshot(t, b)
	big := filepath.Join(DiskDir, "d000", "d000", "f000001.txt")
	var sb strings.Builder
	sb.WriteString("O:BAG:SYD:")
	for i := range 70 {
		fmt.Fprintf(&sb, "(A;;0x%x;;;%s)", 0x1200a9+i, src(1101)) // distinct ACEs, all mapped
	}
	v, err := encodeSDDL(sb.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := setNTACL(filepath.Join(b.dir, big), v); err != nil {
		t.Skipf("this file system does not hold a %d-byte xattr either: %v", len(v), err)
	}
	before[big] = string(v)
	out, err := run(t, context.Background(), b, api.ActionReACL, reaclParams("add"))
	if err == nil {
		t.Skipf("this file system holds the translated descriptor too (%s)", out)
	}
	if !strings.Contains(err.Error(), big+": write security.NTACL") || !strings.Contains(err.Error(), "do not fit") || !strings.Contains(out, " 1 failed") {
		t.Fatalf("%v (%s)", err, out)
	}
	if got, _ := getNTACL(filepath.Join(b.dir, big), nil); string(got) != string(v) {
		t.Error("the item that failed changed")
	}
	mustRun(t, b, api.ActionReACLRollback, nil)
	if diff := cmp.Diff(before, snapshot(t, b)); diff != "" {
		t.Fatalf("(-before +after):\n%s", diff)
	}
}

// FuzzParseGeneration: a journal generation is read back without panics,
// and whatever is accepted names only known blobs and paths inside the
// device.
func FuzzParseGeneration(f *testing.F) {
	f.Add([]byte(`{"k":"begin","action":"reacl","mode":"add","map":"x"}` + "\n" +
		`{"k":"blob","id":0,"data":"AQI="}` + "\n" + `{"k":"blob","id":1,"data":"AwQ="}` + "\n" +
		`{"k":"item","kind":"xattr","path":"disk/a","orig":0,"new":1}` + "\n" + `{"k":"end","items":1}` + "\n" +
		`{"k":"rolled_back"}` + "\n" + `{"k":"ite`))
	f.Add([]byte(`{"k":"item","kind":"file","path":"../x","orig":0,"new":0}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, good, err := parseGeneration("fuzz.jnl", data)
		if good > len(data) || (good > 0 && data[good-1] != '\n') {
			t.Fatalf("good = %d of %d bytes, not at a line end", good, len(data))
		}
		if err != nil {
			return
		}
		for _, it := range g.items {
			if !filepath.IsLocal(it.Path) || (it.Kind != itemXattr && it.Kind != itemFile) {
				t.Fatalf("accepted item %+v", it)
			}
		}
	})
}
