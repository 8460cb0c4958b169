package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// maxAnswerBytes caps an answer the client reads.
const maxAnswerBytes = 256 << 20

// StatusError is a non-2xx answer from the hub.
type StatusError struct {
	Status  int
	Code    string
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("hub: %d %s: %s", e.Status, e.Code, e.Message)
}

// Error codes the hub answers with (StatusError.Code).
const (
	CodeBadRequest   = "bad_request"
	CodeTooLarge     = "too_large"
	CodeUnauthorized = "unauthorized"
	CodeForbidden    = "forbidden"
	CodeNotFound     = "not_found"
	CodeConflict     = "conflict"
	CodeLeaseLost    = "lease_lost"
	CodeInternal     = "internal"
)

// HasCode reports whether err is a StatusError with the given code.
func HasCode(err error, code string) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == code
}

// Client talks to one hub. HTTP carries the TLS configuration: for an
// agent its client certificate, for an admin the CA to trust; AdminToken
// is sent as a bearer token when set. A Client is safe for concurrent use.
type Client struct {
	BaseURL    string
	HTTP       *http.Client
	AdminToken string
}

// Do sends in (when not nil) as JSON and decodes the answer into out
// (when not nil). It returns (false, nil) for 204 No Content.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) (bool, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return false, fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return false, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.AdminToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.AdminToken)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return false, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	// Cap answers: an agent's are small, but an admin's device list of
	// a large fleet (no pagination yet) runs to megabytes.
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err == nil && len(data) > maxAnswerBytes {
		return false, fmt.Errorf("%s %s: answer larger than %d MiB", method, path, maxAnswerBytes>>20)
	}
	if err != nil {
		return false, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode == http.StatusNoContent {
		return false, nil
	}
	if resp.StatusCode/100 != 2 {
		se := &StatusError{Status: resp.StatusCode}
		var e Error
		if json.Unmarshal(data, &e) == nil {
			se.Code, se.Message = e.Code, e.Message
		} else {
			se.Message = http.StatusText(resp.StatusCode)
		}
		return false, se
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return false, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return true, nil
}

// Health asks the hub whether it is serving.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	_, err := c.Do(ctx, http.MethodGet, PathHealth, nil, &h)
	return h, err
}

// Enroll exchanges a token and CSR for a device certificate.
func (c *Client) Enroll(ctx context.Context, req EnrollRequest) (EnrollResponse, error) {
	var r EnrollResponse
	_, err := c.Do(ctx, http.MethodPost, PathEnroll, req, &r)
	return r, err
}

// Poll waits up to wait for a job; nil when none came.
func (c *Client) Poll(ctx context.Context, wait time.Duration) (*Job, error) {
	var j Job
	ok, err := c.Do(ctx, http.MethodGet, PathPoll+"?wait="+url.QueryEscape(wait.String()), nil, &j)
	if err != nil || !ok {
		return nil, err
	}
	return &j, nil
}

// Heartbeat reports inventory and extends leases.
func (c *Client) Heartbeat(ctx context.Context, req HeartbeatRequest) (HeartbeatResponse, error) {
	var r HeartbeatResponse
	_, err := c.Do(ctx, http.MethodPost, PathHeartbeat, req, &r)
	return r, err
}

// Report sends progress or a result.
func (c *Client) Report(ctx context.Context, r Report) (ReportAck, error) {
	var a ReportAck
	_, err := c.Do(ctx, http.MethodPost, PathReport, r, &a)
	return a, err
}

// Renew asks for a new certificate for a new key.
func (c *Client) Renew(ctx context.Context, req RenewRequest) (RenewResponse, error) {
	var r RenewResponse
	_, err := c.Do(ctx, http.MethodPost, PathRenew, req, &r)
	return r, err
}

// CreateToken creates an enrollment token (admin).
func (c *Client) CreateToken(ctx context.Context, req TokenRequest) (TokenCreated, error) {
	var t TokenCreated
	_, err := c.Do(ctx, http.MethodPost, PathTokens, req, &t)
	return t, err
}

// Tokens lists the enrollment tokens (admin).
func (c *Client) Tokens(ctx context.Context) ([]Token, error) {
	var ts []Token
	_, err := c.Do(ctx, http.MethodGet, PathTokens, nil, &ts)
	return ts, err
}

// RevokeToken revokes an enrollment token (admin).
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	_, err := c.Do(ctx, http.MethodDelete, PathTokens+"/"+url.PathEscape(id), nil, nil)
	return err
}

// Devices lists the enrolled devices (admin).
func (c *Client) Devices(ctx context.Context) ([]Device, error) {
	var ds []Device
	_, err := c.Do(ctx, http.MethodGet, PathDevices, nil, &ds)
	return ds, err
}

// Device shows one device, by ID or host name, with its jobs (admin).
func (c *Client) Device(ctx context.Context, id string) (DeviceDetail, error) {
	var d DeviceDetail
	_, err := c.Do(ctx, http.MethodGet, PathDevices+"/"+url.PathEscape(id), nil, &d)
	return d, err
}

// RevokeDevice revokes a device's identity (admin).
func (c *Client) RevokeDevice(ctx context.Context, id string) error {
	_, err := c.Do(ctx, http.MethodPost, PathDevices+"/"+url.PathEscape(id)+"/revoke", nil, nil)
	return err
}

// QueueJob queues a job (admin); with a known idempotency key it returns
// the job queued first, with the reports recorded for it so far.
func (c *Client) QueueJob(ctx context.Context, req JobRequest) (Job, error) {
	var j Job
	_, err := c.Do(ctx, http.MethodPost, PathJobs, req, &j)
	return j, err
}

// QueueJobs queues up to MaxJobBatch jobs in one request (admin): one
// JobResult per request, in order; a refused job does not stop the others.
func (c *Client) QueueJobs(ctx context.Context, reqs []JobRequest) ([]JobResult, error) {
	var r JobBatchResult
	if _, err := c.Do(ctx, http.MethodPost, PathJobBatch, JobBatch{Jobs: reqs}, &r); err != nil {
		return nil, err
	}
	if len(r.Results) != len(reqs) {
		return nil, fmt.Errorf("POST %s: %d results for %d jobs", PathJobBatch, len(r.Results), len(reqs))
	}
	return r.Results, nil
}

// Job shows one job with its reports (admin).
func (c *Client) Job(ctx context.Context, id string) (Job, error) {
	var j Job
	_, err := c.Do(ctx, http.MethodGet, PathJobs+"/"+url.PathEscape(id), nil, &j)
	return j, err
}

// Audit returns the newest limit audit entries, newest first (admin).
func (c *Client) Audit(ctx context.Context, limit int) ([]AuditEntry, error) {
	var es []AuditEntry
	_, err := c.Do(ctx, http.MethodGet, PathAudit+"?limit="+strconv.Itoa(limit), nil, &es)
	return es, err
}

// Fleet returns one page of devices with their inventory and newest jobs
// (at most jobs each; 0 means the hub's default), by device ID after the
// cursor after ("" for the first page); limit 0 means MaxFleetPage. Page
// on with the answer's Next until it is empty (admin).
func (c *Client) Fleet(ctx context.Context, after string, limit, jobs int) (FleetPage, error) {
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if jobs > 0 {
		q.Set("jobs", strconv.Itoa(jobs))
	}
	var p FleetPage
	path := PathFleet
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	_, err := c.Do(ctx, http.MethodGet, path, nil, &p)
	return p, err
}

// Changes waits up to wait (at most MaxPollWait) for reports after
// cursor since, and returns at most limit of them (0: MaxChanges) with the
// cursor to ask from next (admin). The empty cursor starts at the first
// report ever recorded; ChangesHead gives the current end.
func (c *Client) Changes(ctx context.Context, since string, wait time.Duration, limit int) (Changes, error) {
	q := url.Values{"since": {since}, "wait": {wait.String()}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var ch Changes
	_, err := c.Do(ctx, http.MethodGet, PathChanges+"?"+q.Encode(), nil, &ch)
	return ch, err
}

// ChangesHead returns the cursor after the newest recorded report, from
// which Changes reports only what is recorded later (admin).
func (c *Client) ChangesHead(ctx context.Context) (string, error) {
	var ch Changes
	_, err := c.Do(ctx, http.MethodGet, PathChanges+"?since="+ChangesEnd, nil, &ch)
	return ch.Cursor, err
}
