package providers

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// ErrPluginNotFound is wrapped by FindPlugin's error when no directory holds
// the plugin.
var ErrPluginNotFound = errors.New("provider plugin not found")

// FindPlugin returns the path of the third-party provider plugin NAME: the
// first executable file named adshift-provider-NAME (adshift-provider-NAME.exe
// on Windows) in dirs, searched in order. Empty dirs are skipped. The error
// for a missing plugin wraps ErrPluginNotFound and lists every directory
// searched, and why a candidate there was rejected.
func FindPlugin(name string, dirs []string) (string, error) {
	return findPlugin(name, dirs, runtime.GOOS)
}

func findPlugin(name string, dirs []string, goos string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", fmt.Errorf("find provider %q: invalid provider name", name)
	}
	file := pluginFileName(name, goos)
	var looked []string
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		candidate := filepath.Join(dir, file)
		fi, err := os.Stat(candidate)
		switch {
		case errors.Is(err, os.ErrNotExist):
			looked = append(looked, dir)
		case err != nil:
			looked = append(looked, fmt.Sprintf("%s (%v)", dir, err))
		case fi.IsDir():
			looked = append(looked, fmt.Sprintf("%s (%s is a directory)", dir, file))
		case goos != "windows" && fi.Mode().Perm()&0o111 == 0:
			looked = append(looked, fmt.Sprintf("%s (%s is not executable)", dir, file))
		default:
			abs, err := filepath.Abs(candidate)
			if err != nil {
				return "", fmt.Errorf("find provider %q: %w", name, err)
			}
			return abs, nil
		}
	}
	if len(looked) == 0 {
		return "", fmt.Errorf("find provider %q: %w: no plugin directories to search for %s", name, ErrPluginNotFound, file)
	}
	return "", fmt.Errorf("find provider %q: %w: no %s in:\n  %s", name, ErrPluginNotFound, file, strings.Join(looked, "\n  "))
}
