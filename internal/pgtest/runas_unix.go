//go:build unix

package pgtest

import "syscall"

// runAs makes a command run as uid:gid.
func runAs(uid, gid int) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
}
