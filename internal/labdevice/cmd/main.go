// Command cmd makes and removes lab devices (lab/devices.sh runs it):
//
//	go run ./internal/labdevice/cmd [make] [-unsupported K] [-users U] [-target-users] N [DIR]
//	go run ./internal/labdevice/cmd remove [DIR]
//	go run ./internal/labdevice/cmd agents -hub URL -token SECRET -ca-fingerprint sha256:… [DIR]
//
// It needs the lab's environment (eval "$(lab/env.sh)"). DIR defaults to
// $ADSHIFT_LAB_DEVICES, else lab/.run/devices. remove tears down every device directory in DIR;
// agents enrolls an agent for every device in DIR (the token must allow
// as many enrollments; an enrolled device reuses its identity) and runs
// them until interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/adshift/adshift/agent/lab"
	"github.com/adshift/adshift/internal/labdevice"
)

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// defaultDir is where the devices are without a DIR argument.
func defaultDir() string {
	if d := os.Getenv("ADSHIFT_LAB_DEVICES"); d != "" {
		return d
	}
	return "lab/.run/devices"
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	mode := "make"
	if len(args) > 0 && (args[0] == "make" || args[0] == "remove" || args[0] == "agents") {
		mode, args = args[0], args[1:]
	}
	var opts labdevice.Options
	fs := flag.NewFlagSet("devices "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&opts.Prefix, "prefix", "ws", "Device name `PREFIX` (names are PREFIX001…)")
	fs.IntVar(&opts.Unsupported, "unsupported", 0, "How many devices (the last ones) claim Windows XP and PowerShell 1.0")
	fs.IntVar(&opts.Users, "users", 2, "Users (profiles) per device")
	fs.BoolVar(&opts.TargetUsers, "target-users", false, "Also create the users' migrated counterparts in the target domain")
	fs.IntVar(&opts.Files, "files", 20, "Files on each device's disk")
	fs.IntVar(&opts.Parallel, "parallel", 4, "Devices joined at once")
	var ao labdevice.AgentOptions
	fs.StringVar(&ao.HubURL, "hub", "", "agents: the hub's `URL`")
	fs.StringVar(&ao.Token, "token", "", "agents: an enrollment token")
	fs.StringVar(&ao.CAFingerprint, "ca-fingerprint", "", "agents: the hub CA's fingerprint")
	fs.StringVar(&ao.Bin, "agent-bin", "", "agents: the adshift-agent `BINARY` (default: built into DIR/.adshift-agent)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rest := fs.Args()
	src, tgt, err := labdevice.LabDomains()
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	opts.Source, opts.Target = src, tgt
	lvl := hclog.Info
	if v := os.Getenv("ADSHIFT_LOG"); v != "" {
		lvl = hclog.LevelFromString(v)
	}
	opts.Logger = hclog.New(&hclog.LoggerOptions{Name: "labdevice", Level: lvl, Output: stderr})
	start := time.Now()
	switch mode {
	case "make":
		if len(rest) < 1 || len(rest) > 2 {
			fmt.Fprintln(stderr, "Usage: devices [make] [options] N [DIR]")
			return 2
		}
		if opts.Count, err = strconv.Atoi(rest[0]); err != nil || opts.Count < 1 {
			fmt.Fprintf(stderr, "Error: N %q is not a positive number of devices\n", rest[0])
			return 2
		}
		opts.Dir = defaultDir()
		if len(rest) == 2 {
			opts.Dir = rest[1]
		}
		devs, err := labdevice.Make(ctx, opts)
		if err != nil {
			fmt.Fprintf(stderr, "Error: %v\n", err)
			return 1
		}
		for _, d := range devs {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", d.Name, d.Domain, d.Dir)
		}
		fmt.Fprintf(stdout, "%d lab devices ready in %s (%.1f s)\n", len(devs), opts.Dir, time.Since(start).Seconds())
	case "remove":
		if len(rest) > 1 {
			fmt.Fprintln(stderr, "Usage: devices remove [DIR]")
			return 2
		}
		opts.Dir = defaultDir()
		if len(rest) == 1 {
			opts.Dir = rest[0]
		}
		names, err := deviceNames(opts.Dir)
		if err != nil {
			fmt.Fprintf(stderr, "Error: %v\n", err)
			return 1
		}
		if err := labdevice.Remove(ctx, opts, names); err != nil {
			fmt.Fprintf(stderr, "Error: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "removed %d lab devices from %s (%.1f s)\n", len(names), opts.Dir, time.Since(start).Seconds())
	case "agents":
		if len(rest) > 1 || ao.HubURL == "" || ao.Token == "" || ao.CAFingerprint == "" {
			fmt.Fprintln(stderr, "Usage: devices agents -hub URL -token SECRET -ca-fingerprint sha256:… [DIR]")
			return 2
		}
		opts.Dir = defaultDir()
		if len(rest) == 1 {
			opts.Dir = rest[0]
		}
		return runAgents(ctx, opts.Dir, ao, stdout, stderr)
	}
	return 0
}

// runAgents starts an agent for every device in dir and waits for ctx.
func runAgents(ctx context.Context, dir string, ao labdevice.AgentOptions, stdout, stderr io.Writer) int {
	names, err := deviceNames(dir)
	if err != nil || len(names) == 0 {
		fmt.Fprintf(stderr, "Error: no lab devices in %s (%v)\n", dir, err)
		return 1
	}
	if ao.Bin == "" {
		ao.Bin = filepath.Join(dir, ".adshift-agent")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", ao.Bin, "github.com/adshift/adshift/cmd/adshift-agent").CombinedOutput(); err != nil {
			fmt.Fprintf(stderr, "Error: go build adshift-agent: %v\n%s", err, out)
			return 1
		}
	}
	var agents []*labdevice.Agent
	defer func() {
		for _, a := range agents {
			a.Stop()
		}
	}()
	for _, n := range names {
		dev := labdevice.Device{Name: strings.ToUpper(n), Dir: filepath.Join(dir, n)}
		a, err := labdevice.StartAgent(ctx, dev, ao)
		if err != nil {
			fmt.Fprintf(stderr, "Error: %v\n", err)
			return 1
		}
		agents = append(agents, a)
	}
	fmt.Fprintf(stdout, "%d agents running (logs in DEVICE/.agent/agent.log); interrupt to stop them\n", len(agents))
	<-ctx.Done()
	return 0
}

// deviceNames lists the device directories in dir: those with an
// smb.conf or a secrets.json.
func deviceNames(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		for _, f := range []string{lab.SambaConfigPath(filepath.Join(dir, e.Name())), filepath.Join(dir, e.Name(), lab.SecretsFile)} {
			if _, err := os.Stat(f); err == nil {
				names = append(names, e.Name())
				break
			}
		}
	}
	return names, nil
}
