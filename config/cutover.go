package config

import (
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The device actions, in the seed's words.
const (
	ActionCacheCredentials  = "cache_credentials"
	ActionReACL             = "reacl"
	ActionOfflineDomainJoin = "offline_domain_join"
	ActionCutover           = "cutover"
	ActionUploadLogs        = "upload_logs"
	ActionDownload          = "download"
	ActionCleanup           = "cleanup"
	ActionRollback          = "rollback"
)

// DeviceActions lists every device action.
var DeviceActions = []string{
	ActionCacheCredentials, ActionReACL, ActionOfflineDomainJoin, ActionCutover,
	ActionUploadLogs, ActionDownload, ActionCleanup, ActionRollback,
}

// NeedsRepository reports whether an action needs a repository share.
func NeedsRepository(action string) bool {
	return action == ActionOfflineDomainJoin || action == ActionUploadLogs || action == ActionDownload
}

// SupportedOperatingSystems is the seed's list of operating systems a
// device must run to be migrated, extended with their successors.
var SupportedOperatingSystems = []string{
	"Windows 7 SP1", "Windows 10", "Windows 11",
	"Windows Server 2012", "Windows Server 2012 R2", "Windows Server 2016",
	"Windows Server 2019", "Windows Server 2022",
}

// DeviceCutover is a device_cutover "NAME" block: one wave of computers
// moved to the target domain by their agents.
type DeviceCutover struct {
	Name string
	// Workflow carries the devices (read and match at least).
	Workflow *Ref
	// Identities is the workflow whose matched users and groups form the
	// SID map ReACL needs; nil when the device workflow carries them.
	Identities *Ref
	Repository *Ref
	Proxy      *Ref
	// Hub is the agent hub the device actions run through; without one
	// the plan shows readiness from the directory alone and apply runs no
	// device action.
	Hub *Ref

	// Device selection; set by Evaluate except Filter, which the planner
	// evaluates per device over source.*.
	DeviceOUs      []string
	DeviceNames    []string
	Filter         hcl.Expression
	DeviceOUsExpr  hcl.Expression
	DeviceNameExpr hcl.Expression

	Actions      []string
	ActionsRange hcl.Range

	// NotBefore is the earliest start of the wave (zero: any time).
	NotBefore     time.Time
	NotBeforeExpr hcl.Expression
	// BatchSize is how many devices run at once (default 50).
	BatchSize     int
	BatchSizeExpr hcl.Expression

	// MaxFailures is how many devices of the wave may fail before apply
	// stops starting new ones (default 0: the first failure stops it).
	MaxFailures     int
	MaxFailuresExpr hcl.Expression
	// NoticeSeconds is how long cutover warns the signed-in user before
	// the restart (default 300).
	NoticeSeconds     int
	NoticeSecondsExpr hcl.Expression
	// Download lists the files (relative to the repository) the download
	// action copies onto each device.
	Download     []string
	DownloadExpr hcl.Expression

	ReACLMode    string
	Requirements Requirements
	DeclRange    hcl.Range
}

// Requirements are the prerequisites every device of a wave must meet.
type Requirements struct {
	OperatingSystems []string
	PowerShell       string
	DotNet           string
	Ports            []int
	// Trust says the one-way trust source → target is in place (needed by
	// cache_credentials).
	Trust      bool
	TrustRange hcl.Range
	// AgentSeenWithin is how recently a device's agent must have reported
	// (default 30 minutes) for the device to be ready.
	AgentSeenWithin     time.Duration
	AgentSeenWithinExpr hcl.Expression
	DeclRange           hcl.Range
}

var cutoverSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "workflow", Required: true}, {Name: "identities"}, {Name: "actions", Required: true},
		{Name: "repository"}, {Name: "proxy"}, {Name: "hub"}, {Name: "not_before"}, {Name: "batch_size"},
		{Name: "max_failures"}, {Name: "notice_seconds"}, {Name: "download"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "devices"}, {Type: "requirements"}, {Type: "reacl"}},
}

var cutoverDevicesSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "ous"}, {Name: "names"}, {Name: "filter"}},
}

var requirementsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "operating_systems"}, {Name: "powershell"}, {Name: "dotnet"}, {Name: "ports"}, {Name: "trust"},
		{Name: "agent_seen_within"},
	},
}

var reaclSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "mode"}}}

// ReACLModes are the ReACL translation modes.
var ReACLModes = []string{"add", "replace", "remove"}

func decodeDeviceCutover(block *hcl.Block) (*DeviceCutover, hcl.Diagnostics) {
	dc := &DeviceCutover{
		Name:          block.Labels[0],
		BatchSize:     50,
		NoticeSeconds: 300,
		ReACLMode:     "add",
		Requirements: Requirements{
			OperatingSystems: SupportedOperatingSystems,
			PowerShell:       "2.0",
			DotNet:           "4.5.2",
			Ports:            []int{80, 443, 3030},
			AgentSeenWithin:  30 * time.Minute,
		},
		DeclRange: block.DefRange,
	}
	var diags hcl.Diagnostics
	if !hclsyntax.ValidIdentifier(dc.Name) {
		diags = append(diags, invalidName("device_cutover", block))
	}
	content, d := block.Body.Content(cutoverSchema)
	diags = append(diags, d...)
	refs := []struct {
		attr, typ string
		dst       **Ref
	}{
		{"workflow", "workflow", &dc.Workflow},
		{"identities", "workflow", &dc.Identities},
		{"repository", "repository", &dc.Repository},
		{"proxy", "proxy", &dc.Proxy},
		{"hub", "hub", &dc.Hub},
	}
	for _, r := range refs {
		if attr, ok := content.Attributes[r.attr]; ok {
			ref, d := decodeRef(attr.Expr, r.typ)
			diags = append(diags, d...)
			*r.dst = ref
		}
	}
	if attr, ok := content.Attributes["actions"]; ok {
		acts, d := staticStrings(attr.Expr)
		diags = append(diags, d...)
		dc.ActionsRange = attr.Expr.Range()
		if !d.HasErrors() {
			dc.Actions = acts
			seen := map[string]bool{}
			for i, rng := range listItemRanges(attr.Expr, len(acts)) {
				if dd := oneOf("device action", acts[i], DeviceActions, rng); dd != nil {
					diags = append(diags, dd)
				}
				if seen[acts[i]] {
					diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate device action", Detail: quote(acts[i]) + " is listed twice; each action runs once per device.", Subject: rng.Ptr()})
				}
				seen[acts[i]] = true
			}
			if len(acts) == 0 {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No device actions", Detail: `List the actions to run on each device, e.g. ["cache_credentials", "reacl", "cutover"].`, Subject: attr.Expr.Range().Ptr()})
			}
		}
	}
	if attr, ok := content.Attributes["not_before"]; ok {
		dc.NotBeforeExpr = attr.Expr
	}
	if attr, ok := content.Attributes["batch_size"]; ok {
		dc.BatchSizeExpr = attr.Expr
	}
	if attr, ok := content.Attributes["max_failures"]; ok {
		dc.MaxFailuresExpr = attr.Expr
	}
	if attr, ok := content.Attributes["notice_seconds"]; ok {
		dc.NoticeSecondsExpr = attr.Expr
	}
	if attr, ok := content.Attributes["download"]; ok {
		dc.DownloadExpr = attr.Expr
	}
	for _, b := range content.Blocks {
		switch b.Type {
		case "devices":
			bc, d := b.Body.Content(cutoverDevicesSchema)
			diags = append(diags, d...)
			if attr, ok := bc.Attributes["ous"]; ok {
				dc.DeviceOUsExpr = attr.Expr
			}
			if attr, ok := bc.Attributes["names"]; ok {
				dc.DeviceNameExpr = attr.Expr
			}
			if attr, ok := bc.Attributes["filter"]; ok {
				dc.Filter = attr.Expr
			}
		case "requirements":
			rc, d := b.Body.Content(requirementsSchema)
			diags = append(diags, d...)
			req := &dc.Requirements
			req.DeclRange = b.DefRange
			if attr, ok := rc.Attributes["operating_systems"]; ok {
				diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &req.OperatingSystems)...)
			}
			if attr, ok := rc.Attributes["powershell"]; ok {
				diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &req.PowerShell)...)
			}
			if attr, ok := rc.Attributes["dotnet"]; ok {
				diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &req.DotNet)...)
			}
			if attr, ok := rc.Attributes["ports"]; ok {
				diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &req.Ports)...)
			}
			if attr, ok := rc.Attributes["agent_seen_within"]; ok {
				req.AgentSeenWithinExpr = attr.Expr
			}
			if attr, ok := rc.Attributes["trust"]; ok {
				diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &req.Trust)...)
				req.TrustRange = attr.Expr.Range()
			}
		case "reacl":
			rc, d := b.Body.Content(reaclSchema)
			diags = append(diags, d...)
			if attr, ok := rc.Attributes["mode"]; ok {
				m, d := staticString(attr.Expr)
				diags = append(diags, d...)
				if !d.HasErrors() {
					dc.ReACLMode = m
					if dd := oneOf("ReACL mode", m, ReACLModes, attr.Expr.Range()); dd != nil {
						diags = append(diags, dd)
					}
				}
			}
		}
	}
	for _, a := range dc.Actions {
		if NeedsRepository(a) && dc.Repository == nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing repository",
				Detail:   `The action "` + a + `" needs a storage share reachable from both domains. Declare a repository block and set repository = repository.NAME in this device_cutover.`,
				Subject:  dc.ActionsRange.Ptr(),
				Context:  block.DefRange.Ptr(),
			})
			break
		}
	}
	return dc, diags
}
