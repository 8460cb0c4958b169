package ad

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/adshift/adshift/adid"
	"github.com/adshift/adshift/providers"
	"github.com/adshift/adshift/providers/ad/wire"
)

// ReadStats says what one Discover read.
type ReadStats struct {
	// Incremental is true when the read merged the changes since a cached
	// read; Why says why it was a full read otherwise.
	Incremental bool
	Why         string
	// Changed counts the entries the uSNChanged search returned (tombstones
	// and entries out of scope included).
	Changed int
	// Reread counts the objects read again because something they hold or
	// where they live changed without their uSNChanged moving (members of a
	// renamed OU, groups naming a renamed member, back-links).
	Reread int
	// Read counts every entry read from the DC; Objects is how many were
	// emitted.
	Read, Objects int
	// Took is the read's duration; of it, Cache went to loading and saving
	// the cache and Changes to the uSNChanged search (incremental).
	Took, Cache, Changes time.Duration
}

// LastRead returns what the provider's last Discover with a Scope.Cache
// read (the zero value before one).
func (p *Provider) LastRead() ReadStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastRead
}

// entryInfo is what the incremental read knows of an entry beyond its
// object.
type entryInfo struct {
	deleted bool // a tombstone
	leaf    bool // cannot hold objects of the served kinds
	served  bool // matches the scope's kinds (the full read's filter)
}

// readMark reads where the DC stands: its dnsHostName, its invocationId
// and its highestCommittedUSN.
func (s *session) readMark(ctx context.Context) (dcMark, error) {
	var m dcMark
	err := s.reads.do(ctx, opCtx{op: "search", dn: "rootDSE"}, func(c *conn) error {
		m = dcMark{Server: c.server}
		var svc, usn string
		_, err := searchOnce(c, &wire.SearchRequest{Base: "", Scope: wire.ScopeBase, Filter: anyObject,
			Attributes: []string{"dsServiceName", "highestCommittedUSN", "dnsHostName"}}, func(e *wire.Entry) error {
			svc, usn = firstString(e, "dsServiceName"), firstString(e, "highestCommittedUSN")
			if h := firstString(e, "dnsHostName"); h != "" {
				m.Server = h
			}
			return nil
		})
		if err != nil {
			return err
		}
		if m.USN, err = strconv.ParseInt(usn, 10, 64); err != nil || svc == "" {
			return fmt.Errorf("the rootDSE of %s lacks dsServiceName or a highestCommittedUSN (%q)", m.Server, usn)
		}
		_, err = searchOnce(c, &wire.SearchRequest{Base: svc, Scope: wire.ScopeBase, Filter: anyObject,
			Attributes: []string{"invocationId"}}, func(e *wire.Entry) error {
			if v := e.Get("invocationId"); len(v) > 0 {
				g, err := guidString(v[0])
				if err != nil {
					return fmt.Errorf("invocationId of %s: %w", svc, err)
				}
				m.InvocationID = g
			}
			return nil
		})
		if err != nil {
			return err
		}
		if m.InvocationID == "" {
			return fmt.Errorf("%s of %s has no invocationId", svc, m.Server)
		}
		return nil
	})
	if err != nil {
		return m, fmt.Errorf("read where the DC stands (for incremental discovery): %w", err)
	}
	return m, nil
}

func firstString(e *wire.Entry, name string) string {
	if v := e.Get(name); len(v) > 0 {
		return string(v[0])
	}
	return ""
}

// discoverCached reads scope through its cache: the changes since the
// cached read merged into it when the cache serves this scope from this
// DC's database, a full read otherwise; then the cache is rewritten.
func (s *session) discoverCached(ctx context.Context, scope providers.Scope, d *discovery) error {
	start := time.Now()
	mark, err := s.readMark(ctx)
	if err != nil {
		return err
	}
	key := d.scopeKey()
	var prev *discoCache
	st := ReadStats{Why: "-refresh=full asked for"}
	t0 := time.Now()
	if !scope.FullRefresh {
		prev, st.Why = loadCache(scope.Cache, key, mark)
	}
	st.Cache = time.Since(t0)
	var next *discoCache
	if prev != nil {
		st.Why = ""
		st.Incremental = true
		next, err = d.incremental(ctx, prev, &st)
	} else {
		next, err = d.fullCached(ctx, &st)
	}
	if err != nil {
		return err
	}
	after, err := s.readMark(ctx)
	if err != nil {
		return err
	}
	var saved chan error
	var saveTook time.Duration
	if !strings.EqualFold(after.InvocationID, mark.InvocationID) {
		// Parts of the read came from another DC (a failover): its USNs
		// mean nothing to this one's.
		_ = os.Remove(scope.Cache)
		if prev != nil {
			return fmt.Errorf("the domain controller changed during an incremental read (%s, invocationId %s, then %s, invocationId %s); run plan again", mark.Server, mark.InvocationID, after.Server, after.InvocationID)
		}
		s.p.log.Warn("the domain controller changed during discovery; the cache is not kept", "before", mark.Server, "after", after.Server)
	} else {
		// The cache is written while the objects are emitted (the gob
		// encoder only reads them; the receiver must not change them
		// before Discover returns, which is after the write).
		next.Version, next.Scope, next.Mark = cacheVersion, key, mark
		saved = make(chan error, 1)
		go func() {
			t0 := time.Now()
			err := next.save(scope.Cache)
			saveTook = time.Since(t0)
			saved <- err
		}()
	}
	if prev != nil {
		for i := 0; i < len(next.Objects); i += emitBatch {
			if err := d.emit(next.Objects[i:min(i+emitBatch, len(next.Objects))]); err != nil {
				if saved != nil {
					<-saved
				}
				return fmt.Errorf("emit: %w", err)
			}
		}
	}
	if saved != nil {
		if err := <-saved; err != nil {
			return err
		}
		st.Cache += saveTook
	}
	st.Objects = len(next.Objects)
	st.Took = time.Since(start)
	s.p.log.Debug("discovery read", "server", mark.Server, "incremental", st.Incremental, "why_full", st.Why,
		"since_usn", usnOf(prev), "usn", mark.USN, "changed", st.Changed, "reread", st.Reread, "read", st.Read, "objects", st.Objects, "took", st.Took, "cache", st.Cache, "changes_search", st.Changes)
	s.p.mu.Lock()
	s.p.lastRead = st
	s.p.mu.Unlock()
	return nil
}

// emitBatch is how many merged objects one emit call carries.
const emitBatch = 1000

func usnOf(c *discoCache) int64 {
	if c == nil {
		return 0
	}
	return c.Mark.USN
}

// fullCached reads everything in scope, emitting as it reads, and returns
// the cache of the read.
func (d *discovery) fullCached(ctx context.Context, st *ReadStats) (*discoCache, error) {
	c := &discoCache{Containers: map[string]string{}}
	emit := d.emit
	d.emit = func(b []providers.Object) error {
		c.Objects = append(c.Objects, b...)
		return emit(b)
	}
	defer func() { d.emit = emit }()
	if err := d.full(ctx); err != nil {
		return nil, err
	}
	st.Read = len(c.Objects)
	for _, r := range d.roots {
		if d.excluded(NormalizeDN(r)) {
			continue
		}
		n, err := d.readContainers(ctx, r, c.Containers)
		if err != nil {
			return nil, err
		}
		st.Read += n
	}
	return c, nil
}

// containerFilter selects the entries of no served kind (those that may
// hold objects: containers, builtinDomain, the domain head).
var containerFilter = mustFilter("(!(|(objectClass=organizationalUnit)(objectClass=user)(objectClass=group)(objectClass=contact)(objectClass=foreignSecurityPrincipal)))")

// readContainers records base's subtree's containers in scope (GUID → DN)
// and returns how many entries it read.
func (d *discovery) readContainers(ctx context.Context, base string, into map[string]string) (int, error) {
	n := 0
	req := wire.SearchRequest{Base: base, Scope: wire.ScopeSubtree, Filter: containerFilter, Attributes: []string{"objectGUID", "objectClass"}, PageSize: d.s.cfg.PageSize}
	err := d.read(ctx, req, func(e *wire.Entry, o *providers.Object) bool {
		n++
		return o.GUID != "" && !isLeaf(e) && d.inScope(NormalizeDN(o.DN))
	}, func(b []providers.Object) error {
		for i := range b {
			into[strings.ToLower(b[i].GUID)] = b[i].DN
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("list the containers under %s: %w", base, err)
	}
	return n, nil
}

// inScope reports whether the normalized DN ndn lies in the scope.
func (d *discovery) inScope(ndn string) bool {
	for _, r := range d.nroots {
		if dnUnder(ndn, r) {
			return !d.excluded(ndn)
		}
	}
	return false
}

// served reports whether e matches the full read's filter (KindFilter of
// the scope's kinds).
func (d *discovery) served(e *wire.Entry) bool {
	classes := e.Get("objectClass")
	has := func(c string) bool {
		for _, x := range classes {
			if strings.EqualFold(string(x), c) {
				return true
			}
		}
		return false
	}
	sat := e.Get("sAMAccountType")
	for k := range d.kinds {
		var ok bool
		switch k {
		case providers.KindOU:
			ok = has("organizationalUnit")
		case providers.KindUser:
			ok = equalValue(sat, "805306368")
		case providers.KindComputer:
			ok = equalValue(sat, "805306369")
		case providers.KindGroup:
			ok = has("group")
		case providers.KindContact:
			ok = has("contact")
		case providers.KindForeignPrincipal:
			ok = has("foreignSecurityPrincipal")
		}
		if ok {
			return true
		}
	}
	return false
}

// merge is an incremental read's working copy of the cached read.
type merge struct {
	d          *discovery
	objs       map[string]*providers.Object // lower-case GUID → object
	order      []string                     // GUIDs, cached order then new ones
	containers map[string]string
	byDN       map[string]string // lower-case DN (current or earlier) → GUID
	fresh      map[string]bool   // GUIDs read in this run
	gone       map[string]bool   // lower-case DNs that no longer name what they named
	touched    map[string]bool   // GUIDs to read again
	dropped    map[string]*providers.Object
	moves      []move
}

// move is a container (or OU) that was renamed, moved, created in scope
// or deleted: what the cache holds under from is stale, and to (when in
// scope) is read again as a whole.
type move struct {
	from, to string
}

// incremental reads what changed on the DC since prev and returns prev
// with the changes merged.
func (d *discovery) incremental(ctx context.Context, prev *discoCache, st *ReadStats) (*discoCache, error) {
	m := &merge{
		d:          d,
		objs:       make(map[string]*providers.Object, len(prev.Objects)),
		order:      make([]string, 0, len(prev.Objects)),
		containers: prev.Containers,
		byDN:       make(map[string]string, len(prev.Objects)),
		fresh:      map[string]bool{},
		gone:       map[string]bool{},
		touched:    map[string]bool{},
		dropped:    map[string]*providers.Object{},
	}
	for i := range prev.Objects {
		o := &prev.Objects[i]
		g := strings.ToLower(o.GUID)
		m.objs[g] = o
		m.order = append(m.order, g)
		m.byDN[strings.ToLower(o.DN)] = g
	}

	// Everything changed since the mark, anywhere in the naming context
	// (moves out of scope land elsewhere, deletions in CN=Deleted Objects).
	fb, err := compileFilter("(uSNChanged>=" + strconv.FormatInt(prev.Mark.USN+1, 10) + ")")
	if err != nil {
		return nil, err
	}
	attrs := append(append([]string(nil), d.attrs...), "isDeleted")
	req := wire.SearchRequest{Base: d.base, Scope: wire.ScopeSubtree, Filter: fb, Attributes: attrs, PageSize: d.s.cfg.PageSize, ShowDeleted: true}
	t0 := time.Now()
	n, err := m.readApply(ctx, req)
	st.Changed, st.Read, st.Changes = n, n, time.Since(t0)
	if err != nil {
		return nil, fmt.Errorf("read the changes since USN %d under %s: %w", prev.Mark.USN, d.base, err)
	}

	// Subtrees whose DNs changed: drop what the cache holds under the old
	// DN, then read the new one.
	var tos []string
	for _, mv := range m.moves {
		if mv.from != "" {
			m.dropUnder(mv.from)
		}
		if mv.to != "" {
			tos = append(tos, mv.to)
		}
	}
	for _, to := range outermost(tos) {
		req := wire.SearchRequest{Base: to, Scope: wire.ScopeSubtree, Filter: d.filterBER, Attributes: d.attrs, PageSize: d.s.cfg.PageSize}
		n, err := m.readApply(ctx, req)
		st.Read += n
		st.Reread += n
		if err != nil {
			return nil, fmt.Errorf("read again %s, renamed or moved: %w", to, err)
		}
		n, err = d.readContainers(ctx, to, m.containers)
		st.Read += n
		if err != nil {
			return nil, err
		}
	}

	// Objects that name what moved or went, and the back-links of changed
	// links: read again by GUID until nothing more is touched.
	for round := 0; len(m.gone) > 0 || len(m.touched) > 0; round++ {
		if round == maxRounds {
			// Each round reads only objects not read yet, so this is a bug.
			return nil, fmt.Errorf("incremental read of %s did not settle after %d rounds; plan with -refresh=full", d.base, round)
		}
		m.scanGone()
		var gs []string
		for g := range m.touched {
			if !m.fresh[g] {
				gs = append(gs, g)
			}
		}
		m.touched = map[string]bool{}
		for i := 0; i < len(gs); i += guidBatch {
			n, err := m.rereadGUIDs(ctx, gs[i:min(i+guidBatch, len(gs))])
			st.Read += n
			st.Reread += n
			if err != nil {
				return nil, err
			}
		}
	}

	next := &discoCache{Containers: m.containers, Objects: make([]providers.Object, 0, len(m.objs))}
	for _, g := range m.order {
		if o, ok := m.objs[g]; ok {
			next.Objects = append(next.Objects, *o)
			delete(m.objs, g) // a GUID listed twice (removed, then back) is emitted once
		}
	}
	return next, nil
}

// maxRounds bounds the rounds of reading again.
const maxRounds = 100

// guidBatch is how many GUIDs one search reads again.
const guidBatch = 100

// readApply runs req and applies every entry it returns as a change.
func (m *merge) readApply(ctx context.Context, req wire.SearchRequest) (int, error) {
	infos := map[string]entryInfo{}
	n := 0
	err := m.d.read(ctx, req, func(e *wire.Entry, o *providers.Object) bool {
		n++
		if o.GUID == "" {
			return false
		}
		infos[strings.ToLower(o.GUID)] = entryInfo{
			deleted: equalValue(e.Get("isDeleted"), "TRUE"),
			leaf:    isLeaf(e),
			served:  o.Kind != "" && m.d.served(e),
		}
		return true
	}, func(b []providers.Object) error {
		for i := range b {
			m.apply(&b[i], infos[strings.ToLower(b[i].GUID)])
		}
		return nil
	})
	return n, err
}

// rereadGUIDs reads the objects gs (lower-case GUIDs) again; those not
// found are gone.
func (m *merge) rereadGUIDs(ctx context.Context, gs []string) (int, error) {
	var f strings.Builder
	f.WriteString("(|")
	for _, g := range gs {
		id, err := adid.ParseGUID(g)
		if err != nil {
			return 0, fmt.Errorf("cached object %s: %w", g, err)
		}
		f.WriteString("(objectGUID=")
		for _, b := range id[:] {
			fmt.Fprintf(&f, "\\%02x", b)
		}
		f.WriteString(")")
	}
	f.WriteString(")")
	fb, err := compileFilter(f.String())
	if err != nil {
		return 0, err
	}
	req := wire.SearchRequest{Base: m.d.base, Scope: wire.ScopeSubtree, Filter: fb, Attributes: m.d.attrs, PageSize: m.d.s.cfg.PageSize}
	n, err := m.readApply(ctx, req)
	if err != nil {
		return n, fmt.Errorf("read again %d objects whose links changed: %w", len(gs), err)
	}
	for _, g := range gs {
		if !m.fresh[g] {
			m.fresh[g] = true
			m.remove(g, true)
		}
	}
	return n, nil
}

// apply merges one entry read from the DC.
func (m *merge) apply(o *providers.Object, inf entryInfo) {
	g := strings.ToLower(o.GUID)
	m.fresh[g] = true
	oldDN := m.containers[g]
	if old := m.objs[g]; old != nil {
		oldDN = old.DN
	}
	if inf.deleted {
		m.remove(g, true)
		delete(m.containers, g)
		if oldDN != "" && !inf.leaf {
			m.moves = append(m.moves, move{from: oldDN})
		}
		return
	}
	nd := NormalizeDN(o.DN)
	in := m.d.inScope(nd)
	if !inf.leaf {
		switch {
		case oldDN != "" && NormalizeDN(oldDN) != nd:
			mv := move{from: oldDN}
			if in {
				mv.to = o.DN
			}
			m.moves = append(m.moves, mv)
		case oldDN == "" && in:
			m.moves = append(m.moves, move{to: o.DN}) // created, or moved in
		}
	}
	if in && inf.served {
		m.put(g, o)
	} else {
		m.remove(g, true)
	}
	if in && !inf.served && !inf.leaf {
		m.containers[g] = o.DN
	} else {
		delete(m.containers, g)
	}
}

// put stores o (read now) in place of the cached object g.
func (m *merge) put(g string, o *providers.Object) {
	old := m.objs[g]
	if old == nil {
		m.order = append(m.order, g)
		old = m.dropped[g] // moved with its container: links unchanged
	} else if !strings.EqualFold(old.DN, o.DN) {
		m.gone[strings.ToLower(old.DN)] = true
	}
	m.linkDiff(old, o)
	c := *o
	m.objs[g] = &c
	m.byDN[strings.ToLower(o.DN)] = g
}

// remove drops the cached object g; links also touches what it linked to
// (their back-links change).
func (m *merge) remove(g string, links bool) {
	old := m.objs[g]
	if old == nil {
		return
	}
	m.gone[strings.ToLower(old.DN)] = true
	if links {
		m.linkDiff(old, nil)
	}
	delete(m.objs, g)
}

// dropUnder removes the cached objects and containers under the DN from
// that were not read in this run.
func (m *merge) dropUnder(from string) {
	lf := strings.ToLower(from)
	m.gone[lf] = true
	under := func(dn string) bool {
		l := strings.ToLower(dn)
		return l == lf || strings.HasSuffix(l, ","+lf)
	}
	for g, o := range m.objs {
		if !m.fresh[g] && under(o.DN) {
			m.dropped[g] = o
			m.remove(g, false)
		}
	}
	for g, dn := range m.containers {
		if !m.fresh[g] && under(dn) {
			delete(m.containers, g)
		}
	}
}

// linkDiff touches the cached objects named by values that old and o do
// not share: their back-links (memberOf of a group's members) changed
// without their uSNChanged moving.
func (m *merge) linkDiff(old, o *providers.Object) {
	var oldAttrs, newAttrs map[string][]string
	if old != nil {
		oldAttrs = old.Attrs
	}
	if o != nil {
		newAttrs = o.Attrs
	}
	side := func(a, b map[string][]string) {
		for name, vals := range a {
			var other map[string]bool
			for _, v := range vals {
				if !strings.Contains(v, "=") {
					continue
				}
				g, ok := m.byDN[strings.ToLower(v)]
				if !ok || m.fresh[g] {
					continue
				}
				if other == nil {
					other = make(map[string]bool, len(b[name]))
					for _, w := range b[name] {
						other[strings.ToLower(w)] = true
					}
				}
				if !other[strings.ToLower(v)] {
					m.touched[g] = true
				}
			}
		}
	}
	side(oldAttrs, newAttrs)
	side(newAttrs, oldAttrs)
}

// scanGone touches every cached object not read in this run that holds a
// value naming a gone DN or an entry under one (a member renamed, moved or
// deleted: the DC spells the value anew without changing the holder's
// uSNChanged). DNs are compared as the DC spells them.
func (m *merge) scanGone() {
	if len(m.gone) == 0 {
		return
	}
	for g, o := range m.objs {
		if m.fresh[g] || m.touched[g] {
			continue
		}
	scan:
		for _, vals := range o.Attrs {
			for _, v := range vals {
				if !strings.Contains(v, "=") {
					continue
				}
				lv := strings.ToLower(v)
				for {
					if m.gone[lv] {
						m.touched[g] = true
						break scan
					}
					i := strings.IndexByte(lv, ',')
					if i < 0 {
						break
					}
					lv = lv[i+1:]
				}
			}
		}
	}
	m.gone = map[string]bool{}
}
