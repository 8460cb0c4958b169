package state_test

import (
	"path/filepath"
	"testing"

	"github.com/adshift/adshift/state"
	"github.com/adshift/adshift/state/statetest"
)

func TestLocalSuite(t *testing.T) {
	statetest.Run(t, func(t *testing.T) state.Workspaces {
		dir := t.TempDir()
		return state.NewLocalWorkspaces(dir, filepath.Join(dir, "adshift.state"))
	})
}
