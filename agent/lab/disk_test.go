package lab

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adshift/adshift/reacl"
)

func TestPopulateDisk_layout(t *testing.T) {
	b := newDevice(t, 125)
	var files, dirs int
	filepath.WalkDir(filepath.Join(b.dir, DiskDir), func(p string, d fs.DirEntry, err error) error {
		if d.IsDir() {
			dirs++
		} else {
			files++
		}
		if depth := strings.Count(strings.TrimPrefix(p, b.dir), string(filepath.Separator)); d.IsDir() && depth > 3 {
			t.Errorf("%s: folders nest deeper than two levels under disk/", p)
		}
		return nil
	})
	// 125 files of 50 per folder: 3 leaf folders under 2 top folders, and disk/.
	if files != 125 || dirs != 1+2+3 {
		t.Errorf("%d files, %d folders; want 125 and 6", files, dirs)
	}
	f := descriptorOf(t, b, filepath.Join(DiskDir, "d000", "d000", "f000001.txt"))
	if f.DACL.ACEs[0].Flags&reacl.Inherited != 0 || f.DACL.ACEs[1].Flags&reacl.Inherited == 0 || f.Control&reacl.DACLAutoInherited == 0 {
		t.Errorf("file descriptor: want one explicit ACE, then inherited ones, auto-inherited DACL")
	}
	if err := PopulateDisk(b.dir, DiskSpec{Files: 1, FilesPerFolder: 1, Owner: "S-1-5-21-x", Group: "BA"}); err == nil {
		t.Error("an invalid owner SID was accepted")
	}
}
