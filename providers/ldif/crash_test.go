package ldif

import (
	"bufio"
	"bytes"
	stdcontext "context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/providers"
)

// childEnv makes the test binary act as a provider process applying
// killChanges, so that TestApply_killed can SIGKILL it.
const childEnv = "ADSHIFT_LDIF_TEST_CHILD"

func TestMain(m *testing.M) {
	if file := os.Getenv(childEnv); file != "" {
		os.Exit(childApply(file))
	}
	os.Exit(m.Run())
}

const killChanges = 40

func killDN(i int) string { return fmt.Sprintf("CN=u%03d,OU=Staff,DC=source,DC=test", i) }

func childApply(file string) int {
	p := New(hclog.NewNullLogger())
	ctx := stdcontext.Background()
	diags, err := p.Configure(ctx, cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal(file)}))
	if err != nil || diags.HasErrors() {
		fmt.Fprintln(os.Stderr, "configure:", err, diags)
		return 2
	}
	in := make(chan providers.Change, killChanges)
	for i := 0; i < killChanges; i++ {
		in <- providers.Change{ID: int64(i), Op: providers.OpCreate, Kind: providers.KindUser, DN: killDN(i),
			Attrs: []providers.AttrChange{{Name: "sAMAccountName", Op: providers.AttrReplace, Values: []string{fmt.Sprintf("u%03d", i)}}}}
	}
	close(in)
	out := bufio.NewWriter(os.Stdout)
	err = p.Apply(ctx, in, func(r providers.Result) error {
		fmt.Fprintf(out, "done %d %s %s\n", r.ID, r.GUID, r.Error)
		return out.Flush()
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "apply:", err)
		return 1
	}
	return 0
}

// TestApply_killed kills a provider process in the middle of an apply and
// checks that the next load loses no reported change and duplicates none,
// in the snapshot and in the changes file; then it finishes the work as a
// new plan would.
func TestApply_killed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	_, file := setup(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+file, ApplyDelayEnv+"=15ms")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reported := map[string]string{} // DN -> GUID
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			t.Fatalf("child reported %q", sc.Text())
		}
		var id int
		fmt.Sscan(f[1], &id)
		reported[killDN(id)] = f[2]
		if len(reported) == 12 {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	_ = cmd.Wait()
	if len(reported) != 12 {
		t.Fatalf("child reported %d results before exiting; stderr:\n%s", len(reported), stderr.String())
	}
	if _, err := os.Stat(JournalPath(file)); err != nil {
		t.Fatalf("the killed apply left no journal: %v", err)
	}

	p := configure(t, file) // replays and folds the journal
	if _, err := os.Stat(JournalPath(file)); !os.IsNotExist(err) {
		t.Fatalf("journal not folded: %v", err)
	}
	present := map[string]string{}
	for _, o := range discover(t, p, providers.Scope{BaseDN: base, Kinds: []providers.Kind{providers.KindUser}}) {
		if strings.HasPrefix(o.DN, "CN=u") {
			present[o.DN] = o.GUID
		}
	}
	for dnStr, guid := range reported {
		if present[dnStr] != guid {
			t.Errorf("reported %s (GUID %s) but the snapshot has GUID %q", dnStr, guid, present[dnStr])
		}
	}
	adds := changesAdds(t, file)
	if len(adds) != len(present) {
		t.Errorf("changes file has %d adds, snapshot %d new users", len(adds), len(present))
	}
	for dnStr, n := range adds {
		if n != 1 || present[dnStr] == "" {
			t.Errorf("changes file adds %s %d times (in snapshot: %v)", dnStr, n, present[dnStr] != "")
		}
	}
	t.Logf("killed after %d reported results; %d changes were durable", len(reported), len(present))

	// The next plan creates what is missing; afterwards everything exists once.
	var rest []providers.Change
	for i := 0; i < killChanges; i++ {
		if present[killDN(i)] == "" {
			rest = append(rest, providers.Change{ID: int64(i), Op: providers.OpCreate, Kind: providers.KindUser, DN: killDN(i)})
		}
	}
	for _, r := range apply(t, p, rest...) {
		if r.Error != "" {
			t.Fatal(r.Error)
		}
	}
	adds = changesAdds(t, file)
	if len(adds) != killChanges {
		t.Errorf("changes file has %d adds, want %d", len(adds), killChanges)
	}
	for dnStr, n := range adds {
		if n != 1 {
			t.Errorf("%s added %d times", dnStr, n)
		}
	}
}

func changesAdds(t *testing.T, file string) map[string]int {
	t.Helper()
	f, err := os.Open(DefaultChangesFile(file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := ReadAll(NewReader(f, "changes", ReaderOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	adds := map[string]int{}
	for _, r := range recs {
		if r.ChangeType == ChangeAdd {
			adds[r.DN]++
		}
	}
	return adds
}

// TestRecover_tornJournal cuts the journal of an unfolded apply at every
// byte and checks that recovery always yields exactly the state of the
// batches that committed: byte for byte the snapshot and changes file of
// a cut at the last complete batch marker.
func TestRecover_tornJournal(t *testing.T) {
	p, file := setup(t)
	p.skipFold = true
	changes := []providers.Change{
		{ID: 1, Op: providers.OpCreate, Kind: providers.KindOU, DN: "OU=New,DC=source,DC=test"},
		{ID: 2, Op: providers.OpCreate, Kind: providers.KindUser, DN: "CN=Ann,OU=New,DC=source,DC=test"},
		{ID: 3, Op: providers.OpUpdate, DN: groupDN, Attrs: []providers.AttrChange{{Name: "member", Op: providers.AttrAdd, Values: []string{"CN=Ann,OU=New,DC=source,DC=test"}}}},
		{ID: 4, Op: providers.OpMove, DN: smithDN, NewDN: "CN=John,OU=New,DC=source,DC=test"},
		{ID: 5, Op: providers.OpDelete, DN: "CN=Partner Contact,OU=Staff,DC=source,DC=test"},
	}
	in := make(chan providers.Change)
	done := make(chan error, 1)
	got := make(chan providers.Result)
	go func() { done <- p.Apply(t.Context(), in, func(r providers.Result) error { got <- r; return nil }) }()
	for _, c := range changes { // one at a time: one batch each
		in <- c
		if r := <-got; r.Error != "" {
			t.Fatal(r.Error)
		}
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	snapshot, _ := os.ReadFile(file)
	journal, err := os.ReadFile(JournalPath(file))
	if err != nil {
		t.Fatal(err)
	}
	changesFile, _ := os.ReadFile(DefaultChangesFile(file))

	dir := t.TempDir()
	headerLen := bytes.IndexByte(journal, '\n') + 1
	recoverCut := func(k int) (snap, chg []byte) {
		t.Helper()
		f := filepath.Join(dir, "source.ldif")
		os.WriteFile(f, snapshot, 0o644)
		os.WriteFile(JournalPath(f), journal[:k], 0o600)
		os.Remove(DefaultChangesFile(f))
		if k >= headerLen { // the header is synced before the changes file is touched
			os.WriteFile(DefaultChangesFile(f), changesFile, 0o600)
		}
		p := New(nil)
		if diags, err := p.Configure(t.Context(), cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal(f)})); err != nil || diags.HasErrors() {
			t.Fatalf("cut at %d: %v %v", k, err, diags)
		}
		if _, err := os.Stat(JournalPath(f)); !os.IsNotExist(err) {
			t.Fatalf("cut at %d: journal left", k)
		}
		snap, _ = os.ReadFile(f)
		chg, _ = os.ReadFile(DefaultChangesFile(f))
		return snap, chg
	}
	// Reference states at each batch boundary.
	var bounds []int
	for off := 0; ; {
		i := bytes.Index(journal[off:], []byte(batchMarker))
		if i < 0 {
			break
		}
		off += i
		off += bytes.IndexByte(journal[off:], '\n') + 1
		bounds = append(bounds, off)
	}
	if len(bounds) != len(changes) {
		t.Fatalf("%d batches for %d changes", len(bounds), len(changes))
	}
	type state struct{ snap, chg []byte }
	refs := []state{}
	s0, c0 := recoverCut(headerLen)
	refs = append(refs, state{s0, c0})
	for _, b := range bounds {
		s, c := recoverCut(b)
		refs = append(refs, state{s, c})
	}
	if !bytes.Contains(refs[1].snap, []byte("dn: OU=New,DC=source,DC=test")) || bytes.Contains(refs[1].snap, []byte("CN=Ann")) {
		t.Error("state after batch 1 is wrong")
	}
	if bytes.Contains(refs[5].snap, []byte("Partner Contact")) || !bytes.Contains(refs[5].snap, []byte("dn: CN=John,OU=New")) {
		t.Error("state after batch 5 is wrong")
	}
	if len(refs[0].chg) != 0 || bytes.Count(refs[5].chg, []byte("\ndn: ")) != 5 {
		t.Errorf("changes files: %d bytes before, %d records after", len(refs[0].chg), bytes.Count(refs[5].chg, []byte("\ndn: ")))
	}
	// Every byte near the header and the batch markers, every 7th elsewhere
	// (the full sweep takes 20 s on a busy machine; it passed).
	near := func(k int) bool {
		for _, b := range append([]int{headerLen}, bounds...) {
			if k >= b-len(batchMarker)-8 && k <= b+2 {
				return true
			}
		}
		return false
	}
	for k := 0; k <= len(journal); k++ {
		if k%7 != 0 && !near(k) {
			continue
		}
		c := 0
		for c < len(bounds) && bounds[c] <= k {
			c++
		}
		s, ch := recoverCut(k)
		if k < headerLen {
			if !bytes.Equal(s, snapshot) || len(ch) != 0 {
				t.Fatalf("cut at %d inside the header: snapshot or changes file touched", k)
			}
			continue
		}
		if !bytes.Equal(s, refs[c].snap) || !bytes.Equal(ch, refs[c].chg) {
			t.Fatalf("cut at %d of %d: state differs from that after %d batches", k, len(journal), c)
		}
	}
}

// TestRecover_foldedJournal: a journal whose fold completed (only its
// removal was lost) is discarded, not replayed twice.
func TestRecover_foldedJournal(t *testing.T) {
	p, file := setup(t)
	p.skipFold = true
	apply(t, p, providers.Change{ID: 1, Op: providers.OpCreate, Kind: providers.KindOU, DN: "OU=Once,DC=source,DC=test"})
	journal, _ := os.ReadFile(JournalPath(file))
	configure(t, file) // folds
	if err := os.WriteFile(JournalPath(file), journal, 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(file)
	configure(t, file)
	after, _ := os.ReadFile(file)
	if !bytes.Equal(before, after) {
		t.Error("a folded journal was replayed again")
	}
	if _, err := os.Stat(JournalPath(file)); !os.IsNotExist(err) {
		t.Error("stale journal not removed")
	}
	if n := bytes.Count(after, []byte("dn: OU=Once,")); n != 1 {
		t.Errorf("OU=Once appears %d times", n)
	}
}

// TestReplay_randomChanges applies a long random mix of changes (creates,
// updates with link values, moves of leaves and subtrees, deletes, some of
// them failing) without folding, then checks that replaying the journal
// from the old snapshot reproduces the in-memory state byte for byte.
func TestReplay_randomChanges(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			p, file := setup(t)
			p.skipFold = true
			r := rand.New(rand.NewPCG(seed, 7))
			ous := []string{"OU=Staff,DC=source,DC=test", "OU=Users,OU=Staff,DC=source,DC=test", "OU=Workstations,DC=source,DC=test"}
			var users []string
			pick := func(s []string) string { return s[r.IntN(len(s))] }
			var changes []providers.Change
			for i := 0; i < 300; i++ {
				id := int64(i)
				switch k := r.IntN(10); {
				case k < 2:
					dnStr := fmt.Sprintf("OU=o%d,%s", i, pick(ous))
					ous = append(ous, dnStr)
					changes = append(changes, providers.Change{ID: id, Op: providers.OpCreate, Kind: providers.KindOU, DN: dnStr})
				case k < 5:
					dnStr := fmt.Sprintf("CN=u%d,%s", i, pick(ous))
					users = append(users, dnStr)
					changes = append(changes, providers.Change{ID: id, Op: providers.OpCreate, Kind: providers.KindUser, DN: dnStr,
						Attrs: []providers.AttrChange{{Name: "description", Op: providers.AttrReplace, Values: []string{fmt.Sprint("d ", i)}}}})
				case k < 7 && len(users) > 0:
					changes = append(changes, providers.Change{ID: id, Op: providers.OpUpdate, DN: groupDN, Attrs: []providers.AttrChange{
						{Name: "member", Op: []providers.AttrOp{providers.AttrAdd, providers.AttrDelete}[r.IntN(2)], Values: []string{pick(users)}}}})
				case k < 8:
					from := pick(append(users, ous...))
					typ := "CN"
					if strings.HasPrefix(from, "OU=") {
						typ = "OU"
					}
					to := fmt.Sprintf("%s=m%d,%s", typ, i, pick(ous))
					changes = append(changes, providers.Change{ID: id, Op: providers.OpMove, DN: from, NewDN: to})
				case k < 9 && len(users) > 0:
					changes = append(changes, providers.Change{ID: id, Op: providers.OpDelete, DN: pick(users)})
				default:
					changes = append(changes, providers.Change{ID: id, Op: providers.OpUpdate, DN: smithDN, Attrs: []providers.AttrChange{
						{Name: "manager", Op: providers.AttrReplace, Values: []string{pick(append(users, mullerDN))}}}})
				}
			}
			// One change at a time (one batch each) in one Apply call.
			in := make(chan providers.Change)
			got := make(chan providers.Result)
			done := make(chan error, 1)
			go func() { done <- p.Apply(t.Context(), in, func(r providers.Result) error { got <- r; return nil }) }()
			failed := 0
			for _, c := range changes {
				in <- c
				if res := <-got; res.Error != "" {
					failed++
				}
			}
			close(in)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			var mem bytes.Buffer
			p.mu.Lock()
			if err := writeSnapshot(&mem, p.st, 1); err != nil {
				t.Fatal(err)
			}
			p.mu.Unlock()
			fresh := configure(t, file) // replays the journal
			var replayed bytes.Buffer
			fresh.mu.Lock()
			if err := writeSnapshot(&replayed, fresh.st, 1); err != nil {
				t.Fatal(err)
			}
			fresh.mu.Unlock()
			if !bytes.Equal(mem.Bytes(), replayed.Bytes()) {
				t.Fatalf("replayed state differs from the applied one (%d vs %d bytes)", mem.Len(), replayed.Len())
			}
			t.Logf("%d changes, %d refused", len(changes), failed)
		})
	}
}

// FuzzConfigure feeds arbitrary snapshot and journal files to Configure:
// it must report problems as diagnostics or errors, never panic, and a
// successful load must survive a fold and a reload unchanged.
func FuzzConfigure(f *testing.F) {
	fixture, err := os.ReadFile("testdata/source.ldif")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixture, []byte(nil))
	f.Add([]byte("dn: DC=x\nobjectClass: domainDNS\n\ndn: OU=a,DC=x\nobjectClass: organizationalUnit\n"),
		[]byte(journalHeader+"0 changes-size=0\n\ndn: CN=u,OU=a,DC=x\nchangetype: add\nobjectClass: user\nmember: CN=v,DC=x\n\n"+batchMarker+"10\n\n"+
			"dn: OU=a,DC=x\nchangetype: moddn\nnewrdn: OU=b\ndeleteoldrdn: 1\n\n"+batchMarker+"20\n\ndn: CN=u,OU=b,DC=x\nchangetype: delete\n\n"))
	f.Add([]byte(generationPrefix+"3\ndn: CN=a,DC=x\ncn: a\n"), []byte(journalHeader+"2 changes-size=0\n\n"))
	f.Fuzz(func(t *testing.T, snapshot, journal []byte) {
		dir := t.TempDir()
		file := filepath.Join(dir, "s.ldif")
		if err := os.WriteFile(file, snapshot, 0o644); err != nil {
			t.Fatal(err)
		}
		if journal != nil {
			if err := os.WriteFile(JournalPath(file), journal, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		p := New(nil)
		diags, err := p.Configure(t.Context(), cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal(file)}))
		if err != nil || diags.HasErrors() {
			return
		}
		p.mu.Lock()
		if err := p.loadLocked(); err != nil { // Configure reads only the first record
			p.mu.Unlock()
			return
		}
		var before bytes.Buffer
		writeSnapshot(&before, p.st, 0)
		if err := fold(p.st, file); err != nil {
			p.mu.Unlock()
			t.Fatalf("fold: %v", err)
		}
		p.mu.Unlock()
		q := New(nil)
		diags, err = q.Configure(t.Context(), cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal(file)}))
		if err != nil || diags.HasErrors() {
			t.Fatalf("reload of a folded snapshot: %v %v", err, diags)
		}
		q.mu.Lock()
		err = q.loadLocked()
		q.mu.Unlock()
		if err != nil {
			t.Fatalf("reload of a folded snapshot: %v", err)
		}
		var after bytes.Buffer
		writeSnapshot(&after, q.st, 0)
		if !bytes.Equal(before.Bytes(), after.Bytes()) {
			t.Fatalf("fold and reload changed the state:\n%s\n---\n%s", before.Bytes(), after.Bytes())
		}
		_ = q.Discover(t.Context(), providers.Scope{}, func([]providers.Object) error { return nil })
	})
}
