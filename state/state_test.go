package state

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNew(t *testing.T) {
	a, b := New(), New()
	if a.Lineage == "" || a.Lineage == b.Lineage {
		t.Errorf("lineages %q and %q: want two distinct non-empty ones", a.Lineage, b.Lineage)
	}
	if a.Version != FormatVersion || a.Serial != 0 || a.Objects == nil || a.Devices == nil || !a.empty() {
		t.Errorf("New() = %+v: want version %d, serial 0, empty non-nil maps", a, FormatVersion)
	}
}

func TestSIDMap(t *testing.T) {
	obj := func(addr, kind, src, tgt string, hist ...string) *Object {
		return &Object{Address: addr, Kind: kind, Source: Identity{SID: src}, Target: Identity{SID: tgt}, SIDHistory: hist}
	}
	tests := []struct {
		name string
		objs []*Object
		want map[string]string
	}{
		{
			name: "users and groups",
			objs: []*Object{obj("u", KindUser, "S-1", "T-1"), obj("g", KindGroup, "S-2", "T-2")},
			want: map[string]string{"S-1": "T-1", "S-2": "T-2"},
		},
		{
			name: "other kinds and unmatched objects are left out",
			objs: []*Object{
				obj("c", KindComputer, "S-1", "T-1"),
				obj("o", KindOU, "S-2", "T-2"),
				obj("u", KindUser, "S-3", ""),
				obj("g", KindGroup, "", "T-4"),
			},
			want: map[string]string{},
		},
		{
			name: "sIDHistory maps to the target SID",
			objs: []*Object{obj("u", KindUser, "S-1", "T-1", "H-1", "H-2", "")},
			want: map[string]string{"S-1": "T-1", "H-1": "T-1", "H-2": "T-1"},
		},
		{
			name: "an object's own SID wins over another's history",
			objs: []*Object{obj("a", KindUser, "S-1", "T-1", "S-2"), obj("b", KindUser, "S-2", "T-2")},
			want: map[string]string{"S-1": "T-1", "S-2": "T-2"},
		},
		{
			name: "the lowest address wins a shared history SID",
			objs: []*Object{obj("b", KindUser, "S-2", "T-2", "H"), obj("a", KindUser, "S-1", "T-1", "H"), obj("c", KindGroup, "S-3", "T-3", "H")},
			want: map[string]string{"S-1": "T-1", "S-2": "T-2", "S-3": "T-3", "H": "T-1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 5 { // map iteration order must not matter
				s := New()
				for _, o := range tt.objs {
					s.Objects[o.Address] = o
				}
				if diff := cmp.Diff(tt.want, s.SIDMap()); diff != "" {
					t.Fatalf("SIDMap() (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestIndexes(t *testing.T) {
	s := New()
	a := &Object{Address: "a", Source: Identity{GUID: "sa"}, Target: Identity{GUID: "ta"}}
	b := &Object{Address: "b", Source: Identity{GUID: "sb"}}
	dup := &Object{Address: "c", Source: Identity{GUID: "sa"}, Target: Identity{GUID: "ta"}}
	for _, o := range []*Object{a, b, dup} {
		s.Objects[o.Address] = o
	}
	if diff := cmp.Diff(map[string]*Object{"sa": a, "sb": b}, s.ObjectsBySourceGUID()); diff != "" {
		t.Errorf("ObjectsBySourceGUID (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]*Object{"ta": a}, s.ObjectsByTargetGUID()); diff != "" {
		t.Errorf("ObjectsByTargetGUID (-want +got):\n%s", diff)
	}
	if got := s.ObjectsBySourceGUID()["sa"]; got != a {
		t.Errorf("index values must be the State's own objects")
	}
}

func TestObjectsOfWorkflow(t *testing.T) {
	s := New()
	for _, o := range []*Object{
		{Address: "z", Workflow: "w"}, {Address: "a", Workflow: "w"}, {Address: "m", Workflow: "other"},
	} {
		s.Objects[o.Address] = o
	}
	var got []string
	for _, o := range s.ObjectsOfWorkflow("w") {
		got = append(got, o.Address)
	}
	if diff := cmp.Diff([]string{"a", "z"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestClone(t *testing.T) {
	s := testState(20)
	o := testObject(1)
	o.SIDHistory = []string{"S-1-5-21-9-9-9-1"}
	s.Objects[o.Address] = o
	c := s.Clone()
	if diff := cmp.Diff(s, c); diff != "" {
		t.Fatalf("Clone differs (-orig +clone):\n%s", diff)
	}
	c.Objects[o.Address].SIDHistory[0] = "changed"
	c.Objects[o.Address].Target.DN = "changed"
	d := testDevice(1)
	c.Devices[d.Address].Actions[0].Status = "changed"
	if o.SIDHistory[0] == "changed" || o.Target.DN == "changed" || s.Devices[d.Address].Actions[0].Status == "changed" {
		t.Error("changing the clone changed the original")
	}
}

func TestDevice_LastAction(t *testing.T) {
	d := &Device{Actions: []DeviceAction{
		{Name: "reacl", Status: ActionFailed}, {Name: "cutover", Status: ActionDone}, {Name: "reacl", Status: ActionDone},
	}}
	tests := []struct {
		name   string
		want   DeviceAction
		wantOK bool
	}{
		{"reacl", DeviceAction{Name: "reacl", Status: ActionDone}, true},
		{"cutover", DeviceAction{Name: "cutover", Status: ActionDone}, true},
		{"cleanup", DeviceAction{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := d.LastAction(tt.name)
			if ok != tt.wantOK {
				t.Errorf("ok = %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
