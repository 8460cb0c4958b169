package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/mattn/go-isatty"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/planner"
	"github.com/adshift/adshift/providers"
	"github.com/adshift/adshift/state"
	"github.com/adshift/adshift/ui"
)

// meta is what every command shares: where it runs, its streams, the
// logger, the parser (for diagnostics), and how it reaches providers.
type meta struct {
	ctx    context.Context
	dir    string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	stop   <-chan struct{}
	logger hclog.Logger
	parser *config.Parser
	view   *ui.View
	logf   io.Closer
	// secrets are the values derived from sensitive variables, scrubbed
	// from every diagnostic shown (set once the configuration is evaluated).
	secrets []string
}

func newMeta(ctx context.Context, dir string, stdin io.Reader, stdout, stderr io.Writer, stop <-chan struct{}) *meta {
	m := &meta{ctx: ctx, dir: dir, stdin: stdin, stdout: stdout, stderr: stderr, stop: stop, parser: config.NewParser()}
	m.logger = m.newLogger()
	m.view = &ui.View{Out: stdout, Err: stderr, Color: colorWanted(stdout, false), Files: m.parser.Files()}
	return m
}

func (m *meta) close() {
	if m.logf != nil {
		m.logf.Close()
	}
}

// newLogger builds the root logger: off unless ADSHIFT_LOG names a level;
// to stderr, or to the file ADSHIFT_LOG_PATH.
func (m *meta) newLogger() hclog.Logger {
	lvl := hclog.LevelFromString(os.Getenv("ADSHIFT_LOG"))
	if lvl == hclog.NoLevel {
		return hclog.NewNullLogger()
	}
	var out io.Writer = m.stderr
	if p := os.Getenv("ADSHIFT_LOG_PATH"); p != "" {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err == nil {
			out, m.logf = f, f
		}
	}
	return hclog.New(&hclog.LoggerOptions{Name: "adshift", Level: lvl, Output: out})
}

// colorWanted: colour only for a terminal, never with NO_COLOR or -no-color.
func colorWanted(w io.Writer, noColor bool) bool {
	if noColor || os.Getenv("NO_COLOR") != "" {
		return false
	}
	return terminal(w)
}

// terminal reports whether w (seen through the output guard) is a terminal.
func terminal(w io.Writer) bool { return terminalFile(w) != nil }

// terminalFile returns the terminal w writes to (seen through the output
// guard), or nil.
func terminalFile(w io.Writer) *os.File {
	if g, ok := w.(*guardedWriter); ok {
		w = g.w
	}
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		return f
	}
	return nil
}

func (m *meta) setNoColor(noColor bool) {
	m.view.Color = colorWanted(m.stdout, noColor)
}

// loadConfig reads the configuration directory.
func (m *meta) loadConfig() (*config.Config, hcl.Diagnostics) {
	cfg, diags := m.parser.LoadDir(m.dir)
	m.view.Files = m.parser.Files()
	return cfg, diags
}

// varFlags collects -var and -var-file in the order given.
type varFlags struct {
	items []varItem
}

type varItem struct {
	file bool
	val  string
}

type varFlag struct {
	v    *varFlags
	file bool
}

func (f varFlag) String() string { return "" }
func (f varFlag) Set(s string) error {
	f.v.items = append(f.v.items, varItem{file: f.file, val: s})
	return nil
}

func (v *varFlags) register(fs *flag.FlagSet) {
	fs.Var(varFlag{v: v}, "var", "Set a variable, `NAME=VALUE` (repeatable)")
	fs.Var(varFlag{v: v, file: true}, "var-file", "Set variables from `FILE`, HCL name = value lines (repeatable; relative to -chdir)")
}

// inputs gathers variable values: ADSHIFT_VAR_ environment variables, then
// the flags in order.
func (m *meta) inputs(v *varFlags) (config.Inputs, hcl.Diagnostics) {
	in := config.Inputs{}
	in.AddEnv(os.Environ())
	var diags hcl.Diagnostics
	for _, it := range v.items {
		if it.file {
			path := it.val
			if !filepath.IsAbs(path) {
				path = filepath.Join(m.dir, path)
			}
			diags = append(diags, in.AddFile(m.parser, path)...)
		} else {
			diags = append(diags, in.AddFlag(it.val)...)
		}
	}
	m.view.Files = m.parser.Files()
	return in, diags
}

// lock takes the state lock, waiting up to timeout.
func (m *meta) lock(b state.Backend, op string, timeout time.Duration) (state.Unlocker, error) {
	ctx := m.ctx
	var cancel context.CancelFunc
	ctx, cancel = context.WithTimeout(ctx, timeout)
	defer cancel()
	return b.Lock(ctx, state.NewLockInfo(op))
}

// builtinProviders are served by this binary re-executed in plugin mode.
var builtinProviders = map[string]bool{"ldif": true, "ad": true, "device": true}

// launcher starts providers as separate processes: built-ins by
// re-executing adshift, others as adshift-provider-NAME plugins.
type launcher struct{ m *meta }

func (l launcher) Launch(ctx context.Context, typ string) (providers.Provider, error) {
	dir, err := filepath.Abs(l.m.dir)
	if err != nil {
		return nil, err
	}
	opts := providers.LaunchOptions{Name: typ, Dir: dir, Logger: l.m.logger.Named("provider")}
	if builtinProviders[typ] {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find the adshift executable: %w", err)
		}
		opts.Path, opts.Argv0, opts.Args = exe, "adshift", []string{"provider-serve", typ}
	} else {
		path, err := providers.FindPlugin(typ, pluginDirs(dir))
		if err != nil {
			return nil, err
		}
		opts.Path = path
	}
	return providers.Launch(ctx, opts)
}

var _ planner.Launcher = launcher{}

// pluginDirs are where third-party providers are looked for.
func pluginDirs(dir string) []string {
	dirs := []string{filepath.Join(dir, ".adshift", "plugins")}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".adshift", "plugins"))
	}
	dirs = append(dirs, filepath.SplitList(os.Getenv("PATH"))...)
	return dirs
}

// versionString is the full version line.
func versionString() string {
	s := "adshift v" + strings.TrimPrefix(version, "v")
	if commit != "" {
		s += " (" + commit
		if date != "" {
			s += ", " + date
		}
		s += ")"
	}
	return s
}
