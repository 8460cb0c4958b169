package providers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	gproto "google.golang.org/protobuf/proto"

	"github.com/adshift/adshift/providers/proto"
)

// FuzzBatchFromProto feeds arbitrary wire bytes to the host's batch
// decoder: it must reject or decode them without panicking, and whatever
// it decodes must survive another trip through the encoder unchanged.
func FuzzBatchFromProto(f *testing.F) {
	enc := newBatchEncoder()
	for _, o := range makeObjects(3, 2) {
		enc.add(&o)
	}
	seed, err := gproto.Marshal(enc.take())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	packed, err := gproto.Marshal(packedBatch())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(packed)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var b proto.Discover_Batch
		if err := gproto.Unmarshal(data, &b); err != nil {
			return
		}
		objs, err := batchFromProto(&b)
		if err != nil {
			return
		}
		enc := newBatchEncoder()
		for i := range objs {
			enc.add(&objs[i])
		}
		again, err := batchFromProto(enc.take())
		if err != nil {
			t.Fatalf("re-encoded batch fails: %v", err)
		}
		if diff := cmp.Diff(objs, again); diff != "" {
			t.Errorf("second trip (-first +second):\n%s", diff)
		}
	})
}

// FuzzDeviceEventFromProto feeds arbitrary wire bytes to the host's
// RunDevices event decoder: reject or decode without panicking, and what
// it decodes survives another trip.
func FuzzDeviceEventFromProto(f *testing.F) {
	seed, err := gproto.Marshal(deviceEventToProto(DeviceEvent{Kind: DeviceEventResult, Key: "k", JobID: "j", Action: 2, ActionName: "reacl", Status: "ok", Output: "done"}))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var pe proto.RunDevices_Event
		if gproto.Unmarshal(data, &pe) != nil {
			return
		}
		e, err := deviceEventFromProto(&pe)
		if err != nil {
			return
		}
		again, err := deviceEventFromProto(deviceEventToProto(e))
		if err != nil {
			t.Fatalf("re-encoded event fails: %v", err)
		}
		if diff := cmp.Diff(e, again); diff != "" {
			t.Errorf("second trip (-first +second):\n%s", diff)
		}
	})
}

// FuzzDeviceFromProto does the same for ListDevices batches, and the
// plugin's decoder of RunDevices requests.
func FuzzDeviceFromProto(f *testing.F) {
	batch := &proto.ListDevices_Batch{Devices: []*proto.ListDevices_Device{deviceToProto(DeviceInfo{ID: "d1", Hostname: "ws1", State: "active",
		Inventory: &DeviceInventory{OS: "Windows 10", Principals: []DevicePrincipal{{SID: "S-1-5-21-1-2-3-1001", Where: "profile"}}},
		Jobs:      []DeviceJobStatus{{ID: "j", State: "queued", Actions: []DeviceActionStatus{{Name: "noop"}}}}})}}
	seed, err := gproto.Marshal(batch)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	run, err := gproto.Marshal(deviceRunToProto(DeviceRun{Jobs: []DeviceJob{{DeviceID: "d", Key: "k", Actions: []DeviceAction{{Name: "echo", Params: map[string]string{"message": "x"}}}}}}))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(run)
	f.Fuzz(func(t *testing.T, data []byte) {
		var b proto.ListDevices_Batch
		if gproto.Unmarshal(data, &b) == nil {
			for _, pd := range b.GetDevices() {
				if d, err := deviceFromProto(pd); err == nil {
					again, err := deviceFromProto(deviceToProto(d))
					if err != nil || !cmp.Equal(d, again) {
						t.Errorf("device second trip: %v\n%s", err, cmp.Diff(d, again))
					}
				}
			}
		}
		var req proto.RunDevices_Request
		if gproto.Unmarshal(data, &req) == nil {
			if r, err := deviceRunFromProto(&req); err == nil {
				again, err := deviceRunFromProto(deviceRunToProto(r))
				if err != nil || !cmp.Equal(r, again) {
					t.Errorf("run second trip: %v\n%s", err, cmp.Diff(r, again))
				}
			}
		}
	})
}
