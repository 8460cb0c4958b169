package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/adshift/adshift/internal/atomicfile"
	"github.com/adshift/adshift/reacl"
)

// reACLRollback restores every item of every generation not rolled back,
// newest generation first, and marks them rolled back. An item holding
// neither what reacl wrote nor its original (changed since by someone
// else) is a conflict: it is left alone and named in the error; its
// generation stays unmarked and older ones are not touched, so that a
// later rollback resumes there.
func (b *Backend) reACLRollback(ctx context.Context, progress func(done, total int64)) (string, error) {
	out, err := b.reACLRollbackLocked(ctx, progress)
	if err != nil {
		err = fmt.Errorf("reacl_rollback of %s: %w", b.dir, err)
	}
	return out, err
}

func (b *Backend) reACLRollbackLocked(ctx context.Context, progress func(done, total int64)) (string, error) {
	b.reaclMu.Lock()
	defer b.reaclMu.Unlock()
	defer b.scan.invalidate()
	unlock, err := lockJournal(filepath.Join(b.dir, JournalDir))
	if err != nil {
		return "", err
	}
	defer unlock()
	j, err := openJournal(filepath.Join(b.dir, JournalDir))
	if err != nil {
		return "", err
	}
	gens := j.active()
	var total int64
	for _, g := range gens {
		total += int64(len(g.items))
	}
	rep := newProgress(progress, total)
	var done int64
	restored, already, missing := 0, 0, 0
	var conflicts []string
	var names []string
	for _, g := range gens {
		gconf := 0
		for i := len(g.items) - 1; i >= 0; i-- {
			if done%reACLBatch == 0 {
				rep.report(done)
				if err := ctx.Err(); err != nil {
					return "", fmt.Errorf("interrupted after %d of %d items (run it again to finish): %w", done, total, err)
				}
			}
			done++
			it := g.items[i]
			r, err := b.restore(it)
			switch {
			case err != nil:
				gconf++
				if len(conflicts) < 5 {
					conflicts = append(conflicts, fmt.Sprintf("%s: %v", it.Path, err))
				}
			case r == restoreDone:
				restored++
			case r == restoreAlready:
				already++
			case r == restoreMissing:
				missing++
			}
		}
		if gconf > 0 {
			// Older generations hold the states this one's items go
			// back to: rolling them back now would leave this one's
			// unfinished items at their translated bytes when it is
			// retried. Stop here; a retry resumes with this one.
			break
		}
		now := time.Now().UTC().Format(time.RFC3339)
		if err := g.mark(journalRec{K: recRolledBack, Time: now}); err != nil {
			return "", err
		}
		_ = g.close()
		g.rolledBack = true
		names = append(names, g.name)
		sum := journalSummary{Generation: g.name, Action: g.key.Action, Mode: g.key.Mode, Journaled: len(g.items)}
		if _, err := readJSON(filepath.Join(j.dir, g.name+".summary.json"), &sum); err != nil {
			return "", err
		}
		sum.RolledBack, sum.Time = true, now
		if err := writeSummary(j.dir, sum); err != nil {
			return "", err
		}
	}
	rep.report(total)
	line := fmt.Sprintf("reacl_rollback: %d items, %d restored, %d already original, %d missing, %d conflicts (rolled back: %s)",
		total, restored, already, missing, len(conflicts), strings.Join(names, ", "))
	if len(names) == 0 {
		line = fmt.Sprintf("reacl_rollback: %d items, %d restored, %d already original, %d missing, %d conflicts (nothing to roll back)",
			total, restored, already, missing, len(conflicts))
	}
	if len(conflicts) > 0 {
		return line, fmt.Errorf("items changed since reacl were left alone: %s; restore them by hand (the journal %s holds their originals) or rerun reacl_rollback after putting back what reacl wrote",
			strings.Join(conflicts, "; "), JournalDir)
	}
	return line, nil
}

type restoreResult int

const (
	restoreDone restoreResult = iota
	restoreAlready
	restoreMissing
)

// restore puts one journaled item back.
func (b *Backend) restore(it journalItem) (restoreResult, error) {
	path := filepath.Join(b.dir, it.Path)
	var cur []byte
	var err error
	switch it.Kind {
	case itemXattr:
		cur, err = getNTACL(path, nil)
		if errors.Is(err, fs.ErrNotExist) {
			return restoreMissing, nil
		}
	case itemFile:
		cur, err = os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			cur, err = nil, nil
		}
	default:
		return 0, fmt.Errorf("unknown journal item kind %q", it.Kind)
	}
	if err != nil {
		return 0, err
	}
	switch {
	case bytes.Equal(cur, it.Orig):
		return restoreAlready, nil
	case bytes.Equal(cur, it.New):
	case it.Kind == itemXattr && sameDescriptor(cur, it.New):
	default:
		return 0, errors.New("changed since reacl")
	}
	if it.Kind == itemFile {
		return restoreDone, atomicfile.Write(path, it.Orig, 0o644)
	}
	return restoreDone, setNTACL(path, it.Orig)
}

// sameDescriptor reports whether two security.NTACL values hold the same
// descriptor in another layout (reacl.Rollback's rule).
func sameDescriptor(cur, written []byte) bool {
	c, err := DecodeNTACL(cur)
	if err != nil {
		return false
	}
	w, err := DecodeNTACL(written)
	if err != nil {
		return false
	}
	_, err = reacl.Rollback(c.SD, reacl.Record{Original: nil, Translated: w.SD})
	return err == nil
}
