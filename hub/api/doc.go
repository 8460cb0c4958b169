// Package api is the hub's wire contract: the JSON types that agents and
// administrators exchange with the hub, the strict decoder the hub reads
// them with, and a small client. It is the seam the agent and the device
// provider share, so it imports no database, no HCL and no LDAP code; the
// server and its store live in the parent package hub.
package api
