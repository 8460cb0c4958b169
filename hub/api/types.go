package api

import "time"

// Paths of the hub's endpoints. Agent endpoints (except enrollment) need a
// client certificate the hub issued; admin endpoints need the admin token.
const (
	PathHealth    = "/v1/health"
	PathEnroll    = "/v1/agent/enroll"
	PathPoll      = "/v1/agent/poll"
	PathHeartbeat = "/v1/agent/heartbeat"
	PathReport    = "/v1/agent/report"
	PathRenew     = "/v1/agent/renew"

	PathTokens  = "/v1/admin/tokens"  // GET list, POST create; /{id} DELETE revokes
	PathDevices = "/v1/admin/devices" // GET list; /{id} GET shows; /{id}/revoke POST
	PathJobs    = "/v1/admin/jobs"    // POST queues; /{id} GET shows
	// PathJobBatch queues several jobs in one transaction: POST JobBatch,
	// answered with JobBatchResult.
	PathJobBatch = "/v1/admin/jobs/batch"
	PathAudit    = "/v1/admin/audit" // GET, ?limit=N
	// PathFleet lists devices with their inventory and newest jobs, a
	// page at a time: GET ?after=DEVICE-ID&limit=N&jobs=N (FleetPage).
	PathFleet = "/v1/admin/fleet"
	// PathChanges is the admin long poll over recorded reports: GET
	// ?since=CURSOR&wait=DURATION&limit=N (Changes). An empty since starts
	// at the first report; since=end answers at once with no changes and
	// the current end as the cursor.
	PathChanges = "/v1/admin/changes"
)

// MaxBodyBytes caps every request body the hub reads, except an admin's
// job request (MaxJobBodyBytes); larger bodies are refused with 413 before
// they are decoded.
const MaxBodyBytes = 64 << 10

// MaxJobBodyBytes caps an admin's job request: room for a reacl job whose
// SID map has 100,000 lines with long domain SIDs (about 10 MB of JSON).
// Agents never send bodies this large.
const MaxJobBodyBytes = 32 << 20

// Limits of the fleet listing and the changes long poll.
const (
	// MaxFleetPage is the most devices one FleetPage holds (the default).
	MaxFleetPage = 500
	// MaxFleetJobs is the most jobs listed per device; default 5.
	MaxFleetJobs = 50
	// MaxChanges is the most changes one answer holds (the default).
	MaxChanges = 5000
	// MaxJobBatch is the most jobs one JobBatch queues (its body is
	// capped by MaxJobBodyBytes as well).
	MaxJobBatch = 1000
)

// MaxPollWait is the longest a long poll is held open.
const MaxPollWait = 60 * time.Second

// EnrollRequest is an agent's one-time enrollment: the token an admin
// created, the device's host name and a PEM certificate request signed by
// the key the agent generated (its common name must be the host name).
type EnrollRequest struct {
	Token    string `json:"token"`
	Hostname string `json:"hostname"`
	CSR      string `json:"csr"`
}

// EnrollResponse carries the device's identity: its ID, the client
// certificate the hub's CA issued to it alone, and the CA certificate the
// agent keeps to verify the hub from then on (all PEM).
type EnrollResponse struct {
	DeviceID    string `json:"device_id"`
	Certificate string `json:"certificate"`
	CA          string `json:"ca"`
	// PingKey authenticates the device's UDP pings (base64, 32 bytes).
	PingKey string `json:"ping_key"`
}

// Inventory is what a device reports about itself on each heartbeat. Zero
// values mean "not known", never "none".
type Inventory struct {
	OS            string      `json:"os,omitempty"`
	OSVersion     string      `json:"os_version,omitempty"`
	OSBuild       string      `json:"os_build,omitempty"`
	ServicePack   string      `json:"service_pack,omitempty"`
	PowerShell    string      `json:"powershell,omitempty"`
	DotNetRelease int         `json:"dotnet_release,omitempty"`
	Domain        string      `json:"domain,omitempty"`
	Principals    []Principal `json:"principals,omitempty"`
	FreeDiskBytes uint64      `json:"free_disk_bytes,omitempty"`
	Reachable     []Probe     `json:"reachable,omitempty"`
}

// Probe is one reachability check a device made (a DC or hub port).
type Probe struct {
	Target string `json:"target"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// HeartbeatRequest reports inventory (optional) and asks the hub to
// extend the leases of the jobs the agent is working on.
type HeartbeatRequest struct {
	Inventory *Inventory `json:"inventory,omitempty"`
	Leases    []Lease    `json:"leases,omitempty"`
}

// Lease names one job handed to an agent: the job and the lease ID the
// hub gave with it. A report carries it so that a stale holder is refused.
type Lease struct {
	JobID   string `json:"job_id"`
	LeaseID string `json:"lease_id"`
}

// HeartbeatResponse lists the leases the hub extended and until when;
// a lease missing from Extended is lost and its job must be dropped.
type HeartbeatResponse struct {
	Extended   []Lease   `json:"extended"`
	LeaseUntil time.Time `json:"lease_until"`
}

// Action is one step of a job, run by the agent's platform backend.
type Action struct {
	Name   string            `json:"name"`
	Params map[string]string `json:"params,omitempty"`
}

// JobState is where a job stands.
type JobState string

// The job states. A queued job waits for its device; a leased one is
// being worked on until LeaseUntil; the last two are final.
const (
	JobQueued    JobState = "queued"
	JobLeased    JobState = "leased"
	JobSucceeded JobState = "succeeded"
	JobFailed    JobState = "failed"
)

// Job is an ordered list of actions queued for one device. The hub hands
// it out with a lease (LeaseID, LeaseUntil); Attempt counts the leases.
type Job struct {
	ID             string    `json:"id"`
	DeviceID       string    `json:"device_id"`
	IdempotencyKey string    `json:"idempotency_key"`
	Actions        []Action  `json:"actions"`
	State          JobState  `json:"state"`
	Attempt        int       `json:"attempt"`
	LeaseID        string    `json:"lease_id,omitempty"`
	LeaseUntil     time.Time `json:"lease_until,omitzero"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	// Reports are the recorded progress and results, oldest first; only
	// filled in for admin reads.
	Reports []Report `json:"reports,omitempty"`
	// Existing is set in the answer to a JobRequest whose idempotency key
	// was queued before: the job is that earlier one.
	Existing bool `json:"existing,omitempty"`
}

// ReportKind says whether a report is progress or an action's result.
type ReportKind string

// The report kinds.
const (
	ReportProgress ReportKind = "progress"
	ReportResult   ReportKind = "result"
)

// ResultStatus is the outcome of an action.
type ResultStatus string

// The result statuses. A failed action ends its job.
const (
	StatusOK     ResultStatus = "ok"
	StatusFailed ResultStatus = "failed"
)

// Report is progress or a result for one action of a leased job. ID is
// chosen by the agent and kept with the report until acknowledged: the hub
// records each ID once, so a resent report is acknowledged, not doubled.
type Report struct {
	ID      string       `json:"id"`
	JobID   string       `json:"job_id"`
	LeaseID string       `json:"lease_id"`
	Action  int          `json:"action"`
	Kind    ReportKind   `json:"kind"`
	Done    int64        `json:"done,omitempty"`
	Total   int64        `json:"total,omitempty"`
	Status  ResultStatus `json:"status,omitempty"`
	Output  string       `json:"output,omitempty"`
	At      time.Time    `json:"at,omitzero"`
}

// ReportAck acknowledges a report. Duplicate is true when the hub had
// recorded this report before and did not record it again.
type ReportAck struct {
	Duplicate bool     `json:"duplicate,omitempty"`
	JobState  JobState `json:"job_state"`
}

// TokenRequest asks for a new enrollment token.
type TokenRequest struct {
	Scope string        `json:"scope"`
	TTL   time.Duration `json:"ttl"`
	Uses  int           `json:"uses"`
}

// Token is an enrollment token as the hub keeps it: never the secret,
// which only TokenCreated carries, once.
type Token struct {
	ID        string    `json:"id"`
	Scope     string    `json:"scope"`
	ExpiresAt time.Time `json:"expires_at"`
	Uses      int       `json:"uses"`
	Used      int       `json:"used"`
	Revoked   bool      `json:"revoked"`
	CreatedAt time.Time `json:"created_at"`
}

// TokenCreated is the answer to TokenRequest: the token and its secret,
// which the hub does not keep, and the CA fingerprint an agent pins.
type TokenCreated struct {
	Token
	Secret        string `json:"secret"`
	CAFingerprint string `json:"ca_fingerprint"`
}

// DeviceState says whether a device's identity is valid.
type DeviceState string

// The device states.
const (
	DeviceActive  DeviceState = "active"
	DeviceRevoked DeviceState = "revoked"
)

// Device is an enrolled device as the hub knows it.
type Device struct {
	ID          string      `json:"id"`
	Hostname    string      `json:"hostname"`
	Scope       string      `json:"scope"`
	State       DeviceState `json:"state"`
	CertSerial  string      `json:"cert_serial"`
	CertExpires time.Time   `json:"cert_expires"`
	EnrolledAt  time.Time   `json:"enrolled_at"`
	LastSeen    time.Time   `json:"last_seen,omitzero"`
	Inventory   *Inventory  `json:"inventory,omitempty"`
	// PingKey is the device's UDP ping key; never sent on the wire.
	PingKey []byte `json:"-"`
	// NextSerial is a renewed certificate not used yet (valid beside
	// CertSerial until its first use replaces it).
	NextSerial string `json:"next_serial,omitempty"`
}

// RenewRequest asks for a new certificate before the current one
// expires: a CSR for a new key, common name the host name.
type RenewRequest struct {
	CSR string `json:"csr"`
}

// RenewResponse carries the new certificate (PEM).
type RenewResponse struct {
	Certificate string    `json:"certificate"`
	Expires     time.Time `json:"expires"`
}

// DeviceDetail is a device with its jobs (newest first).
type DeviceDetail struct {
	Device
	Jobs []Job `json:"jobs"`
}

// FleetPage is one page of the fleet listing: devices by ID, each with
// its inventory and newest jobs (newest first, with their reports).
type FleetPage struct {
	// Devices come with their newest jobs, whose actions carry no
	// parameters (GET the job for those).
	Devices []DeviceDetail `json:"devices"`
	// Next is the after= of the following page; empty on the last page.
	Next string `json:"next,omitempty"`
}

// Change is one report the hub recorded, in the order the changes feed
// gives them (Seq, the report's number, need not increase along it).
// DeviceID and JobState are the job's device and its state when the
// change was read (not when recorded).
type Change struct {
	Seq      int64    `json:"seq"`
	DeviceID string   `json:"device_id"`
	JobState JobState `json:"job_state"`
	Report
}

// Changes answers the changes long poll: the reports after the asked
// cursor, in feed order, and the cursor to ask from next (opaque: pass it
// back as since). An answer with no changes (the wait passed) keeps the
// cursor. A report enters the feed once no report before it can still
// appear, so a cursor never passes a report.
type Changes struct {
	Changes []Change `json:"changes"`
	Cursor  string   `json:"cursor"`
}

// ChangesEnd is the since of a changes request that asks for the current
// end of the feed.
const ChangesEnd = "end"

// JobRequest queues a job for a device. A second request with the same
// device and idempotency key returns the first job instead of a new one.
type JobRequest struct {
	DeviceID       string   `json:"device_id"`
	IdempotencyKey string   `json:"idempotency_key"`
	Actions        []Action `json:"actions"`
}

// JobBatch queues several jobs at once, each as its JobRequest alone
// would, in one transaction of the hub's store.
type JobBatch struct {
	Jobs []JobRequest `json:"jobs"`
}

// JobBatchResult answers a JobBatch: one JobResult per request, in order.
type JobBatchResult struct {
	Results []JobResult `json:"results"`
}

// JobResult is the job queued for one request of a batch (or the one
// queued before with its key, with its reports and Existing set), or the
// error refusing that request alone (Code as in StatusError).
type JobResult struct {
	Job   *Job   `json:"job,omitempty"`
	Error *Error `json:"error,omitempty"`
}

// AuditEntry is one line of the audit log: who did what to which object,
// when, and how it ended ("ok", "refused", "duplicate", "error").
type AuditEntry struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Object string    `json:"object,omitempty"`
	Result string    `json:"result"`
	Detail string    `json:"detail,omitempty"`
}

// Error is the body of every non-2xx answer.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Health is the body of the health endpoint.
type Health struct {
	Status  string `json:"status"`
	Version string `json:"version,omitempty"`
}
