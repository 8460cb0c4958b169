package hub

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/hub/store"
)

// agentHandler serves an authenticated device.
type agentHandler func(w http.ResponseWriter, r *http.Request, dev api.Device)

// agent checks the client certificate: issued by the hub's CA for client
// use, naming an active device whose record holds this certificate's
// serial. Anything else is refused and audited.
func (s *Server) agent(h agentHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		anon := "anonymous@" + remoteIP(r)
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			s.refuse(r.Context(), w, anon, "agent.auth", r.URL.Path, http.StatusUnauthorized, api.CodeUnauthorized, "a client certificate is required")
			return
		}
		leaf := r.TLS.PeerCertificates[0]
		if err := s.verified.verify(leaf, r.TLS.PeerCertificates[1:], s.caPool, s.opts.Now()); err != nil {
			s.refuse(r.Context(), w, anon, "agent.auth", r.URL.Path, http.StatusUnauthorized, api.CodeUnauthorized, "the client certificate was not issued by this hub")
			return
		}
		id := leaf.Subject.CommonName
		actor := "device:" + id
		dev, err := s.store.Identity(r.Context(), id)
		switch {
		case errors.Is(err, store.ErrNotFound) || err == nil && dev.ID != id:
			s.refuse(r.Context(), w, actor, "agent.auth", r.URL.Path, http.StatusForbidden, api.CodeForbidden, "no such device")
			return
		case err != nil:
			s.internal(w, r, actor, "agent.auth", err)
			return
		case dev.State != api.DeviceActive:
			s.refuse(r.Context(), w, actor, "agent.auth", r.URL.Path, http.StatusForbidden, api.CodeForbidden, "the device's identity is revoked")
			return
		}
		switch serial := leaf.SerialNumber.Text(16); {
		case serial == dev.CertSerial:
		case serial == dev.NextSerial:
			// The renewed certificate's first use retires the old one.
			if err := s.store.UseNextCert(r.Context(), dev.ID, serial); err != nil {
				s.internal(w, r, actor, "agent.auth", err)
				return
			}
			s.audit(r.Context(), api.AuditEntry{Actor: actor, Action: "agent.cert", Object: "device:" + dev.ID, Result: "ok", Detail: "renewed certificate in use"})
			dev.CertSerial, dev.NextSerial = serial, ""
		default:
			s.refuse(r.Context(), w, actor, "agent.auth", r.URL.Path, http.StatusForbidden, api.CodeForbidden, "the certificate is no longer valid for this device")
			return
		}
		h(w, r, dev)
	}
}

// admin checks the admin token. A client certificate on an admin call is
// refused even with the right token: agents never act as admins.
func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		anon := "anonymous@" + remoteIP(r)
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			actor := anon
			if cn := r.TLS.PeerCertificates[0].Subject.CommonName; api.ValidID(cn) {
				actor = "device:" + cn
			}
			s.refuse(r.Context(), w, actor, "admin.auth", r.URL.Path, http.StatusForbidden, api.CodeForbidden, "admin calls take the admin token, not a client certificate")
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(token))
		if !ok || subtle.ConstantTimeCompare(sum[:], s.adminHash[:]) != 1 {
			s.refuse(r.Context(), w, anon, "admin.auth", r.URL.Path, http.StatusUnauthorized, api.CodeUnauthorized, "a valid admin token is required")
			return
		}
		h(w, r)
	}
}

// fail answers a failed store call: its refusal (audited), or 500 when
// the failure is the hub's.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, actor, action, object string, err error) {
	status, code := storeError(err)
	if status == http.StatusInternalServerError {
		s.internal(w, r, actor, action, err)
		return
	}
	s.refuse(r.Context(), w, actor, action, object, status, code, refusal(err))
}

// internal answers 500 for a failure that is the hub's, not the caller's.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, actor, action string, err error) {
	s.log.Error("request failed", "action", action, "error", err)
	s.audit(r.Context(), api.AuditEntry{Actor: actor, Action: action, Object: r.URL.Path, Result: "error"})
	writeJSON(w, http.StatusInternalServerError, api.Error{Code: api.CodeInternal, Message: "the hub failed; see its log"})
}

// pemCert encodes one certificate as PEM.
func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// certCache remembers client certificates that verified against the hub
// CA, so that a chain is verified once per certificate, not once per
// request (a long-polling fleet makes many). Whether the certificate
// still names an active device is checked on every request. Safe for
// concurrent use.
type certCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]time.Time // → the certificate's NotAfter
}

// maxCachedCerts bounds the cache; past it the cache starts again.
const maxCachedCerts = 200_000

// verify checks leaf (with intermediates) for client use against roots.
func (c *certCache) verify(leaf *x509.Certificate, intermediates []*x509.Certificate, roots *x509.CertPool, now time.Time) error {
	sum := sha256.Sum256(leaf.Raw)
	c.mu.Lock()
	notAfter, ok := c.m[sum]
	c.mu.Unlock()
	if ok && now.Before(notAfter) && !now.Before(leaf.NotBefore) {
		return nil
	}
	inter := x509.NewCertPool()
	for _, ic := range intermediates {
		inter.AddCert(ic)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedCerts {
		c.m = map[[sha256.Size]byte]time.Time{}
	}
	c.m[sum] = leaf.NotAfter
	c.mu.Unlock()
	return nil
}
