package ad

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/providers"
)

// ldifApply runs ldapmodify with the LDIF text against dc.
func ldifApply(t testing.TB, l *lab, dc labDC, ldif string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "change.ldif")
	if err := os.WriteFile(f, []byte(ldif), 0o600); err != nil {
		t.Fatal(err)
	}
	ldapTool(t, l, dc, "ldapmodify", "-f", f)
}

// byGUID indexes a read by GUID, with each attribute's values sorted (a
// multi-valued attribute's order is the DC's, not a value).
func byGUID(t testing.TB, objs []providers.Object) map[string]providers.Object {
	t.Helper()
	out := make(map[string]providers.Object, len(objs))
	for _, o := range objs {
		if _, dup := out[o.GUID]; dup {
			t.Fatalf("object %s (%s) read twice", o.GUID, o.DN)
		}
		attrs := make(map[string][]string, len(o.Attrs))
		for k, v := range o.Attrs {
			v = slices.Clone(v)
			slices.Sort(v)
			attrs[k] = v
		}
		o.Attrs = attrs
		out[o.GUID] = o
	}
	return out
}

// TestDiscoverIncremental_equalsFull changes a source subtree step by step
// — adds, modifies, renames, moves in and out of scope and of an excluded
// OU, membership changes, OU and container renames and moves, deletes — and
// after each step checks that the incremental read (through the cache)
// equals a full read: every DN, GUID, SID, token and attribute value.
func TestDiscoverIncremental_equalsFull(t *testing.T) {
	l := needLab(t)
	dc := l.Source
	root := testOU(t, l, dc, "adshift-incdisc")
	in := "OU=in," + root
	out := "OU=out," + root
	ex := "OU=ex," + in
	ldifApply(t, l, dc, ous(root, in, out, ex, "OU=sub1,"+in, "OU=sub2,"+in, "OU=far,"+out)+`
dn: CN=plain,`+in+`
changetype: add
objectClass: container
`+users(in, "u", 1, 6)+users("OU=sub1,"+in, "s", 1, 4)+users("OU=sub2,"+in, "t", 1, 3)+users(out, "o", 1, 3)+
		users("OU=far,"+out, "f", 1, 2)+users("CN=plain,"+in, "p", 1, 2)+users(ex, "x", 1, 2)+`
dn: CN=g1,`+in+`
changetype: add
objectClass: group
sAMAccountName: incdisc-g1
member: CN=u1,`+in+`
member: CN=s1,OU=sub1,`+in+`
member: CN=t1,OU=sub2,`+in+`
member: CN=p1,CN=plain,`+in+`

dn: CN=g2,OU=sub2,`+in+`
changetype: add
objectClass: group
sAMAccountName: incdisc-g2
member: CN=u2,`+in+`
member: CN=g1,`+in+`
member: CN=o1,`+out+`

dn: CN=c1,`+in+`
changetype: add
objectClass: computer
sAMAccountName: incdisc-c1$

dn: CN=k1,`+in+`
changetype: add
objectClass: contact
description: a contact
`)
	cache := filepath.Join(t.TempDir(), "source.cache")
	scopes := map[string]providers.Scope{
		"all_attributes": {BaseDN: dc.Base, IncludeOUs: []string{in}, ExcludeOUs: []string{ex}},
		"some_attributes": {BaseDN: dc.Base, IncludeOUs: []string{in}, ExcludeOUs: []string{ex},
			Kinds:      []providers.Kind{providers.KindUser, providers.KindGroup, providers.KindComputer},
			Attributes: []string{"member", "memberof", "samaccountname", "description", "manager"}},
	}
	p := configured(t, l, dc, cfgOpts{pageSize: 7, rangeSize: 3, connections: 2})
	for name, sc := range scopes {
		sc.Cache = cache + "." + name
		discoverAll(t, p, sc)
		if st := p.LastRead(); st.Incremental {
			t.Fatalf("%s: first read was incremental", name)
		}
	}
	check := func(step string) {
		t.Helper()
		for name, sc := range scopes {
			full, _ := discoverAll(t, p, sc)
			sc.Cache = cache + "." + name
			inc, _ := discoverAll(t, p, sc)
			st := p.LastRead()
			if !st.Incremental {
				t.Fatalf("%s, %s: the read was full: %s", step, name, st.Why)
			}
			if diff := cmp.Diff(byGUID(t, full), byGUID(t, inc)); diff != "" {
				t.Fatalf("%s, %s: incremental read differs from the full read (-full +incremental):\n%s", step, name, diff)
			}
			t.Logf("%s, %s: %d objects; incremental read %d entries (%d changed, %d read again)", step, name, len(full), st.Read, st.Changed, st.Reread)
		}
	}
	check("no change")

	ldifApply(t, l, dc, users("OU=sub1,"+in, "s", 5, 5)+`
dn: CN=u3,`+in+`
changetype: modify
replace: description
description: changed
-
replace: manager
manager: CN=u4,`+in+`

dn: CN=g1,`+in+`
changetype: modify
add: member
member: CN=u5,`+in+`
member: CN=x1,`+ex+`
-
delete: member
member: CN=s1,OU=sub1,`+in+`

dn: CN=g3,OU=sub1,`+in+`
changetype: add
objectClass: group
sAMAccountName: incdisc-g3
member: CN=u6,`+in+`
`)
	check("adds, modifies, membership")

	ldifApply(t, l, dc, `dn: CN=u4,`+in+`
changetype: modrdn
newrdn: CN=u4renamed
deleteoldrdn: 1

dn: CN=u5,`+in+`
changetype: modrdn
newrdn: CN=u5
deleteoldrdn: 1
newsuperior: `+out+`

dn: CN=o2,`+out+`
changetype: modrdn
newrdn: CN=o2
deleteoldrdn: 1
newsuperior: `+in+`

dn: CN=u6,`+in+`
changetype: modrdn
newrdn: CN=u6
deleteoldrdn: 1
newsuperior: `+ex+`

dn: OU=sub1,`+in+`
changetype: modrdn
newrdn: OU=sub1r
deleteoldrdn: 1
`)
	check("renames, moves in and out")

	ldifApply(t, l, dc, `dn: OU=sub2,`+in+`
changetype: modrdn
newrdn: OU=sub2
deleteoldrdn: 1
newsuperior: `+out+`

dn: OU=far,`+out+`
changetype: modrdn
newrdn: OU=far
deleteoldrdn: 1
newsuperior: OU=sub1r,`+in+`

dn: CN=plain,`+in+`
changetype: modrdn
newrdn: CN=plain2
deleteoldrdn: 1
`)
	check("OU and container moves")

	ldifApply(t, l, dc, `dn: CN=u2,`+in+`
changetype: delete

dn: CN=g1,`+in+`
changetype: delete
`)
	ldapTool(t, l, dc, "ldapdelete", "-r", "OU=far,OU=sub1r,"+in)
	check("deletes")

	// A scope that differs from the cached one reads in full.
	sc := scopes["some_attributes"]
	sc.Cache = cache + ".some_attributes"
	sc.Attributes = append(slices.Clone(sc.Attributes), "cn")
	discoverAll(t, p, sc)
	if st := p.LastRead(); st.Incremental || !strings.Contains(st.Why, "scope") {
		t.Errorf("another scope: incremental %v, why %q; want a full read because the scope differs", st.Incremental, st.Why)
	}
	sc.FullRefresh = true
	discoverAll(t, p, sc)
	if st := p.LastRead(); st.Incremental {
		t.Errorf("FullRefresh: the read was incremental")
	}
}

// ous returns LDIF adding the OUs dns, in order.
func ous(dns ...string) string {
	var b strings.Builder
	for _, dn := range dns {
		b.WriteString("dn: " + dn + "\nchangetype: add\nobjectClass: organizationalUnit\n\n")
	}
	return b.String()
}

// users returns LDIF adding users prefix<from>…prefix<to> under parent.
func users(parent, prefix string, from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		n := prefix + string(rune('0'+i))
		b.WriteString("\ndn: CN=" + n + "," + parent + "\nchangetype: add\nobjectClass: user\nsAMAccountName: incdisc-" + n + "\ndescription: user " + n + "\n")
	}
	return b.String()
}
