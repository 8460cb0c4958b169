package ui

import (
	"bytes"
	"testing"
	"time"

	"github.com/adshift/adshift/hub/api"
)

func TestHubViews(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	dev := api.Device{ID: "d-1", Hostname: "WS001", Scope: "wave1", State: api.DeviceActive, CertSerial: "ab12", CertExpires: t0.AddDate(1, 0, 0), EnrolledAt: t0, LastSeen: t0.Add(time.Minute),
		Inventory: &api.Inventory{OS: "Windows 10 Pro", OSBuild: "19045", PowerShell: "5.1", DotNetRelease: 528040, Domain: "source.test", FreeDiskBytes: 12 << 30,
			Principals: []api.Principal{{SID: "S-1-5-21-1-2-3-1001"}}, Reachable: []api.Probe{{Target: "dc1.target.test:389", OK: true}}}}
	job := api.Job{ID: "j-1", DeviceID: "d-1", State: api.JobLeased, Attempt: 1, CreatedAt: t0,
		Actions: []api.Action{{Name: "echo"}, {Name: "noop"}, {Name: "noop"}},
		Reports: []api.Report{
			{Action: 0, Kind: api.ReportResult, Status: api.StatusOK, Output: "hello", At: t0.Add(2 * time.Minute)},
			{Action: 1, Kind: api.ReportProgress, Done: 3, Total: 10, At: t0.Add(3 * time.Minute)},
		}}
	var out bytes.Buffer
	v := &View{Out: &out, Err: &out}
	v.HubDevice(api.DeviceDetail{Device: dev, Jobs: []api.Job{job}})
	v.HubDevices([]api.Device{dev, {ID: "d-2", Hostname: "WS002", State: api.DeviceRevoked, EnrolledAt: t0}})
	v.HubTokens([]api.Token{
		{ID: "t-1", Scope: "wave1", ExpiresAt: t0.Add(time.Hour), Uses: 5, Used: 2},
		{ID: "t-2", ExpiresAt: t0.Add(-time.Hour), Uses: 1},
		{ID: "t-3", ExpiresAt: t0.Add(time.Hour), Uses: 1, Used: 1},
		{ID: "t-4", ExpiresAt: t0.Add(time.Hour), Uses: 1, Revoked: true},
	}, t0)
	v.HubAudit([]api.AuditEntry{{At: t0, Actor: "device:d-1", Action: "job.report", Object: "job:j-1/action:0", Result: "duplicate", Detail: "result ok"}})
	v.HubAudit(nil)
	v.HubTokenCreated(api.TokenCreated{Token: api.Token{ID: "t-5", Scope: "wave2", ExpiresAt: t0.Add(time.Hour), Uses: 10}, Secret: "adshift-enroll-SECRET", CAFingerprint: "sha256:00"})
	golden(t, "hub.txt", out.Bytes())
}
