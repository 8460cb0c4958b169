package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/adshift/adshift/state"
)

// workspaceSubcommands are the workspace subcommands.
var workspaceSubcommands = map[string]subcommand{
	"list":   runWorkspaceList,
	"show":   runWorkspaceShow,
	"new":    runWorkspaceNew,
	"select": runWorkspaceSelect,
	"delete": runWorkspaceDelete,
}

func runWorkspace(m *meta, args []string) int {
	return runGroup(m, "workspace", workspaceSubcommands, args)
}

// workspaceCmd parses a workspace subcommand's flags and checks that it
// got want arguments; it returns the workspaces of the configuration, or
// ok false and the exit code.
func (m *meta) workspaceCmd(name string, args []string, want int, register func(*flag.FlagSet)) (ws state.Workspaces, fs *flag.FlagSet, code int, ok bool) {
	fs = newFlags(m, "workspace "+name, usages["workspace "+name])
	if register != nil {
		register(fs)
	}
	if code, ok := parseFlags(fs, args); !ok {
		return nil, fs, code, false
	}
	switch {
	case want == 1 && !m.oneArg(fs, usages["workspace "+name], "a workspace name"):
		return nil, fs, exitError, false
	case want == 0:
		if d := extraArgs(fs, 0, "no arguments"); d != nil {
			m.view.Diagnostics(d)
			return nil, fs, exitError, false
		}
	}
	cfg, _ := m.loadConfig()
	ws, d := m.workspaces(cfg, nil)
	if d.HasErrors() {
		m.showDiags(d)
		return nil, fs, exitError, false
	}
	return ws, fs, exitOK, true
}

func runWorkspaceList(m *meta, args []string) int {
	ws, _, code, ok := m.workspaceCmd("list", args, 0, nil)
	if !ok {
		return code
	}
	cur, ok := m.currentWorkspace()
	if !ok {
		return exitError
	}
	names, err := ws.List(m.ctx)
	if err != nil {
		m.showDiags(errDiag("Cannot list workspaces", err, ""))
		return exitError
	}
	for _, n := range names {
		mark := "  "
		if n == cur {
			mark = "* "
		}
		fmt.Fprintln(m.stdout, mark+n)
	}
	return exitOK
}

func runWorkspaceShow(m *meta, args []string) int {
	_, _, code, ok := m.workspaceCmd("show", args, 0, nil)
	if !ok {
		return code
	}
	cur, ok := m.currentWorkspace()
	if !ok {
		return exitError
	}
	fmt.Fprintln(m.stdout, cur)
	return exitOK
}

func runWorkspaceNew(m *meta, args []string) int {
	ws, fs, code, ok := m.workspaceCmd("new", args, 1, nil)
	if !ok {
		return code
	}
	name := fs.Arg(0)
	if err := ws.Create(m.ctx, name); err != nil {
		hint := ""
		if errors.Is(err, state.ErrWorkspaceExists) {
			hint = "Select it with adshift workspace select " + name + "."
		}
		m.showDiags(errDiag("Cannot create the workspace", err, hint))
		return exitError
	}
	fmt.Fprintf(m.stdout, "Created workspace %q.\n", name)
	return m.selectWorkspace(name)
}

func runWorkspaceSelect(m *meta, args []string) int {
	ws, fs, code, ok := m.workspaceCmd("select", args, 1, nil)
	if !ok {
		return code
	}
	name := fs.Arg(0)
	if _, err := ws.Backend(m.ctx, name); err != nil {
		hint := ""
		if errors.Is(err, state.ErrNoWorkspace) {
			hint = "Create it with adshift workspace new " + name + " (adshift workspace list shows the workspaces)."
		}
		m.showDiags(errDiag("Cannot select the workspace", err, hint))
		return exitError
	}
	return m.selectWorkspace(name)
}

// currentWorkspace returns the current workspace's name, or shows why it
// is invalid.
func (m *meta) currentWorkspace() (string, bool) {
	cur, _, err := m.workspace()
	if err != nil {
		m.showDiags(errDiag("Invalid workspace", err, ""))
		return "", false
	}
	return cur, true
}

// selectWorkspace remembers name as the current workspace.
func (m *meta) selectWorkspace(name string) int {
	path := m.workspaceFile()
	err := os.MkdirAll(filepath.Dir(path), 0o755)
	if err == nil {
		err = os.WriteFile(path, []byte(name+"\n"), 0o644)
	}
	if err != nil {
		m.showDiags(errDiag("Cannot select the workspace", err, ""))
		return exitError
	}
	fmt.Fprintf(m.stdout, "Switched to workspace %q.\n", name)
	if env := os.Getenv(envWorkspace); env != "" && env != name {
		fmt.Fprintf(m.stderr, "Warning: %s=%s is set and overrides the selected workspace while it is.\n", envWorkspace, env)
	}
	return exitOK
}

func runWorkspaceDelete(m *meta, args []string) int {
	var force bool
	var timeout *time.Duration
	ws, fs, code, ok := m.workspaceCmd("delete", args, 1, func(fs *flag.FlagSet) {
		fs.BoolVar(&force, "force", false, "Delete the workspace even though its state records objects or devices (their pairs are forgotten)")
		timeout = lockTimeoutFlag(fs)
	})
	if !ok {
		return code
	}
	name := fs.Arg(0)
	cur, ok := m.currentWorkspace()
	if !ok {
		return exitError
	}
	if name == state.DefaultWorkspace {
		m.showDiags(errDiag("Cannot delete the workspace", errors.New("the default workspace cannot be deleted"), ""))
		return exitError
	}
	if name == cur {
		m.showDiags(errDiag("Cannot delete the workspace", fmt.Errorf("workspace %q is the current workspace", name), "Select another one first with adshift workspace select."))
		return exitError
	}
	b, err := ws.Backend(m.ctx, name)
	if err != nil {
		m.showDiags(errDiag("Cannot delete the workspace", err, ""))
		return exitError
	}
	st, unlock, ok := m.lockedState(&output{m: m}, &loaded{backend: b}, "workspace delete", *timeout)
	if !ok {
		return exitError
	}
	defer unlock.Unlock()
	if n := len(st.Objects) + len(st.Devices); n > 0 && !force {
		m.showDiags(errDiag("Workspace is not empty", fmt.Errorf("the state of workspace %q records %d objects and devices", name, n),
			"Deleting it forgets which target objects adshift created and matched. Use adshift workspace delete -force "+name+" if that is intended (adshift state pull keeps a copy first)."))
		return exitError
	}
	if err := ws.Delete(m.ctx, name); err != nil {
		m.showDiags(errDiag("Cannot delete the workspace", err, ""))
		return exitError
	}
	fmt.Fprintf(m.stdout, "Deleted workspace %q.\n", name)
	return exitOK
}
