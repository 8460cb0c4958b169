package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/odj"
	"github.com/adshift/adshift/planner"
	"github.com/adshift/adshift/providers"
	"github.com/adshift/adshift/ui"
)

// odjSubcommands are the odj subcommands, with their usage.
var odjSubcommands = map[string]string{
	"provision": "odj provision [options] COMPUTER",
	"inspect":   "odj inspect [-json] FILE",
}

func odjUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: adshift odj provision [options] COMPUTER\n       adshift odj inspect [-json] FILE\n\n%s.\n\n", synopses["odj"])
	fmt.Fprintf(w, "Subcommands:\n")
	for _, sub := range config.SortedNames(odjSubcommands) {
		fmt.Fprintf(w, "  %-9s  %s\n", sub, synopses["odj "+sub])
	}
}

func runODJ(m *meta, args []string) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		odjUsage(m.stdout)
		return exitOK
	}
	if len(args) == 0 {
		odjUsage(m.stderr)
		return exitError
	}
	switch args[0] {
	case "provision":
		return runODJProvision(m, args[1:])
	case "inspect":
		return runODJInspect(m, args[1:])
	}
	fmt.Fprintf(m.stderr, "Error: unknown odj subcommand %q%s\n\n", args[0], didYouMean(args[0], config.SortedNames(odjSubcommands)))
	odjUsage(m.stderr)
	return exitError
}

func runODJInspect(m *meta, args []string) int {
	var jsonMode, noColor bool
	fs := newFlags(m, "odj inspect", odjSubcommands["inspect"])
	fs.BoolVar(&jsonMode, "json", false, "Write one JSON document")
	fs.BoolVar(&noColor, "no-color", false, "Do not colour the output")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	o := m.output(false, noColor)
	if fs.NArg() == 0 {
		o.diags(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Missing blob file", Detail: "odj inspect takes one argument, the blob file (as djoin /savefile or adshift odj provision wrote it)."}})
		return exitError
	}
	if d := extraArgs(fs, 1, "one argument, the blob file"); d != nil {
		o.diags(d)
		return exitError
	}
	name := fs.Arg(0)
	raw, err := os.ReadFile(name)
	if err != nil {
		o.diags(errDiag("Cannot read blob", err, ""))
		return exitError
	}
	data, err := odj.ReadFile(raw)
	clear(raw)
	if err != nil {
		o.diags(errDiag("Not an offline domain join blob", fmt.Errorf("%s: %w", name, err), ""))
		return exitError
	}
	if jsonMode {
		if err := ui.ODJDocument(m.stdout, name, data); err != nil {
			o.diags(errDiag("Cannot write JSON", err, ""))
			return exitError
		}
		return exitOK
	}
	m.view.ODJInspect(name, data)
	return exitOK
}

func runODJProvision(m *meta, args []string) int {
	var vars varFlags
	var jsonMode, noColor, reuse bool
	var env, ou, dir, file string
	fs := newFlags(m, "odj provision", odjSubcommands["provision"])
	fs.StringVar(&env, "env", "target", "The environment (provider \"ad\") of the domain to join")
	fs.StringVar(&ou, "ou", "", "DN of the OU a new computer account is created in (required)")
	fs.StringVar(&dir, "dir", ".", "Directory the blob is written into (created owner-only when missing)")
	fs.StringVar(&file, "file", "", "Blob file name (default COMPUTER.odj)")
	fs.BoolVar(&reuse, "reuse", false, "Take over an existing account of that name (its password is reset)")
	fs.BoolVar(&jsonMode, "json", false, "Write machine-readable JSON lines")
	fs.BoolVar(&noColor, "no-color", false, "Do not colour the output")
	vars.register(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	o := m.output(jsonMode, noColor)
	if fs.NArg() == 0 {
		o.diags(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Missing computer name", Detail: "odj provision takes one argument, the computer's name (its NetBIOS name, without $)."}})
		return exitError
	}
	if d := extraArgs(fs, 1, "one argument, the computer's name"); d != nil {
		o.diags(d)
		return exitError
	}
	computer := fs.Arg(0)
	if ou == "" && !reuse {
		o.diags(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Missing OU", Detail: "Set -ou to the DN of the OU the computer account is created in, or -reuse to take over an existing account."}})
		return exitError
	}
	in, diags := m.inputs(&vars)
	if diags.HasErrors() {
		o.diags(diags)
		return exitError
	}
	l, ok := m.load(o, in, false)
	if !ok {
		return exitError
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(m.dir, dir)
	}
	res, diags := planner.ProvisionOfflineJoin(m.ctx, l.cfg, l.scope, launcher{m}, env, providers.OfflineJoinRequest{
		Computer: computer, OU: ou, Dir: dir, FileName: file, Reuse: reuse,
	})
	o.diags(diags)
	if diags.HasErrors() {
		return exitError
	}
	if o.json != nil {
		o.json.ODJProvisioned(computer, res)
	} else {
		m.view.ODJProvisioned(computer, res)
	}
	return exitOK
}
