package reacl

import (
	"testing"

	"github.com/adshift/adshift/adid"
)

func TestAliases(t *testing.T) {
	dom := &Domain{
		SID:     adid.MustSID("S-1-5-21-1-1-1"),
		Root:    adid.MustSID("S-1-5-21-2-2-2"),
		Machine: adid.MustSID("S-1-5-21-3-3-3"),
	}
	tests := []struct{ code, want string }{
		{"BA", "S-1-5-32-544"}, {"SY", "S-1-5-18"}, {"WD", "S-1-1-0"}, {"CO", "S-1-3-0"}, {"AU", "S-1-5-11"},
		{"DA", "S-1-5-21-1-1-1-512"}, {"DU", "S-1-5-21-1-1-1-513"}, {"DG", "S-1-5-21-1-1-1-514"},
		{"DC", "S-1-5-21-1-1-1-515"}, {"DD", "S-1-5-21-1-1-1-516"}, {"CA", "S-1-5-21-1-1-1-517"},
		{"SA", "S-1-5-21-2-2-2-518"}, {"EA", "S-1-5-21-2-2-2-519"}, {"RO", "S-1-5-21-2-2-2-498"},
		{"EK", "S-1-5-21-2-2-2-527"}, {"LA", "S-1-5-21-3-3-3-500"}, {"LG", "S-1-5-21-3-3-3-501"},
		{"PA", "S-1-5-21-1-1-1-520"}, {"RS", "S-1-5-21-1-1-1-553"},
	}
	for _, tc := range tests {
		s, err := ParseSIDAlias(tc.code, dom)
		if err != nil || s.String() != tc.want {
			t.Errorf("%s = %v %v, want %s", tc.code, s, err, tc.want)
		}
		if got := dom.Alias(s); got != tc.code {
			t.Errorf("Alias(%s) = %q, want %s", s, got, tc.code)
		}
	}
	// The same SDDL means different SIDs in different domains.
	a, _ := ParseSIDAlias("DA", NewDomain(adid.MustSID("S-1-5-21-1-1-1")))
	b, _ := ParseSIDAlias("DA", NewDomain(adid.MustSID("S-1-5-21-9-9-9")))
	if a == b {
		t.Error("DA resolved to the same SID in two domains")
	}
	if _, err := ParseSIDAlias("DA", nil); err == nil {
		t.Error("DA without a domain")
	}
	if _, err := ParseSIDAlias("ZZ", nil); err == nil {
		t.Error("unknown alias accepted")
	}
	if got := (*Domain)(nil).Alias(adid.MustSID("S-1-5-21-1-1-1-512")); got != "" {
		t.Errorf("Alias without domain = %q", got)
	}
	for i := 1; i < len(sidAliases); i++ {
		if sidAliases[i-1].code >= sidAliases[i].code {
			t.Fatalf("alias table not sorted at %s", sidAliases[i].code)
		}
	}
}
