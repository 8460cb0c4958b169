package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
)

// Exit codes, as Terraform's.
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2 // plan -detailed-exitcode: changes present
)

// command is one subcommand.
type command struct {
	synopsis string
	run      func(m *meta, args []string) int
	hidden   bool
}

var commands = map[string]command{
	"init":           {"Prepare a configuration directory and check its providers", runInit, false},
	"validate":       {"Check the configuration files", runValidate, false},
	"fmt":            {"Rewrite configuration files to the canonical format", runFmt, false},
	"plan":           {"Show the changes a migration needs", runPlan, false},
	"apply":          {"Carry out a plan", runApply, false},
	"show":           {"Show a saved plan or the state", runShow, false},
	"state":          {"Inspect the state (list, show)", runState, false},
	"force-unlock":   {"Release a stuck state lock", runForceUnlock, false},
	"version":        {"Show the adshift version", runVersion, false},
	"hub":            {"Run the agent hub and manage its tokens, devices and audit log", runHub, false},
	"provider-serve": {"Serve a built-in provider (used by adshift itself)", runProviderServe, true},
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: adshift [-chdir=DIR] <command> [options] [args]\n\n")
	fmt.Fprintf(w, "adshift plans and applies Active Directory domain migrations described in *.hcl files.\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n, c := range commands {
		if !c.hidden {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-13s %s\n", n, commands[n].synopsis)
	}
	fmt.Fprintf(w, "\nGlobal options:\n  -chdir=DIR    Use the configuration in DIR\n  -help         Show this help\n  -version      Show the version\n")
}

// run is the whole CLI; main only exits with its result.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	dir := "."
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := strings.TrimLeft(args[0], "-")
		switch {
		case strings.HasPrefix(a, "chdir="):
			dir = strings.TrimPrefix(a, "chdir=")
		case a == "chdir" && len(args) > 1:
			dir = args[1]
			args = args[1:]
		case a == "help" || a == "h":
			usage(stdout)
			return exitOK
		case a == "version" || a == "v":
			args = []string{"version"}
			continue
		default:
			fmt.Fprintf(stderr, "Error: unknown global option %s\n\n", args[0])
			usage(stderr)
			return exitError
		}
		args = args[1:]
	}
	if len(args) == 0 {
		usage(stderr)
		return exitError
	}
	name := args[0]
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "Error: unknown command %q\n\n", name)
		usage(stderr)
		return exitError
	}
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		fmt.Fprintf(stderr, "Error: -chdir=%s is not a directory\n", dir)
		return exitError
	}
	// Like Terraform, -chdir switches directory before anything else, so
	// every relative path (plan files, -var-file, state) is relative to it.
	if dir != "." {
		if err := os.Chdir(dir); err != nil {
			fmt.Fprintf(stderr, "Error: -chdir=%s: %v\n", dir, err)
			return exitError
		}
		dir = "."
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		n := 0
		for range sigs {
			n++
			if n == 1 {
				fmt.Fprintln(stderr, "\nInterrupt received: finishing the changes in flight and saving state. Interrupt again to cancel at once.")
				close(stop)
				continue
			}
			cancel()
			return
		}
	}()
	suffix := ""
	if name == "provider-serve" && len(args) > 1 {
		suffix = "provider-" + args[1]
	}
	defer startProfile(suffix)()
	tuneGC()
	m := newMeta(ctx, dir, stdin, stdout, stderr, stop)
	defer m.close()
	return cmd.run(m, args[1:])
}

// tuneGC trades memory for speed: planning holds every discovered object
// and allocates much, so the collector runs less often, within a ceiling
// (both overridable with GOGC and GOMEMLIMIT).
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(640 << 20)
	}
}

// newFlags returns a flag set that reports errors through stderr.
func newFlags(m *meta, name string, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.stderr)
	fs.Usage = func() {
		fmt.Fprintf(m.stderr, "Usage: adshift %s\n\nOptions:\n", help)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, mapping -help to exit 0.
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitError, false
	}
	return 0, true
}
