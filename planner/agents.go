package planner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/providers"
)

// hubView is what one hub reported while planning: its devices by
// lower-case host name.
type hubView struct {
	name   string
	byHost map[string]*providers.DeviceInfo
}

// hubsInUse names the hubs the device cutovers run through, sorted.
func hubsInUse(cfg *config.Config) []string {
	var names []string
	for _, dc := range cfg.DeviceCutovers {
		if dc.Hub != nil && cfg.Hubs[dc.Hub.Name] != nil && !slices.Contains(names, dc.Hub.Name) {
			names = append(names, dc.Hub.Name)
		}
	}
	slices.Sort(names)
	return names
}

// deviceRunner launches and configures a hub's device provider. The
// caller closes the returned conns (also on error).
func deviceRunner(ctx context.Context, h *config.Hub, scope *config.Scope, l Launcher) (providers.DeviceRunner, conns, hcl.Diagnostics) {
	c, diags := openHub(ctx, h, scope, l, true)
	cs := conns{}
	if c != nil {
		cs["hub."+h.Name] = c
	}
	if diags.HasErrors() {
		return nil, cs, diags
	}
	dr, ok := c.p.(providers.DeviceRunner)
	if !ok {
		return nil, cs, append(diags, unsupportedHub(h, c.env.Provider))
	}
	return dr, cs, diags
}

func unsupportedHub(h *config.Hub, provider string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Provider cannot run device actions",
		Detail:   fmt.Sprintf("hub.%s is served by provider %q, which does not run device actions. Use this version's built-in device provider.", h.Name, provider),
		Subject:  h.DeclRange.Ptr(),
	}
}

// readHubs lists the devices of every hub in use. A hub that cannot be
// read is an error: a plan must not call devices ready, or blocked for
// want of an agent, on a hub it could not see.
func (pl *planning) readHubs(ctx context.Context) {
	pl.hubs = map[string]*hubView{}
	for _, name := range hubsInUse(pl.cfg) {
		h := pl.cfg.Hubs[name]
		dr, cs, diags := deviceRunner(ctx, h, pl.opts.Scope, pl.opts.Launcher)
		pl.diags = append(pl.diags, diags...)
		if diags.HasErrors() {
			cs.close(ctx)
			continue
		}
		list, err := dr.ListDevices(ctx)
		cs.close(ctx)
		if err != nil {
			d := &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read the hub",
				Detail:   fmt.Sprintf("Listing the devices of hub.%s failed: %v. Check that the hub is running and its url, token and ca_file.", name, err),
				Subject:  h.DeclRange.Ptr(),
			}
			if errors.Is(err, providers.ErrUnsupported) {
				d = unsupportedHub(h, config.HubProvider)
			}
			pl.diags = append(pl.diags, d)
			continue
		}
		hv := &hubView{name: name, byHost: map[string]*providers.DeviceInfo{}}
		for i := range list {
			d := &list[i]
			key := strings.ToLower(d.Hostname)
			// An active identity wins over revoked ones of the same name.
			if prev := hv.byHost[key]; prev != nil && prev.State == "active" && d.State != "active" {
				continue
			}
			hv.byHost[key] = d
		}
		pl.hubs[name] = hv
	}
}

// findAgent returns the hub's device for a computer: by its name, or by
// the first label of its dNSHostName.
func (hv *hubView) findAgent(name string, src *providers.Object) *providers.DeviceInfo {
	if d := hv.byHost[strings.ToLower(name)]; d != nil {
		return d
	}
	if h := src.Get("dnshostname"); h != "" {
		if d := hv.byHost[strings.ToLower(h)]; d != nil {
			return d
		}
		first, _, _ := strings.Cut(h, ".")
		return hv.byHost[strings.ToLower(first)]
	}
	return nil
}

// versionLess compares dotted version numbers ("2.0" < "5.1"); parts that
// are not numbers compare as 0.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(strings.TrimSpace(pa[i]))
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(strings.TrimSpace(pb[i]))
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// agentReadiness judges a device by what its agent reports: enrolled,
// seen recently, platform facts, reachability, and the principals found
// on it. It fills d.Agent, adds blockers and confirmed checks, and
// returns the hub's record of the device (nil when there is none).
func (pl *planning) agentReadiness(dc *config.DeviceCutover, d *plans.Device, it *item, idx *principalIndex, block func(code, msg string)) *providers.DeviceInfo {
	hv := pl.hubs[dc.Hub.Name]
	if hv == nil {
		block("hub_unavailable", "hub."+dc.Hub.Name+" could not be read (see the errors of this plan)")
		return nil
	}
	dev := hv.findAgent(d.Name, it.src)
	if dev == nil {
		block("no_agent", "no agent is enrolled for "+d.Name+" on hub."+hv.name+"; install and enroll the agent on the device (adshift-agent enroll)")
		return nil
	}
	a := &plans.Agent{ID: dev.ID, LastSeen: dev.LastSeen}
	d.Agent = a
	for _, j := range dev.Jobs {
		if j.State == "queued" || j.State == "leased" {
			a.ActiveJob = j.ID
			d.Checks = append(d.Checks, "job "+j.ID+" is still "+j.State+" on the hub; apply watches it instead of queuing another")
			break
		}
	}
	if dev.State != "active" {
		block("agent_revoked", "the agent identity of "+d.Name+" on hub."+hv.name+" is "+dev.State+"; enroll the device again")
		return dev
	}
	within := dc.Requirements.AgentSeenWithin
	switch {
	case dev.LastSeen.IsZero():
		block("agent_offline", "its agent enrolled but has never reported")
	case pl.opts.Now.Sub(dev.LastSeen) > within:
		block("agent_offline", fmt.Sprintf("its agent was last seen %s ago (%s); a device must have reported within %s (requirements.agent_seen_within)",
			pl.opts.Now.Sub(dev.LastSeen).Round(time.Second), dev.LastSeen.UTC().Format(time.RFC3339), within))
	}
	inv := dev.Inventory
	if inv == nil {
		block("no_inventory", "its agent has not reported an inventory yet")
		return dev
	}
	a.OS, a.PowerShell, a.DotNetRelease, a.Domain, a.Principals = inv.OS, inv.PowerShell, inv.DotNetRelease, inv.Domain, len(inv.Principals)
	if inv.OS != "" {
		version := inv.OSVersion
		if inv.OSBuild != "" {
			version += " (" + inv.OSBuild + ")"
		}
		d.OS = OSName(inv.OS, version, inv.ServicePack)
	}
	r := dc.Requirements
	switch {
	case inv.PowerShell == "":
		block("powershell_unknown", "its agent did not report a PowerShell version")
	case versionLess(inv.PowerShell, r.PowerShell):
		block("powershell_old", "PowerShell "+inv.PowerShell+" is older than the "+r.PowerShell+" the device actions need")
	default:
		d.Checks = append(d.Checks, "PowerShell "+inv.PowerShell+" (needs "+r.PowerShell+")")
	}
	switch need := plans.DotNetRelease(r.DotNet); {
	case inv.DotNetRelease == 0:
		block("dotnet_unknown", "its agent did not report a .NET Framework release")
	case inv.DotNetRelease < need:
		block("dotnet_old", ".NET Framework "+plans.DotNetVersion(inv.DotNetRelease)+" is older than the "+r.DotNet+" the device actions need")
	default:
		d.Checks = append(d.Checks, ".NET Framework "+plans.DotNetVersion(inv.DotNetRelease)+" (needs "+r.DotNet+")")
	}
	for _, p := range inv.Reachable {
		// A device being rolled back is expected to have a broken join
		// to the target (the reason for the rollback): its membership
		// probe does not block it.
		if d.Rollback && strings.HasPrefix(p.Target, "join ") {
			continue
		}
		if p.OK {
			d.Checks = append(d.Checks, p.Target+" reachable from the device")
			continue
		}
		msg := p.Target + " is not reachable from the device"
		if p.Detail != "" {
			msg += ": " + p.Detail
		}
		block("unreachable", msg)
	}
	if !d.Rollback && inv.Domain != "" && contains(d.Actions, config.ActionCutover) {
		if w := pl.cfg.Workflows[dc.Workflow.Name]; w != nil {
			if src := pl.cfg.Environments[w.Source.Name]; src != nil && src.Domain != "" && !strings.EqualFold(inv.Domain, src.Domain) {
				block("wrong_domain", "the device is joined to "+inv.Domain+", not to the source domain "+src.Domain)
			}
		}
	}
	if !d.Rollback && idx != nil {
		if unknown := idx.unknown(inv.Principals); len(unknown) > 0 {
			names := make([]string, len(unknown))
			for i, p := range unknown {
				names[i] = principalText(p)
			}
			block("unknown_principal", fmt.Sprintf("%d principals on the device are neither matched nor staged in the target: %s; add them to workflow.%s's scope or match rules",
				len(unknown), strings.Join(names, ", "), idx.workflow))
		}
	}
	return dev
}

func principalText(p providers.DevicePrincipal) string {
	if p.Name != "" {
		return p.Name + " (" + p.SID + ")"
	}
	return p.SID
}

// principalIndex finds the identities workflow's users and groups by
// their source SIDs (sIDHistory included).
type principalIndex struct {
	workflow  string
	domainSID string
	bySID     map[string]*item
}

// newPrincipalIndex indexes idw's users and groups; nil when idw is nil.
func (pl *planning) newPrincipalIndex(idw *config.Workflow) *principalIndex {
	if idw == nil {
		return nil
	}
	idx := &principalIndex{workflow: idw.Name, bySID: map[string]*item{}}
	counts := map[string]int{}
	for _, it := range pl.items {
		if it.wf != idw || (it.ki.kind != providers.KindUser && it.ki.kind != providers.KindGroup) {
			continue
		}
		if s := strings.ToUpper(it.src.SID); s != "" {
			idx.bySID[s] = it
			if i := strings.LastIndexByte(s, '-'); i > 0 {
				counts[s[:i]]++
			}
		}
		for _, h := range it.src.Attrs["sidhistory"] {
			idx.bySID[strings.ToUpper(h)] = it
		}
	}
	best := 0
	for dom, n := range counts {
		if n > best || (n == best && dom < idx.domainSID) {
			idx.domainSID, best = dom, n
		}
	}
	return idx
}

// unknown returns the principals of the source domain that the workflow
// neither matched nor stages (principals of other domains, local and
// well-known ones are not its business).
func (idx *principalIndex) unknown(ps []providers.DevicePrincipal) []providers.DevicePrincipal {
	var out []providers.DevicePrincipal
	seen := map[string]bool{}
	for _, p := range ps {
		s := strings.ToUpper(p.SID)
		if seen[s] || idx.domainSID == "" || !strings.HasPrefix(s, idx.domainSID+"-") {
			continue
		}
		seen[s] = true
		it := idx.bySID[s]
		if it == nil || it.status == plans.Unmatched || it.status == plans.Ambiguous {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b providers.DevicePrincipal) int { return strings.Compare(a.SID, b.SID) })
	return out
}

// users returns cache_credentials' users parameter: the device's profile
// users that are matched, as "SOURCE-SID=TARGET-SAMACCOUNTNAME" lines.
func (idx *principalIndex) users(ps []providers.DevicePrincipal) string {
	var lines []string
	for _, p := range ps {
		if p.Where != "profile" {
			continue
		}
		it := idx.bySID[strings.ToUpper(p.SID)]
		if it == nil || it.tgt == nil || it.ki.kind != providers.KindUser {
			continue
		}
		if sam := it.tgt.Get("samaccountname"); sam != "" {
			lines = append(lines, p.SID+"="+sam)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// fileExists reports whether path names an existing regular file.
func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
