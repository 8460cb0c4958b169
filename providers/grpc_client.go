package providers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/zclconf/go-cty/cty"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/adshift/adshift/providers/proto"
)

// ErrProtocol is wrapped by errors about a plugin that broke the provider
// protocol: a message that does not decode, an object of an unknown kind, a
// result for a change it was never sent.
var ErrProtocol = errors.New("protocol violation")

// ExitError reports a plugin process that exited while a call was in
// flight.
type ExitError struct {
	Provider string // provider name
	PID      int
	Call     string // "Discover", "Apply", ...
	// Exit is the process's exit error (*exec.ExitError for a non-zero
	// status or a signal), or nil for a clean exit.
	Exit error
	// Stderr is the tail of the process's stderr (hclog lines rendered
	// as "[LEVEL] message"), possibly empty.
	Stderr string
}

func (e *ExitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "provider %q (pid %d) exited unexpectedly during %s", e.Provider, e.PID, e.Call)
	if e.Exit != nil {
		fmt.Fprintf(&b, ": %v", e.Exit)
	} else {
		b.WriteString(": exit status 0")
	}
	if e.Stderr != "" {
		fmt.Fprintf(&b, "; last stderr lines:\n%s", e.Stderr)
	}
	return b.String()
}

func (e *ExitError) Unwrap() error { return e.Exit }

// exitGrace is how long a failed call waits for the plugin process to be
// reaped before it decides the process is still alive. A broken connection
// is seen before the exit.
const exitGrace = 5 * time.Second

// grpcClient is the host-side shim: a Provider whose methods are gRPC
// calls. It names the provider in every error it returns.
type grpcClient struct {
	name   string
	proc   *process // nil when not launched by this package (tests)
	client proto.ProviderClient
}

var (
	_ Provider               = (*grpcClient)(nil)
	_ OfflineJoinProvisioner = (*grpcClient)(nil)
	_ DeviceRunner           = (*grpcClient)(nil)
)

// protocolError reports a plugin that broke the protocol during call.
func (c *grpcClient) protocolError(call string, err error) error {
	return fmt.Errorf("provider %q: %s: %w: %w", c.name, call, ErrProtocol, err)
}

// callError turns the error of a gRPC call into one naming the provider:
// the caller's cancellation, the plugin process's death, or the plugin's own
// error message.
func (c *grpcClient) callError(ctx context.Context, call string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("provider %q: %s: %w", c.name, call, ctxErr)
	}
	if c.proc != nil && c.proc.closing.Load() {
		return fmt.Errorf("provider %q: %s: %w", c.name, call, ErrClosed)
	}
	st, _ := status.FromError(err)
	if c.proc != nil {
		var wait <-chan time.Time
		if st.Code() == codes.Unavailable {
			// The connection broke; the process is likely going.
			t := time.NewTimer(exitGrace)
			defer t.Stop()
			wait = t.C
		}
		if exit, ok := c.proc.waitExit(ctx, wait); ok {
			return &ExitError{Provider: c.name, PID: c.proc.pid(), Call: call, Exit: exit, Stderr: c.proc.stderr.tail()}
		}
	}
	switch st.Code() {
	case codes.Unknown:
		// A plain error returned by the provider.
		return fmt.Errorf("provider %q: %s: %w", c.name, call, errors.New(st.Message()))
	case codes.Unimplemented:
		return fmt.Errorf("provider %q: %s is not implemented by the plugin: %s", c.name, call, st.Message())
	default:
		return fmt.Errorf("provider %q: %s: %s (%s)", c.name, call, st.Message(), st.Code())
	}
}

// optionalCallError is callError for an optional call: a plugin without
// it (Unimplemented) gives an error wrapping ErrUnsupported.
func (c *grpcClient) optionalCallError(ctx context.Context, call string, err error) error {
	if st, _ := status.FromError(err); st.Code() == codes.Unimplemented && ctx.Err() == nil {
		return fmt.Errorf("provider %q: %s: %w: %s", c.name, call, ErrUnsupported, st.Message())
	}
	return c.callError(ctx, call, err)
}

func (c *grpcClient) GetSchema(ctx context.Context) (*Schema, error) {
	resp, err := c.client.GetSchema(ctx, &proto.GetSchema_Request{})
	if err != nil {
		return nil, c.callError(ctx, "GetSchema", err)
	}
	s, err := schemaFromProto(resp.GetSchema())
	if err != nil {
		return nil, c.protocolError("GetSchema", err)
	}
	return s, nil
}

func (c *grpcClient) Configure(ctx context.Context, config cty.Value) (Diagnostics, error) {
	dv, err := dynamicValueToProto(config)
	if err != nil {
		return nil, fmt.Errorf("provider %q: Configure: config: %w", c.name, err)
	}
	resp, err := c.client.Configure(ctx, &proto.Configure_Request{Config: dv})
	if err != nil {
		return nil, c.callError(ctx, "Configure", err)
	}
	diags, err := diagnosticsFromProto(resp.GetDiagnostics())
	if err != nil {
		return nil, c.protocolError("Configure", err)
	}
	return diags, nil
}

// Discover calls emit once per batch as each arrives. Batches are cut by
// size on the plugin side, so one emit of the provider may arrive as
// several.
func (c *grpcClient) Discover(ctx context.Context, scope Scope, emit func([]Object) error) error {
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.client.Discover(callCtx, &proto.Discover_Request{Scope: scopeToProto(scope)})
	if err != nil {
		return c.callError(ctx, "Discover", err)
	}
	for {
		batch, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return c.callError(ctx, "Discover", err)
		}
		objs, err := batchFromProto(batch)
		if err != nil {
			return c.protocolError("Discover", err)
		}
		if err := emit(objs); err != nil {
			return err
		}
	}
}

// errSendStopped tells the Apply receiver that the sender stopped because
// the stream or the call ended, not because of a problem of its own.
var errSendStopped = errors.New("sending stopped")

// applyLedger tracks the changes sent and not yet reported.
type applyLedger struct {
	mu       sync.Mutex
	pending  map[int64]bool
	reported map[int64]bool
}

func (l *applyLedger) send(id int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending[id] || l.reported[id] {
		return fmt.Errorf("change ID %d sent twice", id)
	}
	l.pending[id] = true
	return nil
}

func (l *applyLedger) report(id int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.pending[id] {
		if l.reported[id] {
			return fmt.Errorf("second result for change %d", id)
		}
		return fmt.Errorf("result for unknown change %d", id)
	}
	delete(l.pending, id)
	l.reported[id] = true
	return nil
}

func (l *applyLedger) missing() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := make([]int64, 0, len(l.pending))
	for id := range l.pending {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// Apply sends the changes from in as they come and calls emit for each
// result as it arrives, from this goroutine only. When in closes it closes
// its side of the stream and waits for the remaining results. If the call
// fails (the plugin dies, the context ends), every result that arrived has
// been emitted before the error is returned.
func (c *grpcClient) Apply(ctx context.Context, in <-chan Change, emit func(Result) error) error {
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.client.Apply(callCtx)
	if err != nil {
		return c.callError(ctx, "Apply", err)
	}
	ledger := &applyLedger{pending: map[int64]bool{}, reported: map[int64]bool{}}

	// The sender returns nil once in is closed and the close is sent,
	// errSendStopped when the call ended first, or its own error (after
	// cancelling the call).
	sendDone := make(chan error, 1)
	go func() {
		sendDone <- func() error {
			for {
				var ch Change
				var ok bool
				select {
				case <-callCtx.Done():
					return errSendStopped
				case ch, ok = <-in:
				}
				if !ok {
					if err := stream.CloseSend(); err != nil {
						return errSendStopped
					}
					return nil
				}
				req, err := changeToProto(ch)
				if err == nil {
					err = ledger.send(ch.ID)
				}
				if err != nil {
					cancel()
					return fmt.Errorf("provider %q: Apply: %w", c.name, err)
				}
				if err := stream.Send(req); err != nil {
					// io.EOF: the plugin ended the call; Recv says why.
					return errSendStopped
				}
			}
		}()
	}()

	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			cancel()
			if sendErr := <-sendDone; sendErr != nil && sendErr != errSendStopped {
				return sendErr
			}
			return c.callError(ctx, "Apply", err)
		}
		r := resultFromProto(resp)
		if err := ledger.report(r.ID); err != nil {
			cancel()
			<-sendDone
			return c.protocolError("Apply", err)
		}
		if err := emit(r); err != nil {
			cancel()
			<-sendDone
			return err
		}
	}

	// The plugin ended the call without an error. It may only do that after
	// it received every change, so the sender must have finished.
	cancel()
	if sendErr := <-sendDone; sendErr != nil {
		if sendErr != errSendStopped {
			return sendErr
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("provider %q: Apply: %w", c.name, ctxErr)
		}
		return c.protocolError("Apply", errors.New("plugin ended the call before every change was sent"))
	}
	if ids := ledger.missing(); len(ids) > 0 {
		return c.protocolError("Apply", fmt.Errorf("no result for %d changes (IDs %s)", len(ids), formatIDs(ids)))
	}
	return nil
}

// formatIDs lists at most ten IDs.
func formatIDs(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i == 10 {
			fmt.Fprintf(&b, ", … %d more", len(ids)-10)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d", id)
	}
	return b.String()
}

func (c *grpcClient) Stop(ctx context.Context) error {
	if _, err := c.client.Stop(ctx, &proto.Stop_Request{}); err != nil {
		return c.callError(ctx, "Stop", err)
	}
	return nil
}

// ProvisionOfflineJoin asks the plugin to provision an offline domain join
// blob; a plugin without the call gives an error wrapping ErrUnsupported.
func (c *grpcClient) ProvisionOfflineJoin(ctx context.Context, req OfflineJoinRequest) (OfflineJoinResult, error) {
	resp, err := c.client.ProvisionOfflineJoin(ctx, &proto.ProvisionOfflineJoin_Request{
		Computer: req.Computer, Ou: req.OU, Dir: req.Dir, FileName: req.FileName, Reuse: req.Reuse,
	})
	if err != nil {
		return OfflineJoinResult{}, c.optionalCallError(ctx, "ProvisionOfflineJoin", err)
	}
	return OfflineJoinResult{
		DN: resp.GetDn(), GUID: resp.GetGuid(), SID: resp.GetSid(), Created: resp.GetCreated(), Path: resp.GetPath(), DC: resp.GetDc(),
	}, nil
}
