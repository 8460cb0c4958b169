package ad

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/providers"
)

// ldifEntries parses ldapsearch -LLL -o ldif-wrap=no output into DN →
// attribute (lower-case) → values, decoding base64 ("::") values.
func ldifEntries(t testing.TB, out string) map[string]map[string][]string {
	t.Helper()
	res := map[string]map[string][]string{}
	var cur map[string][]string
	for _, line := range strings.Split(out, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("bad LDIF line %q", line)
		}
		if strings.HasPrefix(val, ": ") {
			b, err := base64.StdEncoding.DecodeString(val[2:])
			if err != nil {
				t.Fatalf("bad base64 in %q: %v", line, err)
			}
			val = string(b)
		} else {
			val = strings.TrimPrefix(val, " ")
		}
		if strings.EqualFold(name, "dn") {
			cur = map[string][]string{}
			res[val] = cur
			continue
		}
		cur[strings.ToLower(name)] = append(cur[strings.ToLower(name)], val)
	}
	return res
}

// TestDiscover_scaleAgainstLdapsearch: ≥ 3,000 users and a 2,000-member
// group discovered with page and range size 100 — every object and member,
// checked against ldapsearch's own paged search of the same scope.
func TestDiscover_scaleAgainstLdapsearch(t *testing.T) {
	l := needLab(t)
	seed(t, l, l.Source, "Scale", 3000, 2000, 4)
	root := "OU=Scale," + l.Source.Base
	for _, conns := range []int{1, 4} {
		t.Run(map[int]string{1: "one_connection", 4: "four_connections"}[conns], func(t *testing.T) {
			p := configured(t, l, l.Source, cfgOpts{pageSize: 100, rangeSize: 100, connections: conns})
			objs, batches := discoverAll(t, p, providers.Scope{
				BaseDN: l.Source.Base, IncludeOUs: []string{root},
				Kinds:      []providers.Kind{providers.KindUser, providers.KindGroup},
				Attributes: []string{"member", "sAMAccountName"},
			})
			filter, err := KindFilter([]providers.Kind{providers.KindUser, providers.KindGroup})
			if err != nil {
				t.Fatal(err)
			}
			want := ldifEntries(t, ldapTool(t, l, l.Source, "ldapsearch", "-LLL", "-o", "ldif-wrap=no",
				"-E", "pr=100/noprompt", "-b", root, filter, "sAMAccountName", "member"))
			got := map[string]map[string][]string{}
			users, groups := 0, 0
			for _, o := range objs {
				if _, dup := got[o.DN]; dup {
					t.Errorf("%s emitted twice", o.DN)
				}
				got[o.DN] = o.Attrs
				switch o.Kind {
				case providers.KindUser:
					users++
				case providers.KindGroup:
					groups++
				}
				if o.GUID == "" || o.Token == "" {
					t.Errorf("%s: no GUID or token", o.DN)
				}
			}
			if users < 3000 {
				t.Errorf("users = %d, want ≥ 3000", users)
			}
			if batches < 30 {
				t.Errorf("%d batches for %d objects with page size 100: not streamed per page", batches, len(objs))
			}
			big := got["CN=Scale-big,"+root]["member"]
			if len(big) != 2000 {
				t.Errorf("big group has %d members, want 2000", len(big))
			}
			norm := func(m map[string]map[string][]string) map[string]map[string][]string {
				out := map[string]map[string][]string{}
				for dn, as := range m {
					n := map[string][]string{}
					for k, v := range as {
						v = slices.Clone(v)
						slices.Sort(v)
						n[k] = v
					}
					out[NormalizeDN(dn)] = n
				}
				return out
			}
			if d := cmp.Diff(norm(want), norm(got)); d != "" {
				t.Errorf("discovery differs from ldapsearch -E pr=100 (-ldapsearch +adshift):\n%.3000s", d)
			}
		})
	}
}

// TestDiscover_scopeExcludesAndKinds: excluded subtrees are not returned,
// OUs come back even when not asked for, identities are decoded.
func TestDiscover_scopeExcludesAndKinds(t *testing.T) {
	l := needLab(t)
	seed(t, l, l.Source, "Scale", 3000, 2000, 4)
	root := "OU=Scale," + l.Source.Base
	p := configured(t, l, l.Source, cfgOpts{pageSize: 100, rangeSize: 100})
	objs, _ := discoverAll(t, p, providers.Scope{
		BaseDN: l.Source.Base, IncludeOUs: []string{root, "OU=p01," + root},
		ExcludeOUs: []string{"OU=p02," + root, "ou=P03," + strings.ToLower(root)},
		Kinds:      []providers.Kind{providers.KindUser},
		Attributes: []string{"objectsid", "objectguid", "samaccountname"},
	})
	kinds := map[providers.Kind]int{}
	for _, o := range objs {
		kinds[o.Kind]++
		n := NormalizeDN(o.DN)
		if strings.Contains(n, "ou=p02,") || strings.Contains(n, "ou=p03,") {
			t.Errorf("excluded object %s returned", o.DN)
		}
		if o.Kind == providers.KindUser {
			if !strings.HasPrefix(o.SID, "S-1-5-21-") || o.Get("objectsid") != o.SID || o.Get("objectguid") != o.GUID {
				t.Errorf("%s: SID %q GUID %q attrs %v", o.DN, o.SID, o.GUID, o.Attrs)
			}
		}
	}
	// p00 and p01 hold 750 users each; OUs Scale, p00, p01.
	if d := cmp.Diff(map[providers.Kind]int{providers.KindUser: 1500, providers.KindOU: 3}, kinds); d != "" {
		t.Errorf("kinds (-want +got):\n%s", d)
	}
	// The string forms match what Samba's own tool prints.
	var u providers.Object
	for _, o := range objs {
		if o.Kind == providers.KindUser {
			u = o
			break
		}
	}
	out, err := sambaTool(t, l.Source, "user", "show", u.Get("samaccountname"), "--attributes=objectSid,objectGUID")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, u.SID) || !strings.Contains(out, u.GUID) {
		t.Errorf("samba-tool shows\n%s\nwant SID %s and GUID %s", out, u.SID, u.GUID)
	}
}
