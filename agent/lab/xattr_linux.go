//go:build linux

package lab

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// getNTACL returns the raw security.NTACL value of path (not following a
// final symlink), appended to buf[:0]; nil and no error when path has none.
func getNTACL(path string, buf []byte) ([]byte, error) {
	if cap(buf) < 4096 {
		buf = make([]byte, 4096)
	}
	buf = buf[:cap(buf)]
	for {
		n, err := unix.Lgetxattr(path, NTACLXattr, buf)
		switch {
		case err == nil:
			return buf[:n], nil
		case errors.Is(err, unix.ENODATA):
			return nil, nil
		case errors.Is(err, unix.ERANGE):
			size, err := unix.Lgetxattr(path, NTACLXattr, nil)
			if err != nil {
				return nil, fmt.Errorf("read %s of %s: %w", NTACLXattr, path, err)
			}
			buf = make([]byte, size+1024)
		default:
			return nil, fmt.Errorf("read %s of %s: %w", NTACLXattr, path, err)
		}
	}
}

// setNTACL writes the raw security.NTACL value of path. Writing the
// security namespace needs root (CAP_SYS_ADMIN).
func setNTACL(path string, value []byte) error {
	if err := unix.Lsetxattr(path, NTACLXattr, value, 0); err != nil {
		if errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.E2BIG) {
			return fmt.Errorf("write %s of %s: %d bytes do not fit in the file system's extended attribute space (ext4 keeps about 4 KB per file; xfs allows 64 KB): %w",
				NTACLXattr, path, len(value), err)
		}
		return fmt.Errorf("write %s of %s: %w", NTACLXattr, path, err)
	}
	return nil
}
