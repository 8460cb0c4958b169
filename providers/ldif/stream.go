package ldif

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/adshift/adshift/dn"
	"github.com/adshift/adshift/providers"
)

// journalExists reports whether a journal of an interrupted apply may be
// waiting next to file; an unreadable one counts (loading reports it).
func journalExists(file string) bool {
	_, err := os.Lstat(JournalPath(file))
	return !errNotExist(err)
}

// streamFilter is the attrFilter of a streaming Discover: records outside
// the scope keep no values, the others only those Discover reports plus
// what classification, identity and token need.
type streamFilter struct {
	sel *selection
	d   dn.DN // the DN of the record being read
	err error // its parse error
}

func (f *streamFilter) keepRecord(dnStr string) bool {
	f.d, f.err = dn.Parse(dnStr)
	return f.err == nil && f.sel.inScope(f.d)
}

func (f *streamFilter) keepAttr(lower string) bool {
	switch lower {
	case "objectclass", "objectguid", "objectsid", "usnchanged":
		return true
	}
	return f.sel.want == nil || f.sel.want[discoverName(lower)]
}

// streamLocked is Discover without a loaded snapshot: one pass over the
// file, emitting batches as entries are read, with the classification,
// scope, attribute names and values, GUID/SID and tokens of the loaded
// path, and the errors loading would report (at the entry where they
// occur; objects before it may have been emitted). p.mu is held.
func (p *Provider) streamLocked(ctx context.Context, sel *selection, emit func([]providers.Object) error) error {
	file := p.file
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("discover: %w", err)
	}
	defer f.Close()
	name := filepath.Base(file)
	hint := 0
	if fi, err := f.Stat(); err == nil {
		hint = int(min(fi.Size()/1024, 1<<20)) // ldifde entries run 0.5-2 KB
	}
	filter := &streamFilter{sel: sel}
	r := NewReader(f, name, ReaderOptions{AllowFileURLs: true, BaseDir: filepath.Dir(file)})
	r.filter = filter
	seen := make(map[string]struct{}, hint)
	out := newBatcher(emit)
	fail := func(err error) error { return fmt.Errorf("read %s: %w", file, err) }
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out.flush()
		}
		if err != nil {
			return fail(err)
		}
		if !rec.IsEntry() {
			return fail(notEntryError(name, rec))
		}
		if r.filter == nil { // switched off below
			filter.keepRecord(rec.DN)
		}
		if filter.err != nil {
			return fail(&Error{File: name, Line: rec.Line, Msg: filter.err.Error()})
		}
		e := entry{dn: filter.d, dnStr: rec.DN, key: filter.d.Key(), attrs: rec.Attrs}
		if _, dup := seen[e.key]; dup {
			return fail(&Error{File: name, Line: rec.Line, Msg: fmt.Sprintf("entry %q appears twice; keep one of them", rec.DN)})
		}
		seen[e.key] = struct{}{}
		if !sel.inScope(e.dn) {
			continue
		}
		kind, ok := classify(&e)
		if !ok || !sel.keepKind(kind) {
			continue
		}
		if r.dropped > 0 && e.first("uSNChanged") == "" {
			// The token is a hash of the whole entry: read it again in
			// full. An export without uSNChanged lacks it throughout, so
			// keep everything from here on.
			full, err := r.reread(f, rec.Line)
			if err != nil {
				return fail(err)
			}
			if full.DN != rec.DN {
				return fail(&Error{File: name, Line: rec.Line, Msg: "the file changed while it was read; run again"})
			}
			e.attrs = full.Attrs
			r.filter = nil
		}
		setIdentity(&e)
		if err := out.add(toObject(&e, kind, sel.want, sel.names)); err != nil {
			return err
		}
	}
}

// setIdentity sets the decoded objectGUID and objectSid of e as
// store.index does.
func setIdentity(e *entry) {
	for i := range e.attrs {
		a := &e.attrs[i]
		if len(a.Values) == 0 {
			continue
		}
		switch {
		case strings.EqualFold(a.Name, "objectGUID"):
			e.guidStr, _ = DecodeIdentity("objectguid", a.Values[0])
		case strings.EqualFold(a.Name, "objectSid"):
			e.sidStr, _ = DecodeIdentity("objectsid", a.Values[0])
		}
	}
}
