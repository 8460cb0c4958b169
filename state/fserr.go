package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// fsError is a filesystem failure on one of the state's files, said in
// words with what to do: a permission problem or a missing directory is not
// a lock held by someone else, and must not read like one.
type fsError struct {
	path string
	what string // "is not writable", …
	hint string
	err  error
}

func (e *fsError) Error() string {
	return fmt.Sprintf("%s %s; %s", e.path, e.what, e.hint)
}

func (e *fsError) Unwrap() error { return e.err }

// describeFSError names a permission, read-only or missing-directory error
// on path with what to do; other errors are returned as they are.
func describeFSError(err error, path string) error {
	var fe *fsError
	if err == nil || errors.As(err, &fe) {
		return err
	}
	dir := filepath.Dir(path)
	switch {
	case errors.Is(err, fs.ErrPermission):
		return &fsError{path: path, err: err, what: "cannot be written or read: permission denied",
			hint: fmt.Sprintf("run adshift as a user who may write %s, or set backend \"local\" { path = … } to a writable place", dir)}
	case errors.Is(err, syscall.EROFS):
		return &fsError{path: path, err: err, what: "is on a read-only filesystem",
			hint: "move the state to a writable place with backend \"local\" { path = … }"}
	case errors.Is(err, fs.ErrNotExist):
		if _, serr := os.Stat(dir); errors.Is(serr, fs.ErrNotExist) {
			return &fsError{path: path, err: err, what: "cannot be created: its directory " + dir + " does not exist",
				hint: "create the directory, or fix backend \"local\" { path = … }"}
		}
	}
	return err
}
