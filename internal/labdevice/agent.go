package labdevice

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// AgentOptions says how to run a device's agent: the adshift-agent
// binary, and the hub with an enrollment token and its CA's fingerprint
// (api.TokenCreated). Args are more flags for adshift-agent run.
type AgentOptions struct {
	Bin                          string
	HubURL, Token, CAFingerprint string
	// DataDir is where the agent keeps its identity; it defaults to
	// .agent in the device directory. An identity there is reused.
	DataDir string
	Args    []string
}

// Agent is a running adshift-agent run process of a device; its output
// goes to agent.log in its data directory.
type Agent struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// StartAgent enrolls the device's agent with the hub (unless its data
// directory holds an identity already), as the device's host name in
// lower case, and starts adshift-agent run with the device directory.
// Stop it with Stop.
func StartAgent(ctx context.Context, dev Device, o AgentOptions) (*Agent, error) {
	data := o.DataDir
	if data == "" {
		data = filepath.Join(dev.Dir, ".agent")
	}
	if _, err := os.Stat(filepath.Join(data, "identity.json")); errors.Is(err, os.ErrNotExist) {
		out, err := exec.CommandContext(ctx, o.Bin, "enroll", "-hub", o.HubURL, "-token", o.Token, "-ca-fingerprint", o.CAFingerprint,
			"-data-dir", data, "-hostname", strings.ToLower(dev.Name)).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("enroll the agent of %s: %v: %s", dev.Name, err, bytes.TrimSpace(out))
		}
	}
	a := &Agent{done: make(chan struct{}), log: filepath.Join(data, "agent.log")}
	logf, err := os.OpenFile(a.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start the agent of %s: %w", dev.Name, err)
	}
	defer logf.Close() // the child has its own copy
	a.cmd = exec.Command(o.Bin, append([]string{"run", "-data-dir", data, "-device-dir", dev.Dir}, o.Args...)...)
	a.cmd.Stdout, a.cmd.Stderr = logf, logf
	if err := a.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the agent of %s: %w", dev.Name, err)
	}
	go func() {
		a.cmd.Wait()
		close(a.done)
	}()
	return a, nil
}

// Stop ends the agent (SIGTERM) and waits for it.
func (a *Agent) Stop() {
	select {
	case <-a.done:
		return
	default:
	}
	a.cmd.Process.Signal(syscall.SIGTERM)
	<-a.done
}

// Output is what the agent wrote so far (its agent.log).
func (a *Agent) Output() string {
	data, err := os.ReadFile(a.log)
	if err != nil {
		return err.Error()
	}
	return string(data)
}
