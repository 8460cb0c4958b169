package providers

import (
	"fmt"
	"time"

	"github.com/adshift/adshift/providers/proto"
)

// Conversions of the device calls (ListDevices, RunDevices) between the
// Go types of device.go and their protobuf messages. From-proto
// conversions of what a plugin sends return an error, never panic.

// unixNanos and fromUnixNanos carry times as Unix nanoseconds; zero stays
// zero.
func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func deviceToProto(d DeviceInfo) *proto.ListDevices_Device {
	out := &proto.ListDevices_Device{Id: validText(d.ID), Hostname: validText(d.Hostname), State: validText(d.State), LastSeen: unixNanos(d.LastSeen)}
	if inv := d.Inventory; inv != nil {
		pi := &proto.ListDevices_Inventory{
			Os: validText(inv.OS), OsVersion: validText(inv.OSVersion), OsBuild: validText(inv.OSBuild), ServicePack: validText(inv.ServicePack),
			Powershell: validText(inv.PowerShell), DotnetRelease: int64(inv.DotNetRelease), Domain: validText(inv.Domain), FreeDiskBytes: inv.FreeDiskBytes,
		}
		for _, p := range inv.Principals {
			pi.Principals = append(pi.Principals, &proto.ListDevices_Inventory_Principal{Sid: validText(p.SID), Name: validText(p.Name), Where: validText(p.Where)})
		}
		for _, p := range inv.Reachable {
			pi.Reachable = append(pi.Reachable, &proto.ListDevices_Inventory_Probe{Target: validText(p.Target), Ok: p.OK, Detail: validText(p.Detail)})
		}
		out.Inventory = pi
	}
	for _, j := range d.Jobs {
		pj := &proto.ListDevices_JobStatus{Id: validText(j.ID), Key: validText(j.Key), State: validText(j.State), Created: unixNanos(j.Created), Updated: unixNanos(j.Updated)}
		for _, a := range j.Actions {
			pj.Actions = append(pj.Actions, &proto.ListDevices_JobStatus_Action{Name: validText(a.Name), Status: validText(a.Status), Output: validText(a.Output), Done: a.Done, Total: a.Total})
		}
		out.Jobs = append(out.Jobs, pj)
	}
	return out
}

func deviceFromProto(d *proto.ListDevices_Device) (DeviceInfo, error) {
	if d.GetId() == "" {
		return DeviceInfo{}, fmt.Errorf("device without an ID (host name %q)", d.GetHostname())
	}
	out := DeviceInfo{ID: d.GetId(), Hostname: d.GetHostname(), State: d.GetState(), LastSeen: fromUnixNanos(d.GetLastSeen())}
	if pi := d.GetInventory(); pi != nil {
		inv := &DeviceInventory{
			OS: pi.GetOs(), OSVersion: pi.GetOsVersion(), OSBuild: pi.GetOsBuild(), ServicePack: pi.GetServicePack(),
			PowerShell: pi.GetPowershell(), DotNetRelease: int(pi.GetDotnetRelease()), Domain: pi.GetDomain(), FreeDiskBytes: pi.GetFreeDiskBytes(),
		}
		for _, p := range pi.GetPrincipals() {
			inv.Principals = append(inv.Principals, DevicePrincipal{SID: p.GetSid(), Name: p.GetName(), Where: p.GetWhere()})
		}
		for _, p := range pi.GetReachable() {
			inv.Reachable = append(inv.Reachable, DeviceProbe{Target: p.GetTarget(), OK: p.GetOk(), Detail: p.GetDetail()})
		}
		out.Inventory = inv
	}
	for _, pj := range d.GetJobs() {
		j := DeviceJobStatus{ID: pj.GetId(), Key: pj.GetKey(), State: pj.GetState(), Created: fromUnixNanos(pj.GetCreated()), Updated: fromUnixNanos(pj.GetUpdated())}
		for _, a := range pj.GetActions() {
			j.Actions = append(j.Actions, DeviceActionStatus{Name: a.GetName(), Status: a.GetStatus(), Output: a.GetOutput(), Done: a.GetDone(), Total: a.GetTotal()})
		}
		out.Jobs = append(out.Jobs, j)
	}
	return out, nil
}

// deviceRunToProto packs run, each distinct parameter value once.
func deviceRunToProto(run DeviceRun) *proto.RunDevices_Request {
	req := &proto.RunDevices_Request{Wait: int64(run.Wait)}
	index := map[string]uint32{}
	for _, j := range run.Jobs {
		pj := &proto.RunDevices_Job{DeviceId: validText(j.DeviceID), Hostname: validText(j.Hostname), Key: validText(j.Key)}
		for _, a := range j.Actions {
			pa := &proto.RunDevices_Action{Name: validText(a.Name), Params: make(map[string]uint32, len(a.Params))}
			for k, v := range a.Params {
				i, ok := index[v]
				if !ok {
					i = uint32(len(req.Values))
					index[v] = i
					req.Values = append(req.Values, validText(v))
				}
				pa.Params[validText(k)] = i
			}
			pj.Actions = append(pj.Actions, pa)
		}
		req.Jobs = append(req.Jobs, pj)
	}
	return req
}

func deviceRunFromProto(req *proto.RunDevices_Request) (DeviceRun, error) {
	if req.GetWait() < 0 {
		return DeviceRun{}, fmt.Errorf("negative wait %d", req.GetWait())
	}
	run := DeviceRun{Wait: time.Duration(req.GetWait())}
	values := req.GetValues()
	for ji, pj := range req.GetJobs() {
		j := DeviceJob{DeviceID: pj.GetDeviceId(), Hostname: pj.GetHostname(), Key: pj.GetKey()}
		for ai, pa := range pj.GetActions() {
			a := DeviceAction{Name: pa.GetName()}
			if len(pa.GetParams()) > 0 {
				a.Params = make(map[string]string, len(pa.GetParams()))
			}
			for k, i := range pa.GetParams() {
				if int(i) >= len(values) {
					return DeviceRun{}, fmt.Errorf("job %d action %d parameter %q: value %d of %d", ji, ai, k, i, len(values))
				}
				a.Params[k] = values[i]
			}
			j.Actions = append(j.Actions, a)
		}
		run.Jobs = append(run.Jobs, j)
	}
	return run, nil
}

// deviceEventKinds are the event kinds the protocol carries.
var deviceEventKinds = map[DeviceEventKind]bool{
	DeviceEventQueued: true, DeviceEventProgress: true, DeviceEventResult: true,
	DeviceEventDone: true, DeviceEventPending: true, DeviceEventError: true,
}

func deviceEventToProto(e DeviceEvent) *proto.RunDevices_Event {
	return &proto.RunDevices_Event{
		Kind: validText(string(e.Kind)), Key: validText(e.Key), DeviceId: validText(e.DeviceID), Hostname: validText(e.Hostname),
		JobId: validText(e.JobID), Action: int64(e.Action), ActionName: validText(e.ActionName), Done: e.Done, Total: e.Total,
		Status: validText(e.Status), Output: validText(e.Output), JobState: validText(e.JobState), At: unixNanos(e.At),
	}
}

func deviceEventFromProto(e *proto.RunDevices_Event) (DeviceEvent, error) {
	kind := DeviceEventKind(e.GetKind())
	if !deviceEventKinds[kind] {
		return DeviceEvent{}, fmt.Errorf("device event of unknown kind %q", e.GetKind())
	}
	if e.GetAction() < 0 || e.GetAction() > 1<<20 {
		return DeviceEvent{}, fmt.Errorf("device event with action index %d", e.GetAction())
	}
	return DeviceEvent{
		Kind: kind, Key: e.GetKey(), DeviceID: e.GetDeviceId(), Hostname: e.GetHostname(),
		JobID: e.GetJobId(), Action: int(e.GetAction()), ActionName: e.GetActionName(), Done: e.GetDone(), Total: e.GetTotal(),
		Status: e.GetStatus(), Output: e.GetOutput(), JobState: e.GetJobState(), At: fromUnixNanos(e.GetAt()),
	}, nil
}
