package planner

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/providers"
)

// fakeDir is an in-memory directory provider for unit tests of the
// planner's pure logic. (The real providers run as processes in the CLI
// end-to-end tests.)
type fakeDir struct {
	mu      sync.Mutex
	objects map[string]*providers.Object // by lower-case DN
	applied []providers.Change
	fail    map[string]string // DN → error to report
	next    int
	// onChange, when set, is called with each change before it is made,
	// outside the lock (a test holds a change in flight with it).
	onChange func(providers.Change)
}

func newFakeDir(objs ...*providers.Object) *fakeDir {
	f := &fakeDir{objects: map[string]*providers.Object{}, fail: map[string]string{}}
	for _, o := range objs {
		f.objects[strings.ToLower(o.DN)] = o
	}
	return f
}

func obj(kind providers.Kind, dn string, attrs ...string) *providers.Object {
	o := &providers.Object{Kind: kind, DN: dn, Attrs: map[string][]string{}, Token: "1"}
	for i := 0; i+1 < len(attrs); i += 2 {
		k := strings.ToLower(attrs[i])
		switch k {
		case "objectguid":
			o.GUID = attrs[i+1]
		case "objectsid":
			o.SID = attrs[i+1]
		default:
			o.Attrs[k] = append(o.Attrs[k], attrs[i+1])
		}
	}
	return o
}

func (f *fakeDir) GetSchema(context.Context) (*providers.Schema, error) {
	return &providers.Schema{Name: "fake", Config: providers.Block{Attributes: []providers.Attribute{{Name: "file", Type: cty.String}}}}, nil
}

func (f *fakeDir) Configure(context.Context, cty.Value) (providers.Diagnostics, error) {
	return nil, nil
}

func (f *fakeDir) Discover(_ context.Context, scope providers.Scope, emit func([]providers.Object) error) error {
	f.mu.Lock()
	var batch []providers.Object
	for _, o := range f.objects {
		c := *o
		c.Attrs = map[string][]string{}
		for k, v := range o.Attrs {
			c.Attrs[k] = append([]string(nil), v...)
		}
		batch = append(batch, c)
	}
	f.mu.Unlock()
	return emit(batch)
}

func (f *fakeDir) Apply(_ context.Context, in <-chan providers.Change, emit func(providers.Result) error) error {
	for c := range in {
		if f.onChange != nil {
			f.onChange(c)
		}
		f.mu.Lock()
		f.applied = append(f.applied, c)
		res := providers.Result{ID: c.ID, DN: c.DN}
		if msg, ok := f.fail[strings.ToLower(c.DN)]; ok {
			res.Error = msg
			f.mu.Unlock()
			emit(res)
			continue
		}
		switch c.Op {
		case providers.OpCreate:
			f.next++
			o := &providers.Object{Kind: c.Kind, DN: c.DN, GUID: fmt.Sprintf("guid-%d", f.next), SID: fmt.Sprintf("S-1-5-21-9-9-9-%d", 1000+f.next), Attrs: map[string][]string{}, Token: "1"}
			for _, a := range c.Attrs {
				o.Attrs[strings.ToLower(a.Name)] = a.Values
			}
			f.objects[strings.ToLower(c.DN)] = o
			res.GUID, res.SID = o.GUID, o.SID
		case providers.OpUpdate:
			o := f.objects[strings.ToLower(c.DN)]
			if o == nil {
				res.Error = "no such object " + c.DN
				break
			}
			for _, a := range c.Attrs {
				k := strings.ToLower(a.Name)
				switch a.Op {
				case providers.AttrReplace:
					o.Attrs[k] = a.Values
				case providers.AttrAdd:
					o.Attrs[k] = append(o.Attrs[k], a.Values...)
				case providers.AttrDelete:
					var keep []string
					for _, v := range o.Attrs[k] {
						drop := false
						for _, d := range a.Values {
							if strings.EqualFold(d, v) {
								drop = true
							}
						}
						if !drop {
							keep = append(keep, v)
						}
					}
					o.Attrs[k] = keep
				}
			}
			res.GUID = o.GUID
		case providers.OpMove:
			o := f.objects[strings.ToLower(c.DN)]
			delete(f.objects, strings.ToLower(c.DN))
			o.DN = c.NewDN
			f.objects[strings.ToLower(c.NewDN)] = o
			res.DN, res.GUID = o.DN, o.GUID
		case providers.OpDelete:
			delete(f.objects, strings.ToLower(c.DN))
		}
		f.mu.Unlock()
		emit(res)
	}
	return nil
}

func (f *fakeDir) Stop(context.Context) error { return nil }

// fakeLauncher hands out one fakeDir per provider type name.
type fakeLauncher map[string]*fakeDir

func (l fakeLauncher) Launch(_ context.Context, typ string) (providers.Provider, error) {
	p, ok := l[typ]
	if !ok {
		return nil, fmt.Errorf("no provider %q", typ)
	}
	return p, nil
}
