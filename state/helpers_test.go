package state

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// at is a fixed instant so encoded states are reproducible.
var at = time.Date(2026, 11, 26, 1, 2, 3, 0, time.UTC)

// testObject returns a realistic matched user number i.
func testObject(i int) *Object {
	name := fmt.Sprintf("user%06d", i)
	return &Object{
		Address:  fmt.Sprintf("workflow.identities.user[%q]", name),
		Workflow: "identities",
		Kind:     KindUser,
		Source: Identity{
			DN:   fmt.Sprintf("CN=%s,OU=Staff,DC=source,DC=test", name),
			GUID: fmt.Sprintf("6f1c%04x-2b7e-4c1a-9d3e-%012x", i%0x10000, i),
			SID:  fmt.Sprintf("S-1-5-21-1111111111-2222222222-3333333333-%d", 1000+i),
		},
		Target: Identity{
			DN:   fmt.Sprintf("CN=%s,OU=Migrated,DC=target,DC=test", name),
			GUID: fmt.Sprintf("0a7d%04x-8e21-4f5b-b0c4-%012x", i%0x10000, i),
			SID:  fmt.Sprintf("S-1-5-21-4444444444-5555555555-6666666666-%d", 1000+i),
		},
		Created:   i%2 == 0,
		UpdatedAt: at,
	}
}

// testDevice returns a device number i with a finished action.
func testDevice(i int) *Device {
	name := fmt.Sprintf("WS%04d", i)
	return &Device{
		Address: fmt.Sprintf("device_cutover.wave1[%q]", name),
		Cutover: "wave1",
		Name:    name,
		Source:  Identity{DN: "CN=" + name + ",OU=Workstations,DC=source,DC=test", SID: fmt.Sprintf("S-1-5-21-1-2-3-%d", 5000+i)},
		Actions: []DeviceAction{
			{Name: "cache_credentials", Status: ActionDone, At: at},
			{Name: "reacl", Status: ActionFailed, Detail: "access denied on D:\\Shares", At: at.Add(time.Minute)},
		},
		UpdatedAt: at,
	}
}

// testState returns a state with n objects and n/10 devices.
func testState(n int) *State {
	s := New()
	for i := range n {
		o := testObject(i)
		s.Objects[o.Address] = o
	}
	for i := range n / 10 {
		d := testDevice(i)
		s.Devices[d.Address] = d
	}
	return s
}

// newTestLocal returns a Local in a fresh temporary directory.
func newTestLocal(t testing.TB) *Local {
	t.Helper()
	return NewLocal(filepath.Join(t.TempDir(), "adshift.state"))
}

// dirNames lists the file names in dir.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func mustBegin(t testing.TB, l *Local, s *State) *Txn {
	t.Helper()
	txn, err := l.Begin(t.Context(), s)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	return txn
}

func mustLoad(t testing.TB, l *Local) *State {
	t.Helper()
	s, err := l.Load(t.Context())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}
