package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Exit codes, as Terraform's.
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2 // plan -detailed-exitcode: changes present
)

// command is one subcommand.
type command struct {
	run    func(m *meta, args []string) int
	hidden bool
}

// synopses are the commands' one-line descriptions, for usage and -h. They
// are apart from commands because the commands' -h reads them (a map of
// functions that read it would be an initialization cycle).
var synopses = map[string]string{
	"init":             "Prepare a configuration directory and check its providers",
	"validate":         "Check the configuration files",
	"fmt":              "Rewrite configuration files to the canonical format",
	"plan":             "Show the changes a migration needs",
	"apply":            "Carry out a plan",
	"show":             "Show a saved plan (as text, JSON, Markdown or an HTML review) or the state",
	"state":            "Inspect and change the state (list, show, pull, push, rm, mv)",
	"force-unlock":     "Release a stuck state lock of the current workspace",
	"version":          "Show the adshift version",
	"hub":              "Run the agent hub and manage its tokens, devices and audit log",
	"help":             "Show help for adshift or for one command",
	"state list":       "List the addresses in state, or those that start with one of the prefixes",
	"state show":       "Show the identities state records for one address",
	"state pull":       "Write the current workspace's state to standard output, in the state file format",
	"state push":       "Replace the current workspace's state with a state file (lineage and serial checked)",
	"state rm":         "Forget addresses: remove their pairs from the state (the objects stay in the directories)",
	"state mv":         "Record a pair under another address of the same kind",
	"workspace":        "Manage workspaces: one state per migration project or wave",
	"workspace list":   "List the workspaces, marking the current one",
	"workspace show":   "Show the current workspace",
	"workspace new":    "Create a workspace and select it",
	"workspace select": "Select the workspace later commands use (ADSHIFT_WORKSPACE overrides it)",
	"workspace delete": "Delete a workspace and its state history (not the current one; -force when its state is not empty)",
	"odj":              "Offline domain join blobs: provision a computer and its blob, or inspect a blob",
	"odj provision":    "Pre-stage a computer in the domain with a fresh machine password and write its offline domain join blob",
	"odj inspect":      "Print every field of an offline domain join blob except the machine password",
	"provider-serve":   "Serve a built-in provider (used by adshift itself)",
}

var commands = map[string]command{
	"init":           {runInit, false},
	"validate":       {runValidate, false},
	"fmt":            {runFmt, false},
	"plan":           {runPlan, false},
	"apply":          {runApply, false},
	"show":           {runShow, false},
	"state":          {runState, false},
	"odj":            {runODJ, false},
	"force-unlock":   {runForceUnlock, false},
	"workspace":      {runWorkspace, false},
	"version":        {runVersion, false},
	"hub":            {runHub, false},
	"provider-serve": {runProviderServe, true},
}

// visibleCommands are the commands usage lists, sorted, help included.
func visibleCommands() []string {
	names := []string{"help"}
	for n, c := range commands {
		if !c.hidden {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: adshift [-chdir=DIR] <command> [options] [args]\n\n")
	fmt.Fprintf(w, "adshift plans and applies Active Directory domain migrations described in *.hcl files.\n\nCommands:\n")
	for _, n := range visibleCommands() {
		fmt.Fprintf(w, "  %-13s %s\n", n, synopses[n])
	}
	fmt.Fprintf(w, "\nGlobal options:\n  -chdir=DIR    Use the configuration in DIR\n  -help         Show this help\n  -version      Show the version\n")
	fmt.Fprintf(w, "\nRun adshift help COMMAND (or adshift COMMAND -h) for a command's options.\n")
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
			fmt.Fprintf(stderr, "Error: unknown global option %s%s\n\n", args[0], didYouMean("-"+strings.SplitN(a, "=", 2)[0], []string{"-chdir", "-help", "-version"}))
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
	if name == "help" {
		return runHelp(args[1:], stdin, stdout, stderr)
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "Error: unknown command %q%s\n\n", name, didYouMean(name, visibleCommands()))
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
	intr := newInterrupt(stderr, cancel)
	suffix := ""
	if name == "provider-serve" {
		// Signals are the host's to handle (providers.Serve).
		if len(args) > 1 {
			suffix = "provider-" + args[1]
		}
	} else {
		defer intr.watchSignals()()
		stdout = intr.guard(stdout)
	}
	defer startProfile(suffix)()
	tuneGC()
	m := newMeta(ctx, dir, stdin, stdout, stderr, intr.stop)
	defer m.close()
	code := cmd.run(m, args[1:])
	if code == exitOK && intr.wasStopped() {
		code = exitError
	}
	return code
}

// newFlags returns the flag set of one command. Parse errors and -h are
// reported by parseFlags: -h prints the usage line, the command's synopsis
// and every option with its description to stdout; a mistake prints the
// error, a suggestion and the usage to stderr.
func newFlags(m *meta, name string, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	out := &flagOutput{m: m}
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: adshift %s\n\n", help)
		s, ok := synopses[name]
		if !ok {
			s = synopses[strings.Fields(name)[0]]
		}
		if s != "" {
			fmt.Fprintf(fs.Output(), "%s.\n\n", s)
		}
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n == 0 {
			fmt.Fprintf(fs.Output(), "This command has no options.\n")
			return
		}
		fmt.Fprintf(fs.Output(), "Options:\n")
		fs.PrintDefaults()
	}
	return fs
}

// flagOutput is where a flag set writes: nowhere while parsing (parseFlags
// reports errors itself), then stdout or stderr.
type flagOutput struct {
	m *meta
	w io.Writer
}

func (o *flagOutput) Write(p []byte) (int, error) {
	if o.w == nil {
		return len(p), nil
	}
	return o.w.Write(p)
}

// parseFlags parses args, mapping -help to exit 0.
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	out := fs.Output().(*flagOutput)
	err := fs.Parse(args)
	if err == nil {
		return 0, true
	}
	if errors.Is(err, flag.ErrHelp) {
		out.w = out.m.stdout
		fs.Usage()
		return exitOK, false
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, "-"+f.Name) })
		msg = fmt.Sprintf("adshift %s has no option %s%s", fs.Name(), name, didYouMean(strings.SplitN(name, "=", 2)[0], names))
	}
	fmt.Fprintf(out.m.stderr, "Error: %s\n\n", msg)
	out.w = out.m.stderr
	fs.Usage()
	return exitError, false
}
