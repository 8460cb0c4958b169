package providers

import (
	"context"

	"github.com/zclconf/go-cty/cty"
)

// Provider is the contract between the planner and a directory or device
// provider. The same interface is implemented by a provider's own code inside
// the plugin process and by the gRPC client shim in the host, so the planner
// never knows whether it talks to a plugin or to an in-memory fake.
//
// All methods take the caller's context; cancellation crosses the process
// boundary. Implementations must be safe for the call order GetSchema,
// Configure, then any number of Discover and Apply calls, then Stop.
type Provider interface {
	// GetSchema describes the provider's configuration attributes and the
	// object kinds it serves. It may be called before Configure.
	GetSchema(ctx context.Context) (*Schema, error)

	// Configure hands the provider its evaluated configuration: an object
	// value conforming to Schema.Config.ImpliedType(). Sensitive values arrive
	// unmarked; the provider must never log or echo them. User-facing problems
	// (a missing file, an insecure setting worth a warning) are returned as
	// Diagnostics; error is for failures of the call itself.
	Configure(ctx context.Context, config cty.Value) (Diagnostics, error)

	// Discover reads every object in scope and hands them to emit in batches
	// as they are read (streamed, never all held first). emit is called from
	// one goroutine at a time; an error from emit stops discovery and is
	// returned.
	Discover(ctx context.Context, scope Scope, emit func([]Object) error) error

	// Apply carries out the changes received on in until it is closed, and
	// reports exactly one Result per change through emit (in any order, with
	// the Change's ID). A change that fails is reported with Result.Error and
	// does not stop the others; the returned error is for failures of the
	// whole call (transport, unusable target). Every change whose Result was
	// emitted is durable in the target. emit is safe for concurrent use.
	Apply(ctx context.Context, in <-chan Change, emit func(Result) error) error

	// Stop asks the provider to finish in-flight work and release resources.
	Stop(ctx context.Context) error
}
