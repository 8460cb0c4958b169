package ad

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/providers"
	"github.com/adshift/adshift/providers/ad/wire"
)

// entry builds a wire.Entry from name, values... lists.
func entry(dn string, attrs ...[]string) *wire.Entry {
	e := &wire.Entry{DN: []byte(dn)}
	for _, a := range attrs {
		var vals [][]byte
		for _, v := range a[1:] {
			vals = append(vals, []byte(v))
		}
		e.Attrs = append(e.Attrs, wire.Attr{Name: []byte(a[0]), Values: vals})
	}
	return e
}

func TestObjectConversion(t *testing.T) {
	guid := string([]byte{0x78, 0x56, 0x34, 0x12, 0x34, 0x12, 0x78, 0x56, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0})
	sid := string([]byte{1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xe9, 3, 0, 0})
	user := func(extra ...[]string) *wire.Entry {
		return entry("CN=Smith\\, John,OU=Users,DC=x", append([][]string{
			{"objectClass", "top", "person", "organizationalPerson", "user"},
			{"objectGUID", guid}, {"objectSid", sid}, {"uSNChanged", "4711"}, {"sAMAccountType", "805306368"},
		}, extra...)...)
	}
	wantID := providers.Object{Kind: providers.KindUser, DN: "CN=Smith\\, John,OU=Users,DC=x",
		GUID: "12345678-1234-5678-1234-56789abcdef0", SID: "S-1-5-21-1-2-3-1001", Token: "4711"}
	with := func(o providers.Object, attrs map[string][]string) providers.Object {
		o.Attrs = attrs
		return o
	}
	tests := []struct {
		name    string
		want    []string // nil: every attribute
		e       *wire.Entry
		obj     providers.Object
		follows map[string]int
	}{
		{"wanted attributes only, names lower-cased", []string{"displayname", "mail"},
			user([]string{"displayName", "John Smith"}, []string{"MAIL", "js@x"}, []string{"description", "not wanted"}),
			with(wantID, map[string][]string{"displayname": {"John Smith"}, "mail": {"js@x"}}), nil},
		{"every attribute, binary ones decoded", nil,
			user([]string{"sIDHistory", sid}),
			with(wantID, map[string][]string{
				"objectclass": {"top", "person", "organizationalPerson", "user"}, "objectguid": {wantID.GUID},
				"objectsid": {wantID.SID}, "usnchanged": {"4711"}, "samaccounttype": {"805306368"}, "sidhistory": {wantID.SID},
			}), nil},
		{"ranged member kept, whole one dropped, continuation noted", []string{"member"},
			user([]string{"member", "CN=a", "CN=b", "CN=c"}, []string{"member;range=0-1", "CN=a", "CN=b"}),
			with(wantID, map[string][]string{"member": {"CN=a", "CN=b"}}), map[string]int{"member": 2}},
		{"last range: no continuation", []string{"member"},
			user([]string{"member;range=0-*", "CN=a"}),
			with(wantID, map[string][]string{"member": {"CN=a"}}), nil},
		{"trust account is no user", []string{},
			entry("CN=TRUST$,CN=Users,DC=x", []string{"objectClass", "user"}, []string{"sAMAccountType", "805306370"}),
			providers.Object{DN: "CN=TRUST$,CN=Users,DC=x", Attrs: map[string][]string{}}, nil},
		{"computer", []string{},
			entry("CN=WS1,OU=PCs,DC=x", []string{"objectClass", "top", "user", "computer"}, []string{"sAMAccountType", "805306369"}),
			providers.Object{Kind: providers.KindComputer, DN: "CN=WS1,OU=PCs,DC=x", Attrs: map[string][]string{}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &session{cfg: &Config{RangeSize: 1500}}
			d := &discovery{s: s}
			_, d.want, d.wantAll = s.requestAttrs(tc.want)
			follows := map[string]int{}
			o, err := d.object(tc.e, attrNames{}, func(name string, next int) { follows[name] = next })
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.obj, o); d != "" {
				t.Errorf("object (-want +got):\n%s", d)
			}
			if tc.follows == nil {
				tc.follows = map[string]int{}
			}
			if d := cmp.Diff(tc.follows, follows); d != "" {
				t.Errorf("follows (-want +got):\n%s", d)
			}
		})
	}
}

func TestObjectConversionErrors(t *testing.T) {
	s := &session{cfg: &Config{RangeSize: 1500}}
	d := &discovery{s: s, wantAll: true}
	for _, e := range []*wire.Entry{
		entry("CN=a,DC=x", []string{"objectClass", "user"}, []string{"objectGUID", "short"}),
		entry("CN=a,DC=x", []string{"objectClass", "user"}, []string{"objectSid", "\x01"}),
		entry("CN=a,DC=x", []string{"objectClass", "user"}, []string{"sIDHistory", "\x09\x09"}),
	} {
		if _, err := d.object(e, attrNames{}, func(string, int) {}); err == nil {
			t.Errorf("%s: a malformed %s was accepted", e.DN, e.Attrs[1].Name)
		}
	}
}

// BenchmarkObjectConversion is the per-entry cost of turning a search
// result into a providers.Object (the bench attributes of a user).
func BenchmarkObjectConversion(b *testing.B) {
	guid := string(make([]byte, 16))
	sid := string([]byte{1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xe9, 3, 0, 0})
	e := entry("CN=user-00042,OU=Sub3,OU=Bench,DC=source,DC=test",
		[]string{"objectClass", "top", "person", "organizationalPerson", "user"}, []string{"objectGUID", guid}, []string{"objectSid", sid},
		[]string{"uSNChanged", "123456"}, []string{"sAMAccountType", "805306368"}, []string{"sAMAccountName", "user-00042"},
		[]string{"userPrincipalName", "user-00042@source.test"}, []string{"displayName", "User 00042"}, []string{"mail", "user-00042@source.test"},
		[]string{"userAccountControl", "512"})
	s := &session{cfg: &Config{RangeSize: 1500}}
	d := &discovery{s: s}
	_, d.want, d.wantAll = s.requestAttrs([]string{"samaccountname", "userprincipalname", "displayname", "mail", "useraccountcontrol"})
	names := attrNames{}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.object(e, names, func(string, int) {}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDiscovery_inScopeAndServed(t *testing.T) {
	s := &session{cfg: &Config{RangeSize: 1500}}
	d, err := s.newDiscovery(providers.Scope{BaseDN: "DC=s,DC=t", IncludeOUs: []string{"OU=A,DC=s,DC=t", "OU=B,OU=A,DC=s,DC=t"},
		ExcludeOUs: []string{"OU=X,OU=A,DC=s,DC=t"}}, []providers.Kind{providers.KindUser, providers.KindComputer}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.roots) != 1 {
		t.Errorf("roots %v: OU=B lies under OU=A", d.roots)
	}
	for dn, want := range map[string]bool{
		"OU=A,DC=s,DC=t": true, "CN=u,OU=A,DC=s,DC=t": true, "CN=u,ou=b,ou=a,dc=s,dc=t": true,
		"OU=X,OU=A,DC=s,DC=t": false, "CN=u,OU=X,OU=A,DC=s,DC=t": false, "CN=u,OU=AA,DC=s,DC=t": false,
		"DC=s,DC=t": false, "CN=u,CN=Deleted Objects,DC=s,DC=t": false,
	} {
		if got := d.inScope(NormalizeDN(dn)); got != want {
			t.Errorf("inScope(%s) = %v, want %v", dn, got, want)
		}
	}
	entry := func(sat string, classes ...string) *wire.Entry {
		e := &wire.Entry{}
		var cv [][]byte
		for _, c := range classes {
			cv = append(cv, []byte(c))
		}
		e.Attrs = append(e.Attrs, wire.Attr{Name: []byte("objectClass"), Values: cv})
		if sat != "" {
			e.Attrs = append(e.Attrs, wire.Attr{Name: []byte("sAMAccountType"), Values: [][]byte{[]byte(sat)}})
		}
		return e
	}
	for name, tc := range map[string]struct {
		e    *wire.Entry
		want bool
	}{
		"user":            {entry("805306368", "top", "person", "user"), true},
		"computer":        {entry("805306369", "top", "user", "computer"), true},
		"trust account":   {entry("805306370", "top", "user"), false},
		"OU always":       {entry("", "top", "organizationalUnit"), true},
		"group not asked": {entry("268435456", "top", "group"), false},
		"container":       {entry("", "top", "container"), false},
	} {
		if got := d.served(tc.e); got != tc.want {
			t.Errorf("%s: served = %v, want %v", name, got, tc.want)
		}
	}
}
