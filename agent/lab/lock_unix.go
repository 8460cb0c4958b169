//go:build unix

package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// lockJournal takes the device's ReACL lock, journal/.lock, so that two
// processes (two agents pointed at one device directory, or a test and a
// leftover child) never run reacl, cleanup or reacl_rollback at once. The
// kernel drops the lock when the process dies. It fails at once, without
// waiting, when another process holds it.
func lockJournal(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lock reacl journal: %w", err)
	}
	path := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock reacl journal: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("another process is running reacl, cleanup or reacl_rollback on this device (it holds %s); run again when it is done", path)
		}
		return nil, fmt.Errorf("lock reacl journal %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
