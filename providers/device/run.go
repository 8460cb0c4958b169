package device

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/providers"
)

const (
	// queueParallel is how many batches of job requests are in flight at
	// once.
	queueParallel = 4
	// changesWait is how long one changes long poll is held.
	changesWait = 30 * time.Second
	// batchPause is how long RunDevices lets reports gather after a
	// batch before it asks again: progress is coalesced to the newest
	// report per action over at least this long.
	batchPause = 100 * time.Millisecond
	// retryMax is the longest pause between attempts to reach a hub that
	// failed to answer the changes long poll.
	retryMax = 5 * time.Second
)

// RunDevices implements providers.DeviceRunner. It takes the changes
// cursor first, then queues the jobs (in batches, one store transaction
// each; a key queued before answers with the earlier job and its
// reports), then follows the
// hub's changes feed from that cursor. Reports are told apart by their
// IDs, so each result is emitted once however the snapshot of an earlier
// job and the feed overlap. Progress is emitted for the newest report per
// action of each batch of changes.
func (p *Provider) RunDevices(ctx context.Context, run providers.DeviceRun, emit func(providers.DeviceEvent) error) error {
	c, err := p.hub("RunDevices")
	if err != nil {
		return err
	}
	start := time.Now()
	cursor, err := c.ChangesHead(ctx)
	if err != nil {
		return fmt.Errorf("hub %s: read the changes cursor: %w", c.BaseURL, err)
	}
	r := &runner{emit: emit, byJob: map[string]*tracked{}}
	if err := r.queueAll(ctx, c, run.Jobs); err != nil {
		return err
	}
	retry := time.Duration(0)
	for r.open > 0 {
		wait := changesWait
		if run.Wait > 0 {
			left := run.Wait - time.Since(start)
			if left <= 0 {
				break
			}
			wait = min(wait, left)
		}
		ch, err := c.Changes(ctx, cursor, min(wait, p.changesWait), 0)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("watch device jobs on hub %s: %w", c.BaseURL, ctx.Err())
			}
			var se *api.StatusError
			if errors.As(err, &se) && se.Status/100 == 4 {
				return fmt.Errorf("watch device jobs on hub %s: %w", c.BaseURL, err)
			}
			retry = min(max(2*retry, 250*time.Millisecond), retryMax)
			p.log.Warn("the hub did not answer the changes long poll; retrying", "url", c.BaseURL, "in", retry, "error", err)
			if err := sleep(ctx, retry); err != nil {
				return fmt.Errorf("watch device jobs on hub %s: %w", c.BaseURL, err)
			}
			continue
		}
		retry = 0
		cursor = ch.Cursor
		if len(ch.Changes) == 0 {
			// A quiet spell: devices revoked since their jobs were queued
			// would keep the call waiting for ever.
			if err := r.revoked(ctx, c, p.log); err != nil {
				return err
			}
		}
		for _, change := range ch.Changes {
			if t := r.byJob[change.JobID]; t != nil {
				if err := r.report(t, change.Report); err != nil {
					return err
				}
			}
		}
		if err := r.flushProgress(); err != nil {
			return err
		}
		if len(ch.Changes) > 0 && len(ch.Changes) < api.MaxChanges && r.open > 0 {
			if err := sleep(ctx, batchPause); err != nil {
				return fmt.Errorf("watch device jobs on hub %s: %w", c.BaseURL, err)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("watch device jobs on hub %s: %w", c.BaseURL, err)
	}
	return r.pending()
}

// sleep waits d or until ctx ends (its error).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// tracked is one job of the run being watched.
type tracked struct {
	job      providers.DeviceJob
	id       string
	actions  []api.Action
	seen     map[string]bool    // report IDs of results emitted
	resulted map[int]bool       // actions whose result was emitted
	progress map[int]api.Report // newest progress not emitted yet, by action
	failed   bool
	final    bool
}

// runner is the state of one RunDevices call; only its goroutine uses it.
type runner struct {
	emit  func(providers.DeviceEvent) error
	byJob map[string]*tracked
	order []*tracked // queued jobs, in the run's order
	dirty []*tracked // jobs with progress to emit
	open  int        // queued jobs not final
}

func (r *runner) event(t *tracked, e providers.DeviceEvent) error {
	e.Key, e.DeviceID, e.Hostname, e.JobID = t.job.Key, t.job.DeviceID, t.job.Hostname, t.id
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	return r.emit(e)
}

func (r *runner) fail(j providers.DeviceJob, msg string) error {
	return r.emit(providers.DeviceEvent{Kind: providers.DeviceEventError, Key: j.Key, DeviceID: j.DeviceID, Hostname: j.Hostname, Output: msg, At: time.Now().UTC()})
}

// queueAll queues the jobs in batches (at most api.MaxJobBatch jobs and
// about batchBytes of parameters each, queueParallel batches at a time)
// and takes each answer in this goroutine: a queued event and what the
// job did before, or an error event.
func (r *runner) queueAll(ctx context.Context, c *api.Client, jobs []providers.DeviceJob) error {
	type answer struct {
		batch []int
		res   []api.JobResult
		err   error
	}
	keys := map[[2]string]bool{}
	var batches [][]int
	var cur []int
	size := 0
	for i, j := range jobs {
		k := [2]string{j.DeviceID, j.Key}
		switch {
		case j.DeviceID == "" || j.Key == "":
			if err := r.fail(j, fmt.Sprintf("job for %q has no device ID or no idempotency key; the plan must give both", j.Hostname)); err != nil {
				return err
			}
			continue
		case keys[k]:
			if err := r.fail(j, fmt.Sprintf("idempotency key %q appears twice for device %s in this run; each job needs its own key", j.Key, j.DeviceID)); err != nil {
				return err
			}
			continue
		}
		keys[k] = true
		n := jobBytes(j)
		if len(cur) > 0 && (len(cur) == api.MaxJobBatch || size+n > batchBytes) {
			batches, cur, size = append(batches, cur), nil, 0
		}
		cur, size = append(cur, i), size+n
	}
	if len(cur) > 0 {
		batches = append(batches, cur)
	}
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	answers := make(chan answer)
	next := make(chan []int)
	var wg sync.WaitGroup
	for range min(queueParallel, len(batches)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range next {
				reqs := make([]api.JobRequest, len(b))
				for k, i := range b {
					reqs[k] = jobRequest(jobs[i])
				}
				res, err := c.QueueJobs(qctx, reqs)
				select {
				case answers <- answer{b, res, err}:
				case <-qctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(next)
		for _, b := range batches {
			select {
			case next <- b:
			case <-qctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(answers)
	}()
	for a := range answers {
		if err := r.queuedBatch(ctx, jobs, a.batch, a.res, a.err); err != nil {
			cancel()
			for range answers {
			}
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("queue device jobs on hub %s: %w", c.BaseURL, err)
	}
	return nil
}

// batchBytes is about how many bytes of parameters one batch of job
// requests carries (a job larger than that goes alone).
const batchBytes = 8 << 20

// jobBytes estimates a job request's size.
func jobBytes(j providers.DeviceJob) int {
	n := 200 + len(j.Key)
	for _, a := range j.Actions {
		n += 50 + len(a.Name)
		for k, v := range a.Params {
			n += len(k) + len(v) + 10
		}
	}
	return n
}

func jobRequest(j providers.DeviceJob) api.JobRequest {
	req := api.JobRequest{DeviceID: j.DeviceID, IdempotencyKey: j.Key, Actions: make([]api.Action, len(j.Actions))}
	for k, a := range j.Actions {
		req.Actions[k] = api.Action{Name: a.Name, Params: a.Params}
	}
	return req
}

// queuedBatch takes the hub's answer to one batch.
func (r *runner) queuedBatch(ctx context.Context, jobs []providers.DeviceJob, batch []int, res []api.JobResult, err error) error {
	for k, i := range batch {
		var job api.Job
		jerr := err
		if err == nil {
			if e := res[k].Error; e != nil {
				jerr = &api.StatusError{Code: e.Code, Message: e.Message}
			} else if res[k].Job != nil {
				job = *res[k].Job
			} else {
				jerr = errors.New("the hub answered neither a job nor an error")
			}
		}
		if err := r.queued(ctx, jobs[i], job, jerr); err != nil {
			return err
		}
	}
	return nil
}

// queued takes the hub's answer to one job request.
func (r *runner) queued(ctx context.Context, j providers.DeviceJob, job api.Job, err error) error {
	if err != nil {
		if ctx.Err() != nil {
			return nil // reported once by queueAll
		}
		return r.fail(j, queueFailure(j, err))
	}
	t := &tracked{job: j, id: job.ID, actions: job.Actions, seen: map[string]bool{}, resulted: map[int]bool{}, progress: map[int]api.Report{}}
	if r.byJob[job.ID] != nil {
		return r.fail(j, fmt.Sprintf("job %s of device %s is asked for twice in this run (keys %q and %q)", job.ID, j.DeviceID, r.byJob[job.ID].job.Key, j.Key))
	}
	r.byJob[job.ID] = t
	r.order = append(r.order, t)
	r.open++
	out := ""
	if job.Existing {
		out = "existing"
	}
	if err := r.event(t, providers.DeviceEvent{Kind: providers.DeviceEventQueued, Output: out, JobState: string(job.State), At: job.CreatedAt}); err != nil {
		return err
	}
	for _, rep := range job.Reports {
		if err := r.report(t, rep); err != nil {
			return err
		}
	}
	return r.flushProgress()
}

// queueFailure says why a job could not be queued and what to do.
func queueFailure(j providers.DeviceJob, err error) string {
	switch {
	case api.HasCode(err, api.CodeNotFound):
		return fmt.Sprintf("device %s (%s) is not enrolled with the hub: enroll its agent, or correct the device ID, then plan again", j.DeviceID, j.Hostname)
	case api.HasCode(err, api.CodeForbidden):
		return fmt.Sprintf("device %s (%s) is revoked on the hub: enroll its agent again (it gets a new device ID), then plan again", j.DeviceID, j.Hostname)
	case api.HasCode(err, api.CodeTooLarge):
		return fmt.Sprintf("the job for device %s (%s) is larger than the hub accepts (%d MiB): split its parameters", j.DeviceID, j.Hostname, api.MaxJobBodyBytes>>20)
	}
	return fmt.Sprintf("queue the job for device %s (%s): %v", j.DeviceID, j.Hostname, err)
}

// report takes one recorded report of a watched job: a result is emitted
// once (by report ID and action), progress is kept for flushProgress.
func (r *runner) report(t *tracked, rep api.Report) error {
	if rep.Action < 0 || rep.Action >= len(t.actions) || t.final {
		return nil
	}
	switch rep.Kind {
	case api.ReportProgress:
		if t.resulted[rep.Action] {
			return nil
		}
		if len(t.progress) == 0 {
			r.dirty = append(r.dirty, t)
		}
		t.progress[rep.Action] = rep
	case api.ReportResult:
		if t.seen[rep.ID] || t.resulted[rep.Action] {
			return nil
		}
		t.seen[rep.ID], t.resulted[rep.Action] = true, true
		delete(t.progress, rep.Action)
		err := r.event(t, providers.DeviceEvent{Kind: providers.DeviceEventResult, Action: rep.Action, ActionName: t.actions[rep.Action].Name,
			Status: string(rep.Status), Output: rep.Output, At: rep.At})
		if err != nil {
			return err
		}
		if rep.Status == api.StatusFailed {
			t.failed = true
		}
		if t.failed || len(t.resulted) == len(t.actions) {
			t.final = true
			r.open--
			state := api.JobSucceeded
			if t.failed {
				state = api.JobFailed
			}
			clear(t.progress)
			return r.event(t, providers.DeviceEvent{Kind: providers.DeviceEventDone, JobState: string(state), At: rep.At})
		}
	}
	return nil
}

// flushProgress emits the newest progress of each action that reported
// some since the last flush and has no result yet.
func (r *runner) flushProgress() error {
	for _, t := range r.dirty {
		actions := make([]int, 0, len(t.progress))
		for a := range t.progress {
			actions = append(actions, a)
		}
		sort.Ints(actions)
		for _, a := range actions {
			rep := t.progress[a]
			err := r.event(t, providers.DeviceEvent{Kind: providers.DeviceEventProgress, Action: a, ActionName: t.actions[a].Name, Done: rep.Done, Total: rep.Total, At: rep.At})
			if err != nil {
				return err
			}
		}
		clear(t.progress)
	}
	r.dirty = r.dirty[:0]
	return nil
}

// revoked ends the watch of each unfinished job whose device the hub no
// longer lists as active, with an error event. A failure to list is
// logged: the watch goes on.
func (r *runner) revoked(ctx context.Context, c *api.Client, log hclog.Logger) error {
	states := map[string]api.DeviceState{}
	after := ""
	for {
		page, err := c.Fleet(ctx, after, api.MaxFleetPage, 0)
		if err != nil {
			log.Warn("cannot list the hub's devices to check for revoked ones", "url", c.BaseURL, "error", err)
			return nil
		}
		for _, d := range page.Devices {
			states[d.ID] = d.State
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	for _, t := range r.order {
		if t.final || states[t.job.DeviceID] == api.DeviceActive {
			continue
		}
		t.final = true
		r.open--
		msg := fmt.Sprintf("device %s (%s) was revoked on the hub while job %s waited for it; the job will not run: enroll the device again (a new device ID) and plan again", t.job.DeviceID, t.job.Hostname, t.id)
		if err := r.event(t, providers.DeviceEvent{Kind: providers.DeviceEventError, Output: msg}); err != nil {
			return err
		}
	}
	return nil
}

// pending emits a pending event for each job not final, in the run's
// order.
func (r *runner) pending() error {
	for _, t := range r.order {
		if t.final {
			continue
		}
		if err := r.event(t, providers.DeviceEvent{Kind: providers.DeviceEventPending, Output: "the wait passed before the job ended; it stays queued on the hub"}); err != nil {
			return err
		}
	}
	return nil
}
