package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/planner"
	"github.com/adshift/adshift/providers"
	"github.com/adshift/adshift/providers/ad"
	"github.com/adshift/adshift/providers/device"
	"github.com/adshift/adshift/providers/ldif"
	"github.com/adshift/adshift/state"
	"github.com/adshift/adshift/ui"
)

func runValidate(m *meta, args []string) int {
	var jsonMode, noColor bool
	fs := newFlags(m, "validate", "validate [options]")
	fs.BoolVar(&jsonMode, "json", false, "Write one JSON document: valid, error and warning counts, every diagnostic with its range")
	fs.BoolVar(&noColor, "no-color", false, "Do not colour the output (NO_COLOR is honoured too)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	m.setNoColor(noColor)
	if d := extraArgs(fs, 0, "no arguments"); d != nil {
		m.view.Diagnostics(d)
		return exitError
	}
	in := config.Inputs{}
	in.AddEnv(os.Environ())
	cfg, diags := m.loadConfig()
	// Go on after errors: a user fixing a configuration wants every
	// problem at once, and each phase only looks at what decoded.
	if cfg != nil {
		scope, d := cfg.Evaluate(config.EvalOptions{Inputs: in, AllowMissing: true})
		diags = append(diags, d...)
		diags = append(diags, planner.Validate(m.ctx, cfg, scope, launcher{m})...)
	}
	if jsonMode {
		if err := ui.Validation(m.stdout, diags); err != nil || diags.HasErrors() {
			return exitError
		}
		return exitOK
	}
	m.view.Diagnostics(diags)
	if diags.HasErrors() {
		return exitError
	}
	fmt.Fprintln(m.stdout, "Success! The configuration is valid.")
	return exitOK
}

func runInit(m *meta, args []string) int {
	fs := newFlags(m, "init", "init")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	o := m.output(false, false)
	if d := extraArgs(fs, 0, "no arguments"); d != nil {
		o.diags(d)
		return exitError
	}
	cfg, diags := m.loadConfig()
	o.diags(diags)
	if diags.HasErrors() {
		return exitError
	}
	fmt.Fprintf(m.stdout, "Initializing adshift in %s\n\n", m.dir)
	seen := map[string]bool{}
	var types []string
	for _, e := range cfg.Environments {
		if !seen[e.Provider] {
			seen[e.Provider] = true
			types = append(types, e.Provider)
		}
	}
	sort.Strings(types)
	failed := false
	for _, t := range types {
		p, err := launcher{m}.Launch(m.ctx, t)
		if err != nil {
			o.diags(errDiag("Provider not available", err, fmt.Sprintf("Built-in providers are ldif and ad; others are adshift-provider-%s executables in .adshift/plugins, ~/.adshift/plugins or PATH.", t)))
			failed = true
			continue
		}
		s, err := p.GetSchema(m.ctx)
		if c, ok := p.(interface{ Close() }); ok {
			c.Close()
		}
		if err != nil {
			o.diags(errDiag("Provider failed", err, ""))
			failed = true
			continue
		}
		kind := "plugin"
		if builtinProviders[t] {
			kind = "built-in"
		}
		fmt.Fprintf(m.stdout, "- provider %q: %s, version %s\n", t, kind, s.Version)
	}
	if failed {
		return exitError
	}
	if err := os.MkdirAll(filepath.Join(m.dir, ".adshift", "plugins"), 0o755); err != nil {
		o.diags(errDiag("Cannot create .adshift", err, ""))
		return exitError
	}
	ws, d := m.workspaces(cfg, nil)
	if d.HasErrors() {
		o.diags(d)
		return exitError
	}
	cur, _, err := m.workspace()
	if err != nil {
		o.diags(errDiag("Invalid workspace", err, ""))
		return exitError
	}
	fmt.Fprintf(m.stdout, "- state: %s, workspace %s\n\nadshift has been initialized. Run adshift plan to see what the migration needs.\n", ws.Describe(), cur)
	return exitOK
}

func runShow(m *meta, args []string) int {
	var jsonMode, noColor, markdown, htmlMode bool
	fs := newFlags(m, "show", "show [options] [PLANFILE]")
	fs.BoolVar(&jsonMode, "json", false, "Write one JSON document (docs/json-format.md): the saved plan, or the state")
	fs.BoolVar(&markdown, "markdown", false, "Write a saved plan as a Markdown review for a merge request comment (at most 65,535 characters), with the device results recorded in the current state")
	part := fs.Int("part", 1, "With -markdown: write part `N` of a review split to fit a comment (part 1 says how many there are)")
	fs.BoolVar(&htmlMode, "html", false, "Write a saved plan as one self-contained HTML review page, with the device results recorded in the current state: show -html PLANFILE > review.html")
	fs.BoolVar(&noColor, "no-color", false, "Do not colour the output (NO_COLOR is honoured too)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	m.setNoColor(noColor)
	if d := extraArgs(fs, 1, "at most one argument, a plan file saved by plan -out"); d != nil {
		m.view.Diagnostics(d)
		return exitError
	}
	if n := countTrue(jsonMode, markdown, htmlMode); n > 1 {
		m.view.Diagnostics(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Conflicting options", Detail: "Choose one of -json, -markdown and -html."}})
		return exitError
	}
	if fs.NArg() == 0 && (markdown || htmlMode) {
		m.view.Diagnostics(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "A plan file is needed",
			Detail: "show -markdown and show -html review a saved plan: run adshift plan -out FILE, then adshift show -markdown FILE or adshift show -html FILE > review.html."}})
		return exitError
	}
	if fs.NArg() == 1 {
		cfg, _ := m.loadConfig()
		in := config.Inputs{}
		in.AddEnv(os.Environ())
		p, d := m.readPlan(cfg, in, fs.Arg(0))
		if d.HasErrors() {
			m.showDiags(d)
			return exitError
		}
		// The reviews show, per device, the results apply recorded since:
		// they are in the current state, as the plan file never changes.
		var st *state.State
		if (markdown || htmlMode) && len(p.Devices) > 0 {
			var err error
			b, d := m.backend(cfg, nil)
			if d.HasErrors() {
				err = errors.New(d[0].Summary)
			} else {
				st, err = b.Load(m.ctx)
			}
			if err != nil {
				st = nil
				m.showDiags(hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "Device results not shown",
					Detail: fmt.Sprintf("The review cannot read the current state (%v), so it shows no device results. Run show from the configuration directory, with the state reachable, to include them.", err)}})
			}
		}
		switch {
		case jsonMode:
			if err := ui.PlanDocument(m.stdout, p); err != nil {
				return exitError
			}
		case markdown:
			parts := ui.MarkdownReview(p, st, ui.MarkdownLimit)
			if *part < 1 || *part > len(parts) {
				m.view.Diagnostics(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No such part",
					Detail: fmt.Sprintf("The review of this plan has %d part(s); -part takes 1 to %d.", len(parts), len(parts))}})
				return exitError
			}
			if _, err := io.WriteString(m.stdout, parts[*part-1]); err != nil {
				return exitError
			}
		case htmlMode:
			if err := ui.HTMLReview(m.stdout, p, st); err != nil {
				m.view.Diagnostics(errDiag("Cannot write the review", err, ""))
				return exitError
			}
		default:
			m.view.Plan(p)
		}
		return exitOK
	}
	st, ok := m.readState()
	if !ok {
		return exitError
	}
	if jsonMode {
		if err := ui.StateDocument(m.stdout, st); err != nil {
			return exitError
		}
		return exitOK
	}
	if len(st.Objects)+len(st.Devices) == 0 {
		fmt.Fprintln(m.stdout, "The state is empty. Run adshift plan and apply first.")
		return exitOK
	}
	m.view.StateSummary(st)
	return exitOK
}

func runVersion(m *meta, args []string) int {
	var jsonMode bool
	fs := newFlags(m, "version", "version [-json]")
	fs.BoolVar(&jsonMode, "json", false, "Write the version, commit, build date, Go version and platform as JSON")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if d := extraArgs(fs, 0, "no arguments"); d != nil {
		m.view.Diagnostics(d)
		return exitError
	}
	if jsonMode {
		b, _ := json.MarshalIndent(map[string]string{
			"adshift_version": version, "commit": commit, "date": date,
			"go": runtime.Version(), "platform": runtime.GOOS + "_" + runtime.GOARCH,
		}, "", "  ")
		fmt.Fprintln(m.stdout, string(b))
		return exitOK
	}
	fmt.Fprintf(m.stdout, "%s\non %s_%s, built with %s\n", versionString(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	return exitOK
}

// runProviderServe serves a built-in provider; adshift re-executes itself
// with this command so every provider runs in its own process.
func runProviderServe(m *meta, args []string) int {
	fs := newFlags(m, "provider-serve", "provider-serve NAME")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if len(args) != 1 {
		fmt.Fprintln(m.stderr, "Usage: adshift provider-serve NAME (started by adshift itself)")
		return exitError
	}
	logger := hclog.New(&hclog.LoggerOptions{
		Name: "provider." + args[0], Level: hclog.Trace, JSONFormat: true, Output: os.Stderr,
	})
	var p providers.Provider
	switch args[0] {
	case "ldif":
		p = ldif.New(logger)
	case "ad":
		p = ad.New(logger)
	case "device":
		p = device.New(logger)
	default:
		fmt.Fprintf(m.stderr, "adshift: no built-in provider %q\n", args[0])
		return exitError
	}
	if os.Getenv(providers.Handshake.MagicCookieKey) != providers.Handshake.MagicCookieValue {
		fmt.Fprintln(m.stderr, "This command is run by adshift itself to serve a provider; there is no need to run it by hand.")
		return exitError
	}
	providers.Serve(p, logger)
	return exitOK
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
