package providers

import (
	"context"
	"time"
)

// DeviceRunner is implemented by the device provider: the host's view of
// the agent hub. It is optional, like OfflineJoinProvisioner: a caller
// checks for it with a type assertion after Configure. Over the plugin
// transport the host's client always has the methods; a plugin that does
// not implement them answers with an error wrapping ErrUnsupported.
//
// The planner calls ListDevices while planning (readiness from what the
// agents report) and RunDevices while applying a wave's batch.
type DeviceRunner interface {
	// ListDevices returns every device the hub knows (revoked ones
	// included, with their State), each with its latest inventory and its
	// most recent jobs.
	ListDevices(ctx context.Context) ([]DeviceInfo, error)

	// RunDevices queues one job per DeviceJob (a job whose Key the hub
	// has seen before is not queued again: the earlier job is watched
	// instead) and reports through emit what happens to each until every
	// job is final, Wait has passed, or ctx ends. Every action result the
	// hub recorded for a job is emitted exactly once per call, including
	// results recorded before the call (an apply run again after an
	// interruption learns what finished meanwhile). When Wait passes
	// first, each unfinished job gets one event of kind
	// DeviceEventPending and the call returns nil: the devices stay
	// pending, their jobs stay queued on the hub. emit is called from one
	// goroutine at a time.
	RunDevices(ctx context.Context, run DeviceRun, emit func(DeviceEvent) error) error
}

// DeviceInfo is one enrolled device.
type DeviceInfo struct {
	// ID is the hub's device ID; Hostname the name it enrolled with.
	ID       string
	Hostname string
	// State is "active" or "revoked".
	State    string
	LastSeen time.Time
	// Inventory is nil until the device's first heartbeat.
	Inventory *DeviceInventory
	// Jobs are the device's most recent jobs, newest first.
	Jobs []DeviceJobStatus
}

// DeviceInventory is what a device's agent last reported about it. Zero
// values mean "not known", never "none".
type DeviceInventory struct {
	OS            string
	OSVersion     string
	OSBuild       string
	ServicePack   string
	PowerShell    string
	DotNetRelease int
	// Domain is the DNS name of the domain the device is joined to.
	Domain        string
	Principals    []DevicePrincipal
	FreeDiskBytes uint64
	Reachable     []DeviceProbe
}

// DevicePrincipal is a security principal found on a device; Where is
// "profile", "local_group" or "acl".
type DevicePrincipal struct {
	SID, Name, Where string
}

// DeviceProbe is one reachability check a device made.
type DeviceProbe struct {
	Target string
	OK     bool
	Detail string
}

// DeviceJobStatus is one job of a device as the hub records it.
type DeviceJobStatus struct {
	ID  string
	Key string
	// State is "queued", "leased", "succeeded" or "failed".
	State   string
	Actions []DeviceActionStatus
	Created time.Time
	Updated time.Time
}

// DeviceActionStatus is where one action of a job stands: Status is ""
// (not finished), "ok" or "failed"; Done and Total the last progress.
type DeviceActionStatus struct {
	Name        string
	Status      string
	Output      string
	Done, Total int64
}

// DeviceRun is what RunDevices queues and watches.
type DeviceRun struct {
	Jobs []DeviceJob
	// Wait bounds how long RunDevices watches; zero means until every
	// job is final or ctx ends.
	Wait time.Duration
}

// DeviceJob is one device's job: its actions in order. Key is the
// idempotency key: the same key never queues a second job.
type DeviceJob struct {
	DeviceID string
	Hostname string
	Key      string
	Actions  []DeviceAction
}

// DeviceAction is one action of a job with its parameters (see the
// Param constants of hub/api). No parameter carries a secret.
type DeviceAction struct {
	Name   string
	Params map[string]string
}

// DeviceEventKind says what a DeviceEvent reports.
type DeviceEventKind string

// The device event kinds.
const (
	// DeviceEventQueued: the job is on the hub (JobID set; Output says
	// "existing" when the key had been queued before).
	DeviceEventQueued DeviceEventKind = "queued"
	// DeviceEventProgress: Done of Total for action Action.
	DeviceEventProgress DeviceEventKind = "progress"
	// DeviceEventResult: action Action ended with Status ("ok" or
	// "failed") and Output.
	DeviceEventResult DeviceEventKind = "result"
	// DeviceEventDone: the job is final (JobState "succeeded" or
	// "failed").
	DeviceEventDone DeviceEventKind = "done"
	// DeviceEventPending: Wait passed before the job was final.
	DeviceEventPending DeviceEventKind = "pending"
	// DeviceEventError: the job could not be queued or watched (Output
	// says why); the other jobs go on.
	DeviceEventError DeviceEventKind = "error"
)

// DeviceEvent is one thing that happened to a job of a DeviceRun.
type DeviceEvent struct {
	Kind     DeviceEventKind
	Key      string
	DeviceID string
	Hostname string
	JobID    string
	// Action is the index of the action in the job, ActionName its name
	// (progress and result events).
	Action     int
	ActionName string
	Done       int64
	Total      int64
	Status     string
	Output     string
	JobState   string
	At         time.Time
}
