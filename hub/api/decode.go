package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"
	"unicode/utf8"
)

// ErrTooLarge is returned by Decode for a body over MaxBodyBytes.
var ErrTooLarge = errors.New("body too large")

// Decode reads one JSON value of at most MaxBodyBytes from r into v,
// strictly: unknown fields, trailing data and truncated input are errors.
// It never panics on any input; callers then call the value's Validate.
func Decode(r io.Reader, v any) error { return DecodeLimit(r, v, MaxBodyBytes) }

// DecodeLimit is Decode with a cap of limit bytes (ErrTooLarge above).
func DecodeLimit(r io.Reader, v any, limit int64) error {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if int64(len(b)) > limit {
		return ErrTooLarge
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	if dec.More() {
		return fmt.Errorf("decode %T: trailing data after the JSON value", v)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("decode %T: trailing data after the JSON value", v)
	}
	return nil
}

var (
	hostnameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$`)
	idRE       = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// Limits on single fields, below the body cap.
const (
	maxActions    = 100
	maxOutput     = MaxOutputBytes
	maxPrincipals = 1000
	maxText       = 256
)

// MaxOutputBytes is the longest Output a report may carry.
const MaxOutputBytes = 16 << 10

// truncatedMark ends an output TruncateOutput cut.
const truncatedMark = "\n… (output truncated)"

// TruncateOutput returns s when it fits a report, else its start (cut at
// a UTF-8 boundary) and a mark saying it was truncated, MaxOutputBytes in
// all: an action's long output must not cost its result.
func TruncateOutput(s string) string {
	if len(s) <= MaxOutputBytes {
		return s
	}
	cut := MaxOutputBytes - len(truncatedMark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + truncatedMark
}

// ValidHostname reports whether s is acceptable as a device host name.
func ValidHostname(s string) bool { return hostnameRE.MatchString(s) }

// ValidID reports whether s is acceptable as an ID on the wire.
func ValidID(s string) bool { return idRE.MatchString(s) }

// Validate checks an enrollment request's fields (not the token's or the
// CSR's validity, which only the hub can judge).
func (r *EnrollRequest) Validate() error {
	switch {
	case r.Token == "" || len(r.Token) > maxText:
		return errors.New("enroll: token missing or too long")
	case !ValidHostname(r.Hostname):
		return fmt.Errorf("enroll: invalid hostname %q", trim(r.Hostname))
	case r.CSR == "":
		return errors.New("enroll: csr missing")
	}
	return nil
}

// Validate checks a heartbeat's inventory and leases.
func (h *HeartbeatRequest) Validate() error {
	if h.Inventory != nil {
		if err := h.Inventory.Validate(); err != nil {
			return err
		}
	}
	if len(h.Leases) > maxActions {
		return fmt.Errorf("heartbeat: %d leases, at most %d", len(h.Leases), maxActions)
	}
	for _, l := range h.Leases {
		if !ValidID(l.JobID) || !ValidID(l.LeaseID) {
			return errors.New("heartbeat: invalid lease")
		}
	}
	return nil
}

// Validate checks an inventory's sizes.
func (i *Inventory) Validate() error {
	for _, s := range []string{i.OS, i.OSVersion, i.OSBuild, i.ServicePack, i.PowerShell, i.Domain} {
		if len(s) > maxText {
			return errors.New("inventory: a field is longer than 256 bytes")
		}
	}
	if len(i.Principals) > maxPrincipals || len(i.Reachable) > maxActions {
		return errors.New("inventory: too many principals or probes")
	}
	if i.DotNetRelease < 0 {
		return errors.New("inventory: negative .NET release")
	}
	return nil
}

// Validate checks a report's fields.
func (r *Report) Validate() error {
	switch {
	case !ValidID(r.ID):
		return errors.New("report: invalid id")
	case !ValidID(r.JobID) || !ValidID(r.LeaseID):
		return errors.New("report: invalid job or lease id")
	case r.Action < 0 || r.Action >= maxActions:
		return fmt.Errorf("report: action index %d out of range", r.Action)
	case len(r.Output) > maxOutput:
		return errors.New("report: output longer than 16 KiB")
	}
	switch r.Kind {
	case ReportProgress:
		if r.Done < 0 || r.Total < 0 || (r.Total > 0 && r.Done > r.Total) || r.Status != "" {
			return errors.New("report: invalid progress")
		}
	case ReportResult:
		if r.Status != StatusOK && r.Status != StatusFailed {
			return fmt.Errorf("report: invalid result status %q", trim(string(r.Status)))
		}
	default:
		return fmt.Errorf("report: invalid kind %q", trim(string(r.Kind)))
	}
	return nil
}

// Validate checks a job request.
func (j *JobRequest) Validate() error {
	switch {
	case !ValidID(j.DeviceID):
		return errors.New("job: invalid device id")
	case j.IdempotencyKey == "" || len(j.IdempotencyKey) > maxText:
		return errors.New("job: idempotency_key missing or too long")
	case len(j.Actions) == 0 || len(j.Actions) > maxActions:
		return fmt.Errorf("job: between 1 and %d actions needed", maxActions)
	}
	for i, a := range j.Actions {
		if !ValidID(a.Name) {
			return fmt.Errorf("job: action %d has an invalid name", i)
		}
	}
	return nil
}

// Validate checks a batch's size; each job is checked on its own.
func (b *JobBatch) Validate() error {
	if len(b.Jobs) == 0 || len(b.Jobs) > MaxJobBatch {
		return fmt.Errorf("job batch: between 1 and %d jobs needed", MaxJobBatch)
	}
	return nil
}

// Validate checks a token request.
func (t *TokenRequest) Validate() error {
	switch {
	case len(t.Scope) > maxText:
		return errors.New("token: scope too long")
	case t.TTL <= 0 || t.TTL > 366*24*time.Hour:
		return errors.New("token: ttl must be between 1ns and a year")
	case t.Uses < 1 || t.Uses > 1_000_000:
		return errors.New("token: uses must be between 1 and 1000000")
	}
	return nil
}

// trim shortens untrusted text quoted in an error.
func trim(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
