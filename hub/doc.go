// Package hub is the agent hub's server: HTTPS only (TLS 1.2+), a CA of
// its own that issues each enrolled device its client certificate, the
// agent API (enrollment, long-poll for jobs, heartbeats with inventory and
// lease extension, progress and results) checked by mutual TLS against
// the device record, and the admin API (enrollment tokens, devices, jobs,
// audit) behind an admin token that no agent holds. What it keeps it
// keeps through store.Store; the wire types are in hub/api.
package hub
