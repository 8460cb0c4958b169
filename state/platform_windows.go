//go:build windows

package state

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockOffsetHigh places the locked byte far beyond any content: Windows
// locks are mandatory, so locking the bytes that hold the LockInfo would
// keep a second run from reading who holds the lock.
const lockOffsetHigh = 0x7fffffff

// tryLock takes an exclusive LockFileEx lock on one byte of f without
// waiting. It reports false when another handle holds it. Windows releases
// the lock when its holder exits.
func tryLock(f *os.File) (bool, error) {
	ol := &windows.Overlapped{OffsetHigh: lockOffsetHigh}
	err := windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION):
		return false, nil
	}
	return false, err
}

// unlockFile releases the lock tryLock took.
func unlockFile(f *os.File) error {
	ol := &windows.Overlapped{OffsetHigh: lockOffsetHigh}
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, ol)
}

// syncDir is a no-op on windows: directories cannot be opened for fsync,
// and NTFS journals its metadata (renames) itself.
func syncDir(string) error { return nil }
