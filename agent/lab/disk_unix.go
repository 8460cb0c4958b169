//go:build unix

package lab

import "golang.org/x/sys/unix"

// freeDisk is the space available to unprivileged users under dir; 0
// when unknown.
func freeDisk(dir string) uint64 {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return 0
	}
	return st.Bavail * uint64(st.Bsize)
}
