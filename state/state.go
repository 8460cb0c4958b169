package state

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// FormatVersion is the version of the state file format this package writes.
// Files with a lower version are upgraded when read; files with a higher one
// are refused with ErrNewerFormat.
const FormatVersion = 1

// Object kinds recorded in Object.Kind.
const (
	KindOU       = "ou"
	KindUser     = "user"
	KindGroup    = "group"
	KindComputer = "computer"
	KindContact  = "contact"
)

// Device action statuses recorded in DeviceAction.Status.
const (
	ActionDone       = "done"
	ActionFailed     = "failed"
	ActionRolledBack = "rolled_back"
)

// Identity names one directory object. Any field may be empty when it is not
// known (a target that does not exist yet has an empty Identity). GUID and
// SID are in the string forms providers report (see providers.Object).
type Identity struct {
	DN   string `json:"dn,omitempty"`
	GUID string `json:"guid,omitempty"`
	SID  string `json:"sid,omitempty"`
}

// IsZero reports whether no field of the identity is set.
func (i Identity) IsZero() bool { return i == Identity{} }

// Object is one source↔target pair of a workflow: the identities on both
// sides, never their attribute values.
type Object struct {
	// Address is the instance address, e.g. `workflow.identities.user["jdoe"]`;
	// it repeats the key under which the object is stored in State.Objects.
	Address string `json:"address"`
	// Workflow is the name of the workflow that matched the pair.
	Workflow string `json:"workflow"`
	// Kind is one of the Kind constants.
	Kind   string   `json:"kind"`
	Source Identity `json:"source,omitzero"`
	Target Identity `json:"target,omitzero"`
	// SIDHistory is the source object's sIDHistory; SIDMap maps each of these
	// SIDs to the target SID as well.
	SIDHistory []string `json:"sid_history,omitempty"`
	// Created reports that adshift created the target object, and so may
	// move or delete it; a matched pre-existing target is never deleted.
	Created   bool      `json:"created,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Clone returns a deep copy of o; Clone of nil is nil.
func (o *Object) Clone() *Object {
	if o == nil {
		return nil
	}
	c := *o
	c.SIDHistory = slices.Clone(o.SIDHistory)
	return &c
}

// DeviceAction is the outcome of one device action (cache_credentials,
// reacl, offline_domain_join, cutover, …) on one device.
type DeviceAction struct {
	Name string `json:"name"`
	// Status is ActionDone, ActionFailed or ActionRolledBack.
	Status string `json:"status"`
	// Detail is a short human-readable outcome (an error summary, a job ID);
	// never a secret.
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at,omitzero"`
}

// Device is the migration record of one device of a device cutover.
type Device struct {
	// Address is the instance address, e.g. `device_cutover.wave1["WS001"]`;
	// it repeats the key under which the device is stored in State.Devices.
	Address string `json:"address"`
	// Cutover is the name of the device_cutover block.
	Cutover string   `json:"cutover"`
	Name    string   `json:"name"`
	Source  Identity `json:"source,omitzero"`
	Target  Identity `json:"target,omitzero"`
	// Actions are the finished device actions in the order they finished;
	// an action that ran again appears again.
	Actions   []DeviceAction `json:"actions,omitempty"`
	UpdatedAt time.Time      `json:"updated_at,omitzero"`
}

// Clone returns a deep copy of d; Clone of nil is nil.
func (d *Device) Clone() *Device {
	if d == nil {
		return nil
	}
	c := *d
	c.Actions = slices.Clone(d.Actions)
	return &c
}

// LastAction returns the most recent outcome recorded for the named action.
func (d *Device) LastAction(name string) (DeviceAction, bool) {
	for i := len(d.Actions) - 1; i >= 0; i-- {
		if d.Actions[i].Name == name {
			return d.Actions[i], true
		}
	}
	return DeviceAction{}, false
}

// State is everything adshift records about one set of environments.
//
// Lineage identifies one state across its whole life (it never changes);
// Serial counts the changes recorded in it, one per journal record. A saved
// plan pins both. Objects and Devices are never nil in a State returned by
// this package; each value's Address equals its key.
//
// A State is plain data and not safe for concurrent use: while a Txn is
// recording into it, read it through the Txn.
type State struct {
	Version int                `json:"version"`
	Lineage string             `json:"lineage"`
	Serial  uint64             `json:"serial"`
	Objects map[string]*Object `json:"objects"`
	Devices map[string]*Device `json:"devices"`
}

// New returns an empty State with a fresh random lineage and serial 0.
func New() *State {
	return &State{
		Version: FormatVersion,
		Lineage: uuid.NewString(),
		Objects: map[string]*Object{},
		Devices: map[string]*Device{},
	}
}

// Clone returns a deep copy of s.
func (s *State) Clone() *State {
	c := &State{
		Version: s.Version,
		Lineage: s.Lineage,
		Serial:  s.Serial,
		Objects: make(map[string]*Object, len(s.Objects)),
		Devices: make(map[string]*Device, len(s.Devices)),
	}
	for k, o := range s.Objects {
		c.Objects[k] = o.Clone()
	}
	for k, d := range s.Devices {
		c.Devices[k] = d.Clone()
	}
	return c
}

// empty reports whether s records nothing: serial 0, no objects or devices.
func (s *State) empty() bool {
	return s.Serial == 0 && len(s.Objects) == 0 && len(s.Devices) == 0
}

// ObjectsBySourceGUID indexes the objects by their source GUID. Objects
// without a source GUID are left out. The values are the State's own
// objects, not copies.
func (s *State) ObjectsBySourceGUID() map[string]*Object {
	return s.index(func(o *Object) string { return o.Source.GUID })
}

// ObjectsByTargetGUID indexes the objects by their target GUID. Objects
// without a target GUID are left out. The values are the State's own
// objects, not copies.
func (s *State) ObjectsByTargetGUID() map[string]*Object {
	return s.index(func(o *Object) string { return o.Target.GUID })
}

// index builds a map keyed by key(o). When two objects share a key (a
// corrupt or hand-edited state) the lowest address wins, so the result does
// not depend on map iteration order.
func (s *State) index(key func(*Object) string) map[string]*Object {
	m := make(map[string]*Object, len(s.Objects))
	for _, o := range s.Objects {
		k := key(o)
		if k == "" {
			continue
		}
		if prev, ok := m[k]; ok && prev.Address < o.Address {
			continue
		}
		m[k] = o
	}
	return m
}

// ObjectsOfWorkflow returns the objects recorded for the named workflow,
// sorted by address.
func (s *State) ObjectsOfWorkflow(workflow string) []*Object {
	var out []*Object
	for _, o := range s.Objects {
		if o.Workflow == workflow {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b *Object) int { return strings.Compare(a.Address, b.Address) })
	return out
}

// SIDMap returns the SID translation table re-permissioning needs: for every
// matched user and group (both source and target SID known) the source SID,
// and each SID of its sIDHistory, maps to the target SID.
//
// An object's own SID always wins over another object's sIDHistory entry;
// when two objects list the same sIDHistory SID, the lowest address wins.
func (s *State) SIDMap() map[string]string {
	m := make(map[string]string, len(s.Objects))
	histFrom := map[string]string{} // history SID -> address that supplied it
	for _, o := range s.Objects {
		if !sidMapped(o) {
			continue
		}
		m[o.Source.SID] = o.Target.SID
	}
	for _, o := range s.Objects {
		if !sidMapped(o) {
			continue
		}
		for _, h := range o.SIDHistory {
			if h == "" {
				continue
			}
			if from, ok := histFrom[h]; ok {
				if from < o.Address {
					continue
				}
			} else if _, own := m[h]; own {
				continue // some object's own SID
			}
			histFrom[h] = o.Address
			m[h] = o.Target.SID
		}
	}
	return m
}

func sidMapped(o *Object) bool {
	return (o.Kind == KindUser || o.Kind == KindGroup) && o.Source.SID != "" && o.Target.SID != ""
}

// Empty reports whether s records nothing: serial 0, no objects or devices
// (a state that was never written).
func (s *State) Empty() bool { return s.empty() }
