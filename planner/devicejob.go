package planner

import (
	"path"
	"strconv"
	"strings"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/providers"
	"github.com/adshift/adshift/state"
)

// deviceJob builds what apply sends to the device's agent: d.Actions with
// their parameters (reacl's and cleanup's SID map excepted: apply adds it
// from state). Settings the job needs and the configuration lacks block
// the device.
func (pl *planning) deviceJob(dc *config.DeviceCutover, d *plans.Device, sd *state.Device, idx *principalIndex, dev *providers.DeviceInfo, block func(code, msg string)) {
	w := pl.cfg.Workflows[dc.Workflow.Name]
	src, tgt := pl.cfg.Environments[w.Source.Name], pl.cfg.Environments[w.Target.Name]
	common := map[string]string{
		api.ParamSourceDomain: src.Domain, api.ParamTargetDomain: tgt.Domain,
		api.ParamSourceNetBIOS: src.NetBIOS(), api.ParamTargetNetBIOS: tgt.NetBIOS(),
		api.ParamSourceDC: src.DomainController, api.ParamTargetDC: tgt.DomainController,
	}
	for _, e := range []*config.Environment{src, tgt} {
		if e.Domain == "" {
			block("no_domain", "environment."+e.Name+" sets no domain; devices need the DNS name of both domains (e.g. domain = \"source.test\")")
		}
		if e.DomainController == "" {
			block("no_domain_controller", "environment."+e.Name+" sets no domain_controller; devices need the host name of a DC to join and prove the join (e.g. domain_controller = \"dc1."+e.Domain+"\")")
		}
	}
	with := func(extra map[string]string) map[string]string {
		m := make(map[string]string, len(common)+len(extra))
		for k, v := range common {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	var repoPath string
	if dc.Repository != nil {
		if r := pl.cfg.Repositories[dc.Repository.Name]; r != nil {
			repoPath = r.Path
		}
	}
	var principals []providers.DevicePrincipal
	if dev != nil && dev.Inventory != nil {
		principals = dev.Inventory.Principals
	}
	for _, a := range d.Actions {
		var params map[string]string
		switch a {
		case config.ActionCacheCredentials:
			users := ""
			if idx != nil {
				users = idx.users(principals)
			}
			params = with(map[string]string{api.ParamUsers: users})
		case config.ActionReACL:
			params = with(map[string]string{api.ParamMode: dc.ReACLMode})
		case config.ActionCleanup:
			params = with(map[string]string{api.ParamMode: "remove"})
		case config.ActionOfflineDomainJoin:
			blob := repoJoin(repoPath, d.Name+".odj")
			params = with(map[string]string{api.ParamBlob: blob})
			switch {
			case fileExists(blob):
				d.Checks = append(d.Checks, "offline domain join file "+blob+" is in the repository")
			case pl.canProvision[tgt.Name]:
				d.Checks = append(d.Checks, "offline domain join file "+blob+" is provisioned by apply (environment."+tgt.Name+")")
			default:
				block("odj_missing", "no offline domain join file at "+blob+", and environment."+tgt.Name+"'s provider cannot provision one (use provider \"ad\", or put the file there)")
			}
		case config.ActionCutover:
			params = with(map[string]string{
				api.ParamSourceAccount: d.Source.DN, api.ParamTargetAccount: d.Target.DN,
				api.ParamNoticeSeconds: strconv.Itoa(dc.NoticeSeconds),
			})
			if !contains(d.Actions, config.ActionOfflineDomainJoin) && !hasDone(sd, config.ActionOfflineDomainJoin) {
				d.Checks = append(d.Checks, "cutover joins the target online (no offline domain join in this wave)")
			}
		case config.ActionRollback:
			params = with(map[string]string{
				api.ParamSourceAccount: d.Source.DN, api.ParamTargetAccount: d.Target.DN,
				api.ParamWithReACLRollback: strconv.FormatBool(hasDone(sd, config.ActionReACL) || hasDone(sd, config.ActionCleanup)),
			})
		case config.ActionUploadLogs:
			params = map[string]string{api.ParamRepository: repoPath}
		case config.ActionDownload:
			params = map[string]string{api.ParamRepository: repoPath, api.ParamFiles: strings.Join(dc.Download, "\n")}
		}
		d.Job = append(d.Job, plans.DeviceAction{Name: a, Params: params})
	}
}

// repoJoin joins a file name to a repository path: with a backslash for a
// UNC share, a slash otherwise.
func repoJoin(repo, name string) string {
	if strings.HasPrefix(repo, `\\`) {
		return strings.TrimRight(repo, `\`) + `\` + name
	}
	return path.Join(repo, name)
}
