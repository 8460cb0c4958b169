package lab

import "github.com/adshift/adshift/hub/api"

// principals lists the security principals found on the device: its
// user profiles, its local groups' members and the SIDs named by the
// descriptors under disk/. Inventory reports them.
//
// TODO(acl helper): read profiles.json, groups.json and scan disk/.
func (b *Backend) principals() ([]api.Principal, error) { return nil, nil }
