package device

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/providers"
)

// Version is the provider's version.
const Version = "0.1.0"

// Provider is the device provider. Create it with New; it is safe for
// concurrent use once configured.
type Provider struct {
	log hclog.Logger
	// changesWait is how long one changes long poll is held; after one
	// that saw nothing, RunDevices looks for revoked devices.
	changesWait time.Duration

	mu     sync.Mutex
	client *api.Client // nil until Configure succeeds
}

var (
	_ providers.Provider     = (*Provider)(nil)
	_ providers.DeviceRunner = (*Provider)(nil)
)

// New returns an unconfigured provider; logger may be nil.
func New(logger hclog.Logger) *Provider {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Provider{log: logger.Named("device"), changesWait: changesWait}
}

// GetSchema implements providers.Provider.
func (p *Provider) GetSchema(ctx context.Context) (*providers.Schema, error) {
	return &providers.Schema{
		Name:    "device",
		Version: Version,
		Config: providers.Block{Attributes: []providers.Attribute{
			{Name: "url", Type: cty.String, Required: true,
				Description: "The agent hub's URL, https://host:port (what adshift hub serve listens on)."},
			{Name: "token", Type: cty.String, Required: true, Sensitive: true,
				Description: "The hub's admin API token (admin.token in the hub's data directory)."},
			{Name: "ca_file", Type: cty.String,
				Description: "PEM file of the CA that issued the hub's certificate (server-ca.pem in the hub's data directory); default the system's CAs."},
		}},
		PID: os.Getpid(),
	}, nil
}

func stringAttr(config cty.Value, name string) string {
	if config.IsNull() || !config.IsKnown() || !config.Type().IsObjectType() || !config.Type().HasAttribute(name) {
		return ""
	}
	v := config.GetAttr(name)
	if v.IsNull() || !v.IsKnown() || !v.Type().Equals(cty.String) {
		return ""
	}
	return v.AsString()
}

// checkTimeout bounds Configure's calls to the hub.
const checkTimeout = 20 * time.Second

// Configure implements providers.Provider: it checks the settings, then
// that the hub answers its health check over TLS with the CA given and
// accepts the token. Every problem is a diagnostic on the attribute to fix.
func (p *Provider) Configure(ctx context.Context, config cty.Value) (providers.Diagnostics, error) {
	var diags providers.Diagnostics
	errorAt := func(attr, summary, detail string) {
		diags = append(diags, providers.Diagnostic{Severity: providers.SeverityError, Summary: summary, Detail: detail, Attribute: cty.GetAttrPath(attr)})
	}
	raw, token, caFile := stringAttr(config, "url"), stringAttr(config, "token"), stringAttr(config, "ca_file")
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		errorAt("url", "Missing hub URL", `Set "url" to the agent hub's address, e.g. "https://hub.example.com:8443".`)
	case err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "":
		errorAt("url", "Invalid hub URL", fmt.Sprintf(`"url" is %q; it must be https://host or https://host:port, without a path: the hub serves its API over TLS only.`, raw))
	}
	if token == "" {
		errorAt("token", "Missing hub admin token", `Set "token" to the hub's admin token (the admin.token file in the hub's data directory), e.g. token = file("hub/admin.token"); keep it out of version control.`)
	}
	var caPEM []byte
	if caFile != "" {
		if caPEM, err = os.ReadFile(caFile); err != nil {
			errorAt("ca_file", "Cannot read the hub CA file", fmt.Sprintf("%v. Set \"ca_file\" to the hub's server-ca.pem (in its data directory), or remove it to trust the system's CAs.", err))
		}
	}
	if diags.HasErrors() {
		return diags, nil
	}
	// Without ca_file the system's CAs verify the hub.
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}
	if caFile != "" {
		tlsCfg, err = api.ClientTLS(u.Hostname(), caPEM, nil)
	}
	if err != nil {
		errorAt("ca_file", "Invalid hub CA file", fmt.Sprintf("%s holds no PEM certificate. Set \"ca_file\" to the hub's server-ca.pem.", caFile))
		return diags, nil
	}
	tr := &http.Transport{TLSClientConfig: tlsCfg, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 32, Proxy: http.ProxyFromEnvironment}
	c := &api.Client{BaseURL: strings.TrimSuffix(raw, "/"), HTTP: &http.Client{Transport: tr}, AdminToken: token}

	cctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if _, err := c.Health(cctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		attr, summary, detail := explainReach(raw, caFile, err)
		errorAt(attr, summary, detail)
		return diags, nil
	}
	if _, err := c.ChangesHead(cctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if api.HasCode(err, api.CodeUnauthorized) {
			errorAt("token", "Hub refused the admin token", fmt.Sprintf("The hub at %s does not accept the token. Use the current content of admin.token in the hub's data directory.", raw))
		} else {
			errorAt("url", "Hub admin API failed", fmt.Sprintf("The hub at %s answered its health check but not an admin call: %v. Check that url points at an adshift hub of this version.", raw, err))
		}
		return diags, nil
	}
	p.mu.Lock()
	old := p.client
	p.client = c
	p.mu.Unlock()
	if old != nil {
		closeIdle(old)
	}
	p.log.Debug("hub checked", "url", raw)
	return diags, nil
}

// explainReach turns a failed health check into a diagnostic: which
// attribute to fix and how.
func explainReach(raw, caFile string, err error) (attr, summary, detail string) {
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &unknownCA) || (errors.As(err, &certErr) && !errors.As(err, &hostErr)):
		if caFile == "" {
			return "ca_file", "Hub certificate not trusted", fmt.Sprintf("The hub at %s presented a certificate the system does not trust (%v). Set \"ca_file\" to the hub's server-ca.pem from its data directory.", raw, err)
		}
		return "ca_file", "Hub CA mismatch", fmt.Sprintf("The hub at %s presented a certificate that %s did not issue (%v). Set \"ca_file\" to this hub's server-ca.pem, or check that url names the right hub.", raw, caFile, err)
	case errors.As(err, &hostErr):
		return "url", "Hub certificate is for another name", fmt.Sprintf("The hub's certificate does not cover the host in %s (%v). Use a host name or address the certificate names (the hub's -host settings).", raw, err)
	}
	var netErr net.Error
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		return "url", "Hub unreachable", fmt.Sprintf("Cannot reach the hub at %s: %v. Check that adshift hub serve runs there and that the address and port are right and reachable from this machine.", raw, err)
	}
	return "url", "Hub health check failed", fmt.Sprintf("The hub at %s did not answer its health check: %v. Check that url points at an adshift hub.", raw, err)
}

func closeIdle(c *api.Client) {
	if tr, ok := c.HTTP.Transport.(*http.Transport); ok {
		tr.CloseIdleConnections()
	}
}

// hub returns the configured client.
func (p *Provider) hub(call string) (*api.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client == nil {
		return nil, fmt.Errorf("device provider: %s before a successful Configure", call)
	}
	return p.client, nil
}

// Discover implements providers.Provider: the device provider discovers
// no directory objects (devices are read with ListDevices), so it emits
// nothing.
func (p *Provider) Discover(ctx context.Context, scope providers.Scope, emit func([]providers.Object) error) error {
	return nil
}

// Apply implements providers.Provider by refusing every change with its
// Result: devices are changed by jobs, through RunDevices.
func (p *Provider) Apply(ctx context.Context, in <-chan providers.Change, emit func(providers.Result) error) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ch, ok := <-in:
			if !ok {
				return nil
			}
			err := emit(providers.Result{ID: ch.ID, Error: fmt.Sprintf("the device provider does not apply %s changes (%s): device jobs run through RunDevices", ch.Kind, ch.DN)})
			if err != nil {
				return err
			}
		}
	}
}

// Stop implements providers.Provider: it closes idle connections.
func (p *Provider) Stop(ctx context.Context) error {
	p.mu.Lock()
	c := p.client
	p.mu.Unlock()
	if c != nil {
		closeIdle(c)
	}
	return nil
}
