package ad

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/providers"
)

// BenchmarkDiscoverIncremental measures a re-read after K objects changed
// (K = 100 and 10) in an estate of 10,000+ objects, incremental (through
// the cache) against a full read, and checks that both read the same.
// The estate is the OU in ADSHIFT_BENCH_ESTATE (default OU=IncBench, seeded
// with lab/seed.sh source IncBench 10000 0 10); the changes happen in an OU
// of the benchmark's own beside it, in the scope too: per round, of K
// objects, 60% get a new description, 20% are added, 10% deleted and 10%
// renamed.
//
//	go test ./providers/ad -run '^$' -bench DiscoverIncremental -benchtime 1x
func BenchmarkDiscoverIncremental(b *testing.B) {
	l := needLab(b)
	estate := os.Getenv("ADSHIFT_BENCH_ESTATE")
	if estate == "" {
		estate = "OU=IncBench," + l.Source.Base
	}
	own := testOU(b, l, l.Source, "adshift-incdisc-bench")
	ldifApply(b, l, l.Source, ous(own)+usersN(own, "b", 0, 100))
	p := configured(b, l, l.Source, cfgOpts{})
	scope := providers.Scope{BaseDN: l.Source.Base, IncludeOUs: []string{estate, own},
		Kinds: []providers.Kind{providers.KindUser, providers.KindGroup}, Attributes: append(slices.Clone(benchAttrs), "description", "member")}
	cached := scope
	cached.Cache = b.TempDir() + "/source.cache"

	timed := func(sc providers.Scope) ([]providers.Object, time.Duration) {
		start := time.Now()
		objs, _ := discoverAll(b, p, sc)
		return objs, time.Since(start)
	}
	prime, took := timed(cached)
	if len(prime) < 10000 {
		b.Fatalf("the estate %s holds %d objects, want 10,000+ (seed it: lab/seed.sh source IncBench 10000 0 10)", estate, len(prime))
	}
	b.Logf("first read (full, writes the cache): %d objects in %v", len(prime), took.Round(time.Millisecond))
	next := 100 // the next user number to add
	b.Logf("| changed | round | full read | objects read | incremental read | of it: cache load+save, uSNChanged search | entries read (changed + read again) | ratio |")
	b.Logf("|---|---|---|---|---|---|---|---|")
	for _, k := range []int{100, 10} {
		var fulls, incs []time.Duration
		for round := 1; round <= 3; round++ {
			next = changeK(b, l, own, k, next)
			inc, it := timed(cached)
			st := p.LastRead()
			if !st.Incremental {
				b.Fatalf("not incremental: %s", st.Why)
			}
			full, ft := timed(scope)
			if diff := gocmp.Diff(byGUID(b, full), byGUID(b, inc)); diff != "" {
				b.Fatalf("incremental read differs from the full read (-full +incremental):\n%s", diff)
			}
			fulls, incs = append(fulls, ft), append(incs, it)
			b.Logf("| %d | %d | %v | %d | %v | %v, %v | %d (%d + %d) | %.3f |", k, round, ft.Round(time.Millisecond), len(full),
				it.Round(time.Millisecond), st.Cache.Round(time.Millisecond), st.Changes.Round(time.Millisecond), st.Read, st.Changed, st.Reread, it.Seconds()/ft.Seconds())
		}
		fm, im := median(fulls), median(incs)
		b.Logf("| %d | **median** | **%v** | | **%v** | | | **%.3f** |", k, fm.Round(time.Millisecond), im.Round(time.Millisecond), im.Seconds()/fm.Seconds())
	}
}

// changeK changes k objects of own: 60% modified, 20% added (numbered
// from next), 10% deleted, 10% renamed; it returns the next number.
func changeK(b *testing.B, l *lab, own string, k, next int) int {
	b.Helper()
	var ldif strings.Builder
	live := liveUsers(b, l, own)
	mods, adds, dels := k*6/10, k*2/10, k/10
	ren := k - mods - adds - dels
	if len(live) < mods+dels+ren {
		b.Fatalf("%d users left in %s, want %d", len(live), own, mods+dels+ren)
	}
	stamp := time.Now().UnixNano()
	for _, cn := range live[:mods] {
		fmt.Fprintf(&ldif, "dn: CN=%s,%s\nchangetype: modify\nreplace: description\ndescription: changed %d\n\n", cn, own, stamp)
	}
	for _, cn := range live[mods : mods+dels] {
		fmt.Fprintf(&ldif, "dn: CN=%s,%s\nchangetype: delete\n\n", cn, own)
	}
	for _, cn := range live[mods+dels : mods+dels+ren] {
		fmt.Fprintf(&ldif, "dn: CN=%s,%s\nchangetype: modrdn\nnewrdn: CN=%s-r\ndeleteoldrdn: 1\n\n", cn, own, cn)
	}
	ldif.WriteString(usersN(own, "b", next, next+adds))
	ldifApply(b, l, l.Source, ldif.String())
	return next + adds
}

// usersN returns LDIF adding users prefix<NNNNN> numbered [from, to).
func usersN(parent, prefix string, from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "dn: CN=%s%05d,%s\nchangetype: add\nobjectClass: user\nsAMAccountName: incb-%s%05d\ndescription: new\n\n", prefix, i, parent, prefix, i)
	}
	return b.String()
}

// liveUsers lists the CNs of the users directly in own, sorted.
func liveUsers(b *testing.B, l *lab, own string) []string {
	out := ldapTool(b, l, l.Source, "ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-b", own, "-s", "one", "(objectClass=user)", "cn")
	var cns []string
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "cn: "); ok {
			cns = append(cns, v)
		}
	}
	slices.Sort(cns)
	return cns
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.SortFunc(s, cmp.Compare)
	return s[len(s)/2]
}
