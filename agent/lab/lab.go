// Package lab is the agent's platform backend for a lab device: a
// directory standing for a computer. Its inventory comes from
// inventory.json in the directory (free disk space measured on it); each
// action it runs is appended to actions.log there, so tests and demos can
// see exactly what ran on the device.
//
// A lab device directory holds:
//
//	inventory.json   the platform facts a Windows registry would report
//	disk/            the device's files and folders; each carries its
//	                 Windows security descriptor in the security.NTACL
//	                 xattr, as Samba's file server keeps it
//	profiles.json    user profiles: [{"sid", "name", "path"}]
//	groups.json      local groups: [{"name", "sid", "members": [sid…]}]
//	samba/           the device's own Samba client configuration
//	                 (smb.conf) and private, state, cache, lock and pid
//	                 directories: its real domain membership
//	secrets.json     lab only: the passwords the device's platform would
//	                 hold (domain join and leave, its users' logons); never
//	                 sent to the hub
//	journal/         the ReACL rollback journal (reacl-NNNN.jnl, one per
//	                 generation, and its reacl-NNNN.summary.json);
//	                 join.json, the join actions' step journal; odj/, the
//	                 offline domain join blob staged for cutover
//	downloads/       files the download action fetched from the
//	                 repository, under their relative paths
//	credentials/     cached target credentials (cache.json, a Kerberos
//	                 ticket cache per user) and the krb5.conf used
//	restarts.log     one line per restart the device was told to make
//	repository/…     not here: the repository is a directory elsewhere
//	actions.log      one line per action run
//
// Actions are registered by name in actions (see the files beside this
// one); each is idempotent and resumable.
package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/adshift/adshift/agent"
	"github.com/adshift/adshift/hub/api"
)

// Files in a lab device directory.
const (
	InventoryFile = "inventory.json"
	ActionsLog    = "actions.log"
	DiskDir       = "disk"
	ProfilesFile  = "profiles.json"
	GroupsFile    = "groups.json"
	SambaDir      = "samba"
	SecretsFile   = "secrets.json"
	JournalDir    = "journal"
	CredentialDir = "credentials"
	RestartsLog   = "restarts.log"
)

// actionFunc runs one device action on the lab device b.
type actionFunc func(ctx context.Context, b *Backend, a api.Action, progress func(done, total int64)) (string, error)

// actions are the device actions by name; each file of the package adds
// its own in an init function.
var actions = map[string]actionFunc{}

// Backend is a lab device. It is safe for concurrent use.
type Backend struct {
	dir     string
	hubURLs []string
	mu      sync.Mutex // actions.log
	// reaclMu serialises reacl, cleanup and reacl_rollback (one journal).
	reaclMu sync.Mutex
	// scan caches the SIDs named by disk/'s descriptors (principals.go).
	scan principalScan

	jmu       sync.Mutex // joinCache, probes
	joinCache *joinCheck
	probes    *probeCache

	acts sync.Mutex // one join action at a time (they share journal/join.json)
}

var _ agent.Backend = (*Backend)(nil)

// New returns the backend for the device directory dir. hubURLs are the
// hubs the device's agent talks to: inventory probes their ports.
func New(dir string, hubURLs ...string) *Backend { return &Backend{dir: dir, hubURLs: hubURLs} }

// Dir is the device directory.
func (b *Backend) Dir() string { return b.dir }

// Run runs noop, echo or a registered device action. echo outputs params["message"], reporting
// params["steps"] steps of progress, and when params["wait_for"] names a
// file waits for it to exist first (so a test can stop an agent mid-job).
func (b *Backend) Run(ctx context.Context, a api.Action, progress func(done, total int64)) (string, error) {
	switch a.Name {
	case "noop":
		return "", b.log(a, "")
	case "echo":
		if p := a.Params["wait_for"]; p != "" {
			if err := waitFor(ctx, p); err != nil {
				return "", err
			}
		}
		steps, _ := strconv.ParseInt(a.Params["steps"], 10, 64)
		for i := int64(1); i <= steps; i++ {
			if progress != nil {
				progress(i, steps)
			}
		}
		msg := a.Params["message"]
		return msg, b.log(a, msg)
	}
	if f := actions[a.Name]; f != nil {
		if progress == nil {
			progress = func(int64, int64) {}
		}
		out, err := f(ctx, b, a, progress)
		if err != nil {
			return out, err
		}
		return out, b.log(a, out)
	}
	return "", fmt.Errorf("action %q is not implemented by the lab backend", a.Name)
}

// log appends a ran action to actions.log.
func (b *Backend) log(a api.Action, out string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, err := os.OpenFile(filepath.Join(b.dir, ActionsLog), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("lab actions log: %w", err)
	}
	_, err = fmt.Fprintf(f, "%s %s\n", a.Name, strconv.Quote(out))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// waitFor waits until path exists or ctx ends.
func waitFor(ctx context.Context, path string) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
