//go:build linux

package providers

import (
	"os/exec"
	"runtime"
	"syscall"
)

// startWithHost starts cmd so that the kernel kills the plugin when the
// host dies, however it dies (the parent-death signal, SIGKILL).
//
// The signal fires when the thread that forked the plugin ends, not only
// when the process does, and Go ends a thread when a goroutine locked to
// it returns without unlocking. So the fork runs on a thread locked until
// the plugin has exited (exited is closed): only the host's death ends
// that thread while the plugin runs. Go's fork checks the parent PID
// after setting the signal, so a host that dies during the fork still
// takes the plugin with it.
func startWithHost(cmd *exec.Cmd, exited <-chan struct{}) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		err := cmd.Start()
		started <- err
		if err == nil {
			<-exited
		}
		runtime.UnlockOSThread()
	}()
	return <-started
}
