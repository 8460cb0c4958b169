// Package store defines what the hub keeps and the interface it keeps it
// behind: enrollment tokens (as hashes), devices, jobs with their leases
// and reports, and the audit log. Implementations live in sub-packages
// (sqlstore: SQLite, and PostgreSQL through the same SQL); storetest is
// the suite every implementation must pass. The store decides the rules
// that must hold atomically — a token's use count, one active identity per
// host name, a job's lease, a report recorded exactly once — so that
// several hub processes sharing one database agree.
package store
