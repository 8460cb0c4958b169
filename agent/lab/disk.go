package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/adshift/adshift/adid"
	"github.com/adshift/adshift/internal/atomicfile"
	"github.com/adshift/adshift/reacl"
)

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

// Access masks of the descriptors PopulateDisk writes, as Windows grants
// them: full control, modify (0x1301bf) and read & execute (0x1200a9).
const (
	maskFull    = "FA"
	maskModify  = "0x1301bf"
	maskReadRun = "0x1200a9"
)

// PopulateDisk makes the device's disk/ tree under dir: folders and files
// whose security.NTACL xattrs carry descriptors naming spec's SIDs, in
// the format Samba's file server keeps (samba-tool ntacl get reads them;
// version 1, as samba-tool ntacl set --use-ntvfs writes).
//
// The tree is disk/dNNN/dNNN/fNNNNNN.txt: about sqrt(folders) top
// folders, each holding leaf folders of FilesPerFolder files. disk/
// itself is protected and grants SYSTEM and Administrators full control
// and every principal modify, all inheritable; each folder below adds an
// explicit read & execute grant for one principal (in turn) on top of
// what it inherits; each file carries the inherited ACEs (ID flag, as
// Windows stores them after propagation) and an explicit full-control
// grant for one principal in turn. Existing files are overwritten. It
// needs root (the security xattr namespace).
func PopulateDisk(dir string, spec DiskSpec) error {
	if spec.Files < 0 || (spec.Files > 0 && spec.FilesPerFolder <= 0) {
		return fmt.Errorf("populate disk of %s: %d files, %d per folder: need a positive number per folder", dir, spec.Files, spec.FilesPerFolder)
	}
	for _, s := range append([]string{spec.Owner, spec.Group}, spec.Principals...) {
		if _, err := adid.ParseSID(s); err != nil {
			return fmt.Errorf("populate disk of %s: %w", dir, err)
		}
	}
	root := filepath.Join(dir, DiskDir)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("populate disk: %w", err)
	}
	sds, err := newDiskDescriptors(spec)
	if err != nil {
		return fmt.Errorf("populate disk of %s: %w", dir, err)
	}
	if err := setNTACL(root, sds.root); err != nil {
		return fmt.Errorf("populate disk: %w", err)
	}
	leaves := 0
	if spec.Files > 0 {
		leaves = (spec.Files + spec.FilesPerFolder - 1) / spec.FilesPerFolder
	}
	perTop := max(1, int(math.Ceil(math.Sqrt(float64(leaves)))))
	file := 0
	for leaf := 0; leaf < leaves; leaf++ {
		top := filepath.Join(root, fmt.Sprintf("d%03d", leaf/perTop))
		if leaf%perTop == 0 {
			if err := mkdirNTACL(top, sds.folder(leaf/perTop)); err != nil {
				return err
			}
		}
		sub := filepath.Join(top, fmt.Sprintf("d%03d", leaf%perTop))
		if err := mkdirNTACL(sub, sds.folder(leaf)); err != nil {
			return err
		}
		for i := 0; i < spec.FilesPerFolder && file < spec.Files; i++ {
			p := filepath.Join(sub, fmt.Sprintf("f%06d.txt", file))
			if err := os.WriteFile(p, []byte(p[len(root):]+"\n"), 0o644); err != nil {
				return fmt.Errorf("populate disk: %w", err)
			}
			if err := setNTACL(p, sds.file(file)); err != nil {
				return fmt.Errorf("populate disk: %w", err)
			}
			file++
		}
	}
	return nil
}

func mkdirNTACL(p string, value []byte) error {
	if err := os.Mkdir(p, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("populate disk: %w", err)
	}
	if err := setNTACL(p, value); err != nil {
		return fmt.Errorf("populate disk: %w", err)
	}
	return nil
}

// diskDescriptors are the encoded security.NTACL values PopulateDisk
// writes: one for disk/, one per principal for folders and for files.
type diskDescriptors struct {
	root           []byte
	folders, files [][]byte
}

func (d *diskDescriptors) folder(i int) []byte { return d.folders[i%len(d.folders)] }
func (d *diskDescriptors) file(i int) []byte   { return d.files[i%len(d.files)] }

func newDiskDescriptors(spec DiskSpec) (*diskDescriptors, error) {
	head := "O:" + spec.Owner + "G:" + spec.Group
	var inheritable, inherited strings.Builder
	for _, p := range spec.Principals {
		fmt.Fprintf(&inheritable, "(A;OICI;%s;;;%s)", maskModify, p)
		fmt.Fprintf(&inherited, "(A;ID;%s;;;%s)", maskModify, p)
	}
	base := "(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)" + inheritable.String()
	baseInherited := "(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)" + strings.ReplaceAll(inheritable.String(), ";OICI;", ";OICIID;")
	fileInherited := "(A;ID;FA;;;SY)(A;ID;FA;;;BA)" + inherited.String()
	d := &diskDescriptors{}
	var err error
	if d.root, err = encodeSDDL(head + "D:PAI" + base); err != nil {
		return nil, err
	}
	explicit := spec.Principals
	if len(explicit) == 0 {
		explicit = []string{"BU"} // Users, so that every item still has an explicit ACE
	}
	for _, p := range explicit {
		f, err := encodeSDDL(head + "D:AI(A;OICI;" + maskReadRun + ";;;" + p + ")" + baseInherited)
		if err != nil {
			return nil, err
		}
		d.folders = append(d.folders, f)
		f, err = encodeSDDL(head + "D:AI(A;;" + maskFull + ";;;" + p + ")" + fileInherited)
		if err != nil {
			return nil, err
		}
		d.files = append(d.files, f)
	}
	return d, nil
}

// encodeSDDL returns the version 1 security.NTACL value of an SDDL
// descriptor.
func encodeSDDL(sddl string) ([]byte, error) {
	sd, err := reacl.ParseSDDL(sddl, nil)
	if err != nil {
		return nil, fmt.Errorf("descriptor %q: %w", sddl, err)
	}
	bin, err := sd.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("descriptor %q: %w", sddl, err)
	}
	return NewNTACL(bin).Encode()
}

// WriteProfiles writes profiles.json (atomically: temp file, fsync,
// rename).
func WriteProfiles(dir string, p []Profile) error {
	return writeJSON(filepath.Join(dir, ProfilesFile), p)
}

// WriteGroups writes groups.json (atomically).
func WriteGroups(dir string, g []LocalGroup) error {
	return writeJSON(filepath.Join(dir, GroupsFile), g)
}

func writeJSON(path string, v any) error {
	data, err := jsonIndent(v)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return atomicfile.Write(path, data, 0o644)
}

// jsonIndent is the layout of the device's JSON files.
func jsonIndent(v any) ([]byte, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	return append(data, '\n'), err
}

// readJSON reads a JSON file into v; a missing file leaves v alone and
// reports false.
func readJSON(path string, v any) (bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	return true, nil
}
