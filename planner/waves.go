package planner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/dn"
	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/providers"
	"github.com/adshift/adshift/state"
)

// applyWaves runs the plan's device waves, in plan order, after its
// directory changes: each wave's ready devices in batches of batch_size
// through the wave's hub, recording every action's result in state as it
// arrives.
func applyWaves(ctx context.Context, opts ApplyOptions, log hclog.Logger) hcl.Diagnostics {
	var diags hcl.Diagnostics
	byCutover := map[string][]*plans.Device{}
	for _, d := range opts.Plan.Devices {
		byCutover[d.Cutover] = append(byCutover[d.Cutover], d)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	w := &waves{opts: opts, log: log}
	if opts.Wait > 0 {
		w.deadline = now.Add(opts.Wait)
	}
	w.dh, _ = opts.Hooks.(DeviceHooks)
	for _, c := range opts.Plan.Cutovers {
		var run []*plans.Device
		early := 0
		for _, d := range byCutover[c.Name] {
			switch {
			case d.Status == plans.DeviceReady:
				run = append(run, d)
			case d.Status == plans.DeviceScheduled && (c.NotBefore.IsZero() || !now.Before(c.NotBefore)):
				run = append(run, d)
			case d.Status == plans.DeviceScheduled:
				early++
			}
		}
		if early > 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Wave not started yet",
				Detail:   fmt.Sprintf("%d devices of device_cutover.%s wait for its not_before, %s. Plan and apply again after it.", early, c.Name, c.NotBefore.UTC().Format(time.RFC3339)),
			})
		}
		if len(run) == 0 {
			continue
		}
		if c.Hub == "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Device actions not run",
				Detail:   fmt.Sprintf("%d devices of device_cutover.%s are ready, but it names no hub, so no agent can run their actions. Add hub = hub.NAME to it (and a hub block) to run them.", len(run), c.Name),
			})
			continue
		}
		diags = append(diags, w.run(ctx, c, run)...)
		if w.stopped() {
			break
		}
	}
	return diags
}

// waves is the device phase of one apply.
type waves struct {
	opts     ApplyOptions
	log      hclog.Logger
	dh       DeviceHooks
	deadline time.Time
}

func (w *waves) stopped() bool {
	select {
	case <-w.opts.Stop:
		return true
	default:
		return false
	}
}

// run applies one wave.
func (w *waves) run(ctx context.Context, c *plans.Cutover, run []*plans.Device) hcl.Diagnostics {
	var diags hcl.Diagnostics
	h := w.opts.Config.Hubs[c.Hub]
	if h == nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Hub not declared", Detail: fmt.Sprintf("The plan runs device_cutover.%s through hub.%s, which the configuration no longer declares.", c.Name, c.Hub)}}
	}
	dr, cs, d := deviceRunner(ctx, h, w.opts.Scope, w.opts.Launcher)
	defer cs.close(ctx)
	diags = append(diags, d...)
	if d.HasErrors() {
		return diags
	}
	if w.dh != nil {
		w.dh.WaveStarting(c, len(run))
	}
	var res WaveResult
	run, d = w.provisionBlobs(ctx, c, run, &res)
	diags = append(diags, d...)
	sidMap := sidMapParam(w.opts.Txn.SIDMap())
	batch := max(c.BatchSize, 1)
	for start := 0; start < len(run); start += batch {
		if res.Failed > c.MaxFailures || w.stopped() {
			res.NotStarted += len(run) - start
			res.Stopped = true
			break
		}
		wait := time.Duration(0)
		if !w.deadline.IsZero() {
			if wait = time.Until(w.deadline); wait <= 0 {
				wait = time.Millisecond
			}
		}
		end := min(start+batch, len(run))
		d := w.runBatch(ctx, dr, c, run[start:end], sidMap, wait, &res)
		diags = append(diags, d...)
	}
	if res.Stopped && res.Failed > c.MaxFailures {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Wave stopped",
			Detail: fmt.Sprintf("device_cutover.%s stopped after %d failed devices (max_failures = %d): %d devices were not started. Look at the failures above, roll back what must be (plan -rollback=ADDRESS), fix the cause, and run plan and apply again for the rest.",
				c.Name, res.Failed, c.MaxFailures, res.NotStarted),
		})
	} else if res.Stopped {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Wave interrupted",
			Detail:   fmt.Sprintf("device_cutover.%s was interrupted: %d devices were not started. Run plan and apply again to go on; finished actions are not repeated.", c.Name, res.NotStarted),
		})
	}
	if res.Pending > 0 {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Devices still pending",
			Detail: fmt.Sprintf("%d devices of device_cutover.%s did not finish while apply watched (offline, or -wait passed). Their jobs stay queued on hub.%s and run when the devices come back; run plan to see what remains and apply again to record their results.",
				res.Pending, c.Name, c.Hub),
		})
	}
	if w.dh != nil {
		w.dh.WaveDone(c, res)
	}
	return diags
}

// runBatch runs one batch of a wave through the hub and waits for it.
func (w *waves) runBatch(ctx context.Context, dr providers.DeviceRunner, c *plans.Cutover, batch []*plans.Device, sidMap string, wait time.Duration, res *WaveResult) hcl.Diagnostics {
	var diags hcl.Diagnostics
	byKey := map[string]*plans.Device{}
	run := providers.DeviceRun{Wait: wait}
	for _, d := range batch {
		sd, _ := w.opts.Txn.Device(d.Address)
		key := jobKey(w.opts.Plan.Lineage, d, sd)
		byKey[key] = d
		job := providers.DeviceJob{Hostname: d.Name, Key: key}
		if d.Agent != nil {
			job.DeviceID = d.Agent.ID
		}
		for _, a := range d.Job {
			params := a.Params
			if a.Name == config.ActionReACL || a.Name == config.ActionCleanup {
				params = make(map[string]string, len(a.Params)+1)
				for k, v := range a.Params {
					params[k] = v
				}
				params[api.ParamSIDMap] = sidMap
			}
			job.Actions = append(job.Actions, providers.DeviceAction{Name: a.Name, Params: params})
		}
		run.Jobs = append(run.Jobs, job)
	}
	// The first Ctrl-C stops the watch too: the jobs go on on the hub,
	// and the next apply watches them again under the same keys.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-w.opts.Stop:
			cancel()
		case <-wctx.Done():
		}
	}()
	final := map[string]bool{}
	failed := map[string]bool{}
	err := dr.RunDevices(wctx, run, func(ev providers.DeviceEvent) error {
		d := byKey[ev.Key]
		if d == nil {
			return nil
		}
		switch ev.Kind {
		case providers.DeviceEventResult:
			if err := recordDeviceResult(w.opts.Txn, d, ev); err != nil {
				return err
			}
			if ev.Status != string(api.StatusOK) {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Device action failed",
					Detail: fmt.Sprintf("%s: %s failed on the device: %s. Its later actions were not run. Roll it back with plan -rollback='%s' and apply, or fix the cause and apply again.",
						d.Address, ev.ActionName, strings.TrimSpace(ev.Output), d.Address),
				})
			}
		case providers.DeviceEventDone:
			final[ev.Key] = true
			if ev.JobState != string(api.JobSucceeded) {
				failed[ev.Key] = true
			}
		case providers.DeviceEventError:
			final[ev.Key], failed[ev.Key] = true, true
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Device job not run",
				Detail:   fmt.Sprintf("%s: %s.", d.Address, strings.TrimSpace(ev.Output)),
			})
		}
		if w.dh != nil {
			w.dh.DeviceEvent(d, ev)
		}
		return nil
	})
	for key := range byKey {
		switch {
		case failed[key]:
			res.Failed++
		case final[key]:
			res.Succeeded++
		default:
			res.Pending++
		}
	}
	if err != nil {
		if ctx.Err() == nil && w.stopped() {
			return diags
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot watch the devices",
			Detail:   fmt.Sprintf("device_cutover.%s through hub.%s: %v. The jobs already queued go on on the hub; run apply again to record their results.", c.Name, c.Hub, err),
		})
	}
	return diags
}

// jobKey is a device job's idempotency key: the same as long as state
// records no failure or rollback of the device, so that an apply run
// again after an interruption watches the job already queued instead of
// queuing a second one, while a retry after a failure gets a new job.
func jobKey(lineage string, d *plans.Device, sd *state.Device) string {
	attempt := 0
	if sd != nil {
		for _, a := range sd.Actions {
			if a.Status != state.ActionDone {
				attempt++
			}
		}
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%t", lineage, d.Address, attempt, d.Rollback)
	return "adshift-" + hex.EncodeToString(h.Sum(nil))[:32]
}

// sidMapParam is the sid_map parameter: "SOURCE=TARGET" lines, sorted.
func sidMapParam(m map[string]string) string {
	lines := make([]string, 0, len(m))
	for s, t := range m {
		lines = append(lines, s+"="+t)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// recordDeviceResult records one action result in state, once: a result
// seen again (an apply watching a job it watched before) is not recorded
// twice. A successful rollback marks the device's finished actions rolled
// back, so that a later plan schedules them again.
func recordDeviceResult(txn *state.Txn, d *plans.Device, ev providers.DeviceEvent) error {
	sd, ok := txn.Device(d.Address)
	if !ok {
		sd = &state.Device{Address: d.Address, Cutover: d.Cutover, Name: d.Name}
	}
	tag := "job " + ev.JobID + " #" + strconv.Itoa(ev.Action)
	for _, a := range sd.Actions {
		if a.Detail == tag || strings.HasPrefix(a.Detail, tag+":") {
			return nil
		}
	}
	at := ev.At
	if at.IsZero() {
		at = time.Now()
	}
	at = at.UTC()
	status := state.ActionFailed
	if ev.Status == string(api.StatusOK) {
		status = state.ActionDone
	}
	detail := tag
	if out := strings.TrimSpace(ev.Output); out != "" {
		if len(out) > 300 {
			out = out[:300] + "…"
		}
		detail += ": " + out
	}
	if status == state.ActionDone && ev.ActionName == config.ActionRollback {
		for _, name := range config.DeviceActions {
			if name != config.ActionRollback && hasDone(sd, name) {
				sd.Actions = append(sd.Actions, state.DeviceAction{Name: name, Status: state.ActionRolledBack, Detail: tag, At: at})
			}
		}
	}
	sd.Actions = append(sd.Actions, state.DeviceAction{Name: ev.ActionName, Status: status, Detail: detail, At: at})
	sd.Source = state.Identity(d.Source)
	sd.Target = state.Identity(d.Target)
	sd.UpdatedAt = at
	return txn.PutDevice(sd)
}

// provisionBlobs provisions, through the target environment's provider,
// the offline domain join file of every device whose job applies one and
// whose file is not in the repository yet. A device whose file cannot be
// provisioned fails and is not run.
func (w *waves) provisionBlobs(ctx context.Context, c *plans.Cutover, run []*plans.Device, res *WaveResult) ([]*plans.Device, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	wf := w.opts.Config.Workflows[c.Workflow]
	out := run[:0:0]
	var target *conn // opened for the first device that needs a file
	defer func() {
		if target != nil {
			conns{"target": target}.close(ctx)
		}
	}()
	for i, d := range run {
		blob := ""
		for _, a := range d.Job {
			if a.Name == config.ActionOfflineDomainJoin {
				blob = a.Params[api.ParamBlob]
			}
		}
		if blob == "" || fileExists(blob) || wf == nil || wf.Target == nil {
			out = append(out, d)
			continue
		}
		if target == nil {
			env := w.opts.Config.Environments[wf.Target.Name]
			cn, pd := openEnv(ctx, env, "environment."+env.Name, w.opts.Scope, w.opts.Launcher, true)
			if pd.HasErrors() {
				if cn != nil {
					conns{"target": cn}.close(ctx)
				}
				// No device of the wave that needs a file can run.
				for _, x := range pd {
					x.Detail = "offline domain join files of device_cutover." + c.Name + ": " + x.Detail
				}
				diags = append(diags, pd...)
				for _, rest := range run[i:] {
					if needsBlob(rest) {
						res.Failed++
					} else {
						out = append(out, rest)
					}
				}
				return out, diags
			}
			target = cn
		}
		ou := ""
		if t, err := dn.Parse(d.Target.DN); err == nil {
			ou = t.Parent().String()
		}
		r, pd := provisionWith(ctx, target, providers.OfflineJoinRequest{
			Computer: d.Name, OU: ou, Dir: path.Dir(blob), FileName: path.Base(blob), Reuse: true,
		})
		if pd.HasErrors() {
			res.Failed++
			for _, x := range pd {
				x.Detail = d.Address + ": " + x.Detail
			}
			diags = append(diags, pd...)
			continue
		}
		w.log.Info("offline domain join file provisioned", "device", d.Address, "file", r.Path, "dc", r.DC)
		out = append(out, d)
	}
	return out, diags
}

// needsBlob reports whether the device's job applies an offline domain
// join file that is not in the repository yet.
func needsBlob(d *plans.Device) bool {
	for _, a := range d.Job {
		if a.Name == config.ActionOfflineDomainJoin {
			return !fileExists(a.Params[api.ParamBlob])
		}
	}
	return false
}
