package ad

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/providers"
)

func testCache(n int) *discoCache {
	c := &discoCache{Version: cacheVersion, Scope: "scope", Mark: dcMark{Server: "dc1.source.test", InvocationID: "0a1b2c3d-0000-0000-0000-000000000001", USN: 9000},
		Containers: map[string]string{"c0": "CN=Users,DC=source,DC=test"}}
	for i := range n {
		c.Objects = append(c.Objects, providers.Object{
			Kind: providers.KindUser, DN: fmt.Sprintf("CN=u%05d,OU=p00,DC=source,DC=test", i),
			GUID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), SID: fmt.Sprintf("S-1-5-21-1-2-3-%d", 1000+i), Token: "8000",
			Attrs: map[string][]string{"samaccountname": {fmt.Sprintf("u%05d", i)}, "mail": {fmt.Sprintf("u%05d@source.test", i)},
				"displayname": {"Seed User"}, "useraccountcontrol": {"514"}, "userprincipalname": {fmt.Sprintf("u%05d@source.test", i)}},
		})
	}
	return c
}

func TestCache_roundTripAndRefusals(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "source.cache")
	c := testCache(3)
	if err := c.save(path); err != nil {
		t.Fatal(err)
	}
	got, why := loadCache(path, "scope", c.Mark)
	if got == nil {
		t.Fatalf("loadCache refused its own cache: %s", why)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("round trip (-saved +loaded):\n%s", diff)
	}
	later := c.Mark
	later.USN += 10
	if got, why := loadCache(path, "scope", later); got == nil {
		t.Errorf("a DC further on refused: %s", why)
	}
	for name, tc := range map[string]struct {
		scope string
		mark  dcMark
		want  string
	}{
		"other scope":          {"other", c.Mark, "scope"},
		"other invocationId":   {"scope", dcMark{Server: "dc2", InvocationID: "ffffffff-0000-0000-0000-000000000001", USN: 9999}, "invocationId"},
		"USN behind the cache": {"scope", dcMark{Server: c.Mark.Server, InvocationID: c.Mark.InvocationID, USN: 10}, "highestCommittedUSN"},
	} {
		t.Run(name, func(t *testing.T) {
			got, why := loadCache(path, tc.scope, tc.mark)
			if got != nil || !strings.Contains(why, tc.want) {
				t.Errorf("loadCache = %v, %q; want refused with %q", got != nil, why, tc.want)
			}
		})
	}
	if got, why := loadCache(filepath.Join(dir, "none"), "scope", c.Mark); got != nil || why != "no cache yet" {
		t.Errorf("missing cache: %v %q", got != nil, why)
	}
	for name, data := range map[string]string{"not a cache": "hello", "truncated": cacheMagic + "\x01\x02"} {
		bad := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		os.WriteFile(bad, []byte(data), 0o600)
		if got, why := loadCache(bad, "scope", c.Mark); got != nil || why == "" {
			t.Errorf("%s: loaded (%q)", name, why)
		}
	}
	old := *c
	old.Version = cacheVersion + 1
	if err := old.save(path); err != nil {
		t.Fatal(err)
	}
	if got, why := loadCache(path, "scope", c.Mark); got != nil || !strings.Contains(why, "format") {
		t.Errorf("other version: %v %q", got != nil, why)
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("save left temporary files: %v", ents)
	}
}

// BenchmarkCache12k is the cache's share of an incremental read of a
// 12,000-object estate: load, then save.
func BenchmarkCache12k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "c")
	c := testCache(12000)
	if err := c.save(path); err != nil {
		b.Fatal(err)
	}
	for range b.N {
		got, why := loadCache(path, "scope", c.Mark)
		if got == nil {
			b.Fatal(why)
		}
		if err := got.save(path); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzLoadCache: a damaged or foreign cache file is refused with a reason
// (the read is then full), never a panic or a cache that serves.
func FuzzLoadCache(f *testing.F) {
	dir := f.TempDir()
	good := filepath.Join(dir, "good")
	if err := testCache(3).save(good); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(good)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte(cacheMagic))
	f.Add([]byte("not a cache"))
	mark := testCache(0).Mark
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "c")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, why := loadCache(path, "scope", mark)
		if (c == nil) == (why == "") {
			t.Fatalf("cache %v with reason %q: want exactly one", c != nil, why)
		}
		if c != nil && (c.Version != cacheVersion || c.Scope != "scope" || c.Containers == nil) {
			t.Fatalf("a cache served that should not: %+v", c.Mark)
		}
	})
}
