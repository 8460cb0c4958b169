// Package state owns what adshift knows that the directories do not say:
// the source↔target identity of every object pair a workflow matched, which
// target objects adshift created (so it may later move or delete them), and
// per device the device actions that completed. It never holds attribute
// values, so no secret can reach a state file.
//
// The model is State (Objects and Devices keyed by their instance address)
// with its file format: pretty, stable JSON carrying "version", "lineage"
// and "serial". A file written by a newer adshift is refused
// (ErrNewerFormat); older formats are upgraded by one function per version.
//
// Backends persist a State. Local keeps it in one file plus an append-only
// journal "<path>.journal" of the changes an apply completed, so recording
// a change costs O(change), not O(state):
//
//   - Txn.PutObject, DeleteObject, PutDevice and DeleteDevice append one JSON
//     line to the journal and fsync it before returning. Each record carries
//     the lineage and the serial it produces (the previous serial plus one).
//   - Txn.Commit folds: the whole State is written to a temporary file in the
//     same directory, fsynced, the previous snapshot is kept as
//     "<path>.backup", the temporary file is renamed over the snapshot, the
//     directory is fsynced and the journal removed. Nothing is written in place.
//   - Load reads the snapshot and replays the journal, so a crash (or Ctrl-C)
//     loses nothing that was recorded. A torn last line (a crash in the
//     middle of a write) is ignored; records already folded into the
//     snapshot (a crash between the rename and the journal's removal) are
//     skipped by serial. Load itself never writes; the next Begin folds a
//     journal it finds, before recording anything new.
//
// Locking is separate from loading: Lock takes an OS-level lock on
// "<path>.lock" (flock on unix, LockFileEx on windows) and writes a JSON
// LockInfo into that file so a second run can say who holds it. The OS
// releases the lock when its holder dies, so a crashed run never leaves the
// state locked. Callers hold the lock around Load, Begin and Commit: a Load
// without it, while another run commits, may see an older state or fail.
//
// Workspaces: a backend configuration holds one state per workspace
// (Workspaces; LocalWorkspaces keeps "default" at the configured path and
// the others under .adshift/workspaces/NAME/). The PostgreSQL backend,
// state/pg, implements the same interfaces; state/statetest is the suite
// both pass.
//
// This package is a leaf: it imports nothing of adshift.
package state
