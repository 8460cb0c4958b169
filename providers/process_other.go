//go:build !linux

package providers

import "os/exec"

// startWithHost starts cmd. Without a parent-death signal on this
// platform, the plugin learns of the host's death from its stdin pipe
// closing (see hostPipeEnv).
func startWithHost(cmd *exec.Cmd, _ <-chan struct{}) error {
	return cmd.Start()
}
