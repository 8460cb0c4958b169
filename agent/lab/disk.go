package lab

import "errors"

// DiskSpec says what PopulateDisk makes on a lab device.
type DiskSpec struct {
	// Files is how many files to make, FilesPerFolder how many per folder
	// (folders nest two levels deep under disk/).
	Files          int
	FilesPerFolder int
	// Owner and Group are the SIDs owning every item.
	Owner, Group string
	// Principals are the SIDs granted access: every folder grants all of
	// them, every file one or more of them in turn.
	Principals []string
}

// Profile is a user profile on a lab device (profiles.json).
type Profile struct {
	SID  string `json:"sid"`
	Name string `json:"name"`
	Path string `json:"path"`
}

// LocalGroup is a local group on a lab device (groups.json).
type LocalGroup struct {
	Name    string   `json:"name"`
	SID     string   `json:"sid"`
	Members []string `json:"members"`
}

// PopulateDisk makes the device's disk/ tree under dir: folders and files
// whose security.NTACL xattrs carry descriptors naming spec's SIDs, in
// the format Samba's file server keeps (samba-tool ntacl get reads them).
//
// TODO(acl helper): implement.
func PopulateDisk(dir string, spec DiskSpec) error {
	return errors.New("lab: PopulateDisk is not implemented yet")
}

// WriteProfiles writes profiles.json and WriteGroups groups.json.
//
// TODO(acl helper): implement.
func WriteProfiles(dir string, p []Profile) error { return errors.New("lab: not implemented yet") }

// WriteGroups writes groups.json.
func WriteGroups(dir string, g []LocalGroup) error { return errors.New("lab: not implemented yet") }
