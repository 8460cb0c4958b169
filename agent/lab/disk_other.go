//go:build !unix

package lab

// freeDisk is not measured off Unix; the lab backend runs on Linux.
func freeDisk(string) uint64 { return 0 }
