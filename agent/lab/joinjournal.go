package lab

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/internal/atomicfile"
)

// JoinJournalFile is the join actions' step journal, under journal/.
const JoinJournalFile = "join.json"

// joinJournal is journal/join.json: the steps each join action finished,
// so that a re-run after a crash skips them, and what the device staged
// and left behind. Every step still checks the device's real state
// before it acts; the journal saves the checks that are not free.
type joinJournal struct {
	// Actions are the last run of each action, by name.
	Actions map[string]*journalEntry `json:"actions,omitempty"`
	// Staged is the offline domain join blob offline_domain_join staged
	// for cutover; nil when none is.
	Staged *stagedBlob `json:"staged,omitempty"`
	// Source is the domain cutover left, for rollback to return to.
	Source *SambaConfig `json:"source,omitempty"`
}

// journalEntry is one action's progress. Params is a digest of the
// action's parameters: a run with other parameters starts afresh.
type journalEntry struct {
	Params string   `json:"params"`
	Steps  []string `json:"steps,omitempty"`
	Done   bool     `json:"done,omitempty"`
	Output string   `json:"output,omitempty"`
	// Join says how cutover joined the target.
	Join string `json:"join,omitempty"`
	// NoticeUntil is when cutover's restart notice ends.
	NoticeUntil time.Time `json:"notice_until,omitzero"`
	Finished    time.Time `json:"finished,omitzero"`
}

// stagedBlob is a validated ODJ file copied into the device.
type stagedBlob struct {
	Path    string `json:"path"` // in the device directory
	From    string `json:"from"` // the repository path it came from
	SHA256  string `json:"sha256"`
	Machine string `json:"machine"`
	Domain  string `json:"domain"`
}

func (b *Backend) journalPath() string { return filepath.Join(b.dir, JournalDir, JoinJournalFile) }

// readJournal reads journal/join.json (missing: empty).
func (b *Backend) readJournal() (*joinJournal, error) {
	j := &joinJournal{}
	data, err := os.ReadFile(b.journalPath())
	if errors.Is(err, os.ErrNotExist) {
		j.Actions = map[string]*journalEntry{}
		return j, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lab join journal: %w", err)
	}
	if err := json.Unmarshal(data, j); err != nil {
		return nil, fmt.Errorf("lab join journal %s: %w (move it aside to start the join actions afresh)", b.journalPath(), err)
	}
	if j.Actions == nil {
		j.Actions = map[string]*journalEntry{}
	}
	return j, nil
}

// writeJournal replaces journal/join.json.
func (b *Backend) writeJournal(j *joinJournal) error {
	if err := os.MkdirAll(filepath.Join(b.dir, JournalDir), 0o755); err != nil {
		return fmt.Errorf("lab join journal: %w", err)
	}
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return fmt.Errorf("lab join journal: %w", err)
	}
	return atomicfile.Write(b.journalPath(), append(data, '\n'), 0o644)
}

// paramsDigest is a digest of an action's parameters, in key order.
func paramsDigest(a api.Action) string {
	keys := make([]string, 0, len(a.Params))
	for k := range a.Params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%q=%q\n", k, a.Params[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// joinRun is one action's run against the journal: it knows which steps are
// done and records each one as it finishes.
type joinRun struct {
	b     *Backend
	j     *joinJournal
	name  string
	entry *journalEntry
}

// startRun opens the journal entry of a; with other parameters than the
// last run's, the steps start afresh.
func (b *Backend) startRun(a api.Action) (*joinRun, error) {
	j, err := b.readJournal()
	if err != nil {
		return nil, err
	}
	digest := paramsDigest(a)
	e := j.Actions[a.Name]
	if e == nil || e.Params != digest {
		e = &journalEntry{Params: digest}
		j.Actions[a.Name] = e
	}
	return &joinRun{b: b, j: j, name: a.Name, entry: e}, nil
}

// done says whether step finished in this run or an earlier one.
func (r *joinRun) done(step string) bool { return slices.Contains(r.entry.Steps, step) }

// mark records step as finished.
func (r *joinRun) mark(step string) error {
	if !r.done(step) {
		r.entry.Steps = append(r.entry.Steps, step)
	}
	return r.b.writeJournal(r.j)
}

// finish records the action as done with its output.
func (r *joinRun) finish(out string) error {
	r.entry.Done, r.entry.Output, r.entry.Finished = true, out, time.Now().UTC()
	return r.b.writeJournal(r.j)
}

// stillDone says whether a finished run's result holds: the device's
// smb.conf (cur) is want and net ads testjoin says so. When it does not
// (the device was moved since), the run starts afresh.
func (r *joinRun) stillDone(ctx context.Context, cur, want SambaConfig) (bool, error) {
	if cur == want {
		ok, _, err := r.b.testJoin(ctx, want, false)
		if err != nil || ok {
			return ok, err
		}
	}
	*r.entry = journalEntry{Params: r.entry.Params}
	return false, nil
}

// save writes the journal as it is.
func (r *joinRun) save() error { return r.b.writeJournal(r.j) }

// switchTo points the device's smb.conf at c, unless this run did.
func (r *joinRun) switchTo(c SambaConfig) error {
	if r.done("switch") {
		return nil
	}
	if err := WriteSambaConfig(r.b.dir, c); err != nil {
		return err
	}
	r.b.forgetJoin()
	return r.mark("switch")
}

// forget drops another action's entry: after a rollback a cutover must
// run again in full, and the other way round.
func (r *joinRun) forget(action string) { delete(r.j.Actions, action) }
