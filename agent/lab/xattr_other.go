//go:build !linux

package lab

import (
	"errors"
	"fmt"
)

var errNoXattr = errors.New("security.NTACL xattrs are only read and written on Linux")

func getNTACL(path string, _ []byte) ([]byte, error) {
	return nil, fmt.Errorf("read %s: %w", path, errNoXattr)
}

func setNTACL(path string, _ []byte) error { return fmt.Errorf("write %s: %w", path, errNoXattr) }
