// Package pg is the PostgreSQL state backend: every workspace's state, its
// whole history, its lock and the plan keys, in one schema of a database
// that a team shares.
//
// Tables (in the configured schema, "adshift" by default; created and
// upgraded by numbered migrations recorded in schema_migrations, run under
// a transaction-level advisory lock so concurrent first runs do not race):
//
//	workspaces  the workspaces besides "default", which always exists
//	versions    every state version ever written, whole (jsonb), one row
//	            per fold; the newest row of a workspace is its snapshot
//	journal     the records an apply appended since the newest version:
//	            one row per finished change, so recording a change costs
//	            O(change); Commit folds them into a new version and deletes
//	            them in one transaction, as Local folds its journal file
//	locks       who holds a workspace's lock: ID, user@host, host,
//	            operation, since, pid and the database session's pid
//	plan_keys   the per-lineage secret keys that authenticate saved plans
//	            (never logged, never in a plan or an error)
//
// Locking: Lock opens one dedicated connection per held lock and takes a
// session-level advisory lock keyed by schema and workspace on it, so
// workspaces lock independently, and the lock goes when the session ends:
// a holder killed with SIGKILL loses its connection and its lock with it,
// without force-unlock. While a lock is held, the Backend that took it
// writes the state through that same connection, so a holder whose session
// force-unlock ended (pg_terminate_backend) can no longer write.
//
// The connection string is a secret: it is never part of an error, a log
// or Describe; errors name the schema and workspace.
package pg
