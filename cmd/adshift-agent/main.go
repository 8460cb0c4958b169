// Command adshift-agent is the device agent: it enrolls a device with an
// adshift hub and then runs the jobs the hub queues for it. It is a small
// binary of its own (no HCL, LDAP or plugin code).
//
//	adshift-agent enroll -hub URL -token SECRET -ca-fingerprint sha256:… -data-dir DIR
//	adshift-agent run -data-dir DIR -device-dir DIR
//	adshift-agent status -data-dir DIR
//	adshift-agent simulate -n N -hub URL -token SECRET -ca-fingerprint sha256:… -data-dir DIR
//
// Settings come from -config FILE (key = value lines), then ADSHIFT_AGENT_*
// environment variables, then flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/adshift/adshift/agent"
	"github.com/adshift/adshift/agent/lab"
)

var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

const usage = `Usage: adshift-agent <command> [options]

Commands:
  enroll   Enroll this device with a hub (once)
  run      Run jobs from the hub until stopped
  status   Show this agent's identity and results waiting for the hub
  ping     Ask the hub over UDP whether work is waiting (-udp HOST:3030)
  simulate Run -n N agents in this process (scale tests and demos)
  version  Show the version

Run adshift-agent <command> -help for its options.
`

func run(args, environ []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 1
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	switch args[0] {
	case "enroll":
		return cmdEnroll(ctx, args[1:], environ, stdout, stderr)
	case "run":
		return cmdRun(ctx, args[1:], environ, stdout, stderr)
	case "status":
		return cmdStatus(args[1:], environ, stdout, stderr)
	case "ping":
		return cmdPing(ctx, args[1:], environ, stdout, stderr)
	case "simulate":
		return cmdSimulate(ctx, args[1:], environ, stdout, stderr)
	case "version", "-version":
		fmt.Fprintf(stdout, "adshift-agent v%s\n", version)
		return 0
	case "help", "-help", "-h":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "Error: unknown command %q\n\n%s", args[0], usage)
	return 1
}

// agentFlags are the settings' flags, by setting key.
var agentFlags = []struct{ name, key, usage string }{
	{"hub", "hub_url", "The hub's URL (https://host:port)"},
	{"token", "enrollment_token", "Enrollment token (enroll)"},
	{"ca-fingerprint", "ca_fingerprint", "The hub CA's fingerprint, sha256:… (enroll)"},
	{"data-dir", "data_dir", "Where the agent keeps its identity and journal"},
	{"device-dir", "device_dir", "The lab device directory (lab backend)"},
	{"hostname", "hostname", "This device's host name (default: the system's)"},
	{"proxy", "proxy_url", "Web proxy URL, http://host:port"},
	{"proxy-user", "proxy_user", "Web proxy user name"},
	{"proxy-password", "proxy_password", "Web proxy password (prefer ADSHIFT_AGENT_PROXY_PASSWORD)"},
	{"poll-wait", "poll_wait", "How long one long poll is held (default 30s)"},
	{"heartbeat", "heartbeat", "Heartbeat interval (default 30s)"},
	{"retry-max", "retry_max", "Longest wait between attempts to reach the hub (default 5m)"},
}

// settings reads the settings: -config FILE, then the environment, then
// the other flags. It returns false after printing the problem.
func settings(name string, args, environ []string, stderr io.Writer, extra ...func(*flag.FlagSet)) (agent.Settings, bool) {
	var s agent.Settings
	var config string
	var given [][2]string
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&config, "config", "", "Read settings from `FILE` (key = value lines)")
	for _, f := range agentFlags {
		fs.Func(f.name, f.usage, func(v string) error {
			given = append(given, [2]string{f.key, v})
			return nil
		})
	}
	for _, f := range extra {
		f(fs)
	}
	if err := fs.Parse(args); err != nil {
		return s, false
	}
	if config != "" {
		if err := s.LoadFile(config); err != nil {
			fmt.Fprintf(stderr, "Error: %v\n", err)
			return s, false
		}
	}
	if err := s.LoadEnv(environ); err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return s, false
	}
	for _, kv := range given {
		if err := s.Set(kv[0], kv[1]); err != nil {
			fmt.Fprintf(stderr, "Error: %v\n", err)
			return s, false
		}
	}
	if s.DataDir == "" {
		fmt.Fprintln(stderr, "Error: set -data-dir (or data_dir, ADSHIFT_AGENT_DATA_DIR)")
		return s, false
	}
	return s, true
}

// logger is the agent's log: info and up on stderr unless ADSHIFT_LOG
// names another level.
func logger(environ []string, stderr io.Writer) hclog.Logger {
	lvl := hclog.Info
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "ADSHIFT_LOG="); ok && v != "" {
			lvl = hclog.LevelFromString(v)
		}
	}
	return hclog.New(&hclog.LoggerOptions{Name: "adshift-agent", Level: lvl, Output: stderr})
}

func cmdEnroll(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	s, ok := settings("enroll", args, environ, stderr)
	if !ok {
		return 1
	}
	id, err := agent.Enroll(ctx, s)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Enrolled %s as device %s with %s.\n", id.Hostname, id.DeviceID, id.HubURL)
	return 0
}

func cmdRun(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	s, ok := settings("run", args, environ, stderr)
	if !ok {
		return 1
	}
	if s.DeviceDir == "" {
		fmt.Fprintln(stderr, "Error: set -device-dir: this build has the lab backend only")
		return 1
	}
	id, err := agent.LoadIdentity(s.DataDir)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	log := logger(environ, stderr)
	a, err := agent.New(agent.Options{Settings: s, Identity: id, Backend: lab.New(s.DeviceDir, id.HubURL), Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	defer a.Close()
	log.Info("agent running", "device", id.DeviceID, "hub", id.HubURL)
	if err := a.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		if errors.Is(err, agent.ErrRevoked) {
			return 3
		}
		return 1
	}
	return 0
}

func cmdStatus(args, environ []string, stdout, stderr io.Writer) int {
	s, ok := settings("status", args, environ, stderr)
	if !ok {
		return 1
	}
	st, err := agent.LocalStatus(s.DataDir)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, st)
	return 0
}

func cmdPing(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	var addr string
	s, ok := settings("ping", args, environ, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&addr, "udp", "", "The hub's UDP ping `ADDRESS` (host:3030)")
	})
	if !ok {
		return 1
	}
	id, err := agent.LoadIdentity(s.DataDir)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	waiting, err := id.Ping(ctx, addr)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	if waiting {
		fmt.Fprintln(stdout, "Work is waiting.")
	} else {
		fmt.Fprintln(stdout, "No work is waiting.")
	}
	return 0
}
