package providers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/grpc"
)

// LaunchOptions says how to start a provider plugin process.
type LaunchOptions struct {
	// Name is the provider's name ("ldif", "ad", a third-party name); every
	// error and log line about the plugin carries it. Required.
	Name string
	// Path is the executable: FindPlugin's result for a third-party
	// provider, os.Executable() for a built-in one. A relative path is
	// taken relative to the host's working directory, not Dir. Required.
	Path string
	// Args are the arguments after Argv0, e.g. ["provider-serve", "ldif"].
	Args []string
	// Argv0 is the plugin's os.Args[0]; empty means Path. The adshift
	// binary re-executed as a built-in provider sets it to "adshift".
	Argv0 string
	// Dir is the plugin's working directory (the configuration directory);
	// empty means the host's.
	Dir string
	// Env are KEY=VALUE pairs added to the host's environment for the
	// plugin (they override host variables of the same name; go-plugin's
	// own variables override both).
	Env []string
	// Logger receives go-plugin's own entries and, under
	// Logger.Named(Name), the plugin's (its hclog JSON on stderr, parsed);
	// nil discards them. Pass e.g. the root logger's Named("provider").
	Logger hclog.Logger
	// StartTimeout bounds the handshake; zero means one minute.
	StartTimeout time.Duration
	// SHA256, when set, is the expected SHA-256 of the executable (from a
	// lock file); Launch refuses a binary that does not match.
	SHA256 []byte
}

// BuiltinOptions returns the options that start the built-in provider name
// from the running adshift binary: os.Executable() re-executed as
// "adshift provider-serve NAME" in the configuration directory dir.
func BuiltinOptions(name, dir string, logger hclog.Logger) (LaunchOptions, error) {
	exe, err := os.Executable()
	if err != nil {
		return LaunchOptions{}, fmt.Errorf("built-in provider %q: %w", name, err)
	}
	return LaunchOptions{
		Name:   name,
		Path:   exe,
		Argv0:  "adshift",
		Args:   []string{"provider-serve", name},
		Dir:    dir,
		Logger: logger,
	}, nil
}

// checkSHA256 compares the SHA-256 of the file at path with want.
func checkSHA256(path string, want []byte) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("hash %s: %w", path, err)
	}
	if got := h.Sum(nil); !bytes.Equal(got, want) {
		return fmt.Errorf("%s has SHA-256 %x, want %x", path, got, want)
	}
	return nil
}

// Client is a provider running in its own process. It implements Provider
// (every error names the provider, and the process ID when the process
// died during a call) and must be closed. Its methods are safe for
// concurrent use.
type Client struct {
	name   string
	pc     *plugin.Client
	proc   *process
	rpc    *grpcClient
	closed atomic.Bool
}

// ErrClosed is wrapped by the error of a call on a closed Client.
var ErrClosed = errors.New("provider client is closed")

func (c *Client) check(call string) error {
	if c.closed.Load() {
		return fmt.Errorf("provider %q: %s: %w", c.name, call, ErrClosed)
	}
	return nil
}

var (
	_ Provider               = (*Client)(nil)
	_ OfflineJoinProvisioner = (*Client)(nil)
	_ DeviceRunner           = (*Client)(nil)
)

// Launch starts the plugin process, completes the go-plugin handshake
// (gRPC with automatic mutual TLS, protocol version ProtocolVersion) and
// returns the connected Client. ctx bounds the start only: cancelling it
// later does not end the process (Close does). The process dies with the
// host however the host ends (a parent-death signal on Linux, its stdin
// closing everywhere), so a killed host leaves no provider behind.
func Launch(ctx context.Context, opts LaunchOptions) (*Client, error) {
	if opts.Name == "" {
		return nil, errors.New("launch provider: no name")
	}
	if opts.Path == "" {
		return nil, fmt.Errorf("launch provider %q: no executable path", opts.Name)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("launch provider %q: %w", opts.Name, err)
	}
	path := opts.Path
	if !filepath.IsAbs(path) {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("launch provider %q: %w", opts.Name, err)
		}
		path = abs
	}
	if opts.SHA256 != nil {
		if err := checkSHA256(path, opts.SHA256); err != nil {
			return nil, fmt.Errorf("launch provider %q: %w", opts.Name, err)
		}
	}
	argv0 := opts.Argv0
	if argv0 == "" {
		argv0 = path
	}
	logger := opts.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}

	proc := newProcess(opts.Name)
	pc := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{
			ProtocolVersion: {PluginName: &ProviderPlugin{Name: opts.Name, proc: proc}},
		},
		RunnerFunc: func(l hclog.Logger, spec *exec.Cmd, _ string) (runner.Runner, error) {
			// hostPipeEnv follows the caller's variables, which cannot
			// turn it off; spec carries only go-plugin's variables
			// (SkipHostEnv); they come last so that nothing overrides them.
			env := append(append(os.Environ(), opts.Env...), hostPipeEnv+"=1")
			env = append(env, spec.Env...)
			return proc, proc.prepare(l, path, append([]string{argv0}, opts.Args...), opts.Dir, env)
		},
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           logger,
		Stderr:           proc.stderr,
		SyncStdout:       proc.stderr,
		SyncStderr:       proc.stderr,
		StartTimeout:     opts.StartTimeout,
		GRPCDialOptions: []grpc.DialOption{
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes)),
		},
	})

	type started struct {
		rpc *grpcClient
		err error
	}
	done := make(chan started, 1)
	go func() {
		cp, err := pc.Client()
		if err != nil {
			done <- started{err: err}
			return
		}
		raw, err := cp.Dispense(PluginName)
		if err != nil {
			done <- started{err: err}
			return
		}
		gc, ok := raw.(*grpcClient)
		if !ok {
			done <- started{err: fmt.Errorf("dispensed %T, not a provider client", raw)}
			return
		}
		done <- started{rpc: gc}
	}()

	var s started
	select {
	case s = <-done:
	case <-ctx.Done():
		// go-plugin holds its lock for the whole handshake; killing the
		// process ends the handshake, then Kill can clean up.
		proc.kill()
		<-done
		pc.Kill()
		return nil, fmt.Errorf("launch provider %q: %w", opts.Name, ctx.Err())
	}
	if s.err != nil {
		pc.Kill()
		err := fmt.Errorf("launch provider %q (%s): %w", opts.Name, path, s.err)
		if tail := proc.stderr.tail(); tail != "" {
			err = fmt.Errorf("%w; last stderr lines:\n%s", err, tail)
		}
		return nil, err
	}
	return &Client{name: opts.Name, pc: pc, proc: proc, rpc: s.rpc}, nil
}

// Name is the provider's name.
func (c *Client) Name() string { return c.name }

// PID is the plugin's process ID.
func (c *Client) PID() int { return c.proc.pid() }

// Close ends the plugin process: it closes the connection, waits up to two
// seconds for the plugin to exit and then kills it. Call Stop first to let
// the provider finish its work. Close may be called more than once.
func (c *Client) Close() {
	c.closed.Store(true)
	c.proc.closing.Store(true)
	c.pc.Kill()
}

// GetSchema implements Provider.
func (c *Client) GetSchema(ctx context.Context) (*Schema, error) {
	if err := c.check("GetSchema"); err != nil {
		return nil, err
	}
	return c.rpc.GetSchema(ctx)
}

// Configure implements Provider.
func (c *Client) Configure(ctx context.Context, config cty.Value) (Diagnostics, error) {
	if err := c.check("Configure"); err != nil {
		return nil, err
	}
	return c.rpc.Configure(ctx, config)
}

// Discover implements Provider; emit is called once per batch as it
// arrives, never after Discover returns.
func (c *Client) Discover(ctx context.Context, scope Scope, emit func([]Object) error) error {
	if err := c.check("Discover"); err != nil {
		return err
	}
	return c.rpc.Discover(ctx, scope, emit)
}

// Apply implements Provider; emit is called from Apply's goroutine only,
// and every result that arrived is emitted before Apply returns an error.
func (c *Client) Apply(ctx context.Context, in <-chan Change, emit func(Result) error) error {
	if err := c.check("Apply"); err != nil {
		return err
	}
	return c.rpc.Apply(ctx, in, emit)
}

// Stop implements Provider.
func (c *Client) Stop(ctx context.Context) error {
	if err := c.check("Stop"); err != nil {
		return err
	}
	return c.rpc.Stop(ctx)
}

// ProvisionOfflineJoin implements OfflineJoinProvisioner: the plugin
// writes the blob; a plugin without the call gives ErrUnsupported.
func (c *Client) ProvisionOfflineJoin(ctx context.Context, req OfflineJoinRequest) (OfflineJoinResult, error) {
	if err := c.check("ProvisionOfflineJoin"); err != nil {
		return OfflineJoinResult{}, err
	}
	return c.rpc.ProvisionOfflineJoin(ctx, req)
}

// ListDevices implements DeviceRunner; a plugin without the call gives
// ErrUnsupported.
func (c *Client) ListDevices(ctx context.Context) ([]DeviceInfo, error) {
	if err := c.check("ListDevices"); err != nil {
		return nil, err
	}
	return c.rpc.ListDevices(ctx)
}

// RunDevices implements DeviceRunner; a plugin without the call gives
// ErrUnsupported.
func (c *Client) RunDevices(ctx context.Context, run DeviceRun, emit func(DeviceEvent) error) error {
	if err := c.check("RunDevices"); err != nil {
		return err
	}
	return c.rpc.RunDevices(ctx, run, emit)
}
