package ad

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-ldap/ldap/v3"
	"golang.org/x/sync/errgroup"

	"github.com/adshift/adshift/adid"
	"github.com/adshift/adshift/providers"
	"github.com/adshift/adshift/providers/ad/wire"
)

// kindFilters are the LDAP filters of each kind. Users and computers go by
// sAMAccountType (indexed, and it keeps trust accounts out).
var kindFilters = map[providers.Kind]string{
	providers.KindOU:               "(objectClass=organizationalUnit)",
	providers.KindUser:             "(sAMAccountType=805306368)",
	providers.KindComputer:         "(sAMAccountType=805306369)",
	providers.KindGroup:            "(objectClass=group)",
	providers.KindContact:          "(objectClass=contact)",
	providers.KindForeignPrincipal: "(objectClass=foreignSecurityPrincipal)",
}

// allKinds in a fixed order.
var allKinds = []providers.Kind{
	providers.KindOU, providers.KindUser, providers.KindGroup, providers.KindComputer,
	providers.KindContact, providers.KindForeignPrincipal,
}

// identityAttrs are always requested.
var identityAttrs = []string{"objectClass", "objectGUID", "objectSid", "uSNChanged", "sAMAccountType"}

// rangedAttrs are the multi-valued attributes requested in explicit ranges.
var rangedAttrs = map[string]bool{"member": true}

// leafClasses are the object classes whose entries cannot hold objects of
// the served kinds (by AD's possSuperiors), so splitting the search tree
// need not descend below them.
var leafClasses = []string{"user", "group", "contact", "foreignsecurityprincipal"}

// KindFilter returns the LDAP filter that selects kinds (every kind when
// empty); OUs are always included, as the Scope contract says.
func KindFilter(kinds []providers.Kind) (string, error) {
	if len(kinds) == 0 {
		kinds = allKinds
	}
	parts := []string{kindFilters[providers.KindOU]}
	for _, k := range kinds {
		f, ok := kindFilters[k]
		if !ok {
			return "", fmt.Errorf("kind %q is not served by the ad provider", k)
		}
		if k != providers.KindOU {
			parts = append(parts, f)
		}
	}
	return "(|" + strings.Join(parts, "") + ")", nil
}

// searchUnit is one search of the split scope.
type searchUnit struct {
	base  string
	scope int
	// skipNonLeaf drops entries that can hold objects: in a split, each
	// such child is searched (itself included) by its own subtree unit.
	skipNonLeaf bool
}

// discovery is the state of one Discover call.
type discovery struct {
	s         *session
	filterBER []byte
	attrs     []string
	wantAll   bool
	want      map[string]bool
	excludes  []string // normalized
	base      string   // the naming context
	roots     []string // the subtrees read, as the scope spells them
	nroots    []string // roots, normalized
	kinds     map[providers.Kind]bool
	emitMu    sync.Mutex
	emit      func([]providers.Object) error
}

func (s *session) discover(ctx context.Context, scope providers.Scope, emit func([]providers.Object) error) error {
	kinds, trusts := withoutTrust(scope.Kinds)
	d, err := s.newDiscovery(scope, kinds, emit)
	if err != nil {
		return err
	}
	if scope.Cache != "" {
		err = s.discoverCached(ctx, scope, d)
	} else {
		err = d.full(ctx)
	}
	if err != nil {
		return err
	}
	if trusts {
		return s.discoverTrusts(ctx, scope.BaseDN, emit)
	}
	return nil
}

// newDiscovery prepares the discovery of scope's kinds (without trusts).
func (s *session) newDiscovery(scope providers.Scope, kinds []providers.Kind, emit func([]providers.Object) error) (*discovery, error) {
	filter, err := KindFilter(kinds)
	if err != nil {
		return nil, err
	}
	fb, err := compileFilter(filter)
	if err != nil {
		return nil, err
	}
	d := &discovery{s: s, filterBER: fb, emit: emit, base: scope.BaseDN, kinds: map[providers.Kind]bool{providers.KindOU: true}}
	if len(kinds) == 0 {
		kinds = allKinds
	}
	for _, k := range kinds {
		d.kinds[k] = true
	}
	d.attrs, d.want, d.wantAll = s.requestAttrs(scope.Attributes)
	for _, x := range scope.ExcludeOUs {
		d.excludes = append(d.excludes, NormalizeDN(x))
	}
	d.roots = rootsOf(scope)
	for _, r := range d.roots {
		d.nroots = append(d.nroots, NormalizeDN(r))
	}
	return d, nil
}

// full reads every object in scope.
func (d *discovery) full(ctx context.Context) error {
	s, roots := d.s, d.roots
	var err error

	// Split each root into units (its children searched separately) so the
	// pool's connections, served by different Samba worker processes, read
	// in parallel. One connection: one subtree search per root.
	units := make(chan searchUnit)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(units)
		for _, r := range roots {
			if d.excluded(NormalizeDN(r)) {
				continue
			}
			var us []searchUnit
			if s.cfg.Connections > 1 {
				if us, err = d.split(gctx, r); err != nil {
					return err
				}
			} else {
				us = []searchUnit{{base: r, scope: ldap.ScopeWholeSubtree}}
			}
			for _, u := range us {
				select {
				case units <- u:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
		}
		return nil
	})
	for range s.cfg.Connections {
		g.Go(func() error {
			for u := range units {
				if err := d.search(gctx, u); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// trustAttrs are what the planner needs of a trustedDomain object.
var trustAttrs = []string{"trustPartner", "flatName", "trustDirection", "trustType", "trustAttributes"}

// trustFilter selects trustedDomain objects.
var trustFilter = mustFilter("(objectClass=trustedDomain)")

// withoutTrust splits KindTrust off kinds: trusts are read by their own
// search, under CN=System, whatever the OU scope. OUs stay when only
// trusts were asked for (an empty kind list means every kind).
func withoutTrust(kinds []providers.Kind) ([]providers.Kind, bool) {
	if !slices.Contains(kinds, providers.KindTrust) {
		return kinds, false
	}
	out := slices.DeleteFunc(slices.Clone(kinds), func(k providers.Kind) bool { return k == providers.KindTrust })
	if len(out) == 0 {
		out = []providers.Kind{providers.KindOU}
	}
	return out, true
}

// discoverTrusts reads the domain's trustedDomain objects, which live
// directly under CN=System of base (the domain's naming context).
func (s *session) discoverTrusts(ctx context.Context, base string, emit func([]providers.Object) error) error {
	d := &discovery{s: s, filterBER: trustFilter, emit: emit}
	d.attrs, d.want, d.wantAll = s.requestAttrs(trustAttrs)
	return d.search(ctx, searchUnit{base: "CN=System," + base, scope: ldap.ScopeSingleLevel})
}

// rootsOf returns the include OUs (or the base DN), without any that lies
// under another.
func rootsOf(scope providers.Scope) []string {
	in := scope.IncludeOUs
	if len(in) == 0 {
		in = []string{scope.BaseDN}
	}
	return outermost(in)
}

// outermost returns the DNs of dns that lie under no other one (the first
// of equal ones).
func outermost(dns []string) []string {
	var out []string
	for i, a := range dns {
		na := NormalizeDN(a)
		covered := false
		for j, b := range dns {
			nb := NormalizeDN(b)
			if i != j && dnUnder(na, nb) && (na != nb || j < i) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, a)
		}
	}
	return out
}

func (d *discovery) excluded(ndn string) bool {
	for _, x := range d.excludes {
		if x == "" {
			continue
		}
		if dnUnder(ndn, x) {
			return true
		}
	}
	return false
}

// split lists root's children and returns the units that cover root's
// subtree: root itself, its direct children of the served kinds, and one
// subtree search per child that can hold objects; excluded children are not
// searched at all.
func (d *discovery) split(ctx context.Context, root string) ([]searchUnit, error) {
	units := []searchUnit{{base: root, scope: ldap.ScopeBaseObject}, {base: root, scope: ldap.ScopeSingleLevel, skipNonLeaf: true}}
	err := d.s.reads.do(ctx, opCtx{op: "search", dn: root}, func(c *conn) error {
		units = units[:2]
		return searchPages(c, root, wire.ScopeOne, anyObject, []string{"objectClass"}, d.s.cfg.PageSize, func(e *wire.Entry) error {
			if !isLeaf(e) {
				if dn := string(e.DN); !d.excluded(NormalizeDN(dn)) {
					units = append(units, searchUnit{base: dn, scope: ldap.ScopeWholeSubtree})
				}
			}
			return nil
		}, nil)
	})
	if missingBase(err) {
		// An include OU that does not exist (yet) holds nothing: a target
		// scoped to the OU a migration creates is empty before the first
		// apply, not an error.
		d.s.p.log.Warn("scope OU does not exist; nothing to read there", "ou", root)
		return nil, nil
	}
	return units, err
}

// missingBase reports whether err says the search base does not exist.
func missingBase(err error) bool {
	var oe *OpError
	return errors.As(err, &oe) && oe.Code == ldap.LDAPResultNoSuchObject
}

// isLeaf reports whether e cannot hold objects of the served kinds.
func isLeaf(e *wire.Entry) bool {
	for _, c := range e.Get("objectClass") {
		for _, l := range leafClasses {
			if strings.EqualFold(string(c), l) {
				return true
			}
		}
	}
	return false
}

// requestAttrs returns the attribute list to request, the wanted lower-cased
// names and whether every attribute is wanted.
func (s *session) requestAttrs(wanted []string) (attrs []string, want map[string]bool, all bool) {
	attrs = slices.Clone(identityAttrs)
	rng := func(name string) string { return name + ";range=0-" + strconv.Itoa(s.cfg.RangeSize-1) }
	if wanted == nil {
		attrs = append(attrs, "*")
		for name := range rangedAttrs {
			attrs = append(attrs, rng(name))
		}
		return attrs, nil, true
	}
	want = make(map[string]bool, len(wanted))
	for _, w := range wanted {
		w = strings.ToLower(w)
		want[w] = true
		switch {
		case rangedAttrs[w]:
			attrs = append(attrs, rng(w))
		case slices.ContainsFunc(identityAttrs, func(a string) bool { return strings.EqualFold(a, w) }):
		default:
			attrs = append(attrs, w)
		}
	}
	return attrs, want, false
}

// anyObject is the filter (objectClass=*), compiled.
var anyObject = mustFilter("(objectClass=*)")

func mustFilter(f string) []byte {
	b, err := compileFilter(f)
	if err != nil {
		panic(err) // only for constant filters
	}
	return b
}

// compileFilter returns the BER encoding of an RFC 4515 filter.
func compileFilter(f string) ([]byte, error) {
	p, err := ldap.CompileFilter(f)
	if err != nil {
		return nil, fmt.Errorf("filter %s: %w", f, err)
	}
	return p.Bytes(), nil
}

// searchOnce runs req on the wire connection c, calling entry per entry.
// An error of entry's is returned as is; the connection's own errors are
// shaped by wireError.
func searchOnce(c *conn, req *wire.SearchRequest, entry func(*wire.Entry) error) ([]byte, error) {
	var cbErr error
	cookie, err := c.w.Search(req, func(e *wire.Entry) error {
		cbErr = entry(e)
		return cbErr
	})
	if err != nil {
		if cbErr != nil {
			return nil, cbErr
		}
		return nil, wireError(err)
	}
	return cookie, nil
}

// searchPages runs a paged search on the wire connection c: entry sees
// each entry as it arrives (its slices only valid during the call), page
// runs after each page, before the next is requested.
func searchPages(c *conn, base string, scope wire.Scope, filter []byte, attrs []string, size int, entry func(*wire.Entry) error, page func() error) error {
	return searchRequest(c, &wire.SearchRequest{Base: base, Scope: scope, Filter: filter, Attributes: attrs, PageSize: size}, entry, page)
}

// searchRequest is searchPages for a request built by the caller (its
// Cookie is advanced page by page).
func searchRequest(c *conn, req *wire.SearchRequest, entry func(*wire.Entry) error, page func() error) error {
	for {
		cookie, err := searchOnce(c, req, entry)
		if err != nil {
			return err
		}
		if page != nil {
			if err := page(); err != nil {
				return err
			}
		}
		if len(cookie) == 0 {
			return nil
		}
		req.Cookie = cookie
	}
}

// pageDone is returned by a page callback that already emitted, so the
// search is not retried from the start (which would emit duplicates).
type pageDone struct{ err error }

func (e *pageDone) Error() string { return e.err.Error() }
func (e *pageDone) Unwrap() error { return e.err }

// follow is a ranged attribute of batch[obj] to read on from index next.
type follow struct {
	obj  int
	name string
	next int
}

// search runs one unit and emits its objects page by page.
func (d *discovery) search(ctx context.Context, u searchUnit) error {
	req := wire.SearchRequest{Base: u.base, Scope: wire.Scope(u.scope), Filter: d.filterBER, Attributes: d.attrs, PageSize: d.s.cfg.PageSize}
	keep := func(e *wire.Entry, o *providers.Object) bool {
		if u.skipNonLeaf && !isLeaf(e) {
			return false
		}
		if len(d.excludes) > 0 && d.excluded(NormalizeDN(o.DN)) {
			return false
		}
		return o.Kind != ""
	}
	return d.read(ctx, req, keep, func(batch []providers.Object) error {
		d.emitMu.Lock()
		defer d.emitMu.Unlock()
		return d.emit(batch)
	})
}

// read runs req (paged) on one of the pool's connections: each entry is
// converted, keep decides whether it is kept, and sink gets each page's
// kept objects once their ranged values are read in full. A base that does
// not exist holds nothing. The receiver of sink may keep the slice.
func (d *discovery) read(ctx context.Context, req wire.SearchRequest, keep func(*wire.Entry, *providers.Object) bool, sink func([]providers.Object) error) error {
	emitted := false
	names := attrNames{}
	err := d.s.reads.do(ctx, opCtx{op: "search", dn: req.Base}, func(c *conn) error {
		if emitted {
			// A retry after objects were emitted would emit them again.
			return &pageDone{err: fmt.Errorf("connection lost in the middle of a paged search of %s", req.Base)}
		}
		var batch []providers.Object
		var follows []follow
		r := req
		return searchRequest(c, &r, func(e *wire.Entry) error {
			kept := len(follows)
			o, err := d.object(e, names, func(name string, next int) {
				follows = append(follows, follow{obj: len(batch), name: name, next: next})
			})
			if err != nil {
				return err
			}
			if !keep(e, &o) {
				follows = follows[:kept] // not emitted: nothing to read on
				return nil
			}
			batch = append(batch, o)
			return nil
		}, func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			// Ranged values are read between pages: the connection
			// carries one request at a time.
			for _, f := range follows {
				o := &batch[f.obj]
				vals, err := d.s.rangeRead(c, o.DN, f.name, f.next)
				if err != nil {
					return err
				}
				o.Attrs[f.name] = append(o.Attrs[f.name], vals...)
			}
			follows = follows[:0]
			if len(batch) == 0 {
				return nil
			}
			emitted = true
			err := sink(batch)
			batch = nil // the receiver may keep the slice
			if err != nil {
				return &pageDone{err: fmt.Errorf("emit: %w", err)}
			}
			return nil
		})
	})
	if missingBase(err) && !emitted {
		d.s.p.log.Warn("search base does not exist; nothing to read there", "dn", req.Base)
		return nil
	}
	return err
}

// attrName is what discovery knows of an attribute name as the server
// spelled it.
type attrName struct {
	name   string // lower case; the base name of a ranged attribute
	hi     int    // ranged: the last index returned, -1 for "*"
	ranged bool
	keep   bool // stored in Object.Attrs
	binary bool // objectGUID, objectSid, sIDHistory: decoded to strings
}

// attrNames caches attrName by the server's spelling, per search.
type attrNames map[string]*attrName

// maxAttrNames bounds the cache against a server sending endless names.
const maxAttrNames = 1024

func (d *discovery) attrInfo(names attrNames, raw []byte) *attrName {
	if a, ok := names[string(raw)]; ok {
		return a
	}
	a := &attrName{name: strings.ToLower(string(raw))}
	if base, _, hi, ok := parseRange(a.name); ok {
		a.name, a.hi, a.ranged = base, hi, true
	}
	a.keep = d.wantAll || d.want[a.name]
	switch a.name {
	case "objectguid", "objectsid", "sidhistory":
		a.binary = true
	}
	if len(names) < maxAttrNames {
		names[string(raw)] = a
	}
	return a
}

// object converts an entry. The DN and the kept text values are substrings
// of one string per entry (one allocation, not one per value); ranged
// attributes that continue are passed to more, to be read after the page.
func (d *discovery) object(e *wire.Entry, names attrNames, more func(name string, next int)) (providers.Object, error) {
	var infoBuf [24]*attrName
	infos := infoBuf[:0]
	var rangedBuf [2]string
	ranged := rangedBuf[:0]
	for i := range e.Attrs {
		a := d.attrInfo(names, e.Attrs[i].Name)
		infos = append(infos, a)
		if a.ranged {
			ranged = append(ranged, a.name)
		}
	}
	kept := func(a *attrName) bool {
		// A server that also returned the whole attribute under its plain
		// name (Samba with "*"): keep the ranged values only.
		return a.keep && (a.ranged || !slices.Contains(ranged, a.name))
	}
	size, nvals, nattrs := len(e.DN), 0, 0
	for i, a := range infos {
		if !kept(a) {
			continue
		}
		nattrs++
		nvals += len(e.Attrs[i].Values)
		if !a.binary {
			for _, v := range e.Attrs[i].Values {
				size += len(v)
			}
		}
	}
	var sb strings.Builder
	sb.Grow(size)
	sb.Write(e.DN)
	for i, a := range infos {
		if kept(a) && !a.binary {
			for _, v := range e.Attrs[i].Values {
				sb.Write(v)
			}
		}
	}
	all := sb.String()
	o := providers.Object{DN: all[:len(e.DN)], Attrs: make(map[string][]string, nattrs)}
	vals := make([]string, 0, nvals)
	off := len(e.DN)
	for i, a := range infos {
		if !kept(a) {
			continue
		}
		start := len(vals)
		for _, v := range e.Attrs[i].Values {
			switch {
			case a.name == "objectguid":
				g, err := guidString(v)
				if err != nil {
					return o, fmt.Errorf("entry %s: %w", o.DN, err)
				}
				vals = append(vals, g)
			case a.binary:
				sid, err := sidString(v)
				if err != nil {
					return o, fmt.Errorf("entry %s: %s: %w", o.DN, a.name, err)
				}
				vals = append(vals, sid)
			default:
				vals = append(vals, all[off:off+len(v)])
				off += len(v)
			}
		}
		if prev, ok := o.Attrs[a.name]; ok {
			o.Attrs[a.name] = append(prev, vals[start:]...)
		} else {
			o.Attrs[a.name] = vals[start:len(vals):len(vals)]
		}
		if a.ranged && a.hi >= 0 {
			more(a.name, a.hi+1)
		}
	}
	o.Kind = kindOf(e.Get("objectClass"))
	if o.Kind == providers.KindUser && !equalValue(e.Get("sAMAccountType"), "805306368") {
		o.Kind = "" // a trust account or other non-person user
	}
	if v := e.Get("uSNChanged"); len(v) > 0 {
		o.Token = string(v[0])
	}
	var err error
	if o.GUID, err = identity(e, &o, "objectGUID", "objectguid", guidString); err != nil {
		return o, err
	}
	if o.SID, err = identity(e, &o, "objectSid", "objectsid", sidString); err != nil {
		return o, err
	}
	return o, nil
}

// identity returns the decoded first value of the binary attribute name
// (key in lower case): the one already decoded into o.Attrs when kept, else
// decoded now.
func identity(e *wire.Entry, o *providers.Object, name, key string, decode func([]byte) (string, error)) (string, error) {
	raw := e.Get(name)
	if len(raw) == 0 {
		return "", nil
	}
	if v := o.Attrs[key]; len(v) > 0 {
		return v[0], nil
	}
	v, err := decode(raw[0])
	if err != nil {
		return "", fmt.Errorf("entry %s: %s: %w", o.DN, name, err)
	}
	return v, nil
}

// guidString returns the string form of a binary objectGUID.
func guidString(b []byte) (string, error) {
	g, err := adid.DecodeGUID(b)
	if err != nil {
		return "", err
	}
	return g.String(), nil
}

// sidString returns the string form of a binary objectSid or sIDHistory
// value, which must be exactly one SID.
func sidString(b []byte) (string, error) {
	var s adid.SID
	if err := s.UnmarshalBinary(b); err != nil {
		return "", err
	}
	return s.String(), nil
}

// equalValue reports whether vals is exactly the one value want.
func equalValue(vals [][]byte, want string) bool {
	return len(vals) == 1 && string(vals[0]) == want
}

// kindOf classifies an entry by its objectClass values (ASCII
// case-insensitive, without allocating).
func kindOf(classes [][]byte) providers.Kind {
	has := func(c string) bool {
		return slices.ContainsFunc(classes, func(x []byte) bool { return strings.EqualFold(string(x), c) })
	}
	switch {
	case has("computer"):
		return providers.KindComputer
	case has("user"):
		return providers.KindUser
	case has("group"):
		return providers.KindGroup
	case has("contact"):
		return providers.KindContact
	case has("foreignSecurityPrincipal"):
		return providers.KindForeignPrincipal
	case has("organizationalUnit"):
		return providers.KindOU
	case has("trustedDomain"):
		return providers.KindTrust
	}
	return ""
}

// parseRange splits "member;range=0-1499" into ("member", 0, 1499); hi is -1
// for the final "*".
func parseRange(name string) (base string, lo, hi int, ok bool) {
	i := strings.Index(name, ";range=")
	if i < 0 {
		return "", 0, 0, false
	}
	base = name[:i]
	r := name[i+len(";range="):]
	j := strings.IndexByte(r, '-')
	if j < 0 {
		return "", 0, 0, false
	}
	lo, err := strconv.Atoi(r[:j])
	if err != nil {
		return "", 0, 0, false
	}
	if r[j+1:] == "*" {
		return base, lo, -1, true
	}
	hi, err = strconv.Atoi(r[j+1:])
	if err != nil || hi < lo {
		return "", 0, 0, false
	}
	return base, lo, hi, true
}

// rangeRead reads attr of dn from value index next on, range by range,
// until the server marks the last range with "*".
func (s *session) rangeRead(c *conn, dn, attr string, next int) ([]string, error) {
	var out []string
	for {
		want := attr + ";range=" + strconv.Itoa(next) + "-" + strconv.Itoa(next+s.cfg.RangeSize-1)
		req := &wire.SearchRequest{Base: dn, Scope: wire.ScopeBase, Filter: anyObject, Attributes: []string{want}}
		entries, found, last := 0, false, false
		_, err := searchOnce(c, req, func(e *wire.Entry) error {
			entries++
			for _, a := range e.Attrs {
				base, lo, hi, ok := parseRange(strings.ToLower(string(a.Name)))
				if !ok || base != attr {
					continue
				}
				if lo != next {
					return fmt.Errorf("ranged read of %s of %s: asked from %d, got from %d", attr, dn, next, lo)
				}
				found = true
				for _, v := range a.Values {
					out = append(out, string(v))
				}
				if hi < 0 {
					last = true
				} else {
					next = hi + 1
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if entries != 1 {
			return nil, fmt.Errorf("ranged read of %s of %s: object gone", attr, dn)
		}
		if last || !found {
			// AD answers a range past the end with no attribute at all when
			// the previous range ended exactly at the last value.
			return out, nil
		}
	}
}
