// Package agent is the device agent: it enrolls with a hub (its own key,
// a certificate request, the hub's CA pinned by fingerprint), then talks
// to the hub outbound only — over mutual TLS, directly or through a web
// proxy with credentials — long-polling for jobs, heartbeating inventory
// and leases, and running each job's actions in order through a platform
// Backend. A local journal keeps each finished action's result on disk
// until the hub acknowledges it, so a restarted agent never runs a
// finished action again and a hub outage loses no result. It speaks to
// the hub only through hub/api; platform backends live in sub-packages
// (lab).
package agent
