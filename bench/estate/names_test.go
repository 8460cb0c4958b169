package estate

import (
	"strings"
	"testing"
)

func TestNameLists(t *testing.T) {
	for _, list := range []struct {
		name  string
		names []string
		max   int
	}{{"first", firstNames, 9}, {"last", lastNames, 10}} {
		seen := map[string]string{}
		for _, n := range list.names {
			a := accountName(n)
			for i := 0; i < len(a); i++ {
				if c := a[i]; !(c >= 'a' && c <= 'z' || c == '-') {
					t.Errorf("%s name %q folds to %q, not plain ASCII", list.name, n, a)
					break
				}
			}
			if len(a) > list.max {
				t.Errorf("%s name %q folds to %d bytes, want at most %d", list.name, n, len(a), list.max)
			}
			if other, dup := seen[a]; dup {
				t.Errorf("%s names %q and %q both fold to %q", list.name, other, n, a)
			}
			seen[a] = n
		}
	}
}

// TestStaffAccountsUnique checks sAMAccountName, mail and DN uniqueness at
// a size where every name pair is used more than once (suffixes).
func TestStaffAccountsUnique(t *testing.T) {
	l, err := newLayout(Options{Objects: 150000, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	if m := len(firstNames) * len(lastNames); l.nStaff <= 2*m {
		t.Fatalf("%d staff do not exceed twice the %d name pairs", l.nStaff, m)
	}
	sams, mails, dns := map[string]int{}, map[string]int{}, map[string]int{}
	long := 0
	for i := range l.nStaff {
		p := l.staff(i)
		for _, c := range []struct {
			m   map[string]int
			key string
		}{{sams, strings.ToLower(p.sam)}, {mails, p.mailLocal}, {dns, strings.ToLower(l.staffDN(i))}} {
			if j, dup := c.m[c.key]; dup {
				t.Fatalf("staff %d and %d share %q", j, i, c.key)
			}
			c.m[c.key] = i
		}
		if len(p.sam) > 20 {
			t.Fatalf("staff %d: sAMAccountName %q too long", i, p.sam)
		}
		if strings.HasPrefix(p.sam, "u") && !strings.Contains(p.sam, ".") {
			long++
		}
	}
	for a := range l.nAdmins {
		_, u := l.admin(a)
		if _, dup := sams[strings.ToLower(u.sam)]; dup || len(u.sam) > 20 {
			t.Fatalf("admin %d: sAMAccountName %q duplicate or too long", a, u.sam)
		}
		sams[strings.ToLower(u.sam)] = -a
	}
	t.Logf("%d staff, %d with a numbered fallback sAMAccountName", l.nStaff, long)
}

func TestGroupNamesUnique(t *testing.T) {
	l, err := newLayout(Options{Objects: 300000, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for g := range l.nGroups {
		name := strings.ToLower(l.group(g).g.sam)
		if j, dup := seen[name]; dup {
			t.Fatalf("groups %d and %d are both %q", j, g, name)
		}
		seen[name] = g
	}
}
