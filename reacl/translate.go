package reacl

import (
	"bytes"
	"errors"
	"fmt"
)

//go:generate stringer -type=Mode,Action,Component -linecomment

// Mode is an ADMT security translation mode.
type Mode uint8

// Translation modes.
const (
	// ModeAdd keeps every source ACE and adds an equal ACE for the target
	// SID right after it (coexistence: both accounts have the same access).
	// Repeatable: a target ACE that already exists is not added again.
	ModeAdd Mode = iota + 1 // add
	// ModeReplace swaps the source SID for the target SID in place. A
	// source ACE whose target twin already exists is dropped instead, so
	// replace after add leaves no duplicates.
	ModeReplace // replace
	// ModeRemove drops source ACEs whose target twin exists (cleanup after
	// cutover). A source ACE without a target twin is kept and reported.
	ModeRemove // remove
)

// Inverse returns the mode that undoes m when run with the reversed map:
// remove undoes add (it drops the added target ACEs, whose source twins are
// still there), replace undoes replace, add undoes remove.
func (m Mode) Inverse() Mode {
	switch m {
	case ModeAdd:
		return ModeRemove
	case ModeRemove:
		return ModeAdd
	}
	return m
}

// MarshalText implements encoding.TextMarshaler ("add", …).
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := ParseMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// MarshalText implements encoding.TextMarshaler ("added", …), so reports
// read well as JSON.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// MarshalText implements encoding.TextMarshaler ("owner", "DACL", …).
func (c Component) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// ParseMode parses "add", "replace" or "remove".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "add":
		return ModeAdd, nil
	case "replace":
		return ModeReplace, nil
	case "remove":
		return ModeRemove, nil
	}
	return 0, fmt.Errorf("unknown reacl mode %q (want add, replace or remove)", s)
}

// ErrMapConflict reports a source SID mapped to two different targets.
var ErrMapConflict = errors.New("conflicting SID mapping")

// Map maps source SIDs to target SIDs. It is built from the matched users
// and groups in state: each pair's objectSid, plus every sIDHistory value of
// the source object (a SID it carried from an earlier migration, which ACLs
// may still name). It also knows the source domains, so that translation
// can report source-domain SIDs that have no mapping.
//
// A Map is not safe for concurrent modification; once built, concurrent
// lookups (and concurrent Translators sharing it) are safe.
type Map struct {
	m       map[SID]SID
	targets map[SID]struct{}
	domains map[SID]struct{}
	// other counts sources that are not domain account SIDs; while it is
	// zero, lookups of well-known SIDs (SY, BA, CO, …) are skipped.
	other int
}

// NewMap returns an empty map.
func NewMap() *Map {
	return &Map{m: make(map[SID]SID), targets: make(map[SID]struct{}), domains: make(map[SID]struct{})}
}

// Add maps source to target and records source's domain as a source
// domain. Adding the same pair twice is a no-op; mapping a source to a
// second, different target fails with ErrMapConflict, and so do chains (a
// target that is also a source, or the reverse): translation is one step,
// and remove mode could otherwise drop an ACE whose twin is dropped too.
func (m *Map) Add(source, target SID) error {
	if source.IsZero() || target.IsZero() {
		return fmt.Errorf("map %s to %s: zero SID", source, target)
	}
	if old, ok := m.m[source]; ok {
		if old != target {
			return fmt.Errorf("%w: %s maps to %s and %s", ErrMapConflict, source, old, target)
		}
		return nil
	}
	if _, ok := m.targets[source]; ok {
		return fmt.Errorf("%w: %s is already a target", ErrMapConflict, source)
	}
	if _, ok := m.m[target]; ok || source == target {
		return fmt.Errorf("%w: %s is already a source", ErrMapConflict, target)
	}
	m.m[source] = target
	m.targets[target] = struct{}{}
	if !source.IsDomainAccount() {
		m.other++
	}
	if d, ok := source.Domain(); ok && source.IsDomainAccount() {
		m.domains[d] = struct{}{}
	}
	return nil
}

// AddHistory maps each sIDHistory value of a source object to the target
// that object matched, as Add does.
func (m *Map) AddHistory(target SID, history ...SID) error {
	for _, h := range history {
		if err := m.Add(h, target); err != nil {
			return err
		}
	}
	return nil
}

// AddSourceDomain declares a source domain whose SIDs are reported when
// they have no mapping, even if no mapped SID comes from it.
func (m *Map) AddSourceDomain(domain SID) { m.domains[domain] = struct{}{} }

// Lookup returns the target of source.
func (m *Map) Lookup(source SID) (SID, bool) {
	if m.other == 0 && !source.IsDomainAccount() {
		return SID{}, false
	}
	t, ok := m.m[source]
	return t, ok
}

// Reverse returns the map from targets back to sources, for undoing a
// translation of a descriptor that changed since (see Rollback). It fails
// with ErrMapConflict when two sources share a target (an objectSid and its
// sIDHistory): the way back is then ambiguous.
func (m *Map) Reverse() (*Map, error) {
	r := NewMap()
	for s, t := range m.m {
		if old, ok := r.m[t]; ok {
			return nil, fmt.Errorf("%w: %s and %s both map to %s", ErrMapConflict, old, s, t)
		}
		r.m[t] = s
		r.targets[s] = struct{}{}
		if !t.IsDomainAccount() {
			r.other++
		}
		if t.IsDomainAccount() {
			d, _ := t.Domain()
			r.domains[d] = struct{}{}
		}
	}
	return r, nil
}

// Len returns the number of mapped SIDs.
func (m *Map) Len() int { return len(m.m) }

func (m *Map) isSource(s SID) bool {
	if !s.IsDomainAccount() {
		return false
	}
	d, _ := s.Domain()
	_, ok := m.domains[d]
	return ok
}

// Options configure a translation. Inherited ACEs (ID flag) are translated
// in place like explicit ones, so every descriptor of a tree can be
// rewritten on its own, without re-propagating inheritance from the root.
type Options struct {
	Mode Mode
	// SkipOwner and SkipGroup leave the owner and the primary group alone.
	// Otherwise a mapped owner or group is replaced in every mode: they hold
	// one SID only, so "add" cannot keep both.
	SkipOwner, SkipGroup bool
	// SkipSACL leaves the SACL alone (the agent may lack
	// SeSecurityPrivilege to write it).
	SkipSACL bool
}

// Action says what translation did to an ACE, owner or group:
//
//   - Added: an ACE for To was added after the ACE for From (add).
//   - Replaced: From was replaced by To (replace; owner and group in any mode).
//   - Removed: the ACE for From was dropped, its twin for To exists (remove).
//   - Merged: the ACE for From was dropped because an equal ACE for To
//     already existed (replace).
//   - Kept: the ACE for From was kept, no equal ACE for To exists (remove).
type Action uint8

// Actions.
const (
	Added    Action = iota + 1 // added
	Replaced                   // replaced
	Removed                    // removed
	Merged                     // merged
	Kept                       // kept
)

// Component names where a change happened.
type Component uint8

// Components.
const (
	InOwner Component = iota + 1 // owner
	InGroup                      // group
	InDACL                       // DACL
	InSACL                       // SACL
)

// Change is one entry of a Report.
type Change struct {
	In     Component
	Index  int // index of the ACE in the original ACL; 0 for owner and group
	Action Action
	From   SID
	To     SID
}

// Report says what a translation changed.
type Report struct {
	// Changed is false when the output equals the input.
	Changed bool
	// Counts of ACE actions (owner and group are not counted here).
	Added, Replaced, Removed, Merged, Kept int
	// Changes lists every action in order.
	Changes []Change
	// Unmapped lists source-domain SIDs found without a mapping (owner,
	// group and ACE trustees), each once, in order of first appearance.
	// Their access is unchanged: after cutover those principals lose it.
	Unmapped []SID
	// NonCanonicalDACL is set when the input DACL was not in canonical
	// order (explicit deny, explicit allow, then inherited). Translation
	// keeps the order it found; Windows tools may warn about such an ACL.
	NonCanonicalDACL bool
}

func (r *Report) reset() {
	changes, unmapped := r.Changes[:0], r.Unmapped[:0]
	*r = Report{Changes: changes, Unmapped: unmapped}
}

func (r *Report) unmapped(s SID) {
	for _, u := range r.Unmapped {
		if u == s {
			return
		}
	}
	r.Unmapped = append(r.Unmapped, s)
}

func (r *Report) add(c Change) {
	r.Changes = append(r.Changes, c)
	switch c.Action {
	case Added:
		r.Added++
	case Replaced:
		if c.In == InDACL || c.In == InSACL {
			r.Replaced++
		}
	case Removed:
		r.Removed++
	case Merged:
		r.Merged++
	case Kept:
		r.Kept++
	}
	if c.Action != Kept {
		r.Changed = true
	}
}

// clone returns a copy that does not share the Translator's buffers.
func (r *Report) clone() Report {
	c := *r
	c.Changes = append([]Change(nil), r.Changes...)
	c.Unmapped = append([]SID(nil), r.Unmapped...)
	return c
}

// Translator rewrites descriptors for one Map and Options, reusing its
// buffers between calls; it is the fast path for walking a file system.
// A Translator is not safe for concurrent use; use one per goroutine.
type Translator struct {
	m      *Map
	opts   Options
	d      Descriptor
	parse  parseScratch
	out    []ACE
	report Report
}

// NewTranslator returns a Translator. It fails for an unknown mode or a nil
// map.
func NewTranslator(m *Map, opts Options) (*Translator, error) {
	if m == nil {
		return nil, errors.New("new translator: nil map")
	}
	switch opts.Mode {
	case ModeAdd, ModeReplace, ModeRemove:
	default:
		return nil, fmt.Errorf("new translator: unknown mode %d", opts.Mode)
	}
	return &Translator{m: m, opts: opts}, nil
}

// TranslateBinary translates the self-relative descriptor src and appends
// the result to dst. When nothing changes, the appended bytes are src
// itself, byte for byte; otherwise the canonical encoding (see
// Descriptor.AppendBinary). The returned Report is owned by t and valid
// until the next call.
func (t *Translator) TranslateBinary(dst, src []byte) ([]byte, *Report, error) {
	t.report.reset()
	if cap(t.parse.aces) < 64 {
		t.parse.aces = make([]ACE, 0, 64)
	}
	if err := parseBinaryInto(&t.d, src, &t.parse); err != nil {
		return dst, &t.report, fmt.Errorf("translate: %w", err)
	}
	t.apply(&t.d)
	if !t.report.Changed {
		return append(dst, src...), &t.report, nil
	}
	out, err := t.d.AppendBinary(dst)
	if err != nil {
		return dst, &t.report, fmt.Errorf("translate: %w", err)
	}
	return out, &t.report, nil
}

// Translate returns a translated copy of d (d is not modified) and a
// report that the caller owns.
func (t *Translator) Translate(d *Descriptor) (*Descriptor, Report, error) {
	t.report.reset()
	c := d.Clone()
	t.apply(c)
	// apply leaves translated ACLs in t.out; detach them from the buffer.
	for _, a := range []*ACL{c.DACL, c.SACL} {
		if a != nil {
			a.ACEs = append([]ACE(nil), a.ACEs...)
		}
	}
	return c, t.report.clone(), nil
}

// Translate translates d with a one-off Translator.
func Translate(d *Descriptor, m *Map, opts Options) (*Descriptor, Report, error) {
	t, err := NewTranslator(m, opts)
	if err != nil {
		return nil, Report{}, err
	}
	return t.Translate(d)
}

// TranslateBinary translates a self-relative descriptor with a one-off
// Translator and returns the new bytes.
func TranslateBinary(src []byte, m *Map, opts Options) ([]byte, Report, error) {
	t, err := NewTranslator(m, opts)
	if err != nil {
		return nil, Report{}, err
	}
	out, r, err := t.TranslateBinary(nil, src)
	if err != nil {
		return nil, Report{}, err
	}
	return out, r.clone(), nil
}

func (t *Translator) apply(d *Descriptor) {
	t.out = t.out[:0]
	if d.Owner != nil {
		t.single(d.Owner, InOwner, t.opts.SkipOwner)
	}
	if d.Group != nil {
		t.single(d.Group, InGroup, t.opts.SkipGroup)
	}
	if d.DACL != nil {
		t.report.NonCanonicalDACL = !d.DACL.IsCanonical()
		t.acl(d.DACL, InDACL)
	}
	if d.SACL != nil && !t.opts.SkipSACL {
		t.acl(d.SACL, InSACL)
	}
}

func (t *Translator) single(s *SID, in Component, skip bool) {
	to, ok := t.m.Lookup(*s)
	if !ok {
		if t.m.isSource(*s) {
			t.report.unmapped(*s)
		}
		return
	}
	if skip {
		return
	}
	t.report.add(Change{In: in, Action: Replaced, From: *s, To: to})
	*s = to
}

// acl rewrites acl.ACEs into t.out (appending) and points acl at the result.
// Order is kept: an added ACE goes right after its source, so an ACL in
// canonical order (explicit deny, explicit allow, inherited) stays so.
func (t *Translator) acl(acl *ACL, in Component) {
	aces := acl.ACEs
	start := len(t.out)
	changed := false
	for i := range aces {
		a := &aces[i]
		n, mapped := t.translateACE(a)
		if !mapped {
			t.out = append(t.out, *a)
			continue
		}
		twin := hasTwin(aces, &n) || hasTwin(t.out[start:], &n)
		switch t.opts.Mode {
		case ModeAdd:
			t.out = append(t.out, *a)
			if !twin {
				t.out = append(t.out, n)
				t.report.add(Change{In: in, Index: i, Action: Added, From: a.SID, To: n.SID})
				changed = true
			}
		case ModeReplace:
			if twin {
				t.report.add(Change{In: in, Index: i, Action: Merged, From: a.SID, To: n.SID})
			} else {
				t.out = append(t.out, n)
				t.report.add(Change{In: in, Index: i, Action: Replaced, From: a.SID, To: n.SID})
			}
			changed = true
		case ModeRemove:
			if twin {
				t.report.add(Change{In: in, Index: i, Action: Removed, From: a.SID, To: n.SID})
				changed = true
			} else {
				t.out = append(t.out, *a)
				t.report.add(Change{In: in, Index: i, Action: Kept, From: a.SID, To: n.SID})
			}
		}
	}
	if changed {
		acl.ACEs = t.out[start:len(t.out):len(t.out)]
	} else {
		t.out = t.out[:start]
	}
}

// translateACE returns a with its trustee and the SIDs of its conditional
// expression translated, and whether anything was mapped.
func (t *Translator) translateACE(a *ACE) (ACE, bool) {
	if !a.Type.hasPrincipal() {
		return ACE{}, false
	}
	n := *a
	mapped := false
	if to, ok := t.m.Lookup(a.SID); ok {
		n.SID = to
		mapped = true
	} else if t.m.isSource(a.SID) {
		t.report.unmapped(a.SID)
	}
	if len(a.Data) > 0 && a.Type.HasApplicationData() {
		if data, ok := mapConditionSIDs(a.Data, t.m, t.report.unmapped); ok {
			n.Data = data
			mapped = true
		}
	}
	return n, mapped
}

// IsCanonical reports whether the ACEs are in canonical order: explicit
// deny ACEs, then explicit allow (and other) ACEs, then inherited ACEs.
func (a *ACL) IsCanonical() bool {
	rank := 0
	for i := range a.ACEs {
		e := &a.ACEs[i]
		r := 1
		switch {
		case e.Flags&Inherited != 0:
			r = 2
		case e.Type.IsDeny():
			r = 0
		}
		if r < rank {
			return false
		}
		rank = r
	}
	return true
}

// hasTwin reports whether aces holds an ACE equal to n.
func hasTwin(aces []ACE, n *ACE) bool {
	for i := range aces {
		if aces[i].Equal(n) {
			return true
		}
	}
	return false
}

// ErrRollbackConflict reports a descriptor that changed after translation,
// so restoring the original would lose those changes.
var ErrRollbackConflict = errors.New("descriptor changed since translation")

// Record is what rolling back one translation needs; the agent keeps it
// (for example as JSON, where the byte slices are base64) until cleanup.
type Record struct {
	// Original is the descriptor as read before translation.
	Original []byte `json:"original"`
	// Translated is the descriptor as written after translation.
	Translated []byte `json:"translated"`
}

// Rollback returns the original descriptor, byte for byte, when current is
// still what the translation wrote: identical bytes, or the same
// descriptor in another layout (Windows may lay out a stored descriptor
// differently from how it was written). Otherwise it fails with
// ErrRollbackConflict and the caller decides; translating current with
// Map.Reverse and Mode.Inverse undoes the translation while keeping later
// changes.
func Rollback(current []byte, rec Record) ([]byte, error) {
	if bytes.Equal(current, rec.Translated) {
		return bytes.Clone(rec.Original), nil
	}
	cur, err := ParseBinary(current)
	if err != nil {
		return nil, fmt.Errorf("rollback: current: %w", err)
	}
	tr, err := ParseBinary(rec.Translated)
	if err != nil {
		return nil, fmt.Errorf("rollback: record: %w", err)
	}
	if !cur.Equal(tr) {
		return nil, fmt.Errorf("rollback: %w", ErrRollbackConflict)
	}
	return bytes.Clone(rec.Original), nil
}
