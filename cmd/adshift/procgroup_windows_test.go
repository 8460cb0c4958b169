package main

import (
	"os/exec"
	"syscall"
)

// newProcessGroup makes cmd start in a process group of its own.
func newProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// killGroup kills cmd's process. Windows cannot kill a group at once; the
// providers die with their host.
func killGroup(cmd *exec.Cmd) error {
	return cmd.Process.Kill()
}
