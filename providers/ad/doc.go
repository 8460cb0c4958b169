// Package ad is the provider for live Active Directory over LDAP: it
// discovers users, groups, computers, OUs, contacts and foreign security
// principals from a domain controller and writes creates, minimal modify
// deltas, moves and deletes to one.
//
// It is the only package that speaks LDAP: go-ldap (github.com/go-ldap/ldap/v3)
// for binds, writes and small reads, and its own subpackage wire for the bulk
// searches of discovery, which decodes entries in place instead of building
// a heap object per BER element (go-ldap's decoding was ~60% of the client
// CPU of a discovery; see BENCHMARKS.md). No LDAP type crosses its API, which
// is providers.Provider plus a few pure helpers (SID and GUID decoding, RFC
// 4514/4515 escaping).
//
// Connections: ldaps:// or ldap:// with StartTLS, certificate verification on
// by default, several DC URLs tried in order, simple bind (UPN or DN), a pool
// of a few connections reused across calls and redialled when the server
// drops them. Busy and unavailable results and lost connections are retried
// with exponential backoff; every other LDAP result becomes a sentence a user
// can act on (see errors.go).
//
// Discovery splits each scope root into units (the root, its direct
// children, one subtree search per child OU or container) searched in
// parallel over a pool of wire connections, one paged search per unit, and
// hands each page to the caller once it is complete. Large multi-valued
// attributes (member) are requested explicitly in ranges and followed until
// the server says "*" (between pages: a connection carries one request at a
// time), because Samba, unlike Windows, would otherwise return them whole and
// the range loop would never be exercised.
//
// Writes: the planner sends providers.Change values in dependency order; the
// provider maps Kinds to objectClass, stamps the created-object marker, sets
// a generated password over the encrypted connection (never stored or
// logged) or creates users disabled, pre-stages computers, sends group
// membership as add/delete deltas split into chunks, and refuses to touch an
// object whose uSNChanged moved since the plan (read before write: Samba
// does not implement the LDAP assertion control). Writes go over their own
// connections (write_connections, default 1) and each created, changed or moved
// object is read back for its identity on a read connection, while the
// writer goes on with the next change: Samba applies one write at a time
// under its database lock, so one busy writer is its best client, and more
// writers only contend for the lock (BENCHMARKS.md).
//
// Configuration (the provider-owned part of an environment block; the host
// decodes provider, domain, base_dn, scope and include itself):
//
//	servers = ["ldaps://127.0.0.3:636", "ldaps://dc2.target.test:636"]
//	bind {
//	  username = "Administrator@TARGET.TEST" # UPN or DN
//	  password = var.target_password         # sensitive
//	}
//	tls { ca_file = "lab/.run/target-ca.pem" } # start_tls, insecure_skip_verify (warns)
//	page_size   = 1000  # paged results
//	range_size  = 1500  # member;range=… reads and member write chunks
//	timeout     = "30s" # per operation
//	connections = 4     # parallel read connections: discovery, apply's checks and read-backs
//	write_connections = 1 # parallel writers during apply
//	new_users      { password = "random" }  # or "disabled"
//	created_marker { attribute = "adminDescription", value = "adshift" }
//
// Offline domain join (odj.go): ProvisionOfflineJoin pre-stages or reuses a
// computer account with a fresh random machine password, reads the domain
// facts over LDAP and writes the ODJ blob built by package odj, owner-only;
// the password lives only in memory and in that file (docs/ad-provider.md).
//
// What it leaves to others: planning, diffing, delete thresholds (planner),
// state (state), the plugin transport (providers).
package ad
