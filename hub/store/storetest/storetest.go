// Package storetest is the suite every store.Store implementation passes:
// the same cases run against SQLite and PostgreSQL.
package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/hub/store"
)

// Run runs the suite; open returns an empty store, closed by the caller's
// t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Enroll", func(t *testing.T) { testEnroll(t, open(t)) })
	t.Run("Jobs", func(t *testing.T) { testJobs(t, open(t)) })
	t.Run("Reports", func(t *testing.T) { testReports(t, open(t)) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open(t)) })
	t.Run("Renew", func(t *testing.T) { testRenew(t, open(t)) })
	t.Run("Fleet", func(t *testing.T) { testFleet(t, open(t)) })
	t.Run("Changes", func(t *testing.T) { testChanges(t, open(t)) })
	t.Run("QueueJobs", func(t *testing.T) { testQueueJobs(t, open(t)) })
	t.Run("LargeParams", func(t *testing.T) { testLargeParams(t, open(t)) })
	t.Run("Identity", func(t *testing.T) { testIdentity(t, open(t)) })
	t.Run("QueueJobsKeys", func(t *testing.T) { testQueueJobsKeys(t, open(t)) })
}

// testQueueJobsKeys: a key twice in one batch queues one job; a revoked
// device's finished job still answers its key.
func testQueueJobsKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	enrolled(t, s, "d1", "d2")
	if _, _, err := s.QueueJob(ctx, job("done", "d2", "k1", 1, t0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LeaseJob(ctx, "d2", lease("l1", t0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Report(ctx, "d2", report("r1", "done", "l1", 0, api.ReportResult, api.StatusOK), t0, api.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeDevice(ctx, "d2"); err != nil {
		t.Fatal(err)
	}
	got, err := s.QueueJobs(ctx, []api.Job{job("a", "d1", "k1", 1, t0), job("b", "d1", "k1", 1, t0), job("c", "d2", "k1", 1, t0)}, api.AuditEntry{})
	if err != nil {
		t.Fatal(err)
	}
	var sum []string
	for _, q := range got {
		sum = append(sum, fmt.Sprintf("%s existing=%v state=%s err=%v", q.Job.ID, q.Existing, q.Job.State, q.Err))
	}
	want := []string{"a existing=false state=queued err=<nil>", "a existing=true state=queued err=<nil>", "done existing=true state=succeeded err=<nil>"}
	if diff := cmp.Diff(want, sum); diff != "" {
		t.Errorf("QueueJobs (-want +got):\n%s", diff)
	}
	if jobs, err := s.Jobs(ctx, "d1"); err != nil || len(jobs) != 1 {
		t.Errorf("d1 has %d jobs, %v; want one", len(jobs), err)
	}
}

// testIdentity: Identity is Device by ID without the inventory.
func testIdentity(t *testing.T, s store.Store) {
	ctx := t.Context()
	enrolled(t, s, "d1")
	inv := &api.Inventory{OS: "Windows 11", Domain: "source.test"}
	if err := s.Seen(ctx, "d1", t0.Add(time.Minute), inv); err != nil {
		t.Fatal(err)
	}
	want, err := s.Device(ctx, "d1")
	if err != nil || want.Inventory == nil {
		t.Fatalf("Device = %+v, %v; want it with its inventory", want, err)
	}
	want.Inventory = nil
	got, err := s.Identity(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Identity (-want +got):\n%s", diff)
	}
	_, err = s.Identity(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
	// Not by host name: only a certificate's device ID names an identity.
	if err := s.RevokeDevice(ctx, "d1"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Identity(ctx, "d1"); err != nil || got.State != api.DeviceRevoked {
		t.Errorf("Identity of a revoked device = %+v, %v; want it, revoked", got, err)
	}
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func token(t *testing.T, s store.Store, id string, uses int, ttl time.Duration) []byte {
	t.Helper()
	hash := []byte("hash-" + id)
	tok := api.Token{ID: id, Scope: "wave1", ExpiresAt: t0.Add(ttl), Uses: uses, CreatedAt: t0}
	if err := s.CreateToken(t.Context(), tok, hash); err != nil {
		t.Fatal(err)
	}
	return hash
}

func device(id, host string) api.Device {
	return api.Device{ID: id, Hostname: host, CertSerial: "serial-" + id, CertExpires: t0.Add(365 * 24 * time.Hour), PingKey: []byte("key-" + id)}
}

// enrolled returns a store with one enrolled device per id (host = id).
func enrolled(t *testing.T, s store.Store, ids ...string) {
	t.Helper()
	hash := token(t, s, "tok-"+ids[0], len(ids), time.Hour)
	for _, id := range ids {
		if _, err := s.Enroll(t.Context(), hash, device(id, id), t0); err != nil {
			t.Fatal(err)
		}
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func testEnroll(t *testing.T, s store.Store) {
	ctx := t.Context()
	once := token(t, s, "once", 1, time.Hour)
	twice := token(t, s, "twice", 2, time.Hour)
	short := token(t, s, "short", 5, time.Minute)
	revoked := token(t, s, "revoked", 5, time.Hour)
	if err := s.RevokeToken(ctx, "revoked"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.RevokeToken(ctx, "nope"), store.ErrNotFound)

	if err := s.CheckToken(ctx, once, t0); err != nil {
		t.Errorf("CheckToken(once) before use: %v", err)
	}
	wantErr(t, s.CheckToken(ctx, short, t0.Add(time.Minute)), store.ErrTokenInvalid)
	wantErr(t, s.CheckToken(ctx, revoked, t0), store.ErrTokenInvalid)
	wantErr(t, s.CheckToken(ctx, []byte("unknown"), t0), store.ErrTokenInvalid)
	d, err := s.Enroll(ctx, once, device("d1", "ws1"), t0)
	if err != nil {
		t.Fatal(err)
	}
	if d.Scope != "wave1" || d.State != api.DeviceActive || !d.EnrolledAt.Equal(t0) {
		t.Errorf("enrolled device = %+v", d)
	}
	_, err = s.Enroll(ctx, once, device("d2", "ws2"), t0)
	wantErr(t, err, store.ErrTokenInvalid)
	wantErr(t, s.CheckToken(ctx, once, t0), store.ErrTokenInvalid)
	_, err = s.Enroll(ctx, []byte("unknown"), device("d2", "ws2"), t0)
	wantErr(t, err, store.ErrTokenInvalid)
	_, err = s.Enroll(ctx, short, device("d2", "ws2"), t0.Add(time.Minute))
	wantErr(t, err, store.ErrTokenInvalid)
	_, err = s.Enroll(ctx, revoked, device("d2", "ws2"), t0)
	wantErr(t, err, store.ErrTokenInvalid)

	// The same host name twice: refused, and the token keeps its use.
	_, err = s.Enroll(ctx, twice, device("d2", "ws1"), t0)
	wantErr(t, err, store.ErrHostnameTaken)
	if err := s.RevokeDevice(ctx, "d1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enroll(ctx, twice, device("d2", "ws1"), t0); err != nil {
		t.Fatalf("enroll after revoke: %v", err)
	}
	if _, err := s.Enroll(ctx, twice, device("d3", "ws3"), t0); err != nil {
		t.Fatalf("second use: %v", err)
	}

	got, err := s.Device(ctx, "ws1")
	if err != nil || got.ID != "d2" {
		t.Errorf("Device(ws1) = %v, %v; want d2", got.ID, err)
	}
	if string(got.PingKey) != "key-d2" {
		t.Errorf("ping key %q, want key-d2", got.PingKey)
	}
	got, err = s.Device(ctx, "d1")
	if err != nil || got.State != api.DeviceRevoked {
		t.Errorf("Device(d1) = %+v, %v; want revoked", got, err)
	}
	_, err = s.Device(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)

	inv := &api.Inventory{OS: "Windows 10", DotNetRelease: 528040, Principals: []api.Principal{{SID: "S-1-5-21-1-2-3-1001", Name: "SOURCE\\jdoe", Where: "profile"}}}
	if err := s.Seen(ctx, "d2", t0.Add(time.Minute), inv); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.Seen(ctx, "d1", t0, nil), store.ErrDeviceRevoked)
	got, _ = s.Device(ctx, "d2")
	if diff := cmp.Diff(inv, got.Inventory); diff != "" || !got.LastSeen.Equal(t0.Add(time.Minute)) {
		t.Errorf("inventory (-want +got):\n%s\nlast seen %v", diff, got.LastSeen)
	}

	devs, err := s.Devices(ctx)
	if err != nil || len(devs) != 3 {
		t.Fatalf("Devices = %d, %v; want 3", len(devs), err)
	}
	toks, err := s.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]int{}
	for _, tk := range toks {
		used[tk.ID] = tk.Used
	}
	if diff := cmp.Diff(map[string]int{"once": 1, "twice": 2, "short": 0, "revoked": 0}, used); diff != "" {
		t.Errorf("uses (-want +got):\n%s", diff)
	}
}

func job(id, dev, key string, n int, at time.Time) api.Job {
	j := api.Job{ID: id, DeviceID: dev, IdempotencyKey: key, CreatedAt: at}
	for i := range n {
		j.Actions = append(j.Actions, api.Action{Name: "echo", Params: map[string]string{"message": fmt.Sprint(i)}})
	}
	return j
}

func lease(id string, now time.Time) store.Lease {
	return store.Lease{ID: id, Now: now, Until: now.Add(time.Minute)}
}

func testJobs(t *testing.T, s store.Store) {
	ctx := t.Context()
	enrolled(t, s, "d1", "d2")
	j1, existing, err := s.QueueJob(ctx, job("j1", "d1", "k1", 2, t0))
	if err != nil || existing || j1.State != api.JobQueued {
		t.Fatalf("QueueJob = %+v, %v, %v", j1, existing, err)
	}
	again, existing, err := s.QueueJob(ctx, job("j1b", "d1", "k1", 1, t0.Add(time.Second)))
	if err != nil || !existing || again.ID != "j1" || len(again.Actions) != 2 {
		t.Fatalf("QueueJob with a known key = %+v, %v, %v; want j1", again, existing, err)
	}
	if _, _, err := s.QueueJob(ctx, job("j2", "d1", "k2", 1, t0.Add(time.Second))); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.QueueJob(ctx, job("jx", "nope", "k", 1, t0))
	wantErr(t, err, store.ErrNotFound)

	if next, err := s.NextAvailable(ctx, "d1"); err != nil || !next.Equal(t0) {
		t.Errorf("NextAvailable = %v, %v; want %v", next, err, t0)
	}
	if next, err := s.NextAvailable(ctx, "d2"); err != nil || !next.IsZero() {
		t.Errorf("NextAvailable(d2) = %v, %v; want zero", next, err)
	}
	if j, err := s.LeaseJob(ctx, "d2", lease("l0", t0)); err != nil || j != nil {
		t.Fatalf("LeaseJob(d2) = %v, %v; want none", j, err)
	}
	got, err := s.LeaseJob(ctx, "d1", lease("l1", t0))
	if err != nil || got == nil || got.ID != "j1" || got.Attempt != 1 || got.LeaseID != "l1" || got.State != api.JobLeased {
		t.Fatalf("LeaseJob = %+v, %v; want j1 attempt 1", got, err)
	}
	got, err = s.LeaseJob(ctx, "d1", lease("l2", t0.Add(time.Second)))
	if err != nil || got == nil || got.ID != "j2" {
		t.Fatalf("second LeaseJob = %+v, %v; want j2", got, err)
	}
	if got, _ := s.LeaseJob(ctx, "d1", lease("l3", t0.Add(2*time.Second))); got != nil {
		t.Fatalf("LeaseJob while all are leased = %s", got.ID)
	}

	// Heartbeats extend live leases only.
	ext, err := s.ExtendLeases(ctx, "d1", []api.Lease{{JobID: "j1", LeaseID: "l1"}, {JobID: "j2", LeaseID: "wrong"}}, lease("", t0.Add(30*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]api.Lease{{JobID: "j1", LeaseID: "l1"}}, ext); diff != "" {
		t.Errorf("extended (-want +got):\n%s", diff)
	}
	if ext, _ := s.ExtendLeases(ctx, "d2", []api.Lease{{JobID: "j1", LeaseID: "l1"}}, lease("", t0.Add(30*time.Second))); len(ext) != 0 {
		t.Errorf("another device extended j1: %v", ext)
	}

	// j2's lease ran out at t0+61s: it is offered again, after the backoff.
	backoff := func(attempt int) time.Duration { return time.Duration(attempt) * 10 * time.Second }
	l := store.Lease{ID: "l4", Now: t0.Add(62 * time.Second), Until: t0.Add(122 * time.Second), Backoff: backoff}
	got, err = s.LeaseJob(ctx, "d1", l)
	if err != nil || got == nil || got.ID != "j2" || got.Attempt != 2 {
		t.Fatalf("LeaseJob after expiry = %+v, %v; want j2 attempt 2", got, err)
	}
	if next, _ := s.NextAvailable(ctx, "d1"); !next.Equal(t0.Add(90 * time.Second)) {
		t.Errorf("NextAvailable = %v, want j1 at its extended lease's end", next)
	}
	l = store.Lease{ID: "l5", Now: t0.Add(123 * time.Second), Until: t0.Add(183 * time.Second), Backoff: backoff}
	if got, _ := s.LeaseJob(ctx, "d1", l); got == nil || got.ID != "j1" {
		t.Fatalf("LeaseJob = %v; want j1 again (its lease ended at t0+90s)", got)
	}
	l.Now = t0.Add(140 * time.Second)
	if got, _ := s.LeaseJob(ctx, "d1", l); got != nil {
		t.Fatalf("j2 offered at %v, before its backoff (lease end + 20s) passed", l.Now)
	}

	jobs, err := s.Jobs(ctx, "d1")
	if err != nil || len(jobs) != 2 || jobs[0].ID != "j2" {
		t.Fatalf("Jobs = %v, %v; want j2, j1", jobs, err)
	}
	_, err = s.Job(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
}

func report(id, job, lease string, action int, kind api.ReportKind, status api.ResultStatus) api.Report {
	return api.Report{ID: id, JobID: job, LeaseID: lease, Action: action, Kind: kind, Status: status, Output: "out " + id}
}

func testReports(t *testing.T, s store.Store) {
	ctx := t.Context()
	enrolled(t, s, "d1", "d2")
	for _, j := range []api.Job{job("j1", "d1", "k1", 2, t0), job("j2", "d1", "k2", 2, t0.Add(time.Second))} {
		if _, _, err := s.QueueJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.LeaseJob(ctx, "d1", lease("l1", t0)); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(time.Second)
	steps := []struct {
		name   string
		dev    string
		r      api.Report
		at     time.Time
		want   api.ReportAck
		refuse error
	}{
		{"progress", "d1", api.Report{ID: "r1", JobID: "j1", LeaseID: "l1", Action: 0, Kind: api.ReportProgress, Done: 1, Total: 2}, now, api.ReportAck{JobState: api.JobLeased}, nil},
		{"result", "d1", report("r2", "j1", "l1", 0, api.ReportResult, api.StatusOK), now, api.ReportAck{JobState: api.JobLeased}, nil},
		{"replayed result", "d1", report("r2", "j1", "l1", 0, api.ReportResult, api.StatusOK), now, api.ReportAck{Duplicate: true, JobState: api.JobLeased}, nil},
		{"replay that differs", "d1", report("r2", "j1", "l1", 1, api.ReportResult, api.StatusOK), now, api.ReportAck{}, store.ErrConflict},
		{"second result for an action", "d1", report("r3", "j1", "l1", 0, api.ReportResult, api.StatusOK), now, api.ReportAck{}, store.ErrConflict},
		{"another device's job", "d2", report("r4", "j1", "l1", 1, api.ReportResult, api.StatusOK), now, api.ReportAck{}, store.ErrForbidden},
		{"unknown job", "d1", report("r4", "nope", "l1", 1, api.ReportResult, api.StatusOK), now, api.ReportAck{}, store.ErrNotFound},
		{"wrong lease", "d1", report("r4", "j1", "l0", 1, api.ReportResult, api.StatusOK), now, api.ReportAck{}, store.ErrLeaseLost},
		{"expired lease", "d1", report("r4", "j1", "l1", 1, api.ReportResult, api.StatusOK), t0.Add(time.Minute), api.ReportAck{}, store.ErrLeaseLost},
		{"action out of range", "d1", report("r4", "j1", "l1", 2, api.ReportResult, api.StatusOK), now, api.ReportAck{}, store.ErrConflict},
		{"not leased", "d1", report("r4", "j2", "l1", 0, api.ReportResult, api.StatusOK), now, api.ReportAck{}, store.ErrLeaseLost},
		{"last result", "d1", report("r5", "j1", "l1", 1, api.ReportResult, api.StatusOK), now, api.ReportAck{JobState: api.JobSucceeded}, nil},
		{"replay after the end", "d1", report("r5", "j1", "l1", 1, api.ReportResult, api.StatusOK), now, api.ReportAck{Duplicate: true, JobState: api.JobSucceeded}, nil},
	}
	for _, st := range steps {
		got, err := s.Report(ctx, st.dev, st.r, st.at, api.AuditEntry{Actor: "device:" + st.dev, Action: "job.report", Object: st.name})
		if st.refuse != nil {
			if !errors.Is(err, st.refuse) {
				t.Errorf("%s: err = %v, want %v", st.name, err, st.refuse)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", st.name, err)
			continue
		}
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("%s: ack (-want +got):\n%s", st.name, diff)
		}
	}
	// Each recorded or acknowledged report was audited in its
	// transaction; refusals were not (the caller audits those).
	entries, err := s.AuditLog(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var audited []string
	for _, e := range entries {
		audited = append([]string{e.Object + " " + e.Result}, audited...)
	}
	if diff := cmp.Diff([]string{"progress ok", "result ok", "replayed result duplicate", "last result ok", "replay after the end duplicate"}, audited); diff != "" {
		t.Errorf("audited (-want +got):\n%s", diff)
	}
	j, err := s.Job(ctx, "j1")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range j.Reports {
		ids = append(ids, r.ID)
	}
	if diff := cmp.Diff([]string{"r1", "r2", "r5"}, ids); diff != "" || j.State != api.JobSucceeded || j.LeaseID != "" {
		t.Errorf("j1 reports (-want +got):\n%s\nstate %s lease %q", diff, j.State, j.LeaseID)
	}

	// A failed action fails the job and ends its lease.
	if _, err := s.LeaseJob(ctx, "d1", lease("l2", now)); err != nil {
		t.Fatal(err)
	}
	ack, err := s.Report(ctx, "d1", report("r6", "j2", "l2", 0, api.ReportResult, api.StatusFailed), now, api.AuditEntry{})
	if err != nil || ack.JobState != api.JobFailed {
		t.Fatalf("failed result: %+v, %v", ack, err)
	}
	if got, _ := s.LeaseJob(ctx, "d1", lease("l3", t0.Add(time.Hour))); got != nil {
		t.Errorf("a failed job was offered again: %s", got.ID)
	}
}

func testAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 3 {
		e := api.AuditEntry{At: t0.Add(time.Duration(i) * time.Second), Actor: "admin", Action: "token.create", Object: fmt.Sprint(i), Result: "ok"}
		if err := s.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.AuditLog(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Object != "2" || got[1].Object != "1" || !got[0].At.Equal(t0.Add(2*time.Second)) || got[0].ID <= got[1].ID {
		t.Errorf("AuditLog(2) = %+v; want entries 2 and 1, newest first", got)
	}
}

func testRenew(t *testing.T, s store.Store) {
	ctx := t.Context()
	enrolled(t, s, "d1")
	later := t0.Add(2 * 365 * 24 * time.Hour)
	wantErr(t, s.RenewCert(ctx, "d1", "not-current", "n1", later), store.ErrConflict)
	if err := s.RenewCert(ctx, "d1", "serial-d1", "n1", later); err != nil {
		t.Fatal(err)
	}
	d, _ := s.Device(ctx, "d1")
	if d.CertSerial != "serial-d1" || d.NextSerial != "n1" {
		t.Fatalf("after renewal: serial %q next %q", d.CertSerial, d.NextSerial)
	}
	wantErr(t, s.UseNextCert(ctx, "d1", "other"), store.ErrConflict)
	if err := s.UseNextCert(ctx, "d1", "n1"); err != nil {
		t.Fatal(err)
	}
	d, _ = s.Device(ctx, "d1")
	if d.CertSerial != "n1" || d.NextSerial != "" || !d.CertExpires.Equal(later) {
		t.Errorf("after first use: serial %q next %q expires %v", d.CertSerial, d.NextSerial, d.CertExpires)
	}
	wantErr(t, s.UseNextCert(ctx, "d1", "n1"), store.ErrConflict)
}

func testFleet(t *testing.T, s store.Store) {
	ctx := t.Context()
	enrolled(t, s, "d1", "d2", "d3")
	for i, j := range []api.Job{job("j1", "d1", "k1", 1, t0), job("j2", "d1", "k2", 1, t0.Add(time.Second)), job("j3", "d1", "k3", 1, t0.Add(2*time.Second)), job("j4", "d3", "k1", 1, t0)} {
		if _, _, err := s.QueueJob(ctx, j); err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
	}
	if _, err := s.LeaseJob(ctx, "d1", lease("l1", t0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Report(ctx, "d1", report("r1", "j1", "l1", 0, api.ReportResult, api.StatusOK), t0, api.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	page, err := s.Fleet(ctx, "", 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID      string
		Jobs    []string
		Reports int
	}
	summary := func(ds []api.DeviceDetail) []row {
		var out []row
		for _, d := range ds {
			r := row{ID: d.ID, Jobs: []string{}}
			for _, j := range d.Jobs {
				r.Jobs = append(r.Jobs, j.ID)
				r.Reports += len(j.Reports)
			}
			out = append(out, r)
		}
		return out
	}
	if diff := cmp.Diff([]row{{"d1", []string{"j3", "j2"}, 0}, {"d2", []string{}, 0}}, summary(page)); diff != "" {
		t.Errorf("first page (-want +got):\n%s", diff)
	}
	page, err = s.Fleet(ctx, "d2", 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]row{{"d3", []string{"j4"}, 0}}, summary(page)); diff != "" {
		t.Errorf("second page (-want +got):\n%s", diff)
	}
	page, err = s.Fleet(ctx, "", 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]row{{"d1", []string{"j3", "j2", "j1"}, 1}, {"d2", []string{}, 0}, {"d3", []string{"j4"}, 0}}, summary(page)); diff != "" {
		t.Errorf("all (-want +got):\n%s", diff)
	}
	if page, err = s.Fleet(ctx, "d3", 10, 3); err != nil || len(page) != 0 {
		t.Errorf("after the last = %v, %v; want none", page, err)
	}
}

func testChanges(t *testing.T, s store.Store) {
	ctx := t.Context()
	enrolled(t, s, "d1")
	chs, _, err := s.Changes(ctx, store.Cursor{}, 10)
	if err != nil || len(chs) != 0 {
		t.Fatalf("changes of an empty store = %v, %v", chs, err)
	}
	if _, _, err := s.QueueJob(ctx, job("j1", "d1", "k1", 3, t0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LeaseJob(ctx, "d1", lease("l1", t0)); err != nil {
		t.Fatal(err)
	}
	record := func(rs ...api.Report) {
		t.Helper()
		for _, r := range rs {
			if _, err := s.Report(ctx, "d1", r, t0.Add(time.Second), api.AuditEntry{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	record(api.Report{ID: "p1", JobID: "j1", LeaseID: "l1", Action: 0, Kind: api.ReportProgress, Done: 1, Total: 2},
		report("r1", "j1", "l1", 0, api.ReportResult, api.StatusOK))
	end, err := s.ChangesEnd(ctx)
	if err != nil {
		t.Fatal(err)
	}
	record(report("r2", "j1", "l1", 1, api.ReportResult, api.StatusOK), report("r3", "j1", "l1", 2, api.ReportResult, api.StatusOK))
	ids := func(chs []api.Change) []string {
		var out []string
		for _, c := range chs {
			out = append(out, c.ID+" "+c.DeviceID+" "+string(c.JobState))
		}
		return out
	}
	chs, c1, err := s.Changes(ctx, store.Cursor{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"p1 d1 succeeded", "r1 d1 succeeded"}, ids(chs)); diff != "" {
		t.Errorf("first changes (-want +got):\n%s", diff)
	}
	if chs[0].Done != 1 || chs[0].Total != 2 || chs[1].Output != "out r1" || chs[1].JobID != "j1" || !chs[1].At.Equal(t0.Add(time.Second)) || c1.Seq != chs[1].Seq {
		t.Errorf("changes %+v, cursor %+v", chs, c1)
	}
	chs, c2, err := s.Changes(ctx, c1, 10)
	if diff := cmp.Diff([]string{"r2 d1 succeeded", "r3 d1 succeeded"}, ids(chs)); err != nil || diff != "" {
		t.Fatalf("changes after %+v (-want +got):\n%s%v", c1, diff, err)
	}
	if chs, c3, err := s.Changes(ctx, c2, 10); err != nil || len(chs) != 0 || c3 != c2 {
		t.Errorf("changes at the end = %v, %+v, %v; want none, the cursor kept", chs, c3, err)
	}
	// From the end taken between them: what was recorded after.
	chs, _, err = s.Changes(ctx, end, 10)
	if diff := cmp.Diff([]string{"r2 d1 succeeded", "r3 d1 succeeded"}, ids(chs)); err != nil || diff != "" {
		t.Errorf("changes after the end taken (-want +got):\n%s%v", diff, err)
	}
}

func testQueueJobs(t *testing.T, s store.Store) {
	ctx := t.Context()
	enrolled(t, s, "d1", "d2", "d3")
	if _, _, err := s.QueueJob(ctx, job("old", "d1", "k1", 2, t0)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.QueueJob(ctx, job("stuck", "d3", "k1", 1, t0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LeaseJob(ctx, "d1", lease("l1", t0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Report(ctx, "d1", report("r1", "old", "l1", 0, api.ReportResult, api.StatusOK), t0, api.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeDevice(ctx, "d3"); err != nil {
		t.Fatal(err)
	}
	audit := api.AuditEntry{At: t0, Actor: "admin", Action: "job.queue"}
	got, err := s.QueueJobs(ctx, []api.Job{
		job("new1", "d1", "k2", 1, t0),   // new
		job("again", "d1", "k1", 1, t0),  // known key: the old job, with its report
		job("new2", "d2", "k1", 1, t0),   // new, another device
		job("nope", "d9", "k1", 1, t0),   // unknown device
		job("stuck2", "d3", "k1", 1, t0), // known key, device revoked since
		job("rev", "d3", "k2", 1, t0),    // revoked device
	}, audit)
	if err != nil {
		t.Fatal(err)
	}
	var sum []string
	for _, q := range got {
		line := fmt.Sprintf("%s existing=%v reports=%d", q.Job.ID, q.Existing, len(q.Job.Reports))
		switch {
		case errors.Is(q.Err, store.ErrNotFound):
			line = "not found"
		case errors.Is(q.Err, store.ErrDeviceRevoked):
			line = "revoked"
		case q.Err != nil:
			line = q.Err.Error()
		}
		sum = append(sum, line)
	}
	want := []string{"new1 existing=false reports=0", "old existing=true reports=1", "new2 existing=false reports=0", "not found", "revoked", "revoked"}
	if diff := cmp.Diff(want, sum); diff != "" {
		t.Errorf("QueueJobs (-want +got):\n%s", diff)
	}
	if j, err := s.Job(ctx, "new2"); err != nil || j.State != api.JobQueued {
		t.Errorf("new2 = %+v, %v; want queued", j, err)
	}
	entries, err := s.AuditLog(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var audited []string
	for _, e := range entries {
		audited = append([]string{e.Object + " " + e.Result}, audited...)
	}
	wantAudit := []string{"job:new1 ok", "job:old duplicate", "job:new2 ok", "device:d9 refused", "device:d3 refused", "device:d3 refused"}
	if diff := cmp.Diff(wantAudit, audited[len(audited)-6:]); diff != "" {
		t.Errorf("audited (-want +got):\n%s", diff)
	}
}

// testLargeParams: jobs sharing a large parameter value (a wave's SID
// map) get it back as queued from every read, however the store keeps it.
func testLargeParams(t *testing.T, s store.Store) {
	ctx := t.Context()
	enrolled(t, s, "d1", "d2", "d3")
	var b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&b, "S-1-5-21-1-2-3-%d=S-1-5-21-4-5-6-%d\n", 1000+i, 1000+i)
	}
	sidMap := b.String()
	other := sidMap + "S-1-5-21-1-2-3-9999=S-1-5-21-4-5-6-9999\n"
	withMap := func(id, dev, m string) api.Job {
		return api.Job{ID: id, DeviceID: dev, IdempotencyKey: "wave1", CreatedAt: t0, Actions: []api.Action{
			{Name: api.ActionReACL, Params: map[string]string{api.ParamSIDMap: m, api.ParamMode: "add"}},
			{Name: api.ActionCleanup, Params: map[string]string{api.ParamSIDMap: m}},
			// Values that look like the store's own markers round-trip too.
			{Name: api.ActionEcho, Params: map[string]string{"message": "\x00param:sha256:00", "empty": ""}},
		}}
	}
	want := map[string]api.Job{"j1": withMap("j1", "d1", sidMap), "j2": withMap("j2", "d2", sidMap), "j3": withMap("j3", "d3", other)}
	actions := func(what string, j api.Job) {
		t.Helper()
		if diff := cmp.Diff(want[j.ID].Actions, j.Actions); diff != "" {
			t.Errorf("%s %s actions (-want +got):\n%s", what, j.ID, diff)
		}
	}
	if _, _, err := s.QueueJob(ctx, want["j1"]); err != nil {
		t.Fatal(err)
	}
	qs, err := s.QueueJobs(ctx, []api.Job{want["j2"], want["j3"], withMap("j1b", "d1", other)}, api.AuditEntry{})
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range qs {
		if q.Err != nil {
			t.Fatalf("QueueJobs[%d]: %v", i, q.Err)
		}
	}
	if !qs[2].Existing {
		t.Fatalf("QueueJobs with j1's key = %+v; want j1", qs[2])
	}
	actions("QueueJobs (existing)", qs[2].Job)
	again, existing, err := s.QueueJob(ctx, withMap("j2b", "d2", other))
	if err != nil || !existing {
		t.Fatalf("QueueJob with j2's key = %v, %v; want j2", existing, err)
	}
	actions("QueueJob (existing)", again)
	for _, dev := range []string{"d1", "d2", "d3"} {
		got, err := s.LeaseJob(ctx, dev, lease("l-"+dev, t0))
		if err != nil || got == nil {
			t.Fatalf("LeaseJob(%s) = %v, %v", dev, got, err)
		}
		actions("LeaseJob", *got)
	}
	for id := range want {
		got, err := s.Job(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		actions("Job", got)
	}
	jobs, err := s.Jobs(ctx, "d2")
	if err != nil || len(jobs) != 1 {
		t.Fatalf("Jobs(d2) = %v, %v", len(jobs), err)
	}
	actions("Jobs", jobs[0])
	page, err := s.Fleet(ctx, "", 10, 5)
	if err != nil || len(page) != 3 {
		t.Fatalf("Fleet = %d devices, %v", len(page), err)
	}
	for _, d := range page {
		for _, j := range d.Jobs {
			actions("Fleet", j)
		}
	}
	// Reports on a job with large values work as on any job.
	ack, err := s.Report(ctx, "d1", report("r1", "j1", "l-d1", 0, api.ReportResult, api.StatusOK), t0, api.AuditEntry{})
	if err != nil || ack.JobState != api.JobLeased {
		t.Fatalf("Report = %+v, %v", ack, err)
	}
}
