package lab

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adshift/adshift/hub/api"
	"github.com/google/go-cmp/cmp"
)

func TestPrincipals(t *testing.T) {
	b := newDevice(t, 30)
	got, err := b.principals()
	if err != nil {
		t.Fatal(err)
	}
	want := []api.Principal{
		{SID: src(1101), Name: `SOURCE\alice`, Where: whereProfile},
		{SID: src(1105), Name: `SOURCE\eve`, Where: whereProfile},
		{SID: "S-1-5-21-9-9-9-500", Where: whereLocalGroup},
		{SID: src(1200), Where: whereLocalGroup},
		{SID: src(1102), Where: whereLocalGroup},
		{SID: src(1103), Where: whereLocalGroup},
		{SID: src(513), Where: whereACL},
		{SID: src(1104), Where: whereACL},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	// The descriptor scan is cached: a change behind the backend's back is
	// not seen until the cache is invalidated (reacl does).
	other, _ := encodeSDDL("O:" + tgt(7777) + "G:SYD:(A;;FA;;;WD)")
	if err := setNTACL(filepath.Join(b.dir, DiskDir, "d000", "d000", "f000000.txt"), other); err != nil {
		t.Fatal(err)
	}
	if again, _ := b.principals(); !cmp.Equal(got, again) {
		t.Errorf("a second inventory rescanned disk/")
	}
	mustRun(t, b, api.ActionReACL, reaclParams("replace"))
	after, err := b.principals()
	if err != nil {
		t.Fatal(err)
	}
	var sids []string
	for _, p := range after {
		sids = append(sids, p.SID)
	}
	if !strings.Contains(strings.Join(sids, " "), tgt(7777)) || strings.Contains(strings.Join(sids, " "), src(1104)) {
		t.Errorf("after reacl replace: %v, want %s and no %s", sids, tgt(7777), src(1104))
	}
	inv, err := b.Inventory(context.Background())
	if err != nil || !cmp.Equal(inv.Principals, after) {
		t.Errorf("inventory principals %v (%v), want %v", inv.Principals, err, after)
	}
}
