//go:build !unix

package pgtest

import "syscall"

// runAs is not needed where Start finds no postgres user (Start returns
// ErrUnavailable first, or uses ADSHIFT_TEST_PG).
func runAs(uid, gid int) *syscall.SysProcAttr { return nil }
