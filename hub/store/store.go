package store

import (
	"context"
	"errors"
	"time"

	"github.com/adshift/adshift/hub/api"
)

// Errors the store returns; callers test them with errors.Is.
var (
	ErrNotFound      = errors.New("not found")
	ErrTokenInvalid  = errors.New("enrollment token unknown, expired, revoked or used up")
	ErrHostnameTaken = errors.New("host name already enrolled; revoke the device first")
	ErrDeviceRevoked = errors.New("device revoked")
	ErrForbidden     = errors.New("job belongs to another device")
	ErrLeaseLost     = errors.New("lease expired or held by another attempt")
	ErrConflict      = errors.New("conflicts with what is recorded")
)

// Lease is how LeaseJob hands out a job: until when, under which ID, and
// how long after an unextended lease ends the job is offered again (by
// attempt number, starting at 1).
type Lease struct {
	ID      string
	Now     time.Time
	Until   time.Time
	Backoff func(attempt int) time.Duration
	// Audit, when its Action is set, is recorded in the same transaction
	// as a lease handed out (its Object and Detail filled in).
	Audit api.AuditEntry
}

// Cursor is a position in the changes feed, which orders reports by the
// transaction that recorded them (Tx, increasing with transactions'
// start on PostgreSQL; 0 on SQLite, whose one writer commits in Seq
// order), then by Seq. The zero Cursor is before every report.
type Cursor struct{ Tx, Seq int64 }

// Queued is the outcome of one job of QueueJobs: the job queued (or the
// one queued before with its key, Existing set), or Err refusing it.
type Queued struct {
	Job      api.Job
	Existing bool
	Err      error
}

// Store keeps the hub's data. Every method is atomic and safe for
// concurrent use, also by several processes sharing one database.
type Store interface {
	// CreateToken stores an enrollment token under the hash of its secret.
	CreateToken(ctx context.Context, t api.Token, hash []byte) error
	// Tokens lists the tokens, newest first.
	Tokens(ctx context.Context) ([]api.Token, error)
	// RevokeToken revokes a token; ErrNotFound when there is none.
	RevokeToken(ctx context.Context, id string) error

	// CheckToken reports ErrTokenInvalid unless the token with this hash
	// could enroll a device at now. It changes nothing (Enroll decides);
	// it lets the hub refuse a bad token before it does any signing.
	CheckToken(ctx context.Context, hash []byte, now time.Time) error
	// Enroll consumes one use of the token with this hash and records d
	// (its Scope taken from the token) — ErrTokenInvalid or
	// ErrHostnameTaken, with nothing changed, when it may not.
	Enroll(ctx context.Context, hash []byte, d api.Device, now time.Time) (api.Device, error)
	// Device returns a device by ID, or else the newest one with that
	// host name; ErrNotFound when there is none.
	Device(ctx context.Context, key string) (api.Device, error)
	// Identity returns a device by ID without its inventory: what
	// authenticating each agent call needs, at a fraction of the cost;
	// ErrNotFound when there is none.
	Identity(ctx context.Context, id string) (api.Device, error)
	// Devices lists all devices by host name.
	Devices(ctx context.Context) ([]api.Device, error)
	// RevokeDevice revokes a device's identity.
	RevokeDevice(ctx context.Context, id string) error
	// RenewCert records a renewed certificate for an active device whose
	// current certificate has serial current (else ErrConflict); the
	// current one stays valid until UseNextCert.
	RenewCert(ctx context.Context, id, current, next string, expires time.Time) error
	// UseNextCert makes the renewed certificate with serial next the
	// device's only valid one.
	UseNextCert(ctx context.Context, id, next string) error
	// Seen records that an active device called at now, with its
	// inventory when inv is not nil.
	Seen(ctx context.Context, id string, now time.Time, inv *api.Inventory) error

	// QueueJob stores a queued job; a job with the same device and
	// idempotency key is returned instead (existing true).
	QueueJob(ctx context.Context, j api.Job) (job api.Job, existing bool, err error)
	// QueueJobs queues several jobs in one transaction, each as QueueJob
	// would, with its own outcome: ErrNotFound or ErrDeviceRevoked refuse
	// one job, not the others, and so does ErrDeviceRevoked for an
	// unfinished existing job of a revoked device (it would never end).
	// Existing jobs come with their reports. audit, when its Action is
	// set, is recorded per job in the same transaction (Object, Result
	// "ok", "duplicate" or "refused", and Detail filled in).
	QueueJobs(ctx context.Context, jobs []api.Job, audit api.AuditEntry) ([]Queued, error)
	// LeaseJob hands the device's oldest available job out under l, nil
	// when none is available.
	LeaseJob(ctx context.Context, deviceID string, l Lease) (*api.Job, error)
	// NextAvailable is when the device's next job (queued, or leased with
	// an expiring lease) becomes available; zero when it has none.
	NextAvailable(ctx context.Context, deviceID string) (time.Time, error)
	// ExtendLeases extends the device's live leases to l.Until and returns
	// those it extended.
	ExtendLeases(ctx context.Context, deviceID string, leases []api.Lease, l Lease) ([]api.Lease, error)
	// Report records progress or a result exactly once. A report whose ID
	// is recorded already is acknowledged with Duplicate set; otherwise
	// ErrNotFound, ErrForbidden, ErrLeaseLost or ErrConflict refuse it
	// with nothing changed. A failed result fails the job; the last
	// action's result ends it. audit, when its Action is set, is recorded
	// in the same transaction with Result "ok" or "duplicate".
	Report(ctx context.Context, deviceID string, r api.Report, now time.Time, audit api.AuditEntry) (api.ReportAck, error)
	// Job returns a job with its reports.
	Job(ctx context.Context, id string) (api.Job, error)
	// Jobs lists a device's jobs with their reports, newest first.
	Jobs(ctx context.Context, deviceID string) ([]api.Job, error)
	// Fleet returns at most limit devices whose ID sorts after after, by
	// ID, each with its newest jobs (at most jobs of them, newest first,
	// with their reports), in a fixed number of queries.
	Fleet(ctx context.Context, after string, limit, jobs int) ([]api.DeviceDetail, error)
	// Changes returns at most limit reports after cursor since, in
	// cursor order, and the cursor to ask from next (since when there are
	// none). A report is returned only once no report before it in cursor
	// order can still commit: a cursor never passes a report.
	Changes(ctx context.Context, since Cursor, limit int) ([]api.Change, Cursor, error)
	// ChangesEnd returns the cursor after every report Changes could
	// return now: reports not returned from it are those that commit
	// after the call (or were in flight during it).
	ChangesEnd(ctx context.Context) (Cursor, error)

	// Audit appends an entry to the audit log (ID and, when zero, At are
	// set by the store).
	Audit(ctx context.Context, e api.AuditEntry) error
	// AuditLog returns the newest limit entries, newest first.
	AuditLog(ctx context.Context, limit int) ([]api.AuditEntry, error)

	// Close releases the database.
	Close() error
}

// Watcher is implemented by stores that several hub processes share: it
// reports the device of each job queued through any of them, so that a
// long poll held by one process wakes for a job queued through another.
type Watcher interface {
	// Watch calls fn per queued job until ctx ends.
	Watch(ctx context.Context, fn func(deviceID string)) error
}
