package ldif

import (
	"bufio"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/adshift/adshift/adid"
	"github.com/adshift/adshift/dn"
)

// generationPrefix starts the first line of a snapshot this package wrote;
// the journal names the generation it applies to, so a journal left after
// a completed fold is recognised and not replayed twice.
const generationPrefix = "# adshift-ldif generation "

// entry is one directory object held in memory.
type entry struct {
	dn    dn.DN
	dnStr string // as written in the file
	key   string // dn.Key()
	attrs []Attr // names as written; objectGUID/objectSid/sIDHistory raw binary
	seq   int64  // position in file order

	guidStr, sidStr string   // decoded objectGUID and objectSid, kept by index
	refKeys         []string // keys of the DNs this entry's link attributes name
}

// get returns the attribute named name (case-insensitive, exact options).
func (e *entry) get(name string) *Attr {
	for i := range e.attrs {
		if strings.EqualFold(e.attrs[i].Name, name) {
			return &e.attrs[i]
		}
	}
	return nil
}

func (e *entry) first(name string) string {
	if a := e.get(name); a != nil && len(a.Values) > 0 {
		return a.Values[0]
	}
	return ""
}

func (e *entry) set(name string, values []string) {
	if a := e.get(name); a != nil {
		if len(values) == 0 {
			e.remove(name)
			return
		}
		a.Values = values
		return
	}
	if len(values) > 0 {
		e.attrs = append(e.attrs, Attr{Name: name, Values: values})
	}
}

func (e *entry) remove(name string) {
	for i := range e.attrs {
		if strings.EqualFold(e.attrs[i].Name, name) {
			e.attrs = append(e.attrs[:i], e.attrs[i+1:]...)
			return
		}
	}
}

func (e *entry) clone() *entry {
	c := *e
	c.attrs = make([]Attr, len(e.attrs))
	for i, a := range e.attrs {
		c.attrs[i] = Attr{Name: a.Name, Values: append([]string(nil), a.Values...)}
	}
	return &c
}

// guid returns the entry's objectGUID in string form, or "".
func (e *entry) guid() string { return e.guidStr }

// sid returns the entry's objectSid in string form, or "".
func (e *entry) sid() string { return e.sidStr }

// store is the snapshot in memory plus indexes. It is owned by Provider,
// which serialises access.
type store struct {
	name       string // file name for messages
	entries    map[string]*entry
	byGUID     map[string]*entry
	children   map[string]int // parent key -> number of children
	nextSeq    int64
	usn        int64 // highest uSNCreated/uSNChanged seen
	generation int64
	maxRID     map[string]uint32 // domain SID -> highest RID seen
	domainSID  string            // from the domain root entry, if any

	// refs maps a DN key to the entries whose link attributes (member,
	// manager, ...) name it, so a move or delete can fix the links as AD
	// does. It is built on the first move or delete, then kept up to date.
	refs map[string]map[*entry]struct{}

	// unclassified maps the key of each entry read without objectClass to
	// its line, so Discover can name it (nil when there is none).
	unclassified map[string]int
}

// newStore returns an empty store sized for about hint entries.
func newStore(name string, hint int) *store {
	return &store{
		name:     name,
		entries:  make(map[string]*entry, hint),
		byGUID:   make(map[string]*entry, hint),
		children: make(map[string]int, hint/8),
		maxRID:   make(map[string]uint32),
	}
}

// loadStore reads a snapshot file.
func loadStore(path, name, baseDir string) (*store, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	hint := 0
	if fi, err := f.Stat(); err == nil {
		hint = int(min(fi.Size()/1024, 1<<20)) // ldifde entries run 0.5-2 KB
	}
	st := newStore(name, hint)
	if head, _ := br.Peek(len(generationPrefix) + 20); strings.HasPrefix(string(head), generationPrefix) {
		rest := string(head[len(generationPrefix):])
		if i := strings.IndexAny(rest, "\r\n"); i >= 0 {
			st.generation, _ = strconv.ParseInt(rest[:i], 10, 64)
		}
	}
	r := NewReader(br, name, ReaderOptions{AllowFileURLs: true, BaseDir: baseDir})
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return st, nil
		}
		if err != nil {
			return nil, err
		}
		if !rec.IsEntry() {
			return nil, notEntryError(name, rec)
		}
		if err := st.add(rec.DN, rec.Attrs); err != nil {
			return nil, &Error{File: name, Line: rec.Line, Msg: err.Error()}
		}
		if !hasAttr(rec.Attrs, "objectClass") {
			if st.unclassified == nil {
				st.unclassified = map[string]int{}
			}
			if d, err := dn.Parse(rec.DN); err == nil {
				st.unclassified[d.Key()] = rec.Line
			}
		}
	}
}

func hasAttr(attrs []Attr, name string) bool {
	for i := range attrs {
		if strings.EqualFold(attrs[i].Name, name) && len(attrs[i].Values) > 0 {
			return true
		}
	}
	return false
}

// unclassifiedError reports an entry in scope without objectClass: it
// cannot be told apart as a user, group, computer, contact or OU, and
// leaving it out would drop it from the plan without a word.
func unclassifiedError(file string, line int, dnStr string) error {
	return &Error{File: file, Line: line, Msg: fmt.Sprintf("entry %q has no objectClass, so adshift cannot tell whether it is a user, group, computer, contact or OU; "+
		"export objectClass with every entry (ldifde does; ldapsearch needs it in its attribute list) or move the entry out of the scope", dnStr)}
}

// notEntryError reports a change record found in a snapshot.
func notEntryError(name string, rec *Record) error {
	return &Error{File: name, Line: rec.Line, Msg: fmt.Sprintf("a snapshot holds entries, found a %q change record; apply change files with ldapmodify, not as a snapshot", rec.ChangeType)}
}

// add inserts a new entry.
func (st *store) add(dnStr string, attrs []Attr) error {
	d, err := dn.Parse(dnStr)
	if err != nil {
		return err
	}
	key := d.Key()
	if _, dup := st.entries[key]; dup {
		return fmt.Errorf("entry %q appears twice; keep one of them", dnStr)
	}
	e := &entry{dn: d, dnStr: dnStr, key: key, attrs: attrs, seq: st.nextSeq}
	st.nextSeq++
	st.entries[key] = e
	st.children[dn.ParentKey(key)]++
	st.index(e)
	return nil
}

// index records the identity and counters of e, in one pass over its
// attributes.
func (st *store) index(e *entry) {
	e.guidStr, e.sidStr = "", ""
	domain := false
	for i := range e.attrs {
		a := &e.attrs[i]
		if len(a.Values) == 0 {
			continue
		}
		switch len(a.Name) {
		case 9:
			if strings.EqualFold(a.Name, "objectSid") {
				e.sidStr, _ = DecodeIdentity("objectsid", a.Values[0])
			}
		case 10:
			switch {
			case strings.EqualFold(a.Name, "objectGUID"):
				e.guidStr, _ = DecodeIdentity("objectguid", a.Values[0])
			case strings.EqualFold(a.Name, "uSNChanged"), strings.EqualFold(a.Name, "uSNCreated"):
				if n, err := strconv.ParseInt(a.Values[0], 10, 64); err == nil && n > st.usn {
					st.usn = n
				}
			}
		case 11:
			if strings.EqualFold(a.Name, "objectClass") {
				domain = containsFold(a.Values, "domainDNS") || containsFold(a.Values, "domain")
			}
		}
	}
	if e.guidStr != "" {
		st.byGUID[e.guidStr] = e
	}
	st.indexRefs(e)
	if sid := e.sidStr; sid != "" {
		if i := strings.LastIndexByte(sid, '-'); i > 0 && strings.Count(sid, "-") >= 4 {
			if domain {
				st.domainSID = sid
			} else if rid, err := strconv.ParseUint(sid[i+1:], 10, 32); err == nil {
				if uint32(rid) > st.maxRID[sid[:i]] {
					st.maxRID[sid[:i]] = uint32(rid)
				}
			}
		}
	}
}

func hasObjectClass(e *entry, class string) bool {
	if a := e.get("objectClass"); a != nil {
		for _, v := range a.Values {
			if strings.EqualFold(v, class) {
				return true
			}
		}
	}
	return false
}

func (st *store) unindex(e *entry) {
	if g := e.guid(); g != "" && st.byGUID[g] == e {
		delete(st.byGUID, g)
	}
	st.dropRefs(e)
}

// linkAttrs are the DN-valued attributes whose values follow their target
// when it is renamed or deleted.
var linkAttrs = map[string]bool{
	"member": true, "memberof": true, "manager": true, "managedby": true,
	"directreports": true, "seealso": true,
}

func isLink(name string) bool { return linkAttrs[strings.ToLower(BaseName(name))] }

func (st *store) buildRefs() {
	if st.refs != nil {
		return
	}
	st.refs = make(map[string]map[*entry]struct{})
	for _, e := range st.entries {
		st.indexRefs(e)
	}
}

func (st *store) dropRefs(e *entry) {
	if st.refs == nil {
		return
	}
	for _, k := range e.refKeys {
		if m := st.refs[k]; m != nil {
			delete(m, e)
			if len(m) == 0 {
				delete(st.refs, k)
			}
		}
	}
	e.refKeys = e.refKeys[:0]
}

func (st *store) indexRefs(e *entry) {
	if st.refs == nil {
		return
	}
	st.dropRefs(e)
	for _, a := range e.attrs {
		if !isLink(a.Name) {
			continue
		}
		for _, v := range a.Values {
			k, err := dn.Key(v)
			if err != nil {
				continue
			}
			e.refKeys = append(e.refKeys, k)
			m := st.refs[k]
			if m == nil {
				m = make(map[*entry]struct{})
				st.refs[k] = m
			}
			m[e] = struct{}{}
		}
	}
}

// relink rewrites the link values naming oldKey to newDN, or removes them
// when newDN is "" (the target was deleted).
func (st *store) relink(renames map[string]string) {
	touched := map[*entry]bool{}
	for oldKey := range renames {
		for r := range st.refs[oldKey] {
			touched[r] = true
		}
	}
	for r := range touched {
		for i := range r.attrs {
			a := &r.attrs[i]
			if !isLink(a.Name) {
				continue
			}
			out := make([]string, 0, len(a.Values)) // never in place: see applyMod
			for _, v := range a.Values {
				if k, err := dn.Key(v); err == nil {
					if nv, ok := renames[k]; ok {
						if nv == "" {
							continue
						}
						v = nv
					}
				}
				out = append(out, v)
			}
			a.Values = out
		}
		kept := r.attrs[:0]
		for _, a := range r.attrs {
			if len(a.Values) > 0 {
				kept = append(kept, a)
			}
		}
		r.attrs = kept
		st.indexRefs(r)
	}
}

// exists reports whether an entry with the DN exists; a DN made only of DC
// components (a naming context) counts as existing even when the export
// does not contain it.
func (st *store) exists(d dn.DN) bool {
	if _, ok := st.entries[d.Key()]; ok {
		return true
	}
	if d.IsZero() {
		return true
	}
	for p := d; !p.IsZero(); p = p.Parent() {
		if t, _ := p.RDN(); !strings.EqualFold(t, "dc") {
			return false
		}
	}
	return true
}

// sorted returns the entries in file order.
func (st *store) sorted() []*entry {
	out := make([]*entry, 0, len(st.entries))
	for _, e := range st.entries {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *entry) int { return cmp.Compare(a.seq, b.seq) })
	return out
}

// domainSIDFor returns the SID prefix new principals under d get: the
// domain root's objectSid, else the prefix most existing principals share,
// else one derived deterministically from the naming context of d.
func (st *store) domainSIDFor(d dn.DN) string {
	if st.domainSID != "" {
		return st.domainSID
	}
	best, n := "", 0
	for prefix, rid := range st.maxRID {
		_ = rid
		c := 0
		for _, e := range st.entries {
			if strings.HasPrefix(e.sid(), prefix+"-") {
				c++
			}
		}
		if c > n || (c == n && prefix < best) {
			best, n = prefix, c
		}
	}
	if best != "" {
		st.domainSID = best
		return best
	}
	nc := d
	for !nc.IsZero() {
		if t, _ := nc.RDN(); strings.EqualFold(t, "dc") {
			break
		}
		nc = nc.Parent()
	}
	sum := sha256.Sum256([]byte(nc.Key()))
	sid, _ := adid.NewSID(5, 21, binary.LittleEndian.Uint32(sum[0:]), binary.LittleEndian.Uint32(sum[4:]), binary.LittleEndian.Uint32(sum[8:])) // 4 sub-authorities: cannot fail
	return sid.String()
}

// nextSID allocates the next free RID in the domain of d.
func (st *store) nextSID(d dn.DN) string {
	prefix := st.domainSIDFor(d)
	rid := st.maxRID[prefix] + 1
	if rid < 1104 {
		rid = 1104 // below are AD's well-known and built-in RIDs
	}
	st.maxRID[prefix] = rid
	return fmt.Sprintf("%s-%d", prefix, rid)
}

// applyRecord carries out one change record; it is used for live changes
// (after they were validated) and for journal replay, so it is
// deterministic and keeps no state outside the store.
func (st *store) applyRecord(rec *Record) error {
	d, err := dn.Parse(rec.DN)
	if err != nil {
		return err
	}
	switch rec.ChangeType {
	case "", ChangeAdd:
		attrs := make([]Attr, len(rec.Attrs))
		copy(attrs, rec.Attrs)
		return st.add(rec.DN, attrs)
	}
	e, ok := st.entries[d.Key()]
	if !ok {
		return fmt.Errorf("%s: no such entry", rec.DN)
	}
	switch rec.ChangeType {
	case ChangeDelete:
		if st.children[e.key] > 0 {
			return fmt.Errorf("%s has child entries", rec.DN)
		}
		st.buildRefs()
		st.unindex(e)
		delete(st.entries, e.key)
		st.children[dn.ParentKey(e.key)]--
		delete(st.children, e.key)
		st.relink(map[string]string{e.key: ""})
		return nil
	case ChangeModify:
		for _, m := range rec.Mods {
			if err := applyMod(e, m); err != nil {
				return fmt.Errorf("%s: %w", rec.DN, err)
			}
		}
		st.index(e)
		return nil
	case ChangeModRDN, ChangeModDN:
		rdn, err := dn.Parse(rec.NewRDN)
		if err != nil || rdn.Depth() != 1 {
			return fmt.Errorf("%s: invalid newrdn %q", rec.DN, rec.NewRDN)
		}
		parent := d.Parent()
		if rec.NewSuperior != "" {
			if parent, err = dn.Parse(rec.NewSuperior); err != nil {
				return err
			}
		}
		typ, val := rdn.RDN()
		return st.move(e, parent.Child(typ, val), rec.DeleteOldRDN)
	}
	return fmt.Errorf("%s: unknown changetype %q", rec.DN, rec.ChangeType)
}

// move renames e to to, moving its subtree along.
func (st *store) move(e *entry, to dn.DN, deleteOldRDN bool) error {
	if other, ok := st.entries[to.Key()]; ok && other != e {
		return fmt.Errorf("%s already exists", to)
	}
	from := e.dn
	var moved []*entry
	if st.children[e.key] > 0 {
		for _, x := range st.entries {
			if x.dn.InSubtree(from) {
				moved = append(moved, x)
			}
		}
	} else {
		moved = []*entry{e}
	}
	st.buildRefs()
	renames := make(map[string]string, len(moved))
	for _, x := range moved {
		delete(st.entries, x.key)
		st.unindex(x)
		st.children[dn.ParentKey(x.key)]--
	}
	for _, x := range moved {
		oldKey := x.key
		nd, _ := x.dn.Relocate(from, to)
		x.dn, x.dnStr, x.key = nd, nd.String(), nd.Key()
		st.entries[x.key] = x
		st.index(x)
		st.children[dn.ParentKey(x.key)]++
		if x.get("distinguishedName") != nil {
			x.set("distinguishedName", []string{x.dnStr})
		}
		renames[oldKey] = x.dnStr
	}
	st.relink(renames)
	// The moved root takes its new RDN value as naming attribute and name.
	typ, val := to.RDN()
	oldTyp, oldVal := from.RDN()
	if deleteOldRDN {
		if a := e.get(oldTyp); a != nil {
			a.Values = removeFold(a.Values, oldVal)
			if len(a.Values) == 0 {
				e.remove(oldTyp)
			}
		}
	}
	if a := e.get(typ); a != nil {
		if !containsFold(a.Values, val) {
			a.Values = append(a.Values, val)
		}
	} else {
		e.set(typ, []string{val})
	}
	if e.get("name") != nil {
		e.set("name", []string{val})
	}
	return nil
}

func containsFold(vals []string, v string) bool {
	for _, x := range vals {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

func removeFold(vals []string, v string) []string {
	out := make([]string, 0, len(vals))
	for _, x := range vals {
		if !strings.EqualFold(x, v) {
			out = append(out, x)
		}
	}
	return out
}

// applyMod applies one modification the way replay needs it: add skips
// values already present, delete skips values not present.
func applyMod(e *entry, m Mod) error {
	switch m.Op {
	case ModReplace:
		e.set(m.Attr.Name, append([]string(nil), m.Attr.Values...))
	case ModAdd:
		a := e.get(m.Attr.Name)
		if a == nil {
			e.attrs = append(e.attrs, Attr{Name: m.Attr.Name})
			a = &e.attrs[len(e.attrs)-1]
		}
		for _, v := range m.Attr.Values {
			if indexValue(m.Attr.Name, a.Values, v) < 0 {
				a.Values = append(a.Values, v)
			}
		}
		if len(a.Values) == 0 {
			e.remove(m.Attr.Name)
		}
	case ModDelete:
		if len(m.Attr.Values) == 0 {
			e.remove(m.Attr.Name)
			return nil
		}
		if a := e.get(m.Attr.Name); a != nil {
			for _, v := range m.Attr.Values {
				if i := indexValue(m.Attr.Name, a.Values, v); i >= 0 {
					// a new slice: discovered Objects may share the old one
					a.Values = append(a.Values[:i:i], a.Values[i+1:]...)
				}
			}
			if len(a.Values) == 0 {
				e.remove(m.Attr.Name)
			}
		}
	default:
		return fmt.Errorf("unsupported modification %q", m.Op)
	}
	return nil
}

// dnValued lists the DN-syntax attributes whose values compare as DNs.
var dnValued = map[string]bool{
	"member": true, "memberof": true, "manager": true, "managedby": true,
	"directreports": true, "distinguishedname": true, "seealso": true,
}

// indexValue finds v among vals by the attribute's equality rule: DN
// equality for DN-valued attributes, exact bytes for the binary identity
// attributes, case-insensitive otherwise (AD's usual string matching).
func indexValue(attr string, vals []string, v string) int {
	lower := strings.ToLower(BaseName(attr))
	switch {
	case dnValued[lower]:
		want, err := dn.Parse(v)
		if err == nil {
			for i, x := range vals {
				if d, err := dn.Parse(x); err == nil && d.Equal(want) {
					return i
				}
			}
			return -1
		}
	case IsBinaryIdentity(lower):
		for i, x := range vals {
			if x == v {
				return i
			}
		}
		return -1
	}
	for i, x := range vals {
		if strings.EqualFold(x, v) {
			return i
		}
	}
	return -1
}
