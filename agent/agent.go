package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"

	"github.com/adshift/adshift/hub/api"
)

// Options configure an Agent. Identity and Backend are required.
type Options struct {
	Settings Settings
	Identity *Identity
	Backend  Backend
	Logger   hclog.Logger
	// Backoff spaces retries after the hub is unreachable; default
	// 1 second up to Settings.RetryMax, jittered.
	Backoff Backoff
	// RenewBefore is how long before its end the certificate is renewed;
	// default 30 days.
	RenewBefore time.Duration
}

// Agent runs jobs from the hub. Create it with New; Run it once.
type Agent struct {
	s           Settings
	id          *Identity
	clients     atomic.Pointer[api.Client] // replaced when the certificate is renewed
	renewBefore time.Duration
	backend     Backend
	journal     *Journal
	log         hclog.Logger
	backoff     Backoff

	mu     sync.Mutex
	lease  *api.Lease         // the job being worked on
	cancel context.CancelFunc // cancels it when its lease is lost
}

// ErrRevoked is returned by Run when the hub refuses this device.
var ErrRevoked = errors.New("the hub refuses this device's identity (revoked?); enroll again after an admin removes it")

// New prepares an agent and opens its journal.
func New(opts Options) (*Agent, error) {
	if opts.Identity == nil || opts.Backend == nil {
		return nil, errors.New("agent: an identity and a backend are required")
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	s := opts.Settings.withDefaults()
	if opts.Backoff.Base <= 0 {
		opts.Backoff = Backoff{Base: time.Second, Max: s.RetryMax}
	}
	c, err := opts.Identity.Client(s)
	if err != nil {
		return nil, err
	}
	j, err := OpenJournal(filepath.Join(s.DataDir, journalFile))
	if err != nil {
		return nil, err
	}
	if opts.RenewBefore <= 0 {
		opts.RenewBefore = 30 * 24 * time.Hour
	}
	a := &Agent{s: s, id: opts.Identity, renewBefore: opts.RenewBefore, backend: opts.Backend, journal: j, log: opts.Logger, backoff: opts.Backoff}
	a.clients.Store(c)
	return a, nil
}

// client is the hub client of the current certificate.
func (a *Agent) client() *api.Client { return a.clients.Load() }

// renewIfDue renews the certificate when it ends within renewBefore; a
// failure is logged and retried on the next heartbeat.
func (a *Agent) renewIfDue(ctx context.Context) {
	if time.Until(a.id.Expires) > a.renewBefore {
		return
	}
	old := a.client()
	if err := a.id.Renew(ctx, old, a.s.DataDir); err != nil {
		a.log.Warn("certificate renewal failed; retrying later", "error", err)
		return
	}
	c, err := a.id.Client(a.s)
	if err != nil {
		a.log.Error("cannot use the renewed certificate", "error", err)
		return
	}
	a.clients.Store(c)
	old.HTTP.CloseIdleConnections()
	a.log.Info("certificate renewed", "valid_until", a.id.Expires)
}

// Close releases the journal and connections.
func (a *Agent) Close() error {
	a.client().HTTP.CloseIdleConnections()
	return a.journal.Close()
}

// Run heartbeats and long-polls for jobs until ctx is done (then nil) or
// the hub refuses the device (ErrRevoked).
func (a *Agent) Run(ctx context.Context) error {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.heartbeats(ctx, stop)
	}()
	defer wg.Wait()
	failures := 0
	for ctx.Err() == nil {
		job, err := a.client().Poll(ctx, a.s.PollWait)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if api.HasCode(err, api.CodeForbidden) || api.HasCode(err, api.CodeUnauthorized) {
				return ErrRevoked
			}
			wait := a.backoff.Next(failures)
			failures++
			a.log.Warn("cannot reach the hub; retrying", "in", wait, "error", explain(err))
			sleep(ctx, wait)
			continue
		}
		failures = 0
		if job != nil {
			a.runJob(ctx, job)
		}
	}
	if cause := context.Cause(ctx); errors.Is(cause, ErrRevoked) {
		return cause
	}
	return nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// runJob runs a job's actions in order, skipping those the journal has a
// result for (resending the result when unacknowledged), and stops at a
// failed action, a lost lease or ctx's end.
func (a *Agent) runJob(ctx context.Context, job *api.Job) {
	log := a.log.With("job", job.ID, "attempt", job.Attempt)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.mu.Lock()
	a.lease, a.cancel = &api.Lease{JobID: job.ID, LeaseID: job.LeaseID}, cancel
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.lease, a.cancel = nil, nil
		a.mu.Unlock()
	}()
	for i, act := range job.Actions {
		r, done := a.journal.Result(job.ID, i)
		if !done {
			out, err := a.backend.Run(ctx, act, a.progress(ctx, job, i))
			if ctx.Err() != nil {
				log.Info("job interrupted", "action", i)
				return
			}
			r = api.Report{ID: uuid.NewString(), JobID: job.ID, Action: i, Kind: api.ReportResult, Status: api.StatusOK, Output: api.TruncateOutput(out)}
			if err != nil {
				r.Status, r.Output = api.StatusFailed, api.TruncateOutput(err.Error())
			}
			if err := a.journal.Record(r); err != nil {
				log.Error("cannot record a result; stopping the job", "error", err)
				return
			}
			log.Info("action finished", "action", i, "name", act.Name, "status", r.Status)
		}
		if !a.journal.Acked(r.ID) {
			r.LeaseID = job.LeaseID
			if err := a.send(ctx, r); err != nil {
				log.Info("result kept for later", "action", i, "error", err)
				return
			}
		}
		if r.Status != api.StatusOK {
			return
		}
	}
}

// send delivers a result until the hub acknowledges it, retrying with
// backoff while the hub is unreachable. A refusal other than a lost lease
// will not change by retrying: it is logged and the result set aside.
func (a *Agent) send(ctx context.Context, r api.Report) error {
	for attempt := 0; ; attempt++ {
		_, err := a.client().Report(ctx, r)
		var se *api.StatusError
		switch {
		case err == nil:
			return a.journal.Ack(r.ID)
		case api.HasCode(err, api.CodeLeaseLost):
			return err
		case errors.As(err, &se) && se.Status/100 == 4:
			a.log.Error("the hub refused a result; setting it aside", "job", r.JobID, "action", r.Action, "error", err)
			if aerr := a.journal.Ack(r.ID); aerr != nil {
				return aerr
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := a.backoff.Next(attempt)
		a.log.Warn("cannot deliver a result; retrying", "in", wait, "error", explain(err))
		sleep(ctx, wait)
	}
}

// progress returns the reporter an action calls; progress is best effort
// (not journaled) and sent at most every half second.
func (a *Agent) progress(ctx context.Context, job *api.Job, action int) func(done, total int64) {
	var last time.Time
	return func(done, total int64) {
		if time.Since(last) < 500*time.Millisecond && done != total {
			return
		}
		last = time.Now()
		r := api.Report{ID: uuid.NewString(), JobID: job.ID, LeaseID: job.LeaseID, Action: action, Kind: api.ReportProgress, Done: done, Total: total}
		if _, err := a.client().Report(ctx, r); err != nil {
			a.log.Debug("progress not delivered", "error", err)
		}
	}
}

// heartbeats reports inventory (when it changed, and every 20th beat) and
// extends the current job's lease; a lease the hub did not extend cancels
// the job. A refused device stops the agent.
func (a *Agent) heartbeats(ctx context.Context, stop context.CancelCauseFunc) {
	var sent []byte
	t := time.NewTicker(a.s.Heartbeat)
	defer t.Stop()
	for n := 0; ; n++ {
		a.renewIfDue(ctx)
		req := api.HeartbeatRequest{}
		if inv, err := a.backend.Inventory(ctx); err != nil {
			a.log.Warn("cannot take inventory", "error", err)
		} else if b := inventoryKey(inv); string(b) != string(sent) || n%20 == 0 {
			req.Inventory, sent = &inv, b
		}
		a.mu.Lock()
		lease, cancel := a.lease, a.cancel
		a.mu.Unlock()
		if lease != nil {
			req.Leases = []api.Lease{*lease}
		}
		resp, err := a.client().Heartbeat(ctx, req)
		switch {
		case api.HasCode(err, api.CodeForbidden) || api.HasCode(err, api.CodeUnauthorized):
			stop(ErrRevoked)
			return
		case err != nil:
			sent = nil // send the inventory again once the hub answers
			if ctx.Err() == nil {
				a.log.Warn("heartbeat failed", "error", explain(err))
			}
		case lease != nil && !contains(resp.Extended, *lease) && a.current(lease):
			a.log.Warn("lease lost; dropping the job", "job", lease.JobID)
			cancel()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// inventoryKey is what decides whether the inventory changed: all but
// the free disk space, which moves all the time.
func inventoryKey(inv api.Inventory) []byte {
	inv.FreeDiskBytes = 0
	b, _ := json.Marshal(inv)
	return b
}

// current reports whether lease is still the job being worked on (a job
// that ended while its heartbeat was in flight has no lease to lose).
func (a *Agent) current(lease *api.Lease) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lease == lease
}

func contains(ls []api.Lease, l api.Lease) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}

// Status describes the agent's local state for adshift-agent status.
type Status struct {
	Identity *Identity
	Pending  []api.Report
}

// LocalStatus reads the identity and the unacknowledged results in dir.
func LocalStatus(dir string) (Status, error) {
	id, err := LoadIdentity(dir)
	if err != nil {
		return Status{}, err
	}
	j, err := OpenJournal(filepath.Join(dir, journalFile))
	if err != nil {
		return Status{}, err
	}
	defer j.Close()
	return Status{Identity: id, Pending: j.Pending()}, nil
}

// String is a one-line summary of a status.
func (s Status) String() string {
	return fmt.Sprintf("device %s (%s) enrolled with %s; certificate valid until %s; %d result(s) waiting for the hub",
		s.Identity.DeviceID, s.Identity.Hostname, s.Identity.HubURL, s.Identity.Expires.Format(time.RFC3339), len(s.Pending))
}
