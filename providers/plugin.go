package providers

import (
	"context"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/adshift/adshift/providers/proto"
)

// ProtocolVersion is the version of the provider protocol
// (providers/proto, package adshift.provider.v1) this package speaks.
const ProtocolVersion = 1

// PluginName is the name under which the provider is registered in the
// go-plugin plugin set.
const PluginName = "provider"

// Handshake is the go-plugin handshake between adshift and a provider
// plugin. The magic cookie is not a secret: it only keeps a plugin binary
// run by hand from waiting for a host that never comes.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "ADSHIFT_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "24701ada62be095d6cdaa8123828096b48da893871b08c12",
}

// maxMessageBytes bounds one gRPC message in either direction. Discover
// batches are cut near batchBytes; the higher limit leaves room for one
// very large object (a group with hundreds of thousands of members) or
// change.
const maxMessageBytes = 256 << 20

// batchBytes is the approximate encoded size at which the plugin side cuts
// a Discover batch into a new message.
const batchBytes = 1 << 20

// ProviderPlugin is the go-plugin GRPCPlugin that carries a Provider. On
// the plugin side Impl is served; on the host side Dispense returns a
// Provider that talks to it. Launch and Serve build it; tests use it with
// plugin.TestPluginGRPCConn.
type ProviderPlugin struct {
	plugin.NetRPCUnsupportedPlugin

	// Impl is the provider served (plugin side only).
	Impl Provider

	// Name is the provider's name, used in the host's errors (host side).
	Name string

	// proc is the plugin process, when there is one (host side, Launch).
	proc *process
}

var _ plugin.GRPCPlugin = (*ProviderPlugin)(nil)

// GRPCServer registers the provider service on s (plugin side).
func (p *ProviderPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	proto.RegisterProviderServer(s, &grpcServer{impl: p.Impl})
	return nil
}

// GRPCClient returns the host-side Provider for conn. go-plugin's context
// only tells about the process exiting; each call uses its caller's context.
func (p *ProviderPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (interface{}, error) {
	return &grpcClient{name: p.Name, proc: p.proc, client: proto.NewProviderClient(conn)}, nil
}

// hostPipeEnv is set (to "1") in a plugin's environment by a host that
// holds the write end of the plugin's stdin and never writes to it: when
// the host is gone, however it went, the pipe closes and Serve ends the
// plugin. Without it (an older host) stdin may be /dev/null, which says
// nothing about the host.
const hostPipeEnv = "ADSHIFT_PROVIDER_HOST_PIPE"

// Serve serves p as a provider plugin on this process's stdio (the
// go-plugin protocol, gRPC only) and returns when the host closes the
// connection. A provider binary's main calls it and nothing else:
//
//	func main() { providers.Serve(myprovider.New(), nil) }
//
// logger must write hclog JSON to the real stderr (the host parses it and
// forwards each entry to its own logger); nil makes such a logger at the
// level named by ADSHIFT_LOG (default info). If the process was not started
// by an adshift host, Serve prints an explanation and exits with status 1.
// If the host dies (its end of stdin closes), Serve exits with status 1:
// a provider must not outlive its host, holding connections to a DC.
// Started by such a host, Serve ignores SIGINT, SIGTERM and SIGHUP: sent
// to the whole process group (a terminal's Ctrl-C or hangup, a service
// manager), they are the host's to handle; it finishes the changes in
// flight, which needs its providers, saves state and then ends them.
func Serve(p Provider, logger hclog.Logger) {
	if logger == nil {
		level := hclog.LevelFromString(os.Getenv("ADSHIFT_LOG"))
		if level == hclog.NoLevel {
			level = hclog.Info
		}
		logger = hclog.New(&hclog.LoggerOptions{
			Name:       "provider",
			Level:      level,
			Output:     os.Stderr,
			JSONFormat: true,
		})
	}
	if os.Getenv(hostPipeEnv) != "" {
		// go-plugin ignores os.Interrupt itself.
		signal.Ignore(syscall.SIGTERM, syscall.SIGHUP)
		go func() {
			awaitClose(os.Stdin)
			logger.Warn("the adshift host is gone (stdin closed); exiting")
			os.Exit(1)
		}()
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			MagicCookieKey:   Handshake.MagicCookieKey,
			MagicCookieValue: Handshake.MagicCookieValue,
		},
		VersionedPlugins: map[int]plugin.PluginSet{
			ProtocolVersion: {PluginName: &ProviderPlugin{Impl: p}},
		},
		GRPCServer: newGRPCServer,
		Logger:     logger,
	})
}

// awaitClose returns when r, a pipe nobody writes to, reports its end or
// an error: the writer closed it.
func awaitClose(r io.Reader) {
	_, _ = io.Copy(io.Discard, r)
}

func newGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	opts = append(opts, grpc.MaxRecvMsgSize(maxMessageBytes), grpc.MaxSendMsgSize(maxMessageBytes))
	return grpc.NewServer(opts...)
}

// pluginFileName is the file name of a third-party provider binary.
func pluginFileName(name, goos string) string {
	n := "adshift-provider-" + name
	if goos == "windows" && !strings.HasSuffix(strings.ToLower(n), ".exe") {
		n += ".exe"
	}
	return n
}
