package ad

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/providers"
)

// Version of the ad provider.
const Version = "0.1.0"

// Provider is the ad provider. Create it with New. Configure must succeed
// before Discover and Apply; the methods are safe for concurrent use after
// that.
type Provider struct {
	log   hclog.Logger
	retry backoff

	mu       sync.Mutex
	cfg      *Config
	lastRead ReadStats
	pools
}

// pools are a configured provider's connections, by use.
type pools struct {
	pool   *pool // go-ldap connections: apply's small reads (checks, read-backs)
	writes *pool // go-ldap connections: apply's writes
	reads  *pool // wire connections: discovery's bulk searches
}

func (ps pools) close() {
	if ps.pool != nil {
		ps.pool.close()
		ps.writes.close()
		ps.reads.close()
	}
}

var _ providers.Provider = (*Provider)(nil)

// New returns an unconfigured provider that logs to logger (nil: no logs).
func New(logger hclog.Logger) *Provider {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Provider{log: logger, retry: defaultBackoff}
}

// GetSchema describes the provider-owned configuration and the kinds served.
func (p *Provider) GetSchema(ctx context.Context) (*providers.Schema, error) {
	return &providers.Schema{
		Name:    "ad",
		Version: Version,
		Config:  configSchema,
		Kinds:   append(append([]providers.Kind(nil), allKinds...), providers.KindTrust),
		PID:     os.Getpid(),
	}, nil
}

// Configure decodes the configuration, then connects and binds once so a
// wrong address, certificate or password is reported now, as an error
// diagnostic naming the server. A configuration with
// tls.insecure_skip_verify gets a warning every time.
func (p *Provider) Configure(ctx context.Context, config cty.Value) (providers.Diagnostics, error) {
	cfg, diags := decodeConfig(config)
	if diags.HasErrors() {
		return diags, nil
	}
	dc := &dcChoice{}
	pl := newPool(cfg, p.log, p.retry, cfg.Connections, dc)
	c, err := p.firstConn(ctx, pl)
	if err != nil {
		if ctx.Err() != nil {
			return diags, ctx.Err()
		}
		summary := "Cannot connect to the domain controller"
		attr := cty.GetAttrPath("servers")
		var oe *OpError
		if errors.As(err, &oe) && oe.Op == "bind" {
			summary = "Cannot log in to the domain controller"
			attr = cty.GetAttrPath("bind")
		}
		diags = append(diags, providers.Diagnostic{
			Severity: providers.SeverityError, Summary: summary, Detail: err.Error() + ".", Attribute: attr,
		})
		return diags, nil
	}
	pl.put(c, false)
	p.log.Debug("configured", "config", cfg.String(), "server", c.server)

	// The writers are separate connections, so that a write never waits
	// behind a read-back and the DC's writer stays busy (see apply).
	ps := pools{pool: pl, writes: newPool(cfg, p.log, p.retry, cfg.WriteConnections, dc), reads: newPool(cfg, p.log, p.retry, cfg.Connections, dc)}
	ps.reads.wire = true // dialled when discovery starts

	p.mu.Lock()
	old := p.pools
	p.cfg, p.pools = cfg, ps
	p.mu.Unlock()
	old.close()
	return diags, nil
}

// firstConn gets the pool's first connection. A connection the DC accepted
// and then dropped (a DC restarting, a load balancer) is retried with the
// backoff; a refused or timed-out dial, a certificate and a refused bind
// fail at once, so a wrong address or password is reported without delay.
func (p *Provider) firstConn(ctx context.Context, pl *pool) (*conn, error) {
	pause := p.retry.first
	for attempt := 1; ; attempt++ {
		c, err := pl.get(ctx)
		if err == nil || !droppedConnection(err) || ctx.Err() != nil {
			return c, err
		}
		if attempt >= p.retry.attempts {
			return nil, fmt.Errorf("after %d attempts: %w", attempt, err)
		}
		p.log.Debug("connection dropped while connecting; retrying", "attempt", attempt, "pause", pause, "error", err)
		if pause, err = p.retry.wait(ctx, pause); err != nil {
			return nil, err
		}
	}
}

func (p *Provider) configured() (*session, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pool == nil {
		return nil, errors.New("ad provider used before Configure")
	}
	return &session{p: p, cfg: p.cfg, pools: p.pools}, nil
}

// Discover reads every object of scope's kinds under its include OUs (minus
// the excluded subtrees) with paged searches over the pool's connections,
// and calls emit with each page's objects as they arrive.
func (p *Provider) Discover(ctx context.Context, scope providers.Scope, emit func([]providers.Object) error) error {
	s, err := p.configured()
	if err != nil {
		return err
	}
	return s.discover(ctx, scope, emit)
}

// Apply carries out the changes from in; see providers.Provider.
func (p *Provider) Apply(ctx context.Context, in <-chan providers.Change, emit func(providers.Result) error) error {
	s, err := p.configured()
	if err != nil {
		return err
	}
	return s.apply(ctx, in, emit)
}

// Stop closes the provider's connections.
func (p *Provider) Stop(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pools.close()
	p.pools = pools{}
	return nil
}

// session is one Discover or Apply call's view of the configuration.
type session struct {
	p   *Provider
	cfg *Config
	pools
}
