//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// newProcessGroup makes cmd start in a process group of its own, which
// killGroup ends whole.
func newProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the process group of cmd (started with
// newProcessGroup) with SIGKILL.
func killGroup(cmd *exec.Cmd) error {
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
