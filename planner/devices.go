package planner

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/dn"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/providers"
	"github.com/adshift/adshift/state"
)

// OSName returns the canonical operating system name of a computer from its
// directory attributes, in the words of the supported list ("Windows 7
// SP1", "Windows Server 2012 R2", …), or the raw name when it is none of
// those. It returns "" when the directory does not say.
func OSName(operatingSystem, version, servicePack string) string {
	osn := strings.TrimSpace(operatingSystem)
	if osn == "" {
		return ""
	}
	l := strings.ToLower(osn)
	build := 0
	if i := strings.Index(version, "("); i >= 0 {
		if j := strings.Index(version[i:], ")"); j > 0 {
			build, _ = strconv.Atoi(strings.TrimSpace(version[i+1 : i+j]))
		}
	}
	switch {
	case strings.Contains(l, "windows 7"):
		if strings.Contains(strings.ToLower(servicePack), "service pack 1") || build == 7601 {
			return "Windows 7 SP1"
		}
		return "Windows 7"
	case strings.Contains(l, "windows 11"):
		return "Windows 11"
	case strings.Contains(l, "windows 10"):
		if build >= 22000 {
			return "Windows 11"
		}
		return "Windows 10"
	case strings.Contains(l, "windows server"):
		for _, v := range []string{"2008 R2", "2012 R2", "2025", "2022", "2019", "2016", "2012", "2008", "2003"} {
			if strings.Contains(l, strings.ToLower(v)) {
				return "Windows Server " + v
			}
		}
	}
	return osn
}

// planDevices plans each device_cutover: which devices it selects, what
// remains to run on each, and what blocks each one.
func (pl *planning) planDevices() {
	for _, name := range config.SortedNames(pl.cfg.DeviceCutovers) {
		dc := pl.cfg.DeviceCutovers[name]
		w := pl.cfg.Workflows[dc.Workflow.Name]
		sum := &plans.Cutover{Name: dc.Name, Workflow: w.Name, Actions: dc.Actions, NotBefore: dc.NotBefore, BatchSize: dc.BatchSize, MaxFailures: dc.MaxFailures}
		if dc.Hub != nil {
			sum.Hub = dc.Hub.Name
		}
		idw := w
		if dc.Identities != nil {
			idw = pl.cfg.Workflows[dc.Identities.Name]
		}
		gaps := pl.sidMapGaps(idw)
		var ous []dn.DN
		for _, s := range dc.DeviceOUs {
			d, err := pl.parseDN(s)
			if err != nil {
				pl.errs.add(dc.DeviceOUsExpr.Range(), "Invalid device OU", fmt.Sprintf("%q is not a valid DN: %v.", s, err))
				continue
			}
			ous = append(ous, d)
		}
		filterRefs := collectSourceRefs(dc.Filter)
		idx := pl.newPrincipalIndex(idw)
		for _, it := range pl.items {
			if it.wf != w || it.ki.kind != providers.KindComputer {
				continue
			}
			if !pl.selects(dc, ous, filterRefs, it.src) {
				continue
			}
			sum.Devices++
			d := pl.devicePlan(dc, it, idw, gaps, idx)
			switch d.Status {
			case plans.DeviceReady:
				sum.Ready++
			case plans.DeviceBlocked:
				sum.Blocked++
			case plans.DeviceScheduled:
				sum.Scheduled++
			case plans.DeviceDone:
				sum.Done++
			}
			pl.plan.Devices = append(pl.plan.Devices, d)
		}
		pl.plan.Cutovers = append(pl.plan.Cutovers, sum)
	}
	pl.checkRollbackAddrs()
	pl.diags = append(pl.diags, pl.errs.diags()...)
	pl.errs = evalErrors{}
}

// sidGaps are the identities of a workflow that keep its SID map from
// being complete.
type sidGaps struct {
	// pending are created by this plan (applying it fills them in);
	// ambiguous match several target objects (only fixing the data or the
	// rules does); unmatched have no target counterpart at all.
	pending, ambiguous, unmatched []*item
}

// sidMapGaps finds the identities workflow's users and groups that are
// still to be created, ambiguous, or could not be matched.
func (pl *planning) sidMapGaps(idw *config.Workflow) sidGaps {
	var g sidGaps
	if idw == nil {
		return g
	}
	for _, it := range pl.items {
		if it.wf != idw || (it.ki.kind != providers.KindUser && it.ki.kind != providers.KindGroup) {
			continue
		}
		switch it.status {
		case plans.New:
			g.pending = append(g.pending, it)
		case plans.Ambiguous:
			g.ambiguous = append(g.ambiguous, it)
		case plans.Unmatched:
			g.unmatched = append(g.unmatched, it)
		}
	}
	return g
}

// addrs names up to maxNamed items by address.
func addrs(items []*item) string {
	return nameItems(items, func(it *item) string { return it.addr })
}

func (pl *planning) selects(dc *config.DeviceCutover, ous []dn.DN, refs sourceRefs, o *providers.Object) bool {
	if len(ous) > 0 {
		d, err := pl.parseDN(o.DN)
		if err != nil {
			return false
		}
		in := false
		for _, ou := range ous {
			if d.IsDescendantOf(ou) {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	if len(dc.DeviceNames) > 0 {
		name := strings.ToLower(addrKey(o))
		in := false
		for _, pat := range dc.DeviceNames {
			if ok, _ := path.Match(strings.ToLower(pat), name); ok {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	if dc.Filter != nil {
		v, d := dc.Filter.Value(pl.opts.Scope.ObjectContext(refs.sourceValue(o)))
		if d.HasErrors() {
			pl.errs.add(dc.Filter.Range(), d[0].Summary, d[0].Detail+"\n\nWhile selecting "+o.DN+".")
			return false
		}
		v, _ = v.Unmark()
		b, err := convert.Convert(v, cty.Bool)
		if err != nil || b.IsNull() || !b.IsKnown() {
			pl.errs.add(dc.Filter.Range(), "Invalid filter result", "filter must be true or false; for "+o.DN+" it is "+friendly(v)+".")
			return false
		}
		return b.True()
	}
	return true
}

func (pl *planning) devicePlan(dc *config.DeviceCutover, it *item, idw *config.Workflow, gaps sidGaps, idx *principalIndex) *plans.Device {
	key := addrKey(it.src)
	d := &plans.Device{
		Address: fmt.Sprintf("device_cutover.%s[%q]", dc.Name, key),
		Cutover: dc.Name,
		Name:    key,
		Source:  identity(it.src),
		OS:      OSName(it.src.Get("operatingsystem"), it.src.Get("operatingsystemversion"), it.src.Get("operatingsystemservicepack")),
	}
	d.Rollback = slices.Contains(pl.opts.Rollback, d.Address)
	block := func(code, msg string) { d.Blockers = append(d.Blockers, plans.Blocker{Code: code, Message: msg}) }

	sd := pl.opts.State.Devices[d.Address]
	if d.Rollback {
		d.Actions = []string{config.ActionRollback}
		if sd == nil || !hasDone(sd, config.ActionCutover) && !hasDone(sd, config.ActionReACL) {
			block("nothing_to_roll_back", "state records no finished cutover or reacl of this device")
		}
	} else {
		for _, a := range dc.Actions {
			if sd != nil && hasDone(sd, a) {
				d.Done = append(d.Done, a)
			} else {
				d.Actions = append(d.Actions, a)
			}
		}
	}

	switch it.status {
	case plans.Matched:
		d.Target = identity(it.tgt)
		if it.finalDN != "" {
			d.Target.DN = it.finalDN
		}
	case plans.New:
		d.Target = plans.Identity{DN: it.finalDN}
		if it.change == nil {
			block("no_target_account", "the target computer account cannot be staged (see the plan's warnings)")
		} else {
			block("account_pending", "its target computer account is created by this plan; apply it first")
		}
	case plans.Ambiguous:
		block("no_target_account", fmt.Sprintf("%d target computer accounts match by %s; none is chosen", len(it.cands), it.rule))
	default:
		block("no_target_account", fmt.Sprintf("no computer account in environment.%s matches it, and workflow.%s does not create devices", it.wf.Target.Name, it.wf.Name))
	}
	var dev *providers.DeviceInfo
	if dc.Hub != nil {
		dev = pl.agentReadiness(dc, d, it, idx, block)
	}
	switch {
	case d.OS == "":
		block("os_unknown", "the directory does not say which operating system it runs (operatingSystem is empty)")
	case !containsFold(dc.Requirements.OperatingSystems, d.OS):
		block("os_unsupported", d.OS+" is not a supported operating system (supported: "+strings.Join(dc.Requirements.OperatingSystems, ", ")+")")
	}
	if uac, err := strconv.ParseInt(it.src.Get("useraccountcontrol"), 10, 64); err == nil && uac&2 != 0 && !d.Rollback && !hasDone(sd, config.ActionCutover) {
		block("account_disabled", "its computer account is disabled in the source domain")
	}
	for _, a := range d.Actions {
		switch a {
		case config.ActionCacheCredentials:
			w := pl.cfg.Workflows[dc.Workflow.Name]
			if tc := pl.checkTrust(dc, pl.cfg.Environments[w.Source.Name], pl.cfg.Environments[w.Target.Name]); !tc.met {
				block(tc.code, tc.message)
			} else {
				d.Checks = append(d.Checks, tc.message)
			}
		case config.ActionReACL, config.ActionCleanup:
			if idw == nil || (!idw.Carries("users") && !idw.Carries("groups")) {
				block("no_sid_map", a+" needs the users and groups matched into the target; set identities = workflow.NAME to a workflow that carries them")
			} else {
				if n := len(gaps.pending); n > 0 {
					block("sid_map_incomplete", fmt.Sprintf("%d users and groups of workflow.%s are created by this plan (%s); apply it first", n, idw.Name, addrs(gaps.pending)))
				}
				if n := len(gaps.ambiguous); n > 0 {
					block("sid_map_ambiguous", fmt.Sprintf("%d users and groups of workflow.%s match several target objects (%s); applying cannot resolve that: fix the data or the match rules", n, idw.Name, addrs(gaps.ambiguous)))
				}
			}
		}
	}
	if n := len(gaps.unmatched); n > 0 && contains(d.Actions, config.ActionReACL) {
		d.Checks = append(d.Checks, fmt.Sprintf("%d users and groups of workflow.%s have no target counterpart (%s); their permissions are not translated", n, idw.Name, addrs(gaps.unmatched)))
	}
	if dc.Hub == nil {
		d.Checks = append(d.Checks, pl.agentChecks(dc)...)
	} else if len(d.Actions) > 0 {
		pl.deviceJob(dc, d, sd, idx, dev, block)
	}

	// A job this plan would queue is on the hub already (an apply was
	// interrupted, or the device finished after apply stopped watching):
	// apply only watches it and records its results, so what the device
	// looks like now (already in the target, its source account
	// disabled) blocks nothing.
	if dev != nil && len(d.Actions) > 0 {
		key := jobKey(pl.opts.State.Lineage, d, sd)
		for _, j := range dev.Jobs {
			if j.Key == key {
				d.Blockers = nil
				d.Checks = append(d.Checks, "job "+j.ID+" for this device is on the hub already ("+j.State+"); apply records its results instead of queuing another")
				break
			}
		}
	}
	switch {
	case len(d.Actions) == 0:
		d.Status = plans.DeviceDone
	case len(d.Blockers) > 0:
		d.Status = plans.DeviceBlocked
	case !dc.NotBefore.IsZero() && pl.opts.Now.Before(dc.NotBefore) && !d.Rollback:
		d.Status = plans.DeviceScheduled
	default:
		d.Status = plans.DeviceReady
	}
	return d
}

// hasDone reports whether state's last outcome of the action on the
// device is done (not failed, not rolled back).
func hasDone(sd *state.Device, action string) bool {
	if sd == nil {
		return false
	}
	a, ok := sd.LastAction(action)
	return ok && a.Status == state.ActionDone
}

// agentChecks are the prerequisites only a device's agent can confirm.
func (pl *planning) agentChecks(dc *config.DeviceCutover) []string {
	r := dc.Requirements
	checks := []string{
		"PowerShell " + r.PowerShell + " or newer",
		".NET Framework " + r.DotNet + " or newer",
	}
	if dc.Proxy != nil {
		checks = append(checks, "outbound TCP 80 and 443 through proxy."+dc.Proxy.Name)
	} else if len(r.Ports) > 0 {
		ports := make([]string, len(r.Ports))
		for i, p := range r.Ports {
			ports[i] = strconv.Itoa(p)
		}
		checks = append(checks, "outbound "+strings.Join(ports, ", ")+" to the hub")
	}
	if dc.Repository != nil {
		if repo := pl.cfg.Repositories[dc.Repository.Name]; repo != nil {
			checks = append(checks, "repository share "+repo.Path+" reachable")
		}
	}
	if contains(dc.Actions, config.ActionOfflineDomainJoin) {
		checks = append(checks, "offline domain join file provisioned in the repository")
	}
	return checks
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkRollbackAddrs reports every -rollback address that names no device
// of the plan.
func (pl *planning) checkRollbackAddrs() {
	if len(pl.opts.Rollback) == 0 {
		return
	}
	known := make([]string, 0, len(pl.plan.Devices))
	for _, d := range pl.plan.Devices {
		known = append(known, d.Address)
	}
	for _, a := range pl.opts.Rollback {
		if slices.Contains(known, a) {
			continue
		}
		detail := fmt.Sprintf("-rollback names %s, which is no device of any device_cutover.", a)
		if s := config.Suggest(a, known); s != "" {
			detail += " Did you mean " + s + "?"
		}
		pl.diags = append(pl.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown device", Detail: detail + ` Addresses look like device_cutover.wave1["WS001"]; adshift show lists them.`})
	}
}
