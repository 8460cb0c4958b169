package lab

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/adshift/adshift/adid"
	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/internal/atomicfile"
	"github.com/adshift/adshift/reacl"
)

// ReACL of a lab device. reacl (and cleanup, which is reacl in remove
// mode) translates, with package reacl:
//
//   - the security.NTACL xattr of disk/ and of every folder and file
//     below it (symlinks and items without the xattr are skipped);
//   - profiles.json, the way ADMT re-points ProfileList: add gives a
//     mapped user's profile a second entry for the target SID, same name
//     and path (both accounts log on to the same profile); replace
//     re-points the entry to the target SID (dropping it when the target
//     already has one); remove drops the source entry when the target has
//     one, and keeps it otherwise;
//   - groups.json: each local group's members, with the same rules as
//     ACEs (add puts the target right after the source, replace swaps
//     in place, remove drops a source whose target is a member).
//
// Every change is journaled first (see acljournal.go); runs are
// idempotent and resumable: items are translated from what they hold now,
// a translated item translates to itself, and an item already journaled
// in the generation is not journaled again.

func init() {
	actions[api.ActionReACL] = func(ctx context.Context, b *Backend, a api.Action, progress func(done, total int64)) (string, error) {
		mode, err := reacl.ParseMode(a.Params[api.ParamMode])
		if err != nil {
			return "", fmt.Errorf("reacl of %s: param %q: %w", b.dir, api.ParamMode, err)
		}
		return b.reACL(ctx, api.ActionReACL, mode, a.Params[api.ParamSIDMap], progress)
	}
	actions[api.ActionCleanup] = func(ctx context.Context, b *Backend, a api.Action, progress func(done, total int64)) (string, error) {
		if m := a.Params[api.ParamMode]; m != "" && m != "remove" {
			return "", fmt.Errorf("cleanup of %s: param %q is %q; cleanup always removes source SIDs (mode remove)", b.dir, api.ParamMode, m)
		}
		return b.reACL(ctx, api.ActionCleanup, reacl.ModeRemove, a.Params[api.ParamSIDMap], progress)
	}
	actions[api.ActionReACLRollback] = func(ctx context.Context, b *Backend, _ api.Action, progress func(done, total int64)) (string, error) {
		return b.reACLRollback(ctx, progress)
	}
}

// parseSIDMap reads the sid_map parameter: one SOURCE=TARGET pair per
// line, blank lines ignored. It returns the map and a digest of its
// normalised pairs, which tells journal generations apart.
func parseSIDMap(s string) (*reacl.Map, string, error) {
	m := reacl.NewMap()
	var pairs []string
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		src, tgt, ok := strings.Cut(line, "=")
		if !ok {
			return nil, "", fmt.Errorf("param %q line %d: %q is not SOURCE=TARGET", api.ParamSIDMap, i+1, line)
		}
		from, err := adid.ParseSID(strings.TrimSpace(src))
		if err != nil {
			return nil, "", fmt.Errorf("param %q line %d: source: %w", api.ParamSIDMap, i+1, err)
		}
		to, err := adid.ParseSID(strings.TrimSpace(tgt))
		if err != nil {
			return nil, "", fmt.Errorf("param %q line %d: target: %w", api.ParamSIDMap, i+1, err)
		}
		if err := m.Add(from, to); err != nil {
			return nil, "", fmt.Errorf("param %q line %d: %w", api.ParamSIDMap, i+1, err)
		}
		pairs = append(pairs, from.String()+"="+to.String())
	}
	if m.Len() == 0 {
		return nil, "", fmt.Errorf("param %q is empty: give one SOURCE-SID=TARGET-SID pair per line", api.ParamSIDMap)
	}
	slices.Sort(pairs)
	pairs = slices.Compact(pairs)
	sum := sha256.Sum256([]byte(strings.Join(pairs, "\n")))
	return m, hex.EncodeToString(sum[:]), nil
}

// reACLStats counts a run's items.
type reACLStats struct {
	items, changed, unchanged, skipped, failed, journaled int
	failures                                              []string
	// unmapped are the source-domain SIDs descriptors name that the map
	// does not translate (their access is lost at cutover), each once.
	unmapped    []adid.SID
	unmappedSet map[adid.SID]bool
}

func (s *reACLStats) noteUnmapped(sids []adid.SID) {
	for _, u := range sids {
		if !s.unmappedSet[u] {
			if s.unmappedSet == nil {
				s.unmappedSet = map[adid.SID]bool{}
			}
			s.unmappedSet[u] = true
			s.unmapped = append(s.unmapped, u)
		}
	}
}

// unmappedNote is the summary's note on unmapped SIDs: how many, the
// first three named.
func (s *reACLStats) unmappedNote() string {
	if len(s.unmapped) == 0 {
		return ""
	}
	var names []string
	for _, u := range s.unmapped[:min(3, len(s.unmapped))] {
		names = append(names, u.String())
	}
	more := ""
	if len(s.unmapped) > 3 {
		more = ", …"
	}
	return fmt.Sprintf("; %d source SIDs without a mapping keep only their source access (%s%s)", len(s.unmapped), strings.Join(names, ", "), more)
}

func (s *reACLStats) fail(path string, err error) {
	s.failed++
	if len(s.failures) < 5 {
		s.failures = append(s.failures, fmt.Sprintf("%s: %v", path, err))
	}
}

// reACLBatch is how many disk items are read and journaled before any of
// them is written: one fsync per batch.
const reACLBatch = 512

// pendingXattr is a translated item waiting for its journal record to be
// durable.
type pendingXattr struct {
	rel       string
	orig, new []byte
}

// reACLRun is one run of reacl or cleanup over a device.
type reACLRun struct {
	b       *Backend
	g       *generation
	m       *reacl.Map
	mode    reacl.Mode
	tr      *reacl.Translator
	st      reACLStats
	pending []pendingXattr
	buf     []byte // the xattr read buffer
	out     []byte // the translator's output buffer
}

func (b *Backend) reACL(ctx context.Context, action string, mode reacl.Mode, sidMap string, progress func(done, total int64)) (string, error) {
	out, err := b.reACLLocked(ctx, action, mode, sidMap, progress)
	if err != nil {
		err = fmt.Errorf("%s of %s: %w", action, b.dir, err)
	}
	return out, err
}

func (b *Backend) reACLLocked(ctx context.Context, action string, mode reacl.Mode, sidMap string, progress func(done, total int64)) (string, error) {
	m, digest, err := parseSIDMap(sidMap)
	if err != nil {
		return "", err
	}
	tr, err := reacl.NewTranslator(m, reacl.Options{Mode: mode})
	if err != nil {
		return "", err
	}
	b.reaclMu.Lock()
	defer b.reaclMu.Unlock()
	defer b.scan.invalidate()
	unlock, err := lockJournal(filepath.Join(b.dir, JournalDir))
	if err != nil {
		return "", err
	}
	defer unlock()

	items, err := b.diskItems()
	if err != nil {
		return "", err
	}
	j, err := openJournal(filepath.Join(b.dir, JournalDir))
	if err != nil {
		return "", err
	}
	g, err := j.generationFor(journalKey{action, mode.String(), digest}, time.Now())
	if err != nil {
		return "", err
	}
	defer g.close()

	r := &reACLRun{b: b, g: g, m: m, mode: mode, tr: tr, st: reACLStats{items: len(items) + 2}}
	rep := newProgress(progress, int64(r.st.items))
	for i, rel := range items {
		if i%reACLBatch == 0 {
			if err := r.flush(); err != nil {
				return "", err
			}
			rep.report(int64(i))
			if err := ctx.Err(); err != nil {
				return "", fmt.Errorf("interrupted after %d of %d items (run it again to finish): %w", i, len(items), err)
			}
		}
		r.item(rel)
	}
	if err := r.flush(); err != nil {
		return "", err
	}
	if err := r.file(ProfilesFile, translateProfiles); err != nil {
		return "", err
	}
	if err := r.file(GroupsFile, translateGroups); err != nil {
		return "", err
	}
	rep.report(int64(r.st.items))
	st := &r.st
	now := time.Now().UTC().Format(time.RFC3339)
	if err := g.mark(journalRec{K: recEnd, Items: st.items, Change: st.changed, Time: now}); err != nil {
		return "", err
	}
	sum := journalSummary{
		Generation: g.name, Action: action, Mode: mode.String(), Items: st.items, Changed: st.changed,
		Unchanged: st.unchanged, Skipped: st.skipped, Failed: st.failed, Journaled: len(g.items), Time: now,
	}
	for _, u := range st.unmapped[:min(100, len(st.unmapped))] {
		sum.Unmapped = append(sum.Unmapped, u.String())
	}
	if err := writeSummary(j.dir, sum); err != nil {
		return "", err
	}
	line := fmt.Sprintf("%s %s: %d items, %d changed, %d unchanged, %d skipped, %d failed (journal %s)%s",
		action, mode, st.items, st.changed, st.unchanged, st.skipped, st.failed, g.name, st.unmappedNote())
	if st.failed > 0 {
		return line, fmt.Errorf("%d items could not be translated and are unchanged: %s; fix them and run %s again",
			st.failed, strings.Join(st.failures, "; "), action)
	}
	return line, nil
}

// item reads and translates one disk item; a changed one waits in
// pending for the next flush.
func (r *reACLRun) item(rel string) {
	raw, err := getNTACL(filepath.Join(r.b.dir, rel), r.buf)
	if err != nil {
		r.st.fail(rel, err)
		return
	}
	if raw == nil {
		r.st.skipped++
		return
	}
	r.buf = raw
	n, err := DecodeNTACL(raw)
	if err != nil {
		r.st.fail(rel, err)
		return
	}
	var rpt *reacl.Report
	r.out, rpt, err = r.tr.TranslateBinary(r.out[:0], n.SD)
	if err != nil {
		r.st.fail(rel, err)
		return
	}
	r.st.noteUnmapped(rpt.Unmapped)
	if !rpt.Changed {
		r.st.unchanged++
		return
	}
	enc, err := n.WithSD(r.out).Encode()
	if err != nil {
		r.st.fail(rel, err)
		return
	}
	r.pending = append(r.pending, pendingXattr{rel: rel, orig: bytes.Clone(raw), new: enc})
}

// flush journals the pending items not journaled yet in this generation,
// makes the journal durable, then writes the items.
func (r *reACLRun) flush() error {
	if len(r.pending) == 0 {
		return nil
	}
	for _, p := range r.pending {
		if !r.g.has(itemXattr, p.rel) {
			if err := r.g.add(itemXattr, p.rel, p.orig, p.new); err != nil {
				return err
			}
			r.st.journaled++
		}
	}
	if err := r.g.sync(); err != nil {
		return err
	}
	for _, p := range r.pending {
		if err := setNTACL(filepath.Join(r.b.dir, p.rel), p.new); err != nil {
			r.st.fail(p.rel, err)
			continue
		}
		r.st.changed++
	}
	r.pending = r.pending[:0]
	return nil
}

// file translates profiles.json or groups.json: one item each.
func (r *reACLRun) file(name string, translate func([]byte, *reacl.Map, reacl.Mode) ([]byte, int, error)) error {
	path := filepath.Join(r.b.dir, name)
	orig, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		r.st.skipped++
		return nil
	}
	if err != nil {
		return err
	}
	out, n, err := translate(orig, r.m, r.mode)
	if err != nil {
		r.st.fail(name, err)
		return nil
	}
	if n == 0 {
		r.st.unchanged++
		return nil
	}
	if !r.g.has(itemFile, name) {
		if err := r.g.add(itemFile, name, orig, out); err != nil {
			return err
		}
		r.st.journaled++
		if err := r.g.sync(); err != nil {
			return err
		}
	}
	if err := atomicfile.Write(path, out, 0o644); err != nil {
		r.st.fail(name, err)
		return nil
	}
	r.st.changed++
	return nil
}

// diskItems lists disk/ and everything below it that may carry a
// descriptor (folders and regular files), relative to the device
// directory, in walk order. A missing disk/ is no items.
func (b *Backend) diskItems() ([]string, error) {
	root := filepath.Join(b.dir, DiskDir)
	var items []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(b.dir, p)
		if err != nil {
			return err
		}
		items = append(items, rel)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", root, err)
	}
	return items, nil
}

// translateSIDs translates a list of SIDs (group members, profile owners)
// with the rules of reacl's modes for ACEs; sid and with read and set the
// SID of an element. It returns the new list and how many elements were
// added, replaced, merged or removed.
func translateSIDs[T any](list []T, sid func(T) string, with func(T, adid.SID) T, m *reacl.Map, mode reacl.Mode) ([]T, int, error) {
	present := map[adid.SID]bool{}
	parsed := make([]adid.SID, len(list))
	for i, e := range list {
		s, err := adid.ParseSID(sid(e))
		if err != nil {
			return nil, 0, err
		}
		parsed[i] = s
		present[s] = true
	}
	var out []T
	changes := 0
	for i, e := range list {
		to, ok := m.Lookup(parsed[i])
		if !ok {
			out = append(out, e)
			continue
		}
		switch mode {
		case reacl.ModeAdd:
			out = append(out, e)
			if !present[to] {
				out = append(out, with(e, to))
				present[to] = true
				changes++
			}
		case reacl.ModeReplace:
			if !present[to] {
				out = append(out, with(e, to))
				present[to] = true
			}
			changes++
		case reacl.ModeRemove:
			if present[to] {
				changes++
			} else {
				out = append(out, e)
			}
		}
	}
	return out, changes, nil
}

func translateProfiles(data []byte, m *reacl.Map, mode reacl.Mode) ([]byte, int, error) {
	var ps []Profile
	if err := json.Unmarshal(data, &ps); err != nil {
		return nil, 0, err
	}
	out, n, err := translateSIDs(ps, func(p Profile) string { return p.SID },
		func(p Profile, s adid.SID) Profile { p.SID = s.String(); return p }, m, mode)
	if err != nil || n == 0 {
		return nil, 0, err
	}
	enc, err := jsonIndent(out)
	return enc, n, err
}

func translateGroups(data []byte, m *reacl.Map, mode reacl.Mode) ([]byte, int, error) {
	var gs []LocalGroup
	if err := json.Unmarshal(data, &gs); err != nil {
		return nil, 0, err
	}
	total := 0
	for i := range gs {
		out, n, err := translateSIDs(gs[i].Members, func(s string) string { return s },
			func(_ string, s adid.SID) string { return s.String() }, m, mode)
		if err != nil {
			return nil, 0, fmt.Errorf("group %q: %w", gs[i].Name, err)
		}
		if n > 0 {
			gs[i].Members = out
			total += n
		}
	}
	if total == 0 {
		return nil, 0, nil
	}
	enc, err := jsonIndent(gs)
	return enc, total, err
}

// progressReporter calls progress at most every 1% of total or 200 ms.
type progressReporter struct {
	f     func(done, total int64)
	total int64
	step  int64
	last  int64
	at    time.Time
}

func newProgress(f func(done, total int64), total int64) *progressReporter {
	return &progressReporter{f: f, total: total, step: max(1, total/100), last: -1}
}

func (p *progressReporter) report(done int64) {
	if done != p.total && p.last >= 0 && done-p.last < p.step && time.Since(p.at) < 200*time.Millisecond {
		return
	}
	if done == p.last {
		return
	}
	p.last, p.at = done, time.Now()
	p.f(done, p.total)
}
