package ad

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/providers"
)

// TestApply_migration creates OUs, users, nested groups and computers in
// the target and reads them back with samba-tool; dbcheck must be clean.
func TestApply_migration(t *testing.T) {
	l := needLab(t)
	tgt := l.Target
	p := configured(t, l, tgt, cfgOpts{rangeSize: 100})
	root := testOU(t, l, tgt, "Migrated")
	staff, ws := "OU=Staff,"+root, "OU=Workstations,"+root
	sfx := root[len("OU=Migrated-") : len("OU=Migrated-")+4]
	user := func(id int64, sam, first, last string) providers.Change {
		return providers.Change{ID: id, Op: providers.OpCreate, Kind: providers.KindUser, DN: JoinDN("CN", first+" "+last, staff),
			Attrs: []providers.AttrChange{
				replace("sAMAccountName", sam), replace("userPrincipalName", sam+"@"+tgt.Domain),
				replace("givenName", first), replace("sn", last), replace("displayName", first+" "+last),
				replace("mail", sam+"@"+tgt.Domain),
			}}
	}
	alice, bob := "alice"+sfx, "bob"+sfx
	aliceDN, bobDN := JoinDN("CN", "Alice Liddell", staff), JoinDN("CN", "Bob Builder", staff)
	teamDN, allDN := JoinDN("CN", "Team "+sfx, staff), JoinDN("CN", "All "+sfx, root)
	waves := [][]providers.Change{
		{{ID: 1, Op: providers.OpCreate, Kind: providers.KindOU, DN: root, Attrs: []providers.AttrChange{replace("description", "adshift test")}}},
		{
			{ID: 2, Op: providers.OpCreate, Kind: providers.KindOU, DN: staff},
			{ID: 3, Op: providers.OpCreate, Kind: providers.KindOU, DN: ws},
		},
		{
			user(4, alice, "Alice", "Liddell"),
			user(5, bob, "Bob", "Builder"),
			{ID: 6, Op: providers.OpCreate, Kind: providers.KindComputer, DN: JoinDN("CN", "WS"+sfx, ws)},
		},
		{{ID: 7, Op: providers.OpCreate, Kind: providers.KindGroup, DN: teamDN, Attrs: []providers.AttrChange{
			replace("sAMAccountName", "team"+sfx), replace("member", aliceDN, bobDN)}}},
		{{ID: 8, Op: providers.OpCreate, Kind: providers.KindGroup, DN: allDN, Attrs: []providers.AttrChange{
			replace("sAMAccountName", "all"+sfx), replace("groupType", "-2147483644"), replace("member", teamDN)}}},
	}
	res := applyOK(t, p, waves...)
	for id, r := range res {
		if r.GUID == "" || r.Token == "" {
			t.Errorf("result %d: no GUID/token: %+v", id, r)
		}
	}
	if !strings.HasPrefix(res[4].SID, "S-1-5-21-") {
		t.Errorf("user SID %q", res[4].SID)
	}

	show := func(args ...string) string {
		t.Helper()
		out, err := sambaTool(t, tgt, args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	attrs := func(out string) map[string][]string {
		m := map[string][]string{}
		for _, line := range strings.Split(out, "\n") {
			if k, v, ok := strings.Cut(line, ": "); ok {
				m[k] = append(m[k], v)
			}
		}
		return m
	}
	u := attrs(show("user", "show", alice))
	for k, want := range map[string]string{
		"displayName": "Alice Liddell", "userPrincipalName": alice + "@" + tgt.Domain, "mail": alice + "@" + tgt.Domain,
		"userAccountControl": "512", "adminDescription": "adshift", "objectSid": res[4].SID, "objectGUID": res[4].GUID,
	} {
		if got := strings.Join(u[k], ","); got != want {
			t.Errorf("samba-tool user show %s: %s = %q, want %q", alice, k, got, want)
		}
	}
	if pls := strings.Join(u["pwdLastSet"], ""); pls == "" || pls == "0" {
		t.Errorf("pwdLastSet = %q: the generated password was not set", pls)
	}
	members := strings.Fields(show("group", "listmembers", "team"+sfx))
	if d := cmp.Diff([]string{alice, bob}, sorted(members)); d != "" {
		t.Errorf("team members (-want +got):\n%s", d)
	}
	if got := strings.Fields(show("group", "listmembers", "all"+sfx)); !cmp.Equal(got, []string{"team" + sfx}) {
		t.Errorf("nested group members = %v", got)
	}
	g := attrs(show("group", "show", "all"+sfx))
	if got := strings.Join(g["groupType"], ""); got != "-2147483644" {
		t.Errorf("groupType = %q", got)
	}
	c := attrs(show("computer", "show", "WS"+sfx))
	host := strings.ToLower("ws"+sfx) + "." + tgt.Domain
	for k, want := range map[string]string{
		"sAMAccountName": "WS" + strings.ToUpper(sfx) + "$", "userAccountControl": "4096", "dNSHostName": host,
		"servicePrincipalName": "HOST/WS" + strings.ToUpper(sfx) + ",HOST/" + host, "adminDescription": "adshift",
	} {
		if got := strings.Join(c[k], ","); got != want {
			t.Errorf("samba-tool computer show: %s = %q, want %q", k, got, want)
		}
	}
	dbcheck(t, tgt, root)

	// The re-read matches what was written, so a re-plan is clean.
	objs, _ := discoverAll(t, p, providers.Scope{BaseDN: tgt.Base, IncludeOUs: []string{root},
		Attributes: []string{"member", "displayname", "adminDescription"}})
	byDN := map[string]providers.Object{}
	for _, o := range objs {
		byDN[o.DN] = o
	}
	if o := byDN[aliceDN]; o.Token != res[4].Token || o.GUID != res[4].GUID || o.Get("admindescription") != "adshift" {
		t.Errorf("re-read alice %+v, apply said %+v", o, res[4])
	}
	if n := len(byDN[teamDN].Attrs["member"]); n != 2 {
		t.Errorf("team has %d members on re-read", n)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

var dbcheckErrors = regexp.MustCompile(`Checked \d+ objects \((\d+) errors\)`)

// dbcheck runs samba-tool dbcheck on the subtree root of dc and fails on
// any error it reports. (The whole database takes minutes on the shared
// CI machine; the subtree holds everything the test wrote.)
func dbcheck(t testing.TB, dc labDC, root string) {
	t.Helper()
	out, err := sambaTool(t, dc, "dbcheck", root, "--scope=sub")
	m := dbcheckErrors.FindStringSubmatch(out)
	if err != nil || m == nil || m[1] != "0" {
		t.Errorf("samba-tool dbcheck on %s: %v\n%.3000s", dc.Name, err, out)
	}
}

// TestApply_membershipDeltasPastRange: a group grows past 1,500 members and
// shrinks again by add/delete deltas split into chunks (range size 100 here,
// so several chunks), never replace-all, and re-adding existing members or
// removing absent ones is harmless.
func TestApply_membershipDeltasPastRange(t *testing.T) {
	l := needLab(t)
	tgt := l.Target
	p := configured(t, l, tgt, cfgOpts{rangeSize: 100, connections: 4})
	root := testOU(t, l, tgt, "Members")
	// The 1,600 member objects come from the lab seed (fast, local); the
	// group and its deltas go through the provider.
	seed(t, l, tgt, "Members", 1600, 0, 1)
	var dns []string
	for i := range 1600 {
		dns = append(dns, fmt.Sprintf("CN=members-u%05d,OU=p00,OU=Members,%s", i, tgt.Base))
	}
	gdn := JoinDN("CN", "big", root)
	res := applyOK(t, p,
		[]providers.Change{{ID: 1, Op: providers.OpCreate, Kind: providers.KindOU, DN: root}},
		[]providers.Change{{ID: 2, Op: providers.OpCreate, Kind: providers.KindGroup, DN: gdn,
			Attrs: []providers.AttrChange{replace("sAMAccountName", "big"+root[11:17]), replace("member", dns[:1550]...)}}})
	tok := res[2].Token
	// Add 50 new and 10 existing, delete 100 present and 5 absent.
	add := append(append([]string{}, dns[1550:]...), dns[:10]...)
	del := append(append([]string{}, dns[100:200]...), JoinDN("CN", "nobody", root), dns[150])
	res = applyOK(t, p, []providers.Change{{ID: 3, Op: providers.OpUpdate, Kind: providers.KindGroup, DN: gdn, GUID: res[2].GUID, Token: tok,
		Attrs: []providers.AttrChange{{Name: "member", Op: providers.AttrAdd, Values: add}, {Name: "member", Op: providers.AttrDelete, Values: del}}}})
	objs, _ := discoverAll(t, p, providers.Scope{BaseDN: tgt.Base, IncludeOUs: []string{root}, Kinds: []providers.Kind{providers.KindGroup}, Attributes: []string{"member"}})
	var got []string
	for _, o := range objs {
		if o.DN == gdn {
			got = o.Attrs["member"]
		}
	}
	want := append(append([]string{}, dns[:100]...), dns[200:]...)
	if d := cmp.Diff(sorted(want), sorted(got)); d != "" {
		t.Errorf("members after deltas (-want +got):\n%.2000s", d)
	}
	// The old token is stale now: a change planned against it is refused.
	stale, err := applyAll(t, p, []providers.Change{{ID: 4, Op: providers.OpUpdate, Kind: providers.KindGroup, DN: gdn, Token: tok,
		Attrs: []providers.AttrChange{replace("description", "x")}}})
	if err != nil || !strings.Contains(stale[4].Error, "changed since the plan") {
		t.Errorf("stale update: err %v result %+v", err, stale[4])
	}
	_ = res
	_ = context.Background
}

// TestApply_updateMoveDelete: minimal modify deltas, modDN moves and
// renames, deletes, each refused when the object moved on since the plan.
func TestApply_updateMoveDelete(t *testing.T) {
	l := needLab(t)
	tgt := l.Target
	p := configured(t, l, tgt, cfgOpts{newUsers: PasswordDisabled})
	root := testOU(t, l, tgt, "Moves")
	a, b := "OU=A,"+root, "OU=B,"+root
	udn := JoinDN("CN", "Carol, C.", a)
	sam := "carol" + root[9:15]
	res := applyOK(t, p,
		[]providers.Change{{ID: 1, Op: providers.OpCreate, Kind: providers.KindOU, DN: root}},
		[]providers.Change{{ID: 2, Op: providers.OpCreate, Kind: providers.KindOU, DN: a}, {ID: 3, Op: providers.OpCreate, Kind: providers.KindOU, DN: b}},
		[]providers.Change{{ID: 4, Op: providers.OpCreate, Kind: providers.KindUser, DN: udn, Attrs: []providers.AttrChange{
			replace("sAMAccountName", sam), replace("displayName", "Carol"), replace("telephoneNumber", "1")}}},
	)
	created := res[4]
	u := show(t, tgt, "user", "show", sam)
	if got := u["userAccountControl"]; !cmp.Equal(got, []string{"514"}) {
		t.Errorf("new_users = disabled: userAccountControl = %v, want 514", got)
	}

	// Update: replace one attribute, delete another, add a third; the token moves.
	res = applyOK(t, p, []providers.Change{{ID: 5, Op: providers.OpUpdate, Kind: providers.KindUser, DN: udn, GUID: created.GUID, Token: created.Token,
		Attrs: []providers.AttrChange{replace("displayName", "Carol C."), {Name: "telephoneNumber", Op: providers.AttrDelete}, {Name: "description", Op: providers.AttrAdd, Values: []string{"moved soon"}}}}})
	updated := res[5]
	if updated.Token == created.Token || updated.GUID != created.GUID {
		t.Errorf("update result %+v after create %+v", updated, created)
	}
	u = show(t, tgt, "user", "show", sam)
	if u["displayName"][0] != "Carol C." || u["description"][0] != "moved soon" || u["telephoneNumber"] != nil {
		t.Errorf("after update: %v", u)
	}

	// A move planned against the old token is refused, nothing moves.
	newDN := JoinDN("CN", "Carol Moved", b)
	stale, err := applyAll(t, p, []providers.Change{{ID: 6, Op: providers.OpMove, Kind: providers.KindUser, DN: udn, NewDN: newDN, GUID: created.GUID, Token: created.Token}})
	if err != nil || !strings.Contains(stale[6].Error, "changed since the plan") {
		t.Fatalf("stale move: %v %+v", err, stale[6])
	}
	// With the current token it moves and renames.
	res = applyOK(t, p, []providers.Change{{ID: 7, Op: providers.OpMove, Kind: providers.KindUser, DN: udn, NewDN: newDN, GUID: created.GUID, Token: updated.Token}})
	if res[7].DN != newDN || res[7].GUID != created.GUID {
		t.Errorf("move result %+v", res[7])
	}
	if got := show(t, tgt, "user", "show", sam)["dn"]; !cmp.Equal(got, []string{newDN}) {
		t.Errorf("samba-tool shows dn %v, want %s", got, newDN)
	}
	// A delete with a GUID that is not the object's is refused.
	wrong, err := applyAll(t, p, []providers.Change{{ID: 8, Op: providers.OpDelete, Kind: providers.KindUser, DN: newDN, GUID: "00000000-0000-0000-0000-000000000001"}})
	if err != nil || !strings.Contains(wrong[8].Error, "no longer the one planned") {
		t.Fatalf("delete of another object: %v %+v", err, wrong[8])
	}
	applyOK(t, p, []providers.Change{{ID: 9, Op: providers.OpDelete, Kind: providers.KindUser, DN: newDN, GUID: created.GUID, Token: res[7].Token}})
	if _, err := sambaTool(t, tgt, "user", "show", sam); err == nil {
		t.Error("user still there after delete")
	}
	// A parent OU that does not exist gives the clear message.
	missing, _ := applyAll(t, p, []providers.Change{{ID: 10, Op: providers.OpCreate, Kind: providers.KindOU, DN: "OU=x,OU=Nope," + root}})
	if !strings.Contains(missing[10].Error, `parent "OU=Nope,`+root+`" does not exist`) {
		t.Errorf("missing parent: %q", missing[10].Error)
	}
	dbcheck(t, tgt, root)
}

// show runs samba-tool and returns its "name: value" lines as a map.
func show(t *testing.T, dc labDC, args ...string) map[string][]string {
	t.Helper()
	out, err := sambaTool(t, dc, args...)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			m[k] = append(m[k], v)
		}
	}
	return m
}

// A create is read back on a read connection. After a failover that one may
// reach another DC than the write did, one that has not seen the object yet;
// the read-back then asks the writers' DC. Here the read connections reach
// the source DC, which never holds the target's objects.
func TestApply_readBackAsksTheWritersDC(t *testing.T) {
	l := needLab(t)
	p := configured(t, l, l.Target, cfgOpts{})
	elsewhere := configured(t, l, l.Source, cfgOpts{})
	s, err := p.configured()
	if err != nil {
		t.Fatal(err)
	}
	s.pool = elsewhere.pool
	ou := testOU(t, l, l.Target, "ReadBack")
	var r providers.Result
	if err := s.create(t.Context(), providers.Change{ID: 1, Op: providers.OpCreate, Kind: providers.KindOU, DN: ou}, &r); err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, err := s.current(t.Context(), ou); ldapCode(err) != ldap.LDAPResultNoSuchObject {
		t.Fatalf("the read connections should not see %s: %v", ou, err)
	}
	direct, _ := p.configured()
	want, err := direct.current(t.Context(), ou)
	if err != nil {
		t.Fatal(err)
	}
	if r.GUID == "" || r.GUID != want.GUID || r.Token != want.Token {
		t.Errorf("read back %+v, the target holds %+v", r, want)
	}
}

// Results come back from the writer and the read-backs out of order: each
// must carry its own object's identity, also for names that need escaping.
func TestApply_resultsCarryTheirObjectsIdentity(t *testing.T) {
	l := needLab(t)
	p := configured(t, l, l.Target, cfgOpts{newUsers: PasswordDisabled})
	root := testOU(t, l, l.Target, "Batch")
	names := []string{`Comma, Plus+ "Quote"`, `Back\slash #1`, `<Angle>; Semi=Eq`, ` lead and trail `, `Zoë Ørsted`, `Star* (paren) `}
	var users []providers.Change
	for i := range 40 {
		name := fmt.Sprintf("%s %02d", names[i%len(names)], i)
		users = append(users, providers.Change{ID: int64(i + 2), Op: providers.OpCreate, Kind: providers.KindUser, DN: JoinDN("CN", name, root),
			Attrs: []providers.AttrChange{replace("sAMAccountName", fmt.Sprintf("rb%d-%02d", time.Now().UnixNano()%1e6, i))}})
	}
	res := applyOK(t, p, []providers.Change{{ID: 1, Op: providers.OpCreate, Kind: providers.KindOU, DN: root}}, users)
	s, _ := p.configured()
	seen := map[string]bool{}
	for _, c := range users {
		want, err := s.current(t.Context(), c.DN)
		if err != nil {
			t.Fatalf("%s: %v", c.DN, err)
		}
		got := res[c.ID]
		if got.GUID != want.GUID || got.SID != want.SID || got.Token != want.Token || got.DN != c.DN {
			t.Errorf("change %d: result %+v, the target holds %+v", c.ID, got, want)
		}
		if seen[got.GUID] {
			t.Errorf("GUID %s in two results", got.GUID)
		}
		seen[got.GUID] = true
	}
}
