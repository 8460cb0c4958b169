package api

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Fingerprint is the SHA-256 of a certificate's DER bytes, written
// "sha256:" followed by lower-case hex; agents pin the hub CA's with it.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// PinnedTLS returns a client TLS configuration for enrollment, before the
// agent has the hub's CA: the hub's chain must contain a CA certificate
// whose fingerprint is pin, and the hub's certificate must verify against
// that CA (host name included).
func PinnedTLS(serverName, pin string) (*tls.Config, error) {
	pin = strings.ToLower(strings.TrimSpace(pin))
	if !strings.HasPrefix(pin, "sha256:") || len(pin) != len("sha256:")+64 {
		return nil, fmt.Errorf("ca fingerprint %q: want sha256: and 64 hex digits", pin)
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: serverName,
		// Verification is done below, against the pinned CA only.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("hub sent no certificate")
			}
			for _, c := range cs.PeerCertificates {
				if Fingerprint(c.Raw) != pin || !c.IsCA {
					continue
				}
				pool := x509.NewCertPool()
				pool.AddCert(c)
				_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool, DNSName: serverName})
				if err != nil {
					return fmt.Errorf("hub certificate does not verify against the pinned CA: %w", err)
				}
				return nil
			}
			return fmt.Errorf("hub's CA does not match the pinned fingerprint %s", pin)
		},
	}, nil
}

// ClientTLS returns a client TLS configuration that trusts only the CA in
// caPEM and, when cert is not nil, presents it (mutual TLS).
func ClientTLS(serverName string, caPEM []byte, cert *tls.Certificate) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("no CA certificate in the PEM data")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, ServerName: serverName}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return cfg, nil
}
