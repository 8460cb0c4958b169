package plans

import "time"

// FormatVersion is the version of the plan file format.
const FormatVersion = 2

// Action is what a Change does to a target object.
type Action string

// The actions of a Change.
const (
	Create Action = "create"
	Update Action = "update"
	Move   Action = "move"
	Delete Action = "delete"
)

// Identity names one directory object.
type Identity struct {
	DN   string `json:"dn,omitempty"`
	GUID string `json:"guid,omitempty"`
	SID  string `json:"sid,omitempty"`
}

// AttrDiff is one attribute-level difference.
//
// For Create, Op is "replace" and After holds the values. For Update, Op is
// "replace" (Before → After), "add" (After are added; used for members) or
// "delete" (Before are removed).
type AttrDiff struct {
	Name   string   `json:"name"`
	Op     string   `json:"op"`
	Before []string `json:"before,omitempty"`
	After  []string `json:"after,omitempty"`
}

// Change is one planned write to a target directory.
type Change struct {
	// ID is unique within the plan; DependsOn lists the IDs that must
	// complete first.
	ID        int64   `json:"id"`
	DependsOn []int64 `json:"depends_on,omitempty"`
	// Address is the instance address, e.g. workflow.identities.user["jdoe"].
	Address string `json:"address"`
	// Workflow is empty for OUs, which belong to the target environment.
	Workflow string `json:"workflow,omitempty"`
	// Environment is the target environment written to.
	Environment string `json:"environment"`
	Kind        string `json:"kind"`
	Action      Action `json:"action"`
	// DN is the target DN: the new DN for Create, the current one otherwise.
	DN string `json:"dn"`
	// NewDN is the destination of a Move.
	NewDN string `json:"new_dn,omitempty"`
	// Target is the target object's identity when it exists.
	Target Identity `json:"target,omitempty"`
	// Token is the change token the plan saw on the target object.
	Token string `json:"token,omitempty"`
	// Source is the source object the change derives from (empty for OUs
	// and deletes of objects whose source is gone).
	Source     Identity   `json:"source,omitempty"`
	SIDHistory []string   `json:"sid_history,omitempty"`
	Attrs      []AttrDiff `json:"attrs,omitempty"`
	// Members marks an Update that only changes group membership.
	Members bool `json:"members,omitempty"`
	// Reason explains the change for people; it never drives apply.
	Reason string `json:"reason,omitempty"`
}

// MatchStatus is the outcome of matching one source object.
type MatchStatus string

// Match outcomes.
const (
	Matched   MatchStatus = "matched"
	Unmatched MatchStatus = "unmatched" // no target object; not created (mode or steps)
	Ambiguous MatchStatus = "ambiguous" // several target objects fit; never guessed
	New       MatchStatus = "new"       // no target object; the plan creates one
)

// Match records how one source object paired with a target object. Only
// matches that state does not know yet, and the problems, are kept in the
// plan; Counts has the totals.
type Match struct {
	Address    string      `json:"address"`
	Workflow   string      `json:"workflow"`
	Kind       string      `json:"kind"`
	Status     MatchStatus `json:"status"`
	Source     Identity    `json:"source"`
	SIDHistory []string    `json:"sid_history,omitempty"`
	Target     Identity    `json:"target,omitempty"`
	// Rule is the match rule that paired them ("state" when state already
	// knew the pair).
	Rule string `json:"rule,omitempty"`
	// Candidates are the target DNs an ambiguous match could not choose
	// between.
	Candidates []string `json:"candidates,omitempty"`
	Reason     string   `json:"reason,omitempty"`
}

// MatchCount totals one workflow's matching of one kind.
type MatchCount struct {
	Workflow  string `json:"workflow"`
	Kind      string `json:"kind"`
	Source    int    `json:"source"`
	Matched   int    `json:"matched"`
	New       int    `json:"new"`
	Unmatched int    `json:"unmatched"`
	Ambiguous int    `json:"ambiguous"`
}

// DeviceStatus is a device's readiness for its cutover.
type DeviceStatus string

// Device readiness.
const (
	DeviceReady     DeviceStatus = "ready"
	DeviceBlocked   DeviceStatus = "blocked"
	DeviceScheduled DeviceStatus = "scheduled" // ready, but not_before is ahead
	DeviceDone      DeviceStatus = "done"
)

// Blocker is one reason a device cannot be cut over.
type Blocker struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Device is one computer of a device cutover.
type Device struct {
	Address  string       `json:"address"`
	Cutover  string       `json:"cutover"`
	Name     string       `json:"name"`
	Source   Identity     `json:"source"`
	Target   Identity     `json:"target,omitempty"`
	OS       string       `json:"os"`
	Status   DeviceStatus `json:"status"`
	Actions  []string     `json:"actions"`
	Done     []string     `json:"done,omitempty"`
	Blockers []Blocker    `json:"blockers,omitempty"`
	// Checks are prerequisites only the device's agent can confirm
	// (PowerShell, .NET, ports); listed so reviewers see them. With a hub,
	// they are what the agent confirmed.
	Checks []string `json:"checks,omitempty"`
	// Agent is what the device's agent last reported (nil: no hub, or no
	// agent enrolled for the device).
	Agent *Agent `json:"agent,omitempty"`
	// Job is what apply sends to the device's agent: the remaining actions
	// with their parameters. The SID map of reacl and cleanup is left out
	// (apply takes it from state, which the plan pins).
	Job []DeviceAction `json:"job,omitempty"`
	// Rollback is set when the plan was made with -rollback for this
	// device: Job undoes its cutover.
	Rollback bool `json:"rollback,omitempty"`
}

// Agent is a device's agent as the plan saw it.
type Agent struct {
	ID            string    `json:"id"`
	LastSeen      time.Time `json:"last_seen,omitzero"`
	OS            string    `json:"os,omitempty"`
	PowerShell    string    `json:"powershell,omitempty"`
	DotNetRelease int       `json:"dotnet_release,omitempty"`
	Domain        string    `json:"domain,omitempty"`
	// Principals counts the security principals the agent found.
	Principals int `json:"principals"`
	// ActiveJob is the ID of a job still running on the hub for this
	// device; apply watches it instead of queuing another.
	ActiveJob string `json:"active_job,omitempty"`
}

// DeviceAction is one action of a device's job.
type DeviceAction struct {
	Name   string            `json:"name"`
	Params map[string]string `json:"params,omitempty"`
}

// Cutover summarises one device_cutover block.
type Cutover struct {
	Name      string    `json:"name"`
	Workflow  string    `json:"workflow"`
	Actions   []string  `json:"actions"`
	NotBefore time.Time `json:"not_before,omitempty"`
	BatchSize int       `json:"batch_size"`
	// MaxFailures is how many devices may fail before the wave stops.
	MaxFailures int `json:"max_failures"`
	// Hub names the hub block the wave runs through ("" when none).
	Hub       string `json:"hub,omitempty"`
	Devices   int    `json:"devices"`
	Ready     int    `json:"ready"`
	Blocked   int    `json:"blocked"`
	Scheduled int    `json:"scheduled"`
	Done      int    `json:"done"`
}

// Warning is a plan-time finding worth a reviewer's attention that does not
// stop the plan (unmapped group members, a match skipped as ambiguous).
type Warning struct {
	Address string `json:"address,omitempty"`
	Summary string `json:"summary"`
	Detail  string `json:"detail,omitempty"`
	// Items are what the warning is about, in full, where Detail names only
	// a few (the left-out members of a group).
	Items []string `json:"items,omitempty"`
}

// Plan is everything apply will do, and everything a reviewer needs.
type Plan struct {
	FormatVersion int       `json:"format_version"`
	Version       string    `json:"adshift_version"`
	Created       time.Time `json:"created"`
	// ConfigHash, Lineage and Serial pin the plan to the configuration and
	// state it was made from; apply refuses it when either moved.
	ConfigHash string `json:"config_hash"`
	Lineage    string `json:"lineage"`
	Serial     uint64 `json:"serial"`
	// Workspace is the state workspace the plan was made in ("" in plans
	// from before workspaces: the default one); apply refuses the plan
	// in another workspace.
	Workspace string `json:"workspace,omitempty"`
	// Variables holds the non-sensitive variable values given from
	// outside, JSON-encoded; Sensitive names the sensitive ones, whose
	// values are never saved and must be given again to apply.
	Variables map[string]string `json:"variables,omitempty"`
	Sensitive []string          `json:"sensitive_variables,omitempty"`
	// Providers are the versions of the providers the plan was made with,
	// by provider type; apply refuses the plan when one differs.
	Providers map[string]string `json:"provider_versions,omitempty"`

	Changes  []*Change    `json:"changes"`
	Matches  []*Match     `json:"matches,omitempty"`
	Counts   []MatchCount `json:"match_counts,omitempty"`
	Devices  []*Device    `json:"devices,omitempty"`
	Cutovers []*Cutover   `json:"cutovers,omitempty"`
	Warnings []Warning    `json:"warnings,omitempty"`
}

// Summary counts a plan's changes.
type Summary struct {
	Add, Change, Move, Destroy int
	// Record counts new matches apply writes to state.
	Record int
	// DevicesReady, DevicesBlocked, DevicesScheduled count cutover devices.
	DevicesReady, DevicesBlocked, DevicesScheduled int
}

// Summary counts the plan's changes.
func (p *Plan) Summary() Summary {
	var s Summary
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			s.Add++
		case Update:
			s.Change++
		case Move:
			s.Move++
		case Delete:
			s.Destroy++
		}
	}
	for _, m := range p.Matches {
		if m.Status == Matched {
			s.Record++
		}
	}
	for _, d := range p.Devices {
		switch d.Status {
		case DeviceReady:
			s.DevicesReady++
		case DeviceBlocked:
			s.DevicesBlocked++
		case DeviceScheduled:
			s.DevicesScheduled++
		}
	}
	return s
}

// HasChanges reports whether applying the plan would change a directory or
// state (device actions are not counted until adshift can run them).
func (p *Plan) HasChanges() bool {
	s := p.Summary()
	return s.Add+s.Change+s.Move+s.Destroy+s.Record > 0 || p.DeviceWork() > 0
}

// DeviceWork counts the devices apply will run actions on: ready or
// scheduled, with a job (their wave names a hub).
func (p *Plan) DeviceWork() int {
	n := 0
	for _, d := range p.Devices {
		if (d.Status == DeviceReady || d.Status == DeviceScheduled) && len(d.Job) > 0 {
			n++
		}
	}
	return n
}
