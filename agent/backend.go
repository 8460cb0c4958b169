package agent

import (
	"context"

	"github.com/adshift/adshift/hub/api"
)

// Backend is what a platform provides: the device's inventory and the
// device actions. Run reports progress through progress (which may be
// nil-safe to ignore) and returns the action's output; an error fails the
// action, and with it the job.
type Backend interface {
	Inventory(ctx context.Context) (api.Inventory, error)
	Run(ctx context.Context, a api.Action, progress func(done, total int64)) (string, error)
}
