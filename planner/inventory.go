package planner

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/adshift/adshift/dn"
	"github.com/adshift/adshift/providers"
)

// inventory is what discovery read from one environment, indexed.
type inventory struct {
	env     string
	objects []*providers.Object
	byKey   map[string]*providers.Object // dn.Key → object
	byRaw   map[string]*providers.Object // DN as the directory spelled it
	byGUID  map[string]*providers.Object
	byKind  map[providers.Kind][]*providers.Object

	mu      sync.Mutex
	indexes map[attrIndexKey]map[string][]*providers.Object
}

type attrIndexKey struct {
	kind providers.Kind
	attr string
}

func newInventory(env string) *inventory {
	return &inventory{
		env:     env,
		byKey:   map[string]*providers.Object{},
		byRaw:   map[string]*providers.Object{},
		byGUID:  map[string]*providers.Object{},
		byKind:  map[providers.Kind][]*providers.Object{},
		indexes: map[attrIndexKey]map[string][]*providers.Object{},
	}
}

func (inv *inventory) add(o *providers.Object) error {
	key, err := dn.Key(o.DN)
	if err != nil {
		return fmt.Errorf("object %q: %w", o.DN, err)
	}
	if o.GUID != "" {
		g := strings.ToLower(o.GUID)
		if prev := inv.byGUID[g]; prev != nil {
			// One object read twice: it moved (or was renamed) while the
			// directory was read in parallel parts. Planning on either
			// copy could be wrong.
			return fmt.Errorf("objectGUID %s was read twice, as %q and %q: the directory changed while it was read; run plan again", o.GUID, prev.DN, o.DN)
		}
		inv.byGUID[g] = o
	}
	if prev := inv.byKey[key]; prev != nil {
		return fmt.Errorf("object %q was read twice (also as %q); the provider returned it twice: run plan again, and report it if it persists", o.DN, prev.DN)
	}
	inv.objects = append(inv.objects, o)
	inv.byKey[key] = o
	inv.byRaw[o.DN] = o
	inv.byKind[o.Kind] = append(inv.byKind[o.Kind], o)
	return nil
}

// lookupDN finds an object by DN (any spelling). DNs that reference
// other entries (member values) are mostly spelled as the entry's own DN,
// so the exact spelling is tried before normalising.
func (inv *inventory) lookupDN(s string) *providers.Object {
	if o, ok := inv.byRaw[s]; ok {
		return o
	}
	key, err := dn.Key(s)
	if err != nil {
		return nil
	}
	return inv.byKey[key]
}

// index returns the objects of kind by lower-cased value of attr (lower-case
// name), building the index on first use. Safe for concurrent use.
func (inv *inventory) index(kind providers.Kind, attr string) map[string][]*providers.Object {
	k := attrIndexKey{kind, attr}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if idx, ok := inv.indexes[k]; ok {
		return idx
	}
	idx := make(map[string][]*providers.Object, len(inv.byKind[kind]))
	for _, o := range inv.byKind[kind] {
		for _, v := range attrValues(o, attr) {
			lv := strings.ToLower(v)
			idx[lv] = append(idx[lv], o)
		}
	}
	inv.indexes[k] = idx
	return idx
}

// attrValues returns an object's values of a lower-cased attribute name,
// including the identity attributes kept outside Attrs.
func attrValues(o *providers.Object, attr string) []string {
	switch attr {
	case "distinguishedname", "dn":
		return []string{o.DN}
	case "objectguid":
		if o.GUID != "" {
			return []string{o.GUID}
		}
		return nil
	case "objectsid":
		if o.SID != "" {
			return []string{o.SID}
		}
		return nil
	}
	return o.Attrs[attr]
}

// discoverAll reads every environment concurrently.
func discoverAll(ctx context.Context, cs conns, scopes map[string]providers.Scope, hooks Hooks) (map[string]*inventory, error) {
	invs := make(map[string]*inventory, len(scopes))
	for name := range scopes {
		invs[name] = newInventory(name)
	}
	g, gctx := errgroup.WithContext(ctx)
	for name, scope := range scopes {
		c, inv := cs[name], invs[name]
		g.Go(func() error {
			hooks.Refreshing(name)
			start := time.Now()
			err := c.p.Discover(gctx, scope, func(batch []providers.Object) error {
				for i := range batch {
					if err := inv.add(&batch[i]); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("discover environment.%s (provider %q): %w", name, c.env.Provider, err)
			}
			hooks.Refreshed(name, len(inv.objects), time.Since(start))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return invs, nil
}
