package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/adshift/adshift/state"
)

// stateSubcommands are the state subcommands that exist.
var stateSubcommands = map[string]subcommand{
	"list": runStateList,
	"show": runStateShow,
	"pull": runStatePull,
	"push": runStatePush,
	"rm":   runStateRm,
	"mv":   runStateMv,
}

func runState(m *meta, args []string) int {
	return runGroup(m, "state", stateSubcommands, args)
}

// stateBackend loads the configuration (only its backend block matters)
// and returns the current workspace's backend.
func (m *meta) stateBackend() (state.Backend, bool) {
	cfg, _ := m.loadConfig()
	b, d := m.backend(cfg, nil)
	if d.HasErrors() {
		m.showDiags(d)
		return nil, false
	}
	return b, true
}

// readState loads the current workspace's state without locking it.
func (m *meta) readState() (*state.State, bool) {
	b, ok := m.stateBackend()
	if !ok {
		return nil, false
	}
	st, err := b.Load(m.ctx)
	if err != nil {
		m.showDiags(errDiag("Cannot read state", err, ""))
		return nil, false
	}
	return st, true
}

func runStateList(m *meta, args []string) int {
	fs := newFlags(m, "state list", usages["state list"])
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	st, ok := m.readState()
	if !ok {
		return exitError
	}
	m.view.StateList(st, fs.Args())
	return exitOK
}

func runStateShow(m *meta, args []string) int {
	fs := newFlags(m, "state show", usages["state show"])
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if !m.oneArg(fs, usages["state show"], "an address") {
		return exitError
	}
	st, ok := m.readState()
	if !ok {
		return exitError
	}
	if !m.view.StateObject(st, fs.Arg(0)) {
		m.view.Diagnostics(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No such address in state", Detail: fmt.Sprintf("%s is not in the state. Run adshift state list to see the addresses.", fs.Arg(0))}})
		return exitError
	}
	return exitOK
}

// runStatePull writes the current workspace's state, journal replayed, in
// the state file format: what state push reads.
func runStatePull(m *meta, args []string) int {
	fs := newFlags(m, "state pull", usages["state pull"])
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if d := extraArgs(fs, 0, "no arguments"); d != nil {
		m.view.Diagnostics(d)
		return exitError
	}
	st, ok := m.readState()
	if !ok {
		return exitError
	}
	if err := state.Encode(m.stdout, st); err != nil {
		m.showDiags(errDiag("Cannot write the state", err, ""))
		return exitError
	}
	return exitOK
}

// lockTimeoutFlag registers -lock-timeout as plan and apply have it.
func lockTimeoutFlag(fs *flag.FlagSet) *time.Duration {
	return fs.Duration("lock-timeout", 0, "Wait up to `DURATION` (e.g. 30s, 5m) for the state lock (default: do not wait)")
}

// lockedBackend takes the current workspace's lock for op and loads its
// state; the caller releases the lock.
func (m *meta) lockedBackend(op string, timeout time.Duration) (state.Backend, *state.State, state.Unlocker, bool) {
	b, ok := m.stateBackend()
	if !ok {
		return nil, nil, nil, false
	}
	o := &output{m: m}
	st, unlock, ok := m.lockedState(o, &loaded{backend: b}, op, timeout)
	if !ok {
		return nil, nil, nil, false
	}
	return b, st, unlock, true
}

// changeState records the changes fn makes, under the lock, through the
// journal, and commits them.
func (m *meta) changeState(op string, timeout time.Duration, fn func(txn *state.Txn) error) int {
	b, st, unlock, ok := m.lockedBackend(op, timeout)
	if !ok {
		return exitError
	}
	defer unlock.Unlock()
	txn, err := b.Begin(m.ctx, st)
	if err != nil {
		m.showDiags(errDiag("Cannot write state", err, ""))
		return exitError
	}
	ferr := fn(txn)
	// What fn recorded is committed even when it failed part-way: each
	// record is a whole change.
	if err := txn.Commit(); err != nil {
		m.showDiags(errDiag("Cannot save state", err, "The recorded changes are in the state journal; the next run replays them."))
		return exitError
	}
	if ferr != nil {
		m.showDiags(errDiag("Cannot change the state", ferr, ""))
		return exitError
	}
	return exitOK
}

func runStateRm(m *meta, args []string) int {
	fs := newFlags(m, "state rm", usages["state rm"])
	timeout := lockTimeoutFlag(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintf(m.stderr, "Usage: adshift %s\n", usages["state rm"])
		return exitError
	}
	return m.changeState("state rm", *timeout, func(txn *state.Txn) error {
		// Every address must be there before anything is removed.
		for _, a := range fs.Args() {
			_, obj := txn.Object(a)
			_, dev := txn.Device(a)
			if !obj && !dev {
				return fmt.Errorf("%s is not in the state (adshift state list shows the addresses); nothing was removed", a)
			}
		}
		for _, a := range fs.Args() {
			if err := txn.Remove(a); err != nil {
				return err
			}
			fmt.Fprintf(m.stdout, "Removed %s\n", a)
		}
		fmt.Fprintf(m.stdout, "Removed %d address(es) from the state. adshift no longer knows these pairs: the next plan matches their objects again by the match rules.\n", fs.NArg())
		return nil
	})
}

func runStateMv(m *meta, args []string) int {
	fs := newFlags(m, "state mv", usages["state mv"])
	timeout := lockTimeoutFlag(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 2 {
		fmt.Fprintf(m.stderr, "Usage: adshift %s\n", usages["state mv"])
		return exitError
	}
	return m.changeState("state mv", *timeout, func(txn *state.Txn) error {
		if err := txn.Move(fs.Arg(0), fs.Arg(1)); err != nil {
			return err
		}
		fmt.Fprintf(m.stdout, "Moved %s to %s\n", fs.Arg(0), fs.Arg(1))
		return nil
	})
}

// runStatePush replaces the current workspace's state with a file's. The
// file must be of the same lineage and not behind the stored serial (a
// state never written takes any); -force skips both checks and says so.
// The state written gets a serial above the stored one, so every plan
// saved before the push is stale.
func runStatePush(m *meta, args []string) int {
	var force bool
	fs := newFlags(m, "state push", usages["state push"])
	fs.BoolVar(&force, "force", false, "Replace the state even when FILE is of another lineage or behind the stored serial (dangerous)")
	timeout := lockTimeoutFlag(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if !m.oneArg(fs, usages["state push"], `a state file written by adshift state pull ("-" reads standard input)`) {
		return exitError
	}
	name := fs.Arg(0)
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(m.stdin)
		name = "standard input"
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		m.showDiags(errDiag("Cannot read the state to push", err, ""))
		return exitError
	}
	pushed, err := state.Decode(name, data)
	if err != nil {
		m.showDiags(errDiag("Cannot read the state to push", err, ""))
		return exitError
	}
	b, stored, unlock, ok := m.lockedBackend("state push", *timeout)
	if !ok {
		return exitError
	}
	defer unlock.Unlock()
	fresh := stored.Empty()
	var problem string
	switch {
	case fresh:
	case pushed.Lineage != stored.Lineage:
		problem = fmt.Sprintf("%s is state lineage %s, but the workspace's state is lineage %s: it is another state", name, pushed.Lineage, stored.Lineage)
	case pushed.Serial < stored.Serial:
		problem = fmt.Sprintf("%s is at serial %d, behind the workspace's state at serial %d: pushing it would undo the changes recorded since", name, pushed.Serial, stored.Serial)
	case pushed.Serial == stored.Serial && !sameState(pushed, stored):
		problem = fmt.Sprintf("%s is at serial %d like the workspace's state but differs from it: one of them was edited", name, pushed.Serial)
	case pushed.Serial == stored.Serial:
		fmt.Fprintln(m.stdout, "The state is already the same as "+name+"; nothing was pushed.")
		return exitOK
	}
	if problem != "" && !force {
		m.showDiags(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "State push refused",
			Detail: problem + ". Nothing was changed. If you are sure the file must replace the state, push it with -force (the current state stays in the history)."}})
		return exitError
	}
	if problem != "" {
		fmt.Fprintf(m.stderr, "WARNING: -force: %s.\nWARNING: -force: replacing the state anyway (the replaced state stays in the history: %s).\n", problem, historyHint(b, stored, pushed))
	}
	if !fresh {
		pushed.Serial = max(pushed.Serial, stored.Serial+1)
	}
	if err := b.Write(m.ctx, pushed); err != nil {
		m.showDiags(errDiag("Cannot write state", err, ""))
		return exitError
	}
	fmt.Fprintf(m.stdout, "Pushed %s: the state is now lineage %s at serial %d (%d objects, %d devices). Plans saved before the push are stale.\n",
		name, pushed.Lineage, pushed.Serial, len(pushed.Objects), len(pushed.Devices))
	return exitOK
}

// sameState reports whether two states encode the same.
func sameState(a, b *state.State) bool {
	var ea, eb bytes.Buffer
	return state.Encode(&ea, a) == nil && state.Encode(&eb, b) == nil && bytes.Equal(ea.Bytes(), eb.Bytes())
}

// historyHint says where a backend keeps the state a push replaces.
func historyHint(b state.Backend, stored, pushed *state.State) string {
	l, ok := b.(*state.Local)
	switch {
	case !ok:
		return "the versions table"
	case stored.Lineage != pushed.Lineage:
		return l.ReplacedPath(stored.Lineage)
	}
	return "the backup " + l.BackupPath()
}

func runForceUnlock(m *meta, args []string) int {
	fs := newFlags(m, "force-unlock", "force-unlock LOCK_ID")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if !m.oneArg(fs, "force-unlock LOCK_ID", "the lock ID") {
		return exitError
	}
	cfg, _ := m.loadConfig()
	ws, d := m.workspaces(cfg, nil)
	if d.HasErrors() {
		m.showDiags(d)
		return exitError
	}
	cur, _, err := m.workspace()
	if err == nil {
		err = ws.ForceUnlock(m.ctx, cur, fs.Arg(0))
	}
	if err != nil {
		m.showDiags(errDiag("Cannot unlock", err, ""))
		return exitError
	}
	fmt.Fprintf(m.stdout, "The state of workspace %s has been unlocked.\n", cur)
	return exitOK
}
