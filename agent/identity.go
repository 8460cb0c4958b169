package agent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/internal/atomicfile"
)

// Files in the agent's data directory.
const (
	certFile     = "device.pem" // the certificate and its key, replaced whole
	caFile       = "hub-ca.pem"
	identityFile = "identity.json"
	journalFile  = "journal.jsonl"
)

// Identity is what enrollment leaves in the data directory.
type Identity struct {
	DeviceID string    `json:"device_id"`
	Hostname string    `json:"hostname"`
	HubURL   string    `json:"hub_url"`
	Enrolled time.Time `json:"enrolled"`
	// PingKey authenticates UDP pings (base64); the file is 0600.
	PingKey string `json:"ping_key,omitempty"`
	// Expires is the certificate's end; filled in by LoadIdentity.
	Expires time.Time `json:"-"`

	cert tls.Certificate
	ca   []byte
}

// ErrNotEnrolled is returned by LoadIdentity when the agent has no identity.
var ErrNotEnrolled = errors.New("this agent is not enrolled; run adshift-agent enroll first")

// LoadIdentity reads the identity in dir.
func LoadIdentity(dir string) (*Identity, error) {
	b, err := os.ReadFile(filepath.Join(dir, identityFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotEnrolled
	}
	if err != nil {
		return nil, fmt.Errorf("read agent identity: %w", err)
	}
	var id Identity
	if err := json.Unmarshal(b, &id); err != nil {
		return nil, fmt.Errorf("read agent identity: %w", err)
	}
	pair, err := os.ReadFile(filepath.Join(dir, certFile))
	if err != nil {
		return nil, fmt.Errorf("read agent certificate: %w", err)
	}
	if id.cert, err = tls.X509KeyPair(pair, pair); err != nil {
		return nil, fmt.Errorf("read agent certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(id.cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("read agent certificate: %w", err)
	}
	id.Expires = leaf.NotAfter
	if id.ca, err = os.ReadFile(filepath.Join(dir, caFile)); err != nil {
		return nil, fmt.Errorf("read hub CA: %w", err)
	}
	return &id, nil
}

// Enroll creates this device's identity: it makes a key, sends a
// certificate request with the token to the hub (verified against the
// pinned CA fingerprint) and stores key, certificate and CA in DataDir.
// It refuses when the agent is enrolled already.
func Enroll(ctx context.Context, s Settings) (*Identity, error) {
	s = s.withDefaults()
	switch {
	case s.HubURL == "" || s.Token == "" || s.CAFingerprint == "" || s.DataDir == "":
		return nil, errors.New("enroll needs the hub URL, an enrollment token, the hub's CA fingerprint and a data directory")
	case !api.ValidHostname(s.Hostname):
		return nil, fmt.Errorf("host name %q cannot be enrolled", s.Hostname)
	}
	if _, err := LoadIdentity(s.DataDir); err == nil {
		return nil, fmt.Errorf("this agent is enrolled already (%s); remove it from the hub and its data directory to enroll again", s.DataDir)
	}
	if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("agent data directory: %w", err)
	}
	key, csr, err := newKey(s.Hostname)
	if err != nil {
		return nil, err
	}
	host, err := hubHost(s.HubURL)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := api.PinnedTLS(host, s.CAFingerprint)
	if err != nil {
		return nil, err
	}
	c, err := newClient(s, tlsCfg)
	if err != nil {
		return nil, err
	}
	defer c.HTTP.CloseIdleConnections()
	resp, err := c.Enroll(ctx, api.EnrollRequest{Token: s.Token, Hostname: s.Hostname, CSR: csr})
	if err != nil {
		return nil, fmt.Errorf("enroll with %s: %w", s.HubURL, explain(err))
	}
	block, _ := pem.Decode([]byte(resp.CA))
	if block == nil || api.Fingerprint(block.Bytes) != strings.ToLower(s.CAFingerprint) {
		return nil, errors.New("the hub returned a CA that does not match the pinned fingerprint")
	}
	pair, err := certAndKey(resp.Certificate, key)
	if err != nil {
		return nil, err
	}
	id := &Identity{DeviceID: resp.DeviceID, Hostname: s.Hostname, HubURL: s.HubURL, Enrolled: time.Now().UTC(), PingKey: resp.PingKey}
	idJSON, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		return nil, err
	}
	// The identity file goes last: it marks the enrollment complete.
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{certFile, pair, 0o600},
		{caFile, []byte(resp.CA), 0o644},
		{identityFile, idJSON, 0o600},
	} {
		if err := atomicfile.Write(filepath.Join(s.DataDir, f.name), f.data, f.mode); err != nil {
			return nil, err
		}
	}
	return LoadIdentity(s.DataDir)
}

// newKey makes a device key and a PEM certificate request for host.
func newKey(host string) (*ecdsa.PrivateKey, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", fmt.Errorf("make the device key: %w", err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: host}}, key)
	if err != nil {
		return nil, "", fmt.Errorf("make the certificate request: %w", err)
	}
	return key, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})), nil
}

// certAndKey is the content of device.pem: the certificate, then its key.
func certAndKey(certPEM string, key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("store the device key: %w", err)
	}
	return append([]byte(certPEM), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})...), nil
}

// Renew replaces the certificate, with a new key, through c (a client of
// this identity), and stores it in dir. The hub keeps the old one valid
// until the new one is first used, so a crash at any point leaves a
// working identity.
func (id *Identity) Renew(ctx context.Context, c *api.Client, dir string) error {
	key, csr, err := newKey(id.Hostname)
	if err != nil {
		return err
	}
	resp, err := c.Renew(ctx, api.RenewRequest{CSR: csr})
	if err != nil {
		return fmt.Errorf("renew the certificate: %w", explain(err))
	}
	pair, err := certAndKey(resp.Certificate, key)
	if err != nil {
		return err
	}
	cert, err := tls.X509KeyPair(pair, pair)
	if err != nil {
		return fmt.Errorf("renewed certificate: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, certFile), pair, 0o600); err != nil {
		return err
	}
	id.cert, id.Expires = cert, resp.Expires
	return nil
}

// Client returns a hub client that presents this identity.
func (id *Identity) Client(s Settings) (*api.Client, error) {
	host, err := hubHost(id.HubURL)
	if err != nil {
		return nil, err
	}
	cfg, err := api.ClientTLS(host, id.ca, &id.cert)
	if err != nil {
		return nil, err
	}
	s.HubURL = id.HubURL
	return newClient(s, cfg)
}

// hubHost is the host name the hub's certificate must carry.
func hubHost(hubURL string) (string, error) {
	u, err := url.Parse(hubURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("hub URL %q: want https://host[:port]", hubURL)
	}
	return u.Hostname(), nil
}

// newClient builds the HTTP client: TLS as given, through the web proxy
// when one is set (CONNECT, with Proxy-Authorization when a user is set).
func newClient(s Settings, cfg *tls.Config) (*api.Client, error) {
	tr := &http.Transport{
		TLSClientConfig:     cfg,
		TLSHandshakeTimeout: 15 * time.Second,
		IdleConnTimeout:     90 * time.Second,
		MaxIdleConnsPerHost: 2,
		ForceAttemptHTTP2:   true,
	}
	if s.ProxyURL != "" {
		u, err := url.Parse(s.ProxyURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("proxy URL %q: want http://host:port", s.ProxyURL)
		}
		if s.ProxyUser != "" {
			u.User = url.UserPassword(s.ProxyUser, s.ProxyPassword)
		}
		tr.Proxy = http.ProxyURL(u)
		tr.OnProxyConnectResponse = func(_ context.Context, _ *url.URL, _ *http.Request, resp *http.Response) error {
			if resp.StatusCode == http.StatusProxyAuthRequired || resp.StatusCode == http.StatusUnauthorized {
				return ErrProxyAuth
			}
			return nil
		}
	}
	return &api.Client{BaseURL: strings.TrimRight(s.HubURL, "/"), HTTP: &http.Client{Transport: tr}}, nil
}

// ErrProxyAuth is the web proxy refusing the agent's proxy credentials.
var ErrProxyAuth = errors.New("the web proxy refused the proxy user name or password (407); check proxy_user and proxy_password")

// explain turns a proxy's refusal into a sentence a user can act on.
func explain(err error) error {
	switch {
	case errors.Is(err, ErrProxyAuth):
		return ErrProxyAuth
	case strings.Contains(err.Error(), "proxyconnect"):
		return fmt.Errorf("cannot reach the web proxy: %w", err)
	}
	return err
}
