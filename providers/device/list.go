package device

import (
	"context"
	"fmt"
	"sort"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/providers"
)

// listJobs is how many of each device's newest jobs ListDevices returns.
const listJobs = 5

// ListDevices implements providers.DeviceRunner: it pages through the
// hub's fleet listing (a request per api.MaxFleetPage devices) and
// returns the devices by host name, then ID.
func (p *Provider) ListDevices(ctx context.Context) ([]providers.DeviceInfo, error) {
	c, err := p.hub("ListDevices")
	if err != nil {
		return nil, err
	}
	var out []providers.DeviceInfo
	after := ""
	for {
		page, err := c.Fleet(ctx, after, api.MaxFleetPage, listJobs)
		if err != nil {
			return nil, fmt.Errorf("list devices of hub %s (after %q): %w", c.BaseURL, after, err)
		}
		for _, d := range page.Devices {
			out = append(out, deviceInfo(d))
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Hostname != out[j].Hostname {
			return out[i].Hostname < out[j].Hostname
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// deviceInfo converts the hub's view of a device.
func deviceInfo(d api.DeviceDetail) providers.DeviceInfo {
	info := providers.DeviceInfo{ID: d.ID, Hostname: d.Hostname, State: string(d.State), LastSeen: d.LastSeen}
	if inv := d.Inventory; inv != nil {
		pi := &providers.DeviceInventory{
			OS: inv.OS, OSVersion: inv.OSVersion, OSBuild: inv.OSBuild, ServicePack: inv.ServicePack, PowerShell: inv.PowerShell,
			DotNetRelease: inv.DotNetRelease, Domain: inv.Domain, FreeDiskBytes: inv.FreeDiskBytes,
		}
		for _, pr := range inv.Principals {
			pi.Principals = append(pi.Principals, providers.DevicePrincipal{SID: pr.SID, Name: pr.Name, Where: pr.Where})
		}
		for _, pr := range inv.Reachable {
			pi.Reachable = append(pi.Reachable, providers.DeviceProbe{Target: pr.Target, OK: pr.OK, Detail: pr.Detail})
		}
		info.Inventory = pi
	}
	for _, j := range d.Jobs {
		info.Jobs = append(info.Jobs, jobStatus(j))
	}
	return info
}

// jobStatus sums a job's reports up per action: its result, or else its
// last progress.
func jobStatus(j api.Job) providers.DeviceJobStatus {
	st := providers.DeviceJobStatus{ID: j.ID, Key: j.IdempotencyKey, State: string(j.State), Created: j.CreatedAt, Updated: j.UpdatedAt,
		Actions: make([]providers.DeviceActionStatus, len(j.Actions))}
	for i, a := range j.Actions {
		st.Actions[i].Name = a.Name
	}
	for _, r := range j.Reports {
		if r.Action < 0 || r.Action >= len(st.Actions) {
			continue
		}
		a := &st.Actions[r.Action]
		switch r.Kind {
		case api.ReportProgress:
			if a.Status == "" {
				a.Done, a.Total = r.Done, r.Total
			}
		case api.ReportResult:
			a.Status, a.Output = string(r.Status), r.Output
		}
	}
	return st
}
