package state

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// DefaultWorkspace is the workspace every backend has and that cannot be
// deleted.
const DefaultWorkspace = "default"

// ErrNoWorkspace is wrapped by the errors for a workspace that does not
// exist.
var ErrNoWorkspace = errors.New("no such workspace")

// ErrWorkspaceExists is wrapped by Workspaces.Create's error for a name
// already taken.
var ErrWorkspaceExists = errors.New("workspace already exists")

// Workspaces is a backend configuration's set of named states, one per
// workspace (a migration project or wave). Each workspace has its own
// state, history, lock and plan keys. Implementations: LocalWorkspaces and
// state/pg.
type Workspaces interface {
	// List returns the workspace names, sorted; DefaultWorkspace is
	// always among them.
	List(ctx context.Context) ([]string, error)
	// Create makes an empty workspace (ErrWorkspaceExists when it exists).
	Create(ctx context.Context, name string) error
	// Delete removes a workspace with its state, history and plan keys.
	// The caller holds the workspace's lock and has checked that losing
	// its state is intended. DefaultWorkspace cannot be deleted.
	Delete(ctx context.Context, name string) error
	// Backend returns the workspace's state backend, or an error wrapping
	// ErrNoWorkspace. The default workspace always exists.
	Backend(ctx context.Context, name string) (Backend, error)
	// ForceUnlock clears the workspace's lock whose ID is id, refusing a
	// wrong id.
	ForceUnlock(ctx context.Context, name, id string) error
	// Describe says where the workspaces live, for messages: never a
	// secret (no password or connection string).
	Describe() string
}

// CheckWorkspaceName returns an error when name cannot name a workspace:
// 1 to 64 letters, digits, "-" and "_", not starting with "-".
func CheckWorkspaceName(name string) error {
	ok := len(name) >= 1 && len(name) <= 64 && name[0] != '-'
	for _, c := range name {
		if !(c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("invalid workspace name %q: use 1 to 64 letters, digits, \"-\" and \"_\", not starting with \"-\"", name)
	}
	return nil
}

// LocalWorkspaces keeps the default workspace's state at the configured
// path and every other workspace's under
// <dir>/.adshift/workspaces/<name>/<base of path>, each with its own
// journal, backup, lock and plan keys.
type LocalWorkspaces struct {
	path string // the default workspace's state file
	dir  string // where .adshift/workspaces lives
}

var _ Workspaces = (*LocalWorkspaces)(nil)

// NewLocalWorkspaces returns the local workspaces whose default state file
// is path, the others under dir/.adshift/workspaces.
func NewLocalWorkspaces(dir, path string) *LocalWorkspaces {
	return &LocalWorkspaces{path: path, dir: dir}
}

// Root returns the directory that holds the non-default workspaces.
func (w *LocalWorkspaces) Root() string {
	return filepath.Join(w.dir, ".adshift", "workspaces")
}

// Path returns the state file of workspace name (which need not exist).
func (w *LocalWorkspaces) Path(name string) string {
	if name == DefaultWorkspace {
		return w.path
	}
	return filepath.Join(w.Root(), name, filepath.Base(w.path))
}

// Describe implements Workspaces.
func (w *LocalWorkspaces) Describe() string {
	return "local state " + w.path + " (other workspaces in " + w.Root() + ")"
}

// List implements Workspaces.
func (w *LocalWorkspaces) List(ctx context.Context) ([]string, error) {
	names := []string{DefaultWorkspace}
	ents, err := os.ReadDir(w.Root())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list workspaces in %s: %w", w.Root(), err)
	}
	for _, e := range ents {
		if e.IsDir() && e.Name() != DefaultWorkspace && CheckWorkspaceName(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Create implements Workspaces.
func (w *LocalWorkspaces) Create(ctx context.Context, name string) error {
	if err := CheckWorkspaceName(name); err != nil {
		return err
	}
	if name == DefaultWorkspace {
		return fmt.Errorf("workspace %q: %w", name, ErrWorkspaceExists)
	}
	if err := os.MkdirAll(w.Root(), 0o755); err != nil {
		return fmt.Errorf("create workspace %s: %w", name, describeFSError(err, w.Root()))
	}
	dir := filepath.Join(w.Root(), name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("workspace %q (%s): %w", name, dir, ErrWorkspaceExists)
		}
		return fmt.Errorf("create workspace %s: %w", name, describeFSError(err, dir))
	}
	return syncDir(w.Root())
}

// Delete implements Workspaces: it removes the workspace's directory.
func (w *LocalWorkspaces) Delete(ctx context.Context, name string) error {
	if name == DefaultWorkspace {
		return errors.New("the default workspace cannot be deleted")
	}
	if _, err := w.Backend(ctx, name); err != nil {
		return err
	}
	dir := filepath.Join(w.Root(), name)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("delete workspace %s: %w", name, err)
	}
	return syncDir(w.Root())
}

// Backend implements Workspaces; it returns a *Local.
func (w *LocalWorkspaces) Backend(ctx context.Context, name string) (Backend, error) {
	if err := CheckWorkspaceName(name); err != nil {
		return nil, err
	}
	if name != DefaultWorkspace {
		dir := filepath.Join(w.Root(), name)
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			return nil, fmt.Errorf("workspace %q (%s): %w", name, dir, ErrNoWorkspace)
		}
	}
	return NewLocal(w.Path(name)), nil
}

// ForceUnlock implements Workspaces with Local.ForceUnlock.
func (w *LocalWorkspaces) ForceUnlock(ctx context.Context, name, id string) error {
	b, err := w.Backend(ctx, name)
	if err != nil {
		return err
	}
	return b.(*Local).ForceUnlock(id)
}
