package ldif

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
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
	sel   *selection
	scope keyScope
	key   string // the DN key of the record being read
	err   error  // its DN's parse error
	in    bool   // whether it is in scope
	// trustOnly marks a record kept only because it may be a trust
	// (directly under CN=System of the base, outside the OU scope).
	trustOnly bool
}

func (f *streamFilter) keepRecord(dnStr string) bool {
	f.key, f.err = dn.Key(dnStr) // one allocation for a plain DN, no parse tree
	f.in = f.err == nil && f.scope.contains(f.key)
	f.trustOnly = false
	if !f.in && f.err == nil && f.sel.systemKey != "" && dn.ParentKey(f.key) == f.sel.systemKey {
		f.in, f.trustOnly = true, true
	}
	return f.in
}

// keyScope is a selection's scope as DN keys. Keys compare as DNs do
// (dn: two DNs are Equal exactly when their keys are), a key is its RDNs'
// keys joined by unescaped commas, and the AVAs of a multi-valued RDN are
// joined by '+', so "in the subtree of" is "is, or ends with a comma and,
// the base key": inScope on keys, without parsing every entry's DN.
type keyScope struct {
	base               string
	includes, excludes []string
}

func newKeyScope(sel *selection) keyScope {
	ks := keyScope{base: sel.base.Key()}
	for _, d := range sel.includes {
		ks.includes = append(ks.includes, d.Key())
	}
	for _, d := range sel.excludes {
		ks.excludes = append(ks.excludes, d.Key())
	}
	return ks
}

func (s *keyScope) contains(key string) bool {
	if !inSubtreeKey(key, s.base) {
		return false
	}
	if len(s.includes) > 0 {
		in := false
		for _, inc := range s.includes {
			if inSubtreeKey(key, inc) {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	for _, ex := range s.excludes {
		if inSubtreeKey(key, ex) {
			return false
		}
	}
	return true
}

// inSubtreeKey is dn.DN.InSubtree on keys.
func inSubtreeKey(key, base string) bool {
	if base == "" || key == base {
		return true // every DN is in the subtree of the zero DN
	}
	n := len(key) - len(base)
	if n < 2 || key[n-1] != ',' || !strings.HasSuffix(key, base) {
		return false
	}
	// The comma separates RDNs unless escaped: preceded by an odd number
	// of backslashes (keys escape with "\c" and "\hh" only).
	bs := 0
	for i := n - 2; i >= 0 && key[i] == '\\'; i-- {
		bs++
	}
	return bs%2 == 0
}

// keySet holds the DN keys seen, to find an entry that appears twice, in
// pointer-free memory (the garbage collector does not scan it): a map from
// hash to the key's place in one byte arena.
type keySet struct {
	seed  maphash.Seed
	at    map[uint64]uint32 // hash -> index in ends
	ends  []uint32          // end offsets of the keys in arena
	arena []byte
	more  map[string]struct{} // keys whose hash another key had first
}

func newKeySet(hint int) *keySet {
	return &keySet{seed: maphash.MakeSeed(), at: make(map[uint64]uint32, hint), ends: make([]uint32, 0, hint),
		arena: make([]byte, 0, 64*hint)}
}

// add adds key and reports whether it was there already.
func (s *keySet) add(key string) bool {
	h := maphash.String(s.seed, key)
	i, ok := s.at[h]
	if !ok {
		if uint64(len(s.arena))+uint64(len(key)) <= math.MaxUint32 {
			s.arena = append(s.arena, key...)
			s.ends = append(s.ends, uint32(len(s.arena)))
			s.at[h] = uint32(len(s.ends) - 1)
			return false
		}
	} else {
		start := uint32(0)
		if i > 0 {
			start = s.ends[i-1]
		}
		if string(s.arena[start:s.ends[i]]) == key {
			return true
		}
	}
	if s.more == nil {
		s.more = make(map[string]struct{})
	}
	if _, dup := s.more[key]; dup {
		return true
	}
	s.more[key] = struct{}{}
	return false
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
	filter := &streamFilter{sel: sel, scope: newKeyScope(sel)}
	r := NewReader(f, name, ReaderOptions{AllowFileURLs: true, BaseDir: filepath.Dir(file)})
	r.filter = filter
	seen := newKeySet(hint)
	out := newBatcher(emit)
	fail := func(err error) error { return fmt.Errorf("read %s: %w", file, err) }
	var unclassified error
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			if unclassified != nil {
				return fail(unclassified)
			}
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
		e := entry{dnStr: rec.DN, key: filter.key, attrs: rec.Attrs}
		if seen.add(e.key) {
			return fail(&Error{File: name, Line: rec.Line, Msg: fmt.Sprintf("entry %q appears twice; keep one of them", rec.DN)})
		}
		if !filter.in {
			continue
		}
		kind, ok := classify(&e)
		if filter.trustOnly && kind != providers.KindTrust {
			continue
		}
		if !ok && e.get("objectClass") == nil {
			// Reported at the end, so that a damaged entry further on
			// (which loading reports first) takes precedence.
			if unclassified == nil {
				unclassified = unclassifiedError(name, rec.Line, rec.DN)
			}
			continue
		}
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
