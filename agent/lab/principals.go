package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/adshift/adshift/adid"
	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/reacl"
)

// Where a principal was found (api.Principal.Where).
const (
	whereProfile    = "profile"
	whereLocalGroup = "local_group"
	whereACL        = "acl"
)

// maxPrincipals is how many principals an inventory may carry (the hub
// refuses more: hub/api/decode.go).
const maxPrincipals = 1000

// aclScanTTL is how long a scan of disk/'s descriptors is reused when
// nothing this backend did changed them and disk/ itself looks unchanged.
const aclScanTTL = 5 * time.Minute

// principalScan caches the SIDs named by the descriptors under disk/, so
// that inventory, which runs on every heartbeat, reads 100,000
// descriptors at most every aclScanTTL. reacl, cleanup and
// reacl_rollback invalidate it; so does a change of disk/'s modification
// time (an item added or removed at the top). Its methods are safe for
// concurrent use.
type principalScan struct {
	mu    sync.Mutex
	valid bool
	at    time.Time
	mtime time.Time
	sids  []adid.SID
}

func (s *principalScan) invalidate() {
	s.mu.Lock()
	s.valid = false
	s.mu.Unlock()
}

// aclSIDs returns the domain account SIDs the descriptors under disk/ name
// (owner, group, ACE trustees), each once, in order of first appearance.
func (s *principalScan) aclSIDs(b *Backend) ([]adid.SID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var mtime time.Time
	if fi, err := os.Stat(filepath.Join(b.dir, DiskDir)); err == nil {
		mtime = fi.ModTime()
	}
	if s.valid && mtime.Equal(s.mtime) && time.Since(s.at) < aclScanTTL {
		return s.sids, nil
	}
	items, err := b.diskItems()
	if err != nil {
		return nil, err
	}
	seen := map[adid.SID]bool{}
	var sids []adid.SID
	add := func(sid *adid.SID) {
		if sid != nil && sid.IsDomainAccount() && !seen[*sid] {
			seen[*sid] = true
			sids = append(sids, *sid)
		}
	}
	var buf []byte
	for _, rel := range items {
		raw, err := getNTACL(filepath.Join(b.dir, rel), buf)
		if err != nil || raw == nil {
			continue // a vanished item or one without a descriptor names nobody
		}
		buf = raw
		n, err := DecodeNTACL(raw)
		if err != nil {
			continue // reacl reports undecodable items; inventory lists what it can read
		}
		d, err := reacl.ParseBinary(n.SD)
		if err != nil {
			continue
		}
		add(d.Owner)
		add(d.Group)
		for _, acl := range []*reacl.ACL{d.DACL, d.SACL} {
			if acl == nil {
				continue
			}
			for i := range acl.ACEs {
				add(&acl.ACEs[i].SID)
			}
		}
	}
	s.valid, s.at, s.mtime, s.sids = true, time.Now(), mtime, sids
	return sids, nil
}

// principals lists the security principals found on the device: its
// user profiles, its local groups' members and the SIDs named by the
// descriptors under disk/, each SID once, where it was first found in
// that order (profile, local_group, acl), named when a profile names it.
// Well-known and builtin SIDs (Everyone, SYSTEM, BUILTIN\…) are left out:
// only domain and machine account SIDs (S-1-5-21-…) are listed, at most
// maxPrincipals.
func (b *Backend) principals() ([]api.Principal, error) {
	var profiles []Profile
	if _, err := readJSON(filepath.Join(b.dir, ProfilesFile), &profiles); err != nil {
		return nil, fmt.Errorf("lab principals: %w", err)
	}
	var groups []LocalGroup
	if _, err := readJSON(filepath.Join(b.dir, GroupsFile), &groups); err != nil {
		return nil, fmt.Errorf("lab principals: %w", err)
	}
	acl, err := b.scan.aclSIDs(b)
	if err != nil {
		return nil, fmt.Errorf("lab principals: %w", err)
	}
	names := map[adid.SID]string{}
	for _, p := range profiles {
		if s, err := adid.ParseSID(p.SID); err == nil && names[s] == "" {
			names[s] = p.Name
		}
	}
	seen := map[adid.SID]bool{}
	var out []api.Principal
	add := func(sid adid.SID, where string) {
		if !sid.IsDomainAccount() || seen[sid] || len(out) >= maxPrincipals {
			return
		}
		seen[sid] = true
		out = append(out, api.Principal{SID: sid.String(), Name: names[sid], Where: where})
	}
	for _, p := range profiles {
		if s, err := adid.ParseSID(p.SID); err == nil {
			add(s, whereProfile)
		}
	}
	for _, g := range groups {
		for _, m := range g.Members {
			if s, err := adid.ParseSID(m); err == nil {
				add(s, whereLocalGroup)
			}
		}
	}
	for _, s := range acl {
		add(s, whereACL)
	}
	return out, nil
}
