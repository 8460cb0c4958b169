//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package state

import (
	"fmt"
	"os"
	"runtime"
)

// tryLock fails: this platform has no file lock adshift knows how to take.
func tryLock(*os.File) (bool, error) {
	return false, fmt.Errorf("file locking is not supported on %s", runtime.GOOS)
}

func unlockFile(*os.File) error { return nil }

// syncDir fsyncs a directory where the platform allows it.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	_ = d.Sync() // best effort: not every platform can fsync a directory
	return d.Close()
}
