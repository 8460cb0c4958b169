package ldif

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/providers"
)

const (
	base   = "DC=source,DC=test"
	domSID = "S-1-5-21-1111111111-2222222222-3333333333"
)

// setup copies the fixture into a temporary directory and configures a
// provider on it.
func setup(t *testing.T) (*Provider, string) {
	t.Helper()
	data, err := os.ReadFile("testdata/source.ldif")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "source.ldif")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return configure(t, file), file
}

func configure(t *testing.T, file string) *Provider {
	t.Helper()
	p := New(hclog.NewNullLogger())
	diags, err := p.Configure(t.Context(), cty.ObjectVal(map[string]cty.Value{
		"file": cty.StringVal(file), "changes_file": cty.NullVal(cty.String),
	}))
	if err != nil || diags.HasErrors() {
		t.Fatalf("Configure: %v %v", err, diags)
	}
	return p
}

func discover(t *testing.T, p *Provider, scope providers.Scope) []providers.Object {
	t.Helper()
	var out []providers.Object
	if err := p.Discover(t.Context(), scope, func(objs []providers.Object) error {
		out = append(out, objs...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func byDN(objs []providers.Object) map[string]providers.Object {
	m := make(map[string]providers.Object, len(objs))
	for _, o := range objs {
		m[o.DN] = o
	}
	return m
}

func TestGetSchema(t *testing.T) {
	s, err := New(nil).GetSchema(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "ldif" || s.PID != os.Getpid() || len(s.Kinds) != 7 {
		t.Errorf("schema = %+v", s)
	}
	ty := s.Config.ImpliedType()
	if !ty.HasAttribute("file") || !ty.HasAttribute("changes_file") {
		t.Errorf("config type %#v", ty)
	}
	if got := DefaultChangesFile("/x/target.LDIF"); got != "/x/target.changes.ldif" {
		t.Errorf("DefaultChangesFile = %q", got)
	}
}

func TestConfigure_diagnostics(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.ldif")
	if err := os.WriteFile(bad, []byte("dn: CN=a,DC=x\nobjectSid:: !!!\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(csv, []byte("DN,objectClass\n\"CN=a,DC=x\",user\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	changes := filepath.Join(dir, "changes.ldif")
	if err := os.WriteFile(changes, []byte("version: 1\n\ndn: CN=a,DC=x\nchangetype: delete\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badDN := filepath.Join(dir, "baddn.ldif")
	if err := os.WriteFile(badDN, []byte("dn: CN=a,,DC=x\ncn: a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		config  cty.Value
		summary string
		detail  string
	}{
		{"no file", cty.ObjectVal(map[string]cty.Value{"file": cty.NullVal(cty.String)}), "Missing LDIF file", "ldifde -f"},
		{"wrong type", cty.StringVal("x"), "Missing LDIF file", "Set \"file\""},
		{"missing", cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal(filepath.Join(dir, "nope.ldif"))}), "LDIF file not found", "ldifde -f nope.ldif"},
		{"bad base64", cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal(bad)}), "Invalid LDIF file", "bad.ldif:2: value of \"objectSid\" is not valid base64"},
		// Configure reads the first record only; TestDiscover_streamErrors
		// has the problems further down.
		{"not LDIF", cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal(csv)}), "Invalid LDIF file", "users.csv:1: expected \"name: value\""},
		{"change file", cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal(changes)}), "Invalid LDIF file", "changes.ldif:3: a snapshot holds entries, found a \"delete\" change record"},
		{"bad DN", cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal(badDN)}), "Invalid LDIF file", "baddn.ldif:1: invalid DN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diags, err := New(nil).Configure(t.Context(), tt.config)
			if err != nil {
				t.Fatal(err)
			}
			if len(diags) != 1 {
				t.Fatalf("diags = %v", diags)
			}
			d := diags[0]
			if d.Severity != providers.SeverityError || d.Summary != tt.summary || !strings.Contains(d.Detail, tt.detail) {
				t.Errorf("got %q / %q", d.Summary, d.Detail)
			}
			if !d.Attribute.Equals(cty.GetAttrPath("file")) {
				t.Errorf("attribute path %#v", d.Attribute)
			}
		})
	}
}

func TestDiscover_scope(t *testing.T) {
	p, _ := setup(t)
	tests := []struct {
		name  string
		scope providers.Scope
		want  []string // "kind DN", sorted
	}{
		{"whole domain", providers.Scope{BaseDN: base}, []string{
			"computer CN=KIOSK01,OU=Kiosks,OU=Workstations,DC=source,DC=test",
			"computer CN=WS001,OU=Workstations,DC=source,DC=test",
			"contact CN=Partner Contact,OU=Staff,DC=source,DC=test",
			"foreign_principal CN=S-1-5-21-7-8-9-1201,CN=ForeignSecurityPrincipals,DC=source,DC=test",
			"group CN=Staff Group,OU=Staff,DC=source,DC=test",
			"ou OU=Kiosks,OU=Workstations,DC=source,DC=test",
			"ou OU=Staff,DC=source,DC=test",
			"ou OU=Users,OU=Staff,DC=source,DC=test",
			"ou OU=Workstations,DC=source,DC=test",
			"user CN=Administrator,CN=Users,DC=source,DC=test",
			"user CN=Müller Jörg,OU=Users,OU=Staff,DC=source,DC=test",
			`user CN=Smith\, John,OU=Users,OU=Staff,DC=source,DC=test`,
		}},
		{"include and exclude, case-insensitive", providers.Scope{BaseDN: "dc=SOURCE,dc=Test",
			IncludeOUs: []string{"ou=workstations,DC=source,DC=test"}, ExcludeOUs: []string{"OU=KIOSKS,OU=Workstations,DC=source,DC=test"}},
			[]string{
				"computer CN=WS001,OU=Workstations,DC=source,DC=test",
				"ou OU=Workstations,DC=source,DC=test",
			}},
		{"kinds keep OUs", providers.Scope{BaseDN: base, IncludeOUs: []string{"OU=Staff,DC=source,DC=test"}, Kinds: []providers.Kind{providers.KindGroup}},
			[]string{
				"group CN=Staff Group,OU=Staff,DC=source,DC=test",
				"ou OU=Staff,DC=source,DC=test",
				"ou OU=Users,OU=Staff,DC=source,DC=test",
			}},
		{"other naming context", providers.Scope{BaseDN: "DC=target,DC=test"}, nil},
		{"two includes", providers.Scope{BaseDN: base, IncludeOUs: []string{"OU=Users,OU=Staff,DC=source,DC=test", "OU=Kiosks,OU=Workstations,DC=source,DC=test"}, Kinds: []providers.Kind{providers.KindUser, providers.KindComputer}},
			[]string{
				"computer CN=KIOSK01,OU=Kiosks,OU=Workstations,DC=source,DC=test",
				"ou OU=Kiosks,OU=Workstations,DC=source,DC=test",
				"ou OU=Users,OU=Staff,DC=source,DC=test",
				"user CN=Müller Jörg,OU=Users,OU=Staff,DC=source,DC=test",
				`user CN=Smith\, John,OU=Users,OU=Staff,DC=source,DC=test`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, o := range discover(t, p, tt.scope) {
				got = append(got, string(o.Kind)+" "+o.DN)
			}
			sort.Strings(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiscover_objects(t *testing.T) {
	p, _ := setup(t)
	objs := byDN(discover(t, p, providers.Scope{BaseDN: base, Attributes: []string{"sAMAccountName", "sidhistory", "member", "cn"}}))
	want := map[string]providers.Object{
		`CN=Smith\, John,OU=Users,OU=Staff,DC=source,DC=test`: {
			Kind: providers.KindUser, DN: `CN=Smith\, John,OU=Users,OU=Staff,DC=source,DC=test`,
			GUID: "1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5", SID: domSID + "-1105", Token: "5028",
			Attrs: map[string][]string{"cn": {"Smith, John"}, "samaccountname": {"jsmith"}},
		},
		"CN=Müller Jörg,OU=Users,OU=Staff,DC=source,DC=test": {
			Kind: providers.KindUser, DN: "CN=Müller Jörg,OU=Users,OU=Staff,DC=source,DC=test",
			GUID: "2d3e4f50-6b7c-4d8e-9fa0-b1c2d3e4f506", SID: domSID + "-1106", Token: "5035",
			Attrs: map[string][]string{"cn": {"Müller Jörg"}, "samaccountname": {"jmuller"}, "sidhistory": {"S-1-5-21-7-8-9-1201"}},
		},
		"CN=Staff Group,OU=Staff,DC=source,DC=test": {
			Kind: providers.KindGroup, DN: "CN=Staff Group,OU=Staff,DC=source,DC=test",
			GUID: "3e4f5061-7c8d-4e9f-a0b1-c2d3e4f50617", SID: domSID + "-1107", Token: "5042",
			Attrs: map[string][]string{"cn": {"Staff Group"}, "samaccountname": {"Staff Group"},
				"member": {`CN=Smith\, John,OU=Users,OU=Staff,DC=source,DC=test`, "CN=Müller Jörg,OU=Users,OU=Staff,DC=source,DC=test"}},
		},
	}
	for dnStr, w := range want {
		if diff := cmp.Diff(w, objs[dnStr]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", dnStr, diff)
		}
	}
	all := byDN(discover(t, p, providers.Scope{BaseDN: base}))
	smith := all[`CN=Smith\, John,OU=Users,OU=Staff,DC=source,DC=test`]
	if got := smith.Get("objectsid"); got != domSID+"-1105" {
		t.Errorf("objectsid attr = %q", got)
	}
	if got := smith.Get("description"); !strings.Contains(got, "deliberately long so that ldifde has to fold") {
		t.Errorf("folded description = %q", got)
	}
	if got := smith.Get("objectguid"); got != "1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5" {
		t.Errorf("objectguid attr = %q", got)
	}
}

// apply runs one Apply call with the changes and returns the results by ID.
func apply(t *testing.T, p *Provider, changes ...providers.Change) map[int64]providers.Result {
	t.Helper()
	in := make(chan providers.Change, len(changes))
	for _, c := range changes {
		in <- c
	}
	close(in)
	out := make(map[int64]providers.Result)
	if err := p.Apply(t.Context(), in, func(r providers.Result) error {
		if _, dup := out[r.ID]; dup {
			t.Errorf("two results for change %d", r.ID)
		}
		out[r.ID] = r
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(out) != len(changes) {
		t.Fatalf("%d results for %d changes", len(out), len(changes))
	}
	return out
}

const (
	smithDN  = `CN=Smith\, John,OU=Users,OU=Staff,DC=source,DC=test`
	mullerDN = "CN=Müller Jörg,OU=Users,OU=Staff,DC=source,DC=test"
	groupDN  = "CN=Staff Group,OU=Staff,DC=source,DC=test"
)

func TestApply_errors(t *testing.T) {
	tests := []struct {
		name   string
		change providers.Change
		want   string
	}{
		{"missing parent", providers.Change{Op: providers.OpCreate, Kind: providers.KindUser, DN: "CN=x,OU=Nope,DC=source,DC=test"},
			"parent OU OU=Nope,DC=source,DC=test of CN=x,OU=Nope,DC=source,DC=test does not exist in source.ldif"},
		{"create existing", providers.Change{Op: providers.OpCreate, Kind: providers.KindUser, DN: `cn=smith\2c john,OU=Users,OU=Staff,DC=source,DC=test`},
			"already exists in source.ldif"},
		{"stale token", providers.Change{Op: providers.OpUpdate, DN: smithDN, Token: "5000",
			Attrs: []providers.AttrChange{{Name: "title", Op: providers.AttrReplace, Values: []string{"x"}}}},
			"changed since the plan was made"},
		{"unknown GUID", providers.Change{Op: providers.OpDelete, DN: smithDN, GUID: "00000000-0000-0000-0000-000000000000"},
			"No object with objectGUID 00000000-0000-0000-0000-000000000000"},
		{"unknown DN", providers.Change{Op: providers.OpUpdate, DN: "CN=ghost,DC=source,DC=test"}, "No object CN=ghost"},
		{"add existing value", providers.Change{Op: providers.OpUpdate, DN: smithDN,
			Attrs: []providers.AttrChange{{Name: "MAIL", Op: providers.AttrAdd, Values: []string{"John.Smith@source.test"}}}},
			"already has the value"},
		{"delete missing value", providers.Change{Op: providers.OpUpdate, DN: smithDN,
			Attrs: []providers.AttrChange{{Name: "mail", Op: providers.AttrDelete, Values: []string{"other@x"}}}},
			`has no value "other@x"`},
		{"delete missing attribute", providers.Change{Op: providers.OpUpdate, DN: smithDN,
			Attrs: []providers.AttrChange{{Name: "title", Op: providers.AttrDelete}}}, "has no title to delete"},
		{"naming attribute", providers.Change{Op: providers.OpUpdate, DN: smithDN,
			Attrs: []providers.AttrChange{{Name: "CN", Op: providers.AttrReplace, Values: []string{"y"}}}}, "naming attribute"},
		{"system attribute", providers.Change{Op: providers.OpUpdate, DN: smithDN,
			Attrs: []providers.AttrChange{{Name: "objectGUID", Op: providers.AttrReplace, Values: []string{"y"}}}}, "maintained by the directory"},
		{"delete non-leaf", providers.Change{Op: providers.OpDelete, DN: "OU=Staff,DC=source,DC=test"}, "has 3 child objects"},
		{"move into itself", providers.Change{Op: providers.OpMove, DN: "OU=Staff,DC=source,DC=test", NewDN: "OU=Staff,OU=Users,OU=Staff,DC=source,DC=test"}, "below itself"},
		{"move onto existing", providers.Change{Op: providers.OpMove, DN: smithDN, NewDN: mullerDN}, "already exists"},
		{"move to missing parent", providers.Change{Op: providers.OpMove, DN: smithDN, NewDN: "CN=x,OU=Gone,DC=source,DC=test"}, "does not exist"},
		{"invalid attribute name", providers.Change{Op: providers.OpUpdate, DN: smithDN,
			Attrs: []providers.AttrChange{{Name: "display Name", Op: providers.AttrReplace, Values: []string{"x"}}}}, "not a valid LDAP attribute name"},
		{"invalid attribute name on create", providers.Change{Op: providers.OpCreate, Kind: providers.KindUser, DN: "CN=n,OU=Staff,DC=source,DC=test",
			Attrs: []providers.AttrChange{{Name: "mail:", Op: providers.AttrReplace, Values: []string{"x"}}}}, "not a valid LDAP attribute name"},
		{"bad SID value", providers.Change{Op: providers.OpUpdate, DN: smithDN,
			Attrs: []providers.AttrChange{{Name: "sIDHistory", Op: providers.AttrAdd, Values: []string{"S-1-x"}}}}, "Value of sIDHistory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, file := setup(t)
			before, _ := os.ReadFile(file)
			tt.change.ID = 1
			r := apply(t, p, tt.change)[1]
			if !strings.Contains(r.Error, tt.want) {
				t.Errorf("Error = %q, want %q", r.Error, tt.want)
			}
			after, _ := os.ReadFile(file)
			if string(before) != string(after) {
				t.Error("a failed change rewrote the snapshot")
			}
			if _, err := os.Stat(DefaultChangesFile(file)); err == nil {
				t.Error("a failed change wrote the changes file")
			}
		})
	}
}

// TestApply_roundTrip applies every kind of change, then discovers from a
// fresh provider over the rewritten snapshot.
func TestApply_roundTrip(t *testing.T) {
	p, file := setup(t)
	res := apply(t, p,
		providers.Change{ID: 1, Op: providers.OpCreate, Kind: providers.KindOU, DN: "OU=Migrated,DC=source,DC=test"},
		providers.Change{ID: 2, Op: providers.OpCreate, Kind: providers.KindUser, DN: "CN=Zoë Ñandú,OU=Migrated,DC=source,DC=test",
			Attrs: []providers.AttrChange{
				{Name: "sAMAccountName", Op: providers.AttrReplace, Values: []string{"zoe"}},
				{Name: "displayName", Op: providers.AttrReplace, Values: []string{"Zoë Ñandú"}},
				{Name: "cn", Op: providers.AttrReplace, Values: []string{"ignored, the RDN wins"}},
				{Name: "sIDHistory", Op: providers.AttrReplace, Values: []string{"S-1-5-21-7-8-9-1301"}},
			}},
		providers.Change{ID: 3, Op: providers.OpUpdate, DN: groupDN, Token: "5042", Attrs: []providers.AttrChange{
			{Name: "member", Op: providers.AttrAdd, Values: []string{"CN=Zoë Ñandú,OU=Migrated,DC=source,DC=test", `cn=smith\, john,ou=users,ou=staff,dc=source,dc=test`}},
			{Name: "member", Op: providers.AttrDelete, Values: []string{mullerDN, "CN=not a member,DC=source,DC=test"}},
			{Name: "description", Op: providers.AttrReplace, Values: []string{"Migrated staff"}},
		}},
		providers.Change{ID: 4, Op: providers.OpMove, DN: "OU=Workstations,DC=source,DC=test", NewDN: "OU=Devices,OU=Migrated,DC=source,DC=test"},
		providers.Change{ID: 5, Op: providers.OpMove, GUID: "1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5", DN: smithDN, NewDN: `CN=Smith\, John,OU=Migrated,DC=source,DC=test`},
		providers.Change{ID: 6, Op: providers.OpDelete, DN: "CN=Partner Contact,OU=Staff,DC=source,DC=test"},
		providers.Change{ID: 7, Op: providers.OpUpdate, DN: smithDN + "x", GUID: "{1C2D3E4F-5A6B-4C7D-8E9F-A0B1C2D3E4F5}", Attrs: []providers.AttrChange{
			{Name: "mail", Op: providers.AttrDelete},
			{Name: "title", Op: providers.AttrAdd, Values: []string{"Controller"}},
		}},
		providers.Change{ID: 8, Op: providers.OpCreate, Kind: providers.KindGroup, DN: "CN=Devs,OU=Migrated,DC=source,DC=test"},
		providers.Change{ID: 9, Op: providers.OpUpdate, DN: "CN=Devs,OU=Migrated,DC=source,DC=test", Attrs: []providers.AttrChange{
			{Name: "member", Op: providers.AttrDelete, Values: []string{smithDN}}}}, // lenient, nothing to do
	)
	for id, r := range res {
		if r.Error != "" {
			t.Fatalf("change %d: %s", id, r.Error)
		}
	}
	if res[2].SID != domSID+"-1110" || res[8].SID != domSID+"-1111" {
		t.Errorf("allocated SIDs %q %q, want the domain SID with RIDs 1110, 1111", res[2].SID, res[8].SID)
	}
	if res[1].SID != "" || len(res[1].GUID) != 36 || res[2].GUID == res[1].GUID {
		t.Errorf("OU result %+v", res[1])
	}
	if res[5].DN != `CN=Smith\, John,OU=Migrated,DC=source,DC=test` {
		t.Errorf("move result DN %q", res[5].DN)
	}
	if _, err := os.Stat(JournalPath(file)); !os.IsNotExist(err) {
		t.Errorf("journal left after apply: %v", err)
	}

	fresh := configure(t, file)
	objs := byDN(discover(t, fresh, providers.Scope{BaseDN: base}))
	zoe := objs["CN=Zoë Ñandú,OU=Migrated,DC=source,DC=test"]
	if zoe.Kind != providers.KindUser || zoe.GUID != res[2].GUID || zoe.SID != res[2].SID || zoe.Token != res[2].Token {
		t.Errorf("created user discovered as %+v, result %+v", zoe, res[2])
	}
	wantZoe := map[string][]string{
		"cn": {"Zoë Ñandú"}, "name": {"Zoë Ñandú"}, "samaccountname": {"zoe"}, "displayname": {"Zoë Ñandú"},
		"objectclass":       {"top", "person", "organizationalPerson", "user"},
		"sidhistory":        {"S-1-5-21-7-8-9-1301"},
		"distinguishedname": {"CN=Zoë Ñandú,OU=Migrated,DC=source,DC=test"},
	}
	for k, v := range wantZoe {
		if diff := cmp.Diff(v, zoe.Attrs[k]); diff != "" {
			t.Errorf("zoe %s (-want +got):\n%s", k, diff)
		}
	}
	group := objs[groupDN]
	// Smith moved after being added: the link follows him, as in AD.
	wantMembers := []string{`CN=Smith\, John,OU=Migrated,DC=source,DC=test`, "CN=Zoë Ñandú,OU=Migrated,DC=source,DC=test"}
	if diff := cmp.Diff(wantMembers, group.Attrs["member"]); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if group.Get("description") != "Migrated staff" || group.Token == "5042" {
		t.Errorf("group %+v", group)
	}
	smith := objs[`CN=Smith\, John,OU=Migrated,DC=source,DC=test`]
	if smith.GUID != "1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5" || smith.Get("mail") != "" || smith.Get("title") != "Controller" ||
		smith.Get("distinguishedname") != `CN=Smith\, John,OU=Migrated,DC=source,DC=test` || smith.Get("cn") != "Smith, John" {
		t.Errorf("moved and updated user %+v", smith)
	}
	for _, dnStr := range []string{"CN=WS001,OU=Devices,OU=Migrated,DC=source,DC=test", "CN=KIOSK01,OU=Kiosks,OU=Devices,OU=Migrated,DC=source,DC=test", "OU=Devices,OU=Migrated,DC=source,DC=test"} {
		if _, ok := objs[dnStr]; !ok {
			t.Errorf("%s missing after the OU move", dnStr)
		}
	}
	if dev := objs["OU=Devices,OU=Migrated,DC=source,DC=test"]; dev.Get("ou") != "Devices" {
		t.Errorf("moved OU keeps its old ou value: %v", objs["OU=Devices,OU=Migrated,DC=source,DC=test"].Attrs["ou"])
	}
	for _, gone := range []string{"CN=Partner Contact,OU=Staff,DC=source,DC=test", "OU=Workstations,DC=source,DC=test", smithDN} {
		if _, ok := objs[gone]; ok {
			t.Errorf("%s still discovered", gone)
		}
	}

	// The changes file is valid LDIF holding what ldapmodify must do, and
	// none of the directory-maintained attributes.
	f, err := os.Open(DefaultChangesFile(file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := ReadAll(NewReader(f, "changes.ldif", ReaderOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, r := range recs {
		kinds = append(kinds, r.ChangeType+" "+r.DN)
		for _, a := range r.Attrs {
			if systemAttrs[strings.ToLower(a.Name)] {
				t.Errorf("changes file sets %s on %s", a.Name, r.DN)
			}
		}
	}
	wantKinds := []string{
		"add OU=Migrated,DC=source,DC=test",
		"add CN=Zoë Ñandú,OU=Migrated,DC=source,DC=test",
		"modify " + groupDN,
		"moddn OU=Workstations,DC=source,DC=test",
		"moddn " + smithDN,
		"delete CN=Partner Contact,OU=Staff,DC=source,DC=test",
		`modify CN=Smith\, John,OU=Migrated,DC=source,DC=test`,
		"add CN=Devs,OU=Migrated,DC=source,DC=test",
	}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("changes file (-want +got):\n%s", diff)
	}
	snap, _ := os.ReadFile(file)
	if !strings.HasPrefix(string(snap), generationPrefix+"1\n") {
		t.Errorf("snapshot header: %q", snap[:40])
	}

	// Applying the same member change again is a no-op, not an error.
	again := apply(t, configure(t, file), providers.Change{ID: 1, Op: providers.OpUpdate, DN: groupDN, Attrs: []providers.AttrChange{
		{Name: "Member", Op: providers.AttrAdd, Values: []string{"cn=zoë ñandú,ou=migrated,dc=source,dc=test"}}}})
	if again[1].Error != "" || again[1].Token != group.Token {
		t.Errorf("idempotent member add: %+v (token before %s)", again[1], group.Token)
	}
}

func TestApply_concurrentChanges(t *testing.T) {
	p, file := setup(t)
	in := make(chan providers.Change)
	results := make(chan providers.Result, 200)
	done := make(chan error, 1)
	go func() {
		done <- p.Apply(t.Context(), in, func(r providers.Result) error { results <- r; return nil })
	}()
	const n = 200
	sendDone := make(chan struct{})
	for w := 0; w < 4; w++ {
		go func(w int) {
			for i := w; i < n; i += 4 {
				in <- providers.Change{ID: int64(i), Op: providers.OpCreate, Kind: providers.KindContact,
					DN: "CN=c" + string(rune('a'+w)) + itoa(i) + ",OU=Staff,DC=source,DC=test"}
			}
			sendDone <- struct{}{}
		}(w)
	}
	for w := 0; w < 4; w++ {
		<-sendDone
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	close(results)
	seen := map[int64]bool{}
	for r := range results {
		if r.Error != "" || seen[r.ID] {
			t.Fatalf("result %+v (seen %v)", r, seen[r.ID])
		}
		seen[r.ID] = true
	}
	if len(seen) != n {
		t.Fatalf("%d results", len(seen))
	}
	objs := discover(t, configure(t, file), providers.Scope{BaseDN: base, Kinds: []providers.Kind{providers.KindContact}})
	if len(objs) != n+4+1 { // + the four OUs + the fixture's contact
		t.Errorf("%d objects discovered", len(objs))
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestApply_links: link values (member, manager, ...) follow a moved or
// renamed object and its subtree, and vanish with a deleted one, in memory
// and after replay from the journal.
func TestApply_links(t *testing.T) {
	for _, replay := range []bool{false, true} {
		t.Run(fmt.Sprintf("replay=%v", replay), func(t *testing.T) {
			p, file := setup(t)
			p.skipFold = replay
			res := apply(t, p,
				providers.Change{ID: 1, Op: providers.OpUpdate, DN: smithDN, Attrs: []providers.AttrChange{
					{Name: "manager", Op: providers.AttrReplace, Values: []string{mullerDN}}}},
				providers.Change{ID: 2, Op: providers.OpMove, DN: "OU=Users,OU=Staff,DC=source,DC=test", NewDN: "OU=People,DC=source,DC=test"},
				providers.Change{ID: 3, Op: providers.OpDelete, DN: "CN=Müller Jörg,OU=People,DC=source,DC=test"},
			)
			for id, r := range res {
				if r.Error != "" {
					t.Fatalf("change %d: %s", id, r.Error)
				}
			}
			if replay {
				p = configure(t, file)
			}
			objs := byDN(discover(t, p, providers.Scope{BaseDN: base}))
			group := objs[groupDN]
			if diff := cmp.Diff([]string{`CN=Smith\, John,OU=People,DC=source,DC=test`}, group.Attrs["member"]); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
			smith := objs[`CN=Smith\, John,OU=People,DC=source,DC=test`]
			if m, ok := smith.Attrs["manager"]; ok {
				t.Errorf("manager of Smith still names the deleted Müller: %q", m)
			}
			if got := smith.Get("memberof"); got != groupDN {
				t.Errorf("memberOf = %q", got)
			}
		})
	}
}

// TestApply_passwords: password attributes reach the changes file (for
// ldapmodify) but never the snapshot, the journal or a result.
func TestApply_passwords(t *testing.T) {
	p, file := setup(t)
	const secret = "\"S3cret-Passw0rd\""
	res := apply(t, p,
		providers.Change{ID: 1, Op: providers.OpCreate, Kind: providers.KindUser, DN: "CN=pw,OU=Staff,DC=source,DC=test", Attrs: []providers.AttrChange{
			{Name: "unicodePwd", Op: providers.AttrReplace, Values: []string{secret}}}},
		providers.Change{ID: 2, Op: providers.OpUpdate, DN: smithDN, Attrs: []providers.AttrChange{
			{Name: "unicodePwd", Op: providers.AttrReplace, Values: []string{secret}}}},
	)
	for _, r := range res {
		if r.Error != "" || strings.Contains(fmt.Sprint(r), "S3cret") {
			t.Fatalf("result %+v", r)
		}
	}
	if snap, _ := os.ReadFile(file); strings.Contains(string(snap), "unicodePwd") {
		t.Error("the snapshot holds a password")
	}
	recs, err := ReadAll(NewReader(mustOpen(t, DefaultChangesFile(file)), "changes", ReaderOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Get("unicodePwd") == nil || len(recs[1].Mods) != 1 || recs[1].Mods[0].Attr.Values[0] != secret {
		t.Errorf("changes file records %+v", recs)
	}
	if tok := byDN(discover(t, p, providers.Scope{BaseDN: base}))[smithDN].Token; tok == "5028" {
		t.Error("a password change did not change the token")
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestDiscover_objectsAreStable: objects handed out by Discover do not
// change when a later Apply changes the same entries (in-process hosts keep
// them for the plan).
func TestDiscover_objectsAreStable(t *testing.T) {
	p, _ := setup(t)
	before := byDN(discover(t, p, providers.Scope{BaseDN: base}))[groupDN]
	want := append([]string(nil), before.Attrs["member"]...)
	apply(t, p,
		providers.Change{ID: 1, Op: providers.OpUpdate, DN: groupDN, Attrs: []providers.AttrChange{
			{Name: "member", Op: providers.AttrDelete, Values: []string{smithDN}}}},
		providers.Change{ID: 2, Op: providers.OpMove, DN: mullerDN, NewDN: "CN=M,OU=Staff,DC=source,DC=test"},
	)
	if diff := cmp.Diff(want, before.Attrs["member"]); diff != "" {
		t.Errorf("a discovered object changed under its holder (-want +got):\n%s", diff)
	}
	after := byDN(discover(t, p, providers.Scope{BaseDN: base}))[groupDN]
	if diff := cmp.Diff([]string{"CN=M,OU=Staff,DC=source,DC=test"}, after.Attrs["member"]); diff != "" {
		t.Errorf("members after apply (-want +got):\n%s", diff)
	}
}

// TestDiscover_rangedAndOptions: ranged values merge into one attribute,
// ";binary" is dropped, other options stay, names are lower-cased.
func TestDiscover_rangedAndOptions(t *testing.T) {
	file := filepath.Join(t.TempDir(), "r.ldif")
	data := "dn: CN=g,DC=x\nobjectClass: group\nmember;range=0-1: CN=a,DC=x\nmember;range=0-1: CN=b,DC=x\n" +
		"member;range=2-*: CN=c,DC=x\nuserCertificate;binary:: AAE=\ndescription;lang-de: Gruppe\n"
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	objs := discover(t, configure(t, file), providers.Scope{BaseDN: "DC=x"})
	if len(objs) != 1 {
		t.Fatalf("%d objects", len(objs))
	}
	want := map[string][]string{
		"objectclass":         {"group"},
		"member":              {"CN=a,DC=x", "CN=b,DC=x", "CN=c,DC=x"},
		"usercertificate":     {"\x00\x01"},
		"description;lang-de": {"Gruppe"},
	}
	if diff := cmp.Diff(want, objs[0].Attrs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if objs[0].Token == "" || objs[0].Token[0] != 'h' {
		t.Errorf("token without uSNChanged = %q, want a content hash", objs[0].Token)
	}
}
