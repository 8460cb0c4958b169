package estate_test

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/adid"
	"github.com/adshift/adshift/bench/estate"
	"github.com/adshift/adshift/bench/internal/ldifcheck"
)

var update = flag.Bool("update", false, "rewrite the committed quickstart estate")

// parsed is an estate read back with the independent reader.
type parsed struct {
	recs []ldifcheck.Record
	byDN map[string]*ldifcheck.Record // lower-case DN
}

func parse(t *testing.T, data []byte) *parsed {
	t.Helper()
	p := &parsed{byDN: map[string]*ldifcheck.Record{}}
	err := ldifcheck.Read(bytes.NewReader(data), ldifcheck.Options{MaxWidth: 76}, func(r ldifcheck.Record) error {
		p.recs = append(p.recs, r)
		return nil
	})
	if err != nil {
		t.Fatalf("read estate: %v", err)
	}
	for i := range p.recs {
		k := strings.ToLower(p.recs[i].DN)
		if _, dup := p.byDN[k]; dup {
			t.Errorf("duplicate DN %s", p.recs[i].DN)
		}
		p.byDN[k] = &p.recs[i]
	}
	return p
}

func has(r *ldifcheck.Record, class string) bool {
	return slices.Contains(r.Values("objectClass"), class)
}

// kind classifies a record as the planner would.
func kind(r *ldifcheck.Record) string {
	switch {
	case has(r, "computer"):
		return "computer"
	case has(r, "user"):
		return "user"
	case has(r, "group"):
		return "group"
	case has(r, "organizationalUnit"):
		return "ou"
	}
	return "other"
}

// decodeSID returns the string form of a binary objectSid.
func decodeSID(t *testing.T, b string) string {
	t.Helper()
	var s adid.SID
	if err := s.UnmarshalBinary([]byte(b)); err != nil {
		t.Fatalf("bad SID bytes %x: %v", b, err)
	}
	return s.String()
}

func parentDN(dn string) string {
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',':
			return dn[i+1:]
		}
	}
	return ""
}

// checkIntegrity asserts what every generated estate must satisfy: unique
// GUIDs and SIDs (all in the domain), distinguishedName equal to the dn,
// parents present before children, member DNs resolvable, acyclic nesting.
func checkIntegrity(t *testing.T, p *parsed, base, domainSID string) {
	t.Helper()
	guids, sids, sams := map[string]string{}, map[string]string{}, map[string]string{}
	seen := map[string]bool{}
	for _, r := range p.recs {
		k := strings.ToLower(r.DN)
		if r.DN != base && !seen[strings.ToLower(parentDN(r.DN))] {
			t.Errorf("%s: parent not written before it", r.DN)
		}
		seen[k] = true
		if got := r.Get("distinguishedName"); got != r.DN {
			t.Errorf("%s: distinguishedName %q", r.DN, got)
		}
		g := r.Get("objectGUID")
		if len(g) != 16 {
			t.Errorf("%s: objectGUID has %d bytes", r.DN, len(g))
		}
		if other, dup := guids[g]; dup {
			t.Errorf("%s: objectGUID also on %s", r.DN, other)
		}
		guids[g] = r.DN
		if raw := r.Get("objectSid"); raw != "" {
			s := decodeSID(t, raw)
			if r.DN != base && !strings.HasPrefix(s, domainSID+"-") {
				t.Errorf("%s: SID %s outside domain %s", r.DN, s, domainSID)
			}
			if other, dup := sids[s]; dup {
				t.Errorf("%s: SID %s also on %s", r.DN, s, other)
			}
			sids[s] = r.DN
		}
		if sam := strings.ToLower(r.Get("sAMAccountName")); sam != "" {
			if other, dup := sams[sam]; dup {
				t.Errorf("%s: sAMAccountName %s also on %s", r.DN, sam, other)
			}
			sams[sam] = r.DN
			if kind(&r) == "user" && len(sam) > 20 {
				t.Errorf("%s: sAMAccountName %q longer than 20", r.DN, sam)
			}
		}
		for _, m := range r.Values("member") {
			if p.byDN[strings.ToLower(m)] == nil {
				t.Errorf("%s: member %s does not exist", r.DN, m)
			}
		}
	}
	// Nesting is acyclic: a depth-first walk over group members never
	// comes back to a group on the current path.
	state := map[string]int{} // 1 on path, 2 done
	var visit func(dn string) bool
	visit = func(dn string) bool {
		switch state[dn] {
		case 1:
			return false
		case 2:
			return true
		}
		state[dn] = 1
		for _, m := range p.byDN[dn].Values("member") {
			if k := strings.ToLower(m); kind(p.byDN[k]) == "group" && !visit(k) {
				t.Errorf("group cycle through %s", m)
				return false
			}
		}
		state[dn] = 2
		return true
	}
	for _, r := range p.recs {
		if kind(&r) == "group" {
			visit(strings.ToLower(r.DN))
		}
	}
}

func generateQuickstart(t *testing.T) (src, tgt []byte) {
	t.Helper()
	var s, g bytes.Buffer
	if err := estate.WriteQuickstartSource(&s); err != nil {
		t.Fatal(err)
	}
	if err := estate.WriteQuickstartTarget(&g); err != nil {
		t.Fatal(err)
	}
	return s.Bytes(), g.Bytes()
}

// TestQuickstart_committed keeps examples/quickstart exactly what the
// generator writes. Run with -update (or go generate ./bench/genestate)
// after changing quickstart.go.
func TestQuickstart_committed(t *testing.T) {
	src, tgt := generateQuickstart(t)
	dir := filepath.Join("..", "..", "examples", "quickstart")
	for name, want := range map[string][]byte{"source.ldif": src, "target.ldif": tgt} {
		path := filepath.Join(dir, name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the generator output; run: %s", path, estate.QuickstartCommand)
		}
	}
}

func TestQuickstart_source(t *testing.T) {
	src, _ := generateQuickstart(t)
	p := parse(t, src)
	checkIntegrity(t, p, "DC=source,DC=test", "S-1-5-21-3623811015-3361044348-30300820")

	const corp = ",ou=corp,dc=source,dc=test"
	count := map[string]int{}
	var disabled, ldifde int
	osSeen := map[string]bool{}
	groupTypes := map[string]bool{}
	for _, r := range p.recs {
		if r.ChangeType == "add" {
			ldifde++
		}
		if !strings.HasSuffix(strings.ToLower(r.DN), corp) {
			continue
		}
		k := kind(&r)
		count[k]++
		switch k {
		case "user":
			if r.Get("userAccountControl") == "514" {
				disabled++
			}
		case "computer":
			if r.Get("userAccountControl") != "4096" {
				t.Errorf("%s: userAccountControl %s", r.DN, r.Get("userAccountControl"))
			}
			if !strings.HasSuffix(r.Get("sAMAccountName"), "$") {
				t.Errorf("%s: sAMAccountName without $", r.DN)
			}
			osSeen[r.Get("operatingSystem")+" "+r.Get("operatingSystemVersion")+" "+r.Get("operatingSystemServicePack")] = true
		case "group":
			groupTypes[r.Get("groupType")] = true
		}
	}
	if ldifde != len(p.recs) {
		t.Errorf("%d of %d records carry changetype: add", ldifde, len(p.recs))
	}
	if diff := cmp.Diff(map[string]int{"user": 50, "group": 13, "computer": 21, "ou": 8}, count); diff != "" {
		t.Errorf("objects below OU=Corp (-want +got):\n%s", diff)
	}
	if disabled != 2 {
		t.Errorf("%d disabled users, want 2", disabled)
	}
	for _, want := range []string{
		"Windows 10 Enterprise 10.0 (19045) ",
		"Windows 11 Pro 10.0 (22631) ",
		"Windows 7 Professional 6.1 (7601) Service Pack 1",
		"Windows 7 Professional 6.1 (7600) ",
		"Windows Server 2016 Standard 10.0 (14393) ",
		"Windows Server 2019 Standard 10.0 (17763) ",
		"Windows Server 2022 Datacenter 10.0 (20348) ",
		"Windows XP Professional 5.1 (2600) Service Pack 3",
		"Windows Vista™ Business 6.0 (6002) Service Pack 2",
		"Windows Server 2008 R2 Standard 6.1 (7601) Service Pack 1",
		"Ubuntu 22.04 ",
	} {
		if !osSeen[want] {
			t.Errorf("no computer runs %q", want)
		}
	}
	for _, gt := range []string{"-2147483646", "-2147483640", "-2147483644"} {
		if !groupTypes[gt] {
			t.Errorf("no group of groupType %s", gt)
		}
	}

	smith := p.byDN[`cn=smith\, john,ou=staff`+corp]
	if smith == nil {
		t.Fatal("no escaped-comma DN CN=Smith\\, John")
	}
	if got := smith.Get("cn"); got != "Smith, John" {
		t.Errorf("cn = %q", got)
	}
	garcia := p.byDN["cn=josé garcía,ou=staff"+corp]
	if garcia == nil {
		t.Fatal("no non-ASCII DN for José García")
	}
	for _, a := range garcia.Attrs {
		if a.Name == "displayName" && (!a.Base64 || a.Value != "José García") {
			t.Errorf("displayName %+v, want base64 José García", a)
		}
	}
	all := p.byDN["cn=ug-allstaff,ou=groups"+corp]
	if got := len(all.Values("member")); got != 6 {
		t.Errorf("UG-AllStaff has %d members, want the 6 department groups", got)
	}
	if !bytes.Contains(src, []byte("\n ")) {
		t.Error("no folded line in the source estate")
	}
	if sid := decodeSID(t, p.byDN["dc=source,dc=test"].Get("objectSid")); sid != "S-1-5-21-3623811015-3361044348-30300820" {
		t.Errorf("domain objectSid %s", sid)
	}
}

func TestQuickstart_target(t *testing.T) {
	srcData, tgtData := generateQuickstart(t)
	src, tgt := parse(t, srcData), parse(t, tgtData)
	checkIntegrity(t, tgt, "DC=target,DC=test", "S-1-5-21-2127521184-1604012920-1887927527")

	srcBySAM := map[string]*ldifcheck.Record{}
	for i := range src.recs {
		srcBySAM[src.recs[i].Get("sAMAccountName")] = &src.recs[i]
	}
	type diffRow struct {
		SAM     string
		Changed []string // templated attributes that differ from the source
	}
	var got []diffRow
	for _, r := range tgt.recs {
		if r.ChangeType != "" {
			t.Errorf("%s: target is ldapsearch style, has changetype", r.DN)
		}
		if kind(&r) != "user" || !strings.HasSuffix(r.DN, ",OU=Users,OU=Migrated,DC=target,DC=test") {
			continue
		}
		s := srcBySAM[r.Get("sAMAccountName")]
		if s == nil || s.Get("mail") != r.Get("mail") {
			t.Errorf("%s: no source user with the same sAMAccountName and mail", r.DN)
			continue
		}
		row := diffRow{SAM: r.Get("sAMAccountName")}
		want := map[string]string{
			"userPrincipalName": s.Get("sAMAccountName") + "@target.test",
			"givenName":         s.Get("givenName"), "sn": s.Get("sn"),
			"displayName": s.Get("displayName"), "department": s.Get("department"),
		}
		for _, a := range []string{"userPrincipalName", "givenName", "sn", "displayName", "department"} {
			if r.Get(a) != want[a] {
				row.Changed = append(row.Changed, a)
			}
		}
		got = append(got, row)
	}
	wantRows := []diffRow{
		{SAM: "ajohnson"},
		{SAM: "jsmith", Changed: []string{"department"}},
		{SAM: "jgarcia", Changed: []string{"userPrincipalName", "displayName"}},
		{SAM: "mchen", Changed: []string{"givenName", "displayName"}},
		{SAM: "dmiller"},
		{SAM: "lthompson", Changed: []string{"sn", "displayName"}},
	}
	if diff := cmp.Diff(wantRows, got); diff != "" {
		t.Errorf("pre-existing target users (-want +got):\n%s", diff)
	}
	if tgt.byDN["ou=workstations,ou=migrated,dc=target,dc=test"] != nil {
		t.Error("OU=Workstations,OU=Migrated should not exist yet")
	}
	if g := tgt.byDN["cn=gg-finance,ou=groups,ou=migrated,dc=target,dc=test"]; g == nil || len(g.Values("member")) != 3 {
		t.Error("GG-Finance should exist in the target with 3 members")
	}
}

func TestScaled(t *testing.T) {
	opts := estate.Options{Objects: 20000, Seed: 7, TargetUsers: 0.3}
	var srcBuf, tgtBuf bytes.Buffer
	srcStats, err := estate.WriteSource(&srcBuf, opts)
	if err != nil {
		t.Fatal(err)
	}
	tgtStats, err := estate.WriteTarget(&tgtBuf, opts)
	if err != nil {
		t.Fatal(err)
	}
	src, tgt := parse(t, srcBuf.Bytes()), parse(t, tgtBuf.Bytes())
	checkIntegrity(t, src, "DC=source,DC=test", "S-1-5-21-1474293181-2873316310-3370391855")
	checkIntegrity(t, tgt, "DC=target,DC=test", "S-1-5-21-914012563-2147950612-4017620931")

	if srcStats.Entries != len(src.recs) || tgtStats.Entries != len(tgt.recs) {
		t.Errorf("stats entries %d/%d, parsed %d/%d", srcStats.Entries, tgtStats.Entries, len(src.recs), len(tgt.recs))
	}
	const corp = ",ou=corp,dc=source,dc=test"
	const kiosks = ",ou=kiosks,ou=workstations" + corp
	count := map[string]int{}
	userMemberships, members := 0, 0
	osSeen := map[string]int{}
	var largest, kiosk int
	for _, r := range src.recs {
		dn := strings.ToLower(r.DN)
		if !strings.HasSuffix(dn, corp) {
			continue
		}
		k := kind(&r)
		count[k]++
		switch k {
		case "group":
			ms := r.Values("member")
			members += len(ms)
			largest = max(largest, len(ms))
			for _, m := range ms {
				if kind(src.byDN[strings.ToLower(m)]) == "user" {
					userMemberships++
				}
			}
		case "computer":
			osSeen[r.Get("operatingSystem")+" "+r.Get("operatingSystemVersion")]++
			if strings.HasSuffix(dn, kiosks) {
				kiosk++
			}
		}
	}
	if diff := cmp.Diff(map[string]int{"user": 12000, "group": 4000, "computer": 4000, "ou": srcStats.OUs - 1}, count); diff != "" {
		t.Errorf("objects below OU=Corp (-want +got):\n%s", diff)
	}
	if perUser := float64(userMemberships) / float64(count["user"]); perUser < 4 || perUser > 6 {
		t.Errorf("%.2f group memberships per user, want about 5", perUser)
	}
	if largest < 1000 || largest != srcStats.LargestGroup || members != srcStats.Memberships {
		t.Errorf("largest group %d (stats %d), memberships %d (stats %d)", largest, srcStats.LargestGroup, members, srcStats.Memberships)
	}
	if kiosk == 0 {
		t.Error("no kiosk to exclude")
	}
	for _, want := range []string{"Windows 10 Enterprise 10.0 (19045)", "Windows 11 Pro 10.0 (22631)",
		"Windows 7 Professional 6.1 (7601)", "Windows 7 Professional 6.1 (7600)", "Windows XP Professional 5.1 (2600)",
		"Windows Vista™ Business 6.0 (6002)", "Windows Server 2008 R2 Standard 6.1 (7601)",
		"Windows Server 2016 Standard 10.0 (14393)", "Windows Server 2019 Standard 10.0 (17763)",
		"Windows Server 2022 Standard 10.0 (20348)", "Ubuntu 22.04"} {
		if osSeen[want] == 0 {
			t.Errorf("no computer runs %q", want)
		}
	}

	// Target: migrated users match a source user on mail and
	// sAMAccountName; about 30% of source staff are there, about a third
	// of them with templated attributes that differ.
	srcBySAM := map[string]*ldifcheck.Record{}
	for i := range src.recs {
		srcBySAM[strings.ToLower(src.recs[i].Get("sAMAccountName"))] = &src.recs[i]
	}
	migrated, drifted, groups, computers := 0, 0, 0, 0
	for _, r := range tgt.recs {
		switch {
		case strings.HasSuffix(r.DN, ",OU=Users,OU=Migrated,DC=target,DC=test"):
			s := srcBySAM[strings.ToLower(r.Get("sAMAccountName"))]
			if s == nil || s.Get("mail") != r.Get("mail") {
				t.Errorf("%s: no source user with its sAMAccountName and mail", r.DN)
				continue
			}
			migrated++
			for _, a := range []string{"givenName", "sn", "displayName", "department"} {
				if s.Get(a) != r.Get(a) {
					drifted++
					break
				}
			}
		case strings.HasSuffix(r.DN, ",OU=Groups,OU=Migrated,DC=target,DC=test"):
			if srcBySAM[strings.ToLower(r.Get("sAMAccountName"))] == nil {
				t.Errorf("%s: no source group of that name", r.DN)
			}
			groups++
		case strings.HasSuffix(r.DN, ",OU=Workstations,OU=Migrated,DC=target,DC=test"):
			if srcBySAM[strings.ToLower(r.Get("sAMAccountName"))] == nil {
				t.Errorf("%s: no source computer of that name", r.DN)
			}
			computers++
		}
	}
	t.Logf("source: %v; %.2f memberships/user, largest group %d, %d kiosks; target: %d migrated users (%d drifted), %d groups, %d workstations",
		count, float64(userMemberships)/float64(count["user"]), largest, kiosk, migrated, drifted, groups, computers)
	staff := count["user"] - 60 // admin accounts are never pre-migrated
	if share := float64(migrated) / float64(staff); share < 0.27 || share > 0.33 {
		t.Errorf("%d of %d staff already in target (%.2f), want about 0.30", migrated, staff, share)
	}
	if share := float64(drifted) / float64(migrated); share < 0.2 || share > 0.3 {
		t.Errorf("%d of %d migrated users drifted (%.2f), want about 0.25", drifted, migrated, share)
	}
	if groups < 300 || groups > 500 || computers < 100 || computers > 250 {
		t.Errorf("target has %d migrated groups and %d workstations", groups, computers)
	}
}

func sum(t *testing.T, write func(*bytes.Buffer) error) [32]byte {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b.Bytes())
}

func TestScaled_deterministic(t *testing.T) {
	gen := func(o estate.Options) [2][32]byte {
		return [2][32]byte{
			sum(t, func(b *bytes.Buffer) error { _, err := estate.WriteSource(b, o); return err }),
			sum(t, func(b *bytes.Buffer) error { _, err := estate.WriteTarget(b, o); return err }),
		}
	}
	a := gen(estate.Options{Objects: 3000, Seed: 1, TargetUsers: 0.3})
	b := gen(estate.Options{Objects: 3000, Seed: 1, TargetUsers: 0.3})
	c := gen(estate.Options{Objects: 3000, Seed: 2, TargetUsers: 0.3})
	if a != b {
		t.Error("same options gave different bytes")
	}
	if a[0] == c[0] || a[1] == c[1] {
		t.Error("a different seed gave the same bytes")
	}
}

func TestScaled_options(t *testing.T) {
	tests := []struct {
		name string
		opts estate.Options
		want string
	}{
		{"too small", estate.Options{Objects: 10}, "estate of 10 objects: need at least 500"},
		{"fraction above one", estate.Options{Objects: 1000, TargetUsers: 1.5}, "target user fraction 1.5: want 0 to 1"},
		{"negative fraction", estate.Options{Objects: 1000, TargetUsers: -0.1}, "target user fraction -0.1: want 0 to 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, write := range []func() (estate.Stats, error){
				func() (estate.Stats, error) { return estate.WriteSource(&bytes.Buffer{}, tt.opts) },
				func() (estate.Stats, error) { return estate.WriteTarget(&bytes.Buffer{}, tt.opts) },
			} {
				if _, err := write(); err == nil || err.Error() != tt.want {
					t.Errorf("error %v, want %q", err, tt.want)
				}
			}
		})
	}
}

func TestScaled_smallestAndEmptyTarget(t *testing.T) {
	opts := estate.Options{Objects: estate.MinObjects, Seed: 3}
	var s, g bytes.Buffer
	if _, err := estate.WriteSource(&s, opts); err != nil {
		t.Fatal(err)
	}
	st, err := estate.WriteTarget(&g, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkIntegrity(t, parse(t, s.Bytes()), "DC=source,DC=test", "S-1-5-21-1474293181-2873316310-3370391855")
	checkIntegrity(t, parse(t, g.Bytes()), "DC=target,DC=test", "S-1-5-21-914012563-2147950612-4017620931")
	if st.Users != 10 { // only the target's own employees
		t.Errorf("target with TargetUsers 0 has %d users, want 10 natives", st.Users)
	}
}
