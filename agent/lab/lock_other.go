//go:build !unix

package lab

// lockJournal is a no-op off Unix: the lab backend runs on Linux, and
// within one process Backend.reaclMu serialises the runs.
func lockJournal(string) (func(), error) { return func() {}, nil }
