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

	"github.com/adshift/adshift/providers"
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
	s        *session
	filter   string
	attrs    []string
	wantAll  bool
	want     map[string]bool
	excludes []string // normalized
	emitMu   sync.Mutex
	emit     func([]providers.Object) error
}

func (s *session) discover(ctx context.Context, scope providers.Scope, emit func([]providers.Object) error) error {
	filter, err := KindFilter(scope.Kinds)
	if err != nil {
		return err
	}
	d := &discovery{s: s, filter: filter, emit: emit}
	d.attrs, d.want, d.wantAll = s.requestAttrs(scope.Attributes)
	for _, x := range scope.ExcludeOUs {
		d.excludes = append(d.excludes, NormalizeDN(x))
	}
	roots := rootsOf(scope)

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

// rootsOf returns the include OUs (or the base DN), without any that lies
// under another.
func rootsOf(scope providers.Scope) []string {
	in := scope.IncludeOUs
	if len(in) == 0 {
		in = []string{scope.BaseDN}
	}
	var roots []string
	for i, a := range in {
		na := NormalizeDN(a)
		covered := false
		for j, b := range in {
			nb := NormalizeDN(b)
			if i != j && dnUnder(na, nb) && (na != nb || j < i) {
				covered = true
				break
			}
		}
		if !covered {
			roots = append(roots, a)
		}
	}
	return roots
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
	err := d.s.pool.do(ctx, opCtx{op: "search", dn: root}, func(c *conn) error {
		units = units[:2]
		return pagedSearch(c, root, ldap.ScopeSingleLevel, "(objectClass=*)", []string{"objectClass"}, d.s.cfg.PageSize, func(es []*ldap.Entry) error {
			for _, e := range es {
				if !isLeaf(e) && !d.excluded(NormalizeDN(e.DN)) {
					units = append(units, searchUnit{base: e.DN, scope: ldap.ScopeWholeSubtree})
				}
			}
			return nil
		})
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
func isLeaf(e *ldap.Entry) bool {
	return slices.ContainsFunc(e.GetAttributeValues("objectClass"), func(c string) bool {
		return slices.Contains(leafClasses, strings.ToLower(c))
	})
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

// pagedSearch runs a paged search on c and calls page with each page's
// entries as it arrives.
func pagedSearch(c *conn, base string, scope int, filter string, attrs []string, size int, page func([]*ldap.Entry) error) error {
	paging := ldap.NewControlPaging(uint32(size))
	for {
		req := ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, []ldap.Control{paging})
		res, err := c.l.Search(req)
		if err != nil {
			return err
		}
		if err := page(res.Entries); err != nil {
			return err
		}
		ctrl, _ := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if ctrl == nil || len(ctrl.Cookie) == 0 {
			return nil
		}
		paging.SetCookie(ctrl.Cookie)
	}
}

// pageDone is returned by a page callback that already emitted, so the
// search is not retried from the start (which would emit duplicates).
type pageDone struct{ err error }

func (e *pageDone) Error() string { return e.err.Error() }
func (e *pageDone) Unwrap() error { return e.err }

// search runs one unit and emits its objects page by page.
func (d *discovery) search(ctx context.Context, u searchUnit) error {
	emitted := false
	err := d.s.pool.do(ctx, opCtx{op: "search", dn: u.base}, func(c *conn) error {
		if emitted {
			// A retry after objects were emitted would emit them again.
			return &pageDone{err: fmt.Errorf("connection lost in the middle of a paged search of %s", u.base)}
		}
		return pagedSearch(c, u.base, u.scope, d.filter, d.attrs, d.s.cfg.PageSize, func(es []*ldap.Entry) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			batch := make([]providers.Object, 0, len(es))
			for _, e := range es {
				if (u.skipNonLeaf && !isLeaf(e)) || (len(d.excludes) > 0 && d.excluded(NormalizeDN(e.DN))) {
					continue
				}
				o, err := d.object(c, e)
				if err != nil {
					return err
				}
				if o.Kind != "" {
					batch = append(batch, o)
				}
			}
			if len(batch) == 0 {
				return nil
			}
			d.emitMu.Lock()
			defer d.emitMu.Unlock()
			emitted = true
			if err := d.emit(batch); err != nil {
				return &pageDone{err: fmt.Errorf("emit: %w", err)}
			}
			return nil
		})
	})
	if missingBase(err) && !emitted {
		d.s.p.log.Warn("search base does not exist; nothing to read there", "dn", u.base)
		return nil
	}
	return err
}

// kindOf classifies an entry by its object classes.
func kindOf(classes []string) providers.Kind {
	has := func(c string) bool {
		return slices.ContainsFunc(classes, func(x string) bool { return strings.EqualFold(x, c) })
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
	}
	return ""
}

// object converts an entry, following ranged attributes to their end on c.
func (d *discovery) object(c *conn, e *ldap.Entry) (providers.Object, error) {
	o := providers.Object{DN: e.DN, Attrs: make(map[string][]string, len(e.Attributes))}
	type pending struct {
		name string
		next int
	}
	var follow []pending
	ranged := map[string]bool{}
	for _, a := range e.Attributes {
		if base, _, _, ok := parseRange(strings.ToLower(a.Name)); ok {
			ranged[base] = true
		}
	}
	for _, a := range e.Attributes {
		name := strings.ToLower(a.Name)
		if base, _, hi, ok := parseRange(name); ok {
			o.Attrs[base] = append(o.Attrs[base], a.Values...)
			if hi >= 0 {
				follow = append(follow, pending{base, hi + 1})
			}
			continue
		}
		if ranged[name] {
			// A server that also returned the whole attribute under its
			// plain name (Samba with "*"): keep the ranged values only.
			continue
		}
		if err := d.setAttr(&o, name, a); err != nil {
			return o, fmt.Errorf("entry %s: %w", e.DN, err)
		}
	}
	for _, f := range follow {
		vals, err := d.s.rangeRead(c, e.DN, f.name, f.next)
		if err != nil {
			return o, err
		}
		o.Attrs[f.name] = append(o.Attrs[f.name], vals...)
	}
	o.Kind = kindOf(e.GetAttributeValues("objectClass"))
	if o.Kind == providers.KindUser && e.GetAttributeValue("sAMAccountType") != "805306368" {
		o.Kind = "" // a trust account or other non-person user
	}
	o.Token = e.GetAttributeValue("uSNChanged")
	if b := e.GetRawAttributeValue("objectGUID"); len(b) > 0 {
		g, err := DecodeGUID(b)
		if err != nil {
			return o, fmt.Errorf("entry %s: %w", e.DN, err)
		}
		o.GUID = g
	}
	if b := e.GetRawAttributeValue("objectSid"); len(b) > 0 {
		s, err := DecodeSID(b)
		if err != nil {
			return o, fmt.Errorf("entry %s: %w", e.DN, err)
		}
		o.SID = s
	}
	if !d.wantAll {
		for k := range o.Attrs {
			if !d.want[k] {
				delete(o.Attrs, k)
			}
		}
	}
	return o, nil
}

// setAttr stores a plain attribute, decoding the binary identity ones.
func (d *discovery) setAttr(o *providers.Object, name string, a *ldap.EntryAttribute) error {
	switch name {
	case "objectguid":
		for _, b := range a.ByteValues {
			g, err := DecodeGUID(b)
			if err != nil {
				return err
			}
			o.Attrs[name] = append(o.Attrs[name], g)
		}
	case "objectsid", "sidhistory":
		for _, b := range a.ByteValues {
			s, err := DecodeSID(b)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			o.Attrs[name] = append(o.Attrs[name], s)
		}
	default:
		o.Attrs[name] = append(o.Attrs[name], a.Values...)
	}
	return nil
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
		req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{want}, nil)
		res, err := c.l.Search(req)
		if err != nil {
			return nil, err
		}
		if len(res.Entries) != 1 {
			return nil, fmt.Errorf("ranged read of %s of %s: object gone", attr, dn)
		}
		found := false
		for _, a := range res.Entries[0].Attributes {
			base, lo, hi, ok := parseRange(strings.ToLower(a.Name))
			if !ok || base != attr {
				continue
			}
			if lo != next {
				return nil, fmt.Errorf("ranged read of %s of %s: asked from %d, got from %d", attr, dn, next, lo)
			}
			found = true
			out = append(out, a.Values...)
			if hi < 0 {
				return out, nil
			}
			next = hi + 1
		}
		if !found {
			// AD answers a range past the end with no attribute at all when
			// the previous range ended exactly at the last value.
			return out, nil
		}
	}
}
