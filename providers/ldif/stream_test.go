package ldif

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/providers"
)

// discoverBoth discovers file with scope twice: streamed, as plan does
// (nothing loaded), and from the loaded snapshot, as after an Apply. It
// returns both results and errors.
func discoverBoth(t testing.TB, file string, scope providers.Scope) (streamed, loaded []providers.Object, serr, lerr error) {
	t.Helper()
	collect := func(out *[]providers.Object) func([]providers.Object) error {
		return func(objs []providers.Object) error {
			if len(objs) == 0 || len(objs) > batchSize {
				t.Errorf("batch of %d objects", len(objs))
			}
			*out = append(*out, objs...)
			return nil
		}
	}
	config := cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal(file)})
	p := New(nil)
	if diags, err := p.Configure(t.Context(), config); err != nil || diags.HasErrors() {
		t.Fatalf("Configure: %v %v", err, diags)
	}
	serr = p.Discover(t.Context(), scope, collect(&streamed))
	if p.st != nil {
		t.Fatal("Discover loaded the snapshot instead of streaming it")
	}
	q := New(nil)
	if diags, err := q.Configure(t.Context(), config); err != nil || diags.HasErrors() {
		t.Fatalf("Configure: %v %v", err, diags)
	}
	q.mu.Lock()
	lerr = q.loadLocked()
	q.mu.Unlock()
	if lerr == nil {
		lerr = q.Discover(t.Context(), scope, collect(&loaded))
	}
	return streamed, loaded, serr, lerr
}

// trickyLDIF exercises what the streaming path does differently: a BOM,
// CRLF, comments, base64 and folded DNs and values, attributes repeated
// further down, ranged values, file URLs, and entries without uSNChanged
// (whose token hashes the whole entry) after entries with it.
const trickyLDIF = "\ufeffversion: 1\r\n# export\r\n#  folded comment\r\n \r\n\r\n" +
	"dn: DC=x\r\nobjectClass: top\r\nobjectClass: domainDNS\r\nobjectSid:: AQQAAAAAAAUVAAAAve3fV9ZTQ6svGeTI\r\nuSNChanged: 7\r\n\r\n" +
	"dn: OU=A,DC=x\r\nchangetype: add\r\nobjectClass: organizationalUnit\r\nou: A\r\nuSNChanged: 8\r\n\r\n" +
	"dn:: Q049SsO8cmdlbixPVT1BLERDPXg=\r\nobjectClass: user\r\ncn:: SsO8cmdlbg==\r\ndescription: a long value that is\r\n  folded\r\n" +
	"objectGUID:: fpPh++kTjEWMBW/H/BT26A==\r\nsn: X\r\nobjectSid:: AQUAAAAAAAUVAAAAve3fV9ZTQ6svGeTIqxEAAA==\r\n" +
	"sIDHistory:: AQUAAAAAAAUVAAAABwAAAAgAAAAJAAAAsQQAAA==\r\ncn: second cn\r\nuSNChanged: 9\r\nuserCertificate;binary:: AAE=\r\n\r\n" +
	"dn: CN=g,OU=A,DC=x\r\nobjectClass: top\r\nobjectClass: group\r\nmember;range=0-1: CN=a,DC=x\r\nmember: CN=z,DC=x\r\n" +
	"member;range=0-1: CN=b,DC=x\r\nmember;range=2-*: CN=c,DC=x\r\ndescription;lang-de: Gruppe\r\nobjectGUID: 3e4f5061-7c8d-4e9f-a0b1-c2d3e4f50617\r\n" +
	"notes:< file:note.txt\r\nobjectSid: S-1-5-21-1-2-3-1107\r\n\r\n" +
	"dn: CN=pc,OU=A,DC=x\r\nobjectClass: computer\r\nobjectClass: user\r\nsAMAccountName: PC$\r\ndNSHostName: pc.x\r\n" +
	"uSNChanged:\r\ncn: pc\r\n\r\n" +
	"dn: CN=c,DC=x\r\nobjectClass: contact\r\ncn: c\r\nmail: c@x\r\n\r\n" +
	"dn: CN=S-1-5-21-7-8-9-1201,DC=x\r\nobjectClass: foreignSecurityPrincipal\r\n\r\n" +
	"dn: CN=other,DC=x\r\nobjectClass: container\r\ncn: other\r\n"

func TestDiscover_streamMatchesLoaded(t *testing.T) {
	dir := t.TempDir()
	tricky := filepath.Join(dir, "tricky.ldif")
	if err := os.WriteFile(tricky, []byte(trickyLDIF), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "note.txt"), []byte("from a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	all := []providers.Kind{providers.KindUser, providers.KindGroup, providers.KindComputer, providers.KindOU}
	files := []struct {
		file   string
		scopes []providers.Scope
	}{
		{"testdata/source.ldif", []providers.Scope{
			{BaseDN: base},
			{BaseDN: "dc=SOURCE,dc=Test", IncludeOUs: []string{"ou=workstations,DC=source,DC=test"}, ExcludeOUs: []string{"OU=KIOSKS,OU=Workstations,DC=source,DC=test"}},
			{BaseDN: base, IncludeOUs: []string{"OU=Users,OU=Staff,DC=source,DC=test", "OU=Kiosks,OU=Workstations,DC=source,DC=test"}, Kinds: []providers.Kind{providers.KindUser, providers.KindComputer}},
			{BaseDN: base, Kinds: all, Attributes: plannerAttrs},
			{BaseDN: base, Attributes: []string{"sAMAccountName", "objectGUID", "objectSid", "uSNChanged", "objectClass"}},
			{BaseDN: base, Attributes: []string{}},
			{BaseDN: "DC=target,DC=test"},
		}},
		{"../../examples/quickstart/source.ldif", []providers.Scope{
			{BaseDN: "DC=source,DC=test"},
			{BaseDN: "DC=source,DC=test", IncludeOUs: []string{"OU=Corp,DC=source,DC=test"},
				ExcludeOUs: []string{"OU=Kiosks,OU=Workstations,OU=Corp,DC=source,DC=test"}, Kinds: all, Attributes: plannerAttrs},
			{BaseDN: "DC=source,DC=test", IncludeOUs: []string{"OU=Staff,OU=Corp,DC=source,DC=test", "OU=Groups,OU=Corp,DC=source,DC=test"},
				Kinds: []providers.Kind{providers.KindGroup}, Attributes: []string{"member", "cn"}},
		}},
		{"../../examples/quickstart/target.ldif", []providers.Scope{
			{BaseDN: "DC=target,DC=test"},
			{BaseDN: "DC=target,DC=test", Kinds: all, Attributes: plannerAttrs},
			{BaseDN: "DC=target,DC=test", ExcludeOUs: []string{"OU=Groups,OU=Migrated,DC=target,DC=test"}, Attributes: []string{"samaccountname"}},
		}},
		{tricky, []providers.Scope{
			{BaseDN: "DC=x"},
			{BaseDN: "DC=x", Attributes: []string{"cn", "member", "sidhistory", "description;lang-de", "notes"}},
			{BaseDN: "DC=x", Attributes: []string{"samaccountname"}, ExcludeOUs: []string{"CN=g,OU=A,DC=x"}},
			{BaseDN: "DC=x", Attributes: []string{"dnshostname"}, Kinds: []providers.Kind{providers.KindComputer}},
			{BaseDN: "OU=A,DC=x", Attributes: []string{"usercertificate"}},
		}},
	}
	for _, f := range files {
		for i, scope := range f.scopes {
			t.Run(filepath.Base(f.file)+"/"+string(rune('a'+i)), func(t *testing.T) {
				streamed, loaded, serr, lerr := discoverBoth(t, f.file, scope)
				if serr != nil || lerr != nil {
					t.Fatalf("streamed: %v; loaded: %v", serr, lerr)
				}
				if len(loaded) == 0 && scope.BaseDN != "DC=target,DC=test" {
					t.Fatal("no objects: the comparison proves nothing")
				}
				if diff := cmp.Diff(loaded, streamed); diff != "" {
					t.Errorf("streamed differs from loaded (-loaded +streamed):\n%s", diff)
				}
			})
		}
	}
}

// TestDiscover_streamKeeps checks a few values of the tricky file directly,
// so that the comparison above is not between two equal mistakes.
func TestDiscover_streamKeeps(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tricky.ldif")
	os.WriteFile(file, []byte(trickyLDIF), 0o644)
	os.WriteFile(filepath.Join(dir, "note.txt"), []byte("from a file"), 0o644)
	objs, _, serr, _ := discoverBoth(t, file, providers.Scope{BaseDN: "DC=x", Attributes: []string{"cn", "member", "sidhistory", "notes"}})
	if serr != nil {
		t.Fatal(serr)
	}
	got := byDN(objs)
	if len(objs) != 6 {
		t.Errorf("%d objects, want 6 (the domain and the container are not kinds)", len(objs))
	}
	u := got["CN=Jürgen,OU=A,DC=x"]
	want := providers.Object{Kind: providers.KindUser, DN: "CN=Jürgen,OU=A,DC=x", GUID: "fbe1937e-13e9-458c-8c05-6fc7fc14f6e8",
		SID: "S-1-5-21-1474293181-2873316310-3370391855-4523", Token: "9",
		Attrs: map[string][]string{"cn": {"Jürgen", "second cn"}, "sidhistory": {"S-1-5-21-7-8-9-1201"}}}
	if diff := cmp.Diff(want, u); diff != "" {
		t.Errorf("user (-want +got):\n%s", diff)
	}
	g := got["CN=g,OU=A,DC=x"]
	if diff := cmp.Diff(map[string][]string{"member": {"CN=a,DC=x", "CN=b,DC=x", "CN=z,DC=x", "CN=c,DC=x"}, "notes": {"from a file"}}, g.Attrs); diff != "" {
		t.Errorf("group attributes (-want +got):\n%s", diff)
	}
	if g.GUID != "3e4f5061-7c8d-4e9f-a0b1-c2d3e4f50617" || g.SID != "S-1-5-21-1-2-3-1107" || !strings.HasPrefix(g.Token, "h") {
		t.Errorf("group identity %q %q %q", g.GUID, g.SID, g.Token)
	}
	if pc := got["CN=pc,OU=A,DC=x"]; pc.Kind != providers.KindComputer || !strings.HasPrefix(pc.Token, "h") || pc.Attrs["cn"][0] != "pc" {
		t.Errorf("computer with an empty uSNChanged: %+v", pc)
	}
}

// TestDiscover_streamErrors: problems past the first record, which
// Configure no longer reads, come out of Discover naming file:line, the
// same as loading the snapshot reports them, even in attributes Discover
// was not asked for.
func TestDiscover_streamErrors(t *testing.T) {
	const head = "dn: DC=x\nobjectClass: domainDNS\n\n"
	tests := []struct {
		name, data, want string
	}{
		{"duplicate", "dn: CN=a,DC=x\ncn: a\n\ndn: cn=A,dc=X\ncn: a\n", `f.ldif:4: entry "cn=A,dc=X" appears twice`},
		{"duplicate out of scope", head + "dn: CN=a,DC=y\ncn: a\n\ndn: cn=A,dc=Y\ncn: a\n", `f.ldif:7: entry "cn=A,dc=Y" appears twice`},
		{"bad base64 not asked for", head + "dn: CN=a,DC=x\nobjectClass: user\nthumbnailPhoto:: !!!\n", `f.ldif:6: value of "thumbnailPhoto" is not valid base64`},
		{"bad base64 out of scope", head + "dn: CN=a,DC=y\nobjectClass: user\nthumbnailPhoto:: AAE\n", `f.ldif:6: value of "thumbnailPhoto" is not valid base64`},
		{"missing file URL", head + "dn: CN=a,DC=x\nobjectClass: user\nphoto:< file:nope.jpg\n", `f.ldif:6: value of "photo"`},
		{"change record", head + "dn: CN=a,DC=x\nchangetype: modify\nreplace: cn\ncn: b\n-\n", `f.ldif:4: a snapshot holds entries, found a "modify" change record`},
		{"bad DN", head + "dn: CN=a,DC=x\ncn: a\n\ndn: CN=b;;\ncn: b\n", `f.ldif:7: invalid DN`},
		{"bad line", head + "dn: CN=a,DC=x\ncn a\n", `f.ldif:5: expected "name: value"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "f.ldif")
			if err := os.WriteFile(file, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, serr, lerr := discoverBoth(t, file, providers.Scope{BaseDN: "DC=x", Attributes: []string{"cn"}})
			var se, le *Error
			if !errors.As(serr, &se) || !errors.As(lerr, &le) {
				t.Fatalf("streamed: %v; loaded: %v; want *Error from both", serr, lerr)
			}
			if diff := cmp.Diff(le, se); diff != "" {
				t.Errorf("streamed error differs from loaded (-loaded +streamed):\n%s", diff)
			}
			if !strings.Contains(serr.Error(), tt.want) {
				t.Errorf("error %q, want %q", serr, tt.want)
			}
		})
	}
}

// TestConfigure_isCheap: Configure reads only the head of the snapshot;
// Discover streams it and Apply loads it when first needed.
func TestConfigure_isCheap(t *testing.T) {
	p, file := setup(t)
	if p.st != nil {
		t.Fatal("Configure loaded the snapshot")
	}
	if n := len(discover(t, p, providers.Scope{BaseDN: base})); n != 12 || p.st != nil {
		t.Fatalf("Discover: %d objects, loaded %v", n, p.st != nil)
	}
	res := apply(t, p, providers.Change{ID: 1, Op: providers.OpCreate, Kind: providers.KindOU, DN: "OU=Lazy,DC=source,DC=test"})
	if res[1].Error != "" || p.st == nil {
		t.Fatalf("Apply: %+v, loaded %v", res[1], p.st != nil)
	}
	if objs := byDN(discover(t, p, providers.Scope{BaseDN: base})); objs["OU=Lazy,DC=source,DC=test"].GUID != res[1].GUID {
		t.Error("Discover after Apply does not see the created OU")
	}
	data, _ := os.ReadFile(file)
	if !strings.Contains(string(data), "dn: OU=Lazy,DC=source,DC=test") {
		t.Error("the snapshot was not folded")
	}
}

// TestDiscover_replaysJournal: a journal that appears after Configure (a
// killed apply of another process) is replayed by Discover, as by loading.
func TestDiscover_replaysJournal(t *testing.T) {
	writer, file := setup(t)
	reader := configure(t, file)
	writer.skipFold = true
	res := apply(t, writer, providers.Change{ID: 1, Op: providers.OpCreate, Kind: providers.KindOU, DN: "OU=Journaled,DC=source,DC=test"})
	if _, err := os.Stat(JournalPath(file)); err != nil {
		t.Fatalf("no journal left: %v", err)
	}
	objs := byDN(discover(t, reader, providers.Scope{BaseDN: base}))
	if objs["OU=Journaled,DC=source,DC=test"].GUID != res[1].GUID {
		t.Error("the journaled OU was not replayed")
	}
	if _, err := os.Stat(JournalPath(file)); !os.IsNotExist(err) {
		t.Errorf("journal not folded: %v", err)
	}
}

// FuzzDiscover: for any snapshot that Configure accepts, streaming Discover
// and Discover of the loaded snapshot give the same objects, or the same
// *Error.
func FuzzDiscover(f *testing.F) {
	fixture, err := os.ReadFile("testdata/source.ldif")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixture, uint8(0))
	f.Add(fixture, uint8(3))
	f.Add([]byte(trickyLDIF), uint8(1))
	f.Add([]byte(trickyLDIF), uint8(2))
	f.Add([]byte("dn: CN=a,DC=x\nobjectClass: user\n\ndn: cn=A,dc=X\ncn: a\n"), uint8(1))
	scopes := []providers.Scope{
		{},
		{BaseDN: "DC=x", Attributes: []string{"cn", "member"}},
		{BaseDN: "DC=x", ExcludeOUs: []string{"OU=A,DC=x"}, Attributes: []string{}},
		{BaseDN: base, IncludeOUs: []string{"OU=Staff,DC=source,DC=test"}, Attributes: []string{"samaccountname", "sidhistory"}},
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		file := filepath.Join(t.TempDir(), "s.ldif")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		diags, err := New(nil).Configure(t.Context(), cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal(file)}))
		if err != nil || diags.HasErrors() {
			return
		}
		streamed, loaded, serr, lerr := discoverBoth(t, file, scopes[int(which)%len(scopes)])
		if (serr == nil) != (lerr == nil) {
			t.Fatalf("streamed: %v; loaded: %v", serr, lerr)
		}
		if serr != nil {
			var se, le *Error
			if errors.As(serr, &se) != errors.As(lerr, &le) || (se != nil && *se != *le) {
				t.Fatalf("streamed: %v; loaded: %v", serr, lerr)
			}
			return
		}
		if diff := cmp.Diff(loaded, streamed); diff != "" {
			t.Fatalf("(-loaded +streamed):\n%s", diff)
		}
	})
}
