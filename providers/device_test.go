package providers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// deviceFake is the fake provider plus a DeviceRunner that answers with
// devices and events, recording the run it got.
type deviceFake struct {
	*fakeProvider
	devices []DeviceInfo
	events  []DeviceEvent
	got     DeviceRun
	err     error
}

func (f *deviceFake) ListDevices(context.Context) ([]DeviceInfo, error) { return f.devices, f.err }

func (f *deviceFake) RunDevices(_ context.Context, run DeviceRun, emit func(DeviceEvent) error) error {
	f.got = run
	for _, e := range f.events {
		if err := emit(e); err != nil {
			return err
		}
	}
	return f.err
}

func TestGRPC_devices(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 1, 2, 3, 4, time.UTC)
	sidMap := strings.Repeat("S-1-5-21-1-2-3-1001=S-1-5-21-4-5-6-1001\n", 1000)
	f := &deviceFake{fakeProvider: newFakeProvider(),
		devices: []DeviceInfo{
			{ID: "d1", Hostname: "ws1", State: "active", LastSeen: t0, Inventory: &DeviceInventory{
				OS: "Windows 10", OSVersion: "10.0", DotNetRelease: 528040, Domain: "source.test", FreeDiskBytes: 1 << 30,
				Principals: []DevicePrincipal{{SID: "S-1-5-21-1-2-3-1001", Name: `SOURCE\jdoe`, Where: "profile"}},
				Reachable:  []DeviceProbe{{Target: "hub:443", OK: true}},
			}, Jobs: []DeviceJobStatus{{ID: "j1", Key: "k1", State: "succeeded", Created: t0, Updated: t0.Add(time.Second),
				Actions: []DeviceActionStatus{{Name: "echo", Status: "ok", Output: "hi", Done: 2, Total: 2}}}}},
			{ID: "d2", Hostname: "ws2", State: "revoked"},
		},
		events: []DeviceEvent{
			{Kind: DeviceEventQueued, Key: "k1", DeviceID: "d1", Hostname: "ws1", JobID: "j1", At: t0},
			{Kind: DeviceEventResult, Key: "k1", DeviceID: "d1", JobID: "j1", Action: 1, ActionName: "reacl", Status: "ok", Output: "done", At: t0},
			{Kind: DeviceEventDone, Key: "k1", JobID: "j1", JobState: "succeeded"},
		},
	}
	p := inProcess(t, f).(DeviceRunner)
	got, err := p.ListDevices(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(f.devices, got); d != "" {
		t.Errorf("devices (-sent +received):\n%s", d)
	}

	run := DeviceRun{Wait: time.Minute, Jobs: []DeviceJob{
		{DeviceID: "d1", Hostname: "ws1", Key: "k1", Actions: []DeviceAction{{Name: "noop"}, {Name: "reacl", Params: map[string]string{"sid_map": sidMap, "mode": "add"}}}},
		{DeviceID: "d2", Hostname: "ws2", Key: "k2", Actions: []DeviceAction{{Name: "reacl", Params: map[string]string{"sid_map": sidMap, "mode": "add"}}}},
	}}
	if req := deviceRunToProto(run); len(req.GetValues()) != 2 {
		t.Errorf("request carries %d values, want the 2 distinct ones", len(req.GetValues()))
	}
	var events []DeviceEvent
	if err := p.RunDevices(t.Context(), run, func(e DeviceEvent) error { events = append(events, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(run, f.got); d != "" {
		t.Errorf("run (-sent +received):\n%s", d)
	}
	if d := cmp.Diff(f.events, events); d != "" {
		t.Errorf("events (-sent +received):\n%s", d)
	}

	// emit's error ends the call and is returned as it is.
	stop := errors.New("stop")
	if err := p.RunDevices(t.Context(), run, func(DeviceEvent) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("RunDevices with a failing emit = %v, want %v", err, stop)
	}
	f.err = errors.New("hub unreachable")
	if _, err := p.ListDevices(t.Context()); err == nil || err.Error() != `provider "fake": ListDevices: hub unreachable` {
		t.Errorf("ListDevices error = %v", err)
	}
}

func TestGRPC_devicesUnsupported(t *testing.T) {
	p := inProcess(t, newFakeProvider()).(DeviceRunner)
	if _, err := p.ListDevices(t.Context()); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ListDevices error = %v, want ErrUnsupported", err)
	}
	err := p.RunDevices(t.Context(), DeviceRun{}, func(DeviceEvent) error { return nil })
	if !errors.Is(err, ErrUnsupported) {
		t.Errorf("RunDevices error = %v, want ErrUnsupported", err)
	}
}

func TestDeviceConvert_invalid(t *testing.T) {
	req := deviceRunToProto(DeviceRun{Jobs: []DeviceJob{{DeviceID: "d", Key: "k", Actions: []DeviceAction{{Name: "echo", Params: map[string]string{"message": "x"}}}}}})
	req.Values = nil
	if _, err := deviceRunFromProto(req); err == nil {
		t.Error("a parameter pointing past the values was accepted")
	}
	e := deviceEventToProto(DeviceEvent{Kind: "exploded"})
	if _, err := deviceEventFromProto(e); err == nil {
		t.Error("an event of an unknown kind was accepted")
	}
}
