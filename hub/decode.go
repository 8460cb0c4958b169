package hub

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/adshift/adshift/hub/api"
)

// The decoders of agent input. Each reads at most api.MaxBodyBytes,
// rejects what does not validate, and never panics; each has a fuzz target.

// decodeEnroll reads an enrollment request and its certificate request,
// whose signature, key and common name (the host name) it checks.
func decodeEnroll(r io.Reader) (api.EnrollRequest, *x509.CertificateRequest, error) {
	var req api.EnrollRequest
	if err := api.Decode(r, &req); err != nil {
		return req, nil, err
	}
	if err := req.Validate(); err != nil {
		return req, nil, err
	}
	csr, err := decodeCSR(req.CSR)
	if err != nil {
		return req, nil, fmt.Errorf("enroll: %w", err)
	}
	if csr.Subject.CommonName != req.Hostname {
		return req, nil, errors.New("enroll: csr common name is not the host name")
	}
	return req, csr, nil
}

// decodeCSR reads one PEM certificate request and checks its signature
// and key.
func decodeCSR(text string) (*x509.CertificateRequest, error) {
	block, rest := pem.Decode([]byte(text))
	if block == nil || block.Type != "CERTIFICATE REQUEST" || len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("csr is not one PEM CERTIFICATE REQUEST")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("csr: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("csr signature: %w", err)
	}
	if err := checkCSRKey(csr.PublicKey); err != nil {
		return nil, fmt.Errorf("csr: %w", err)
	}
	return csr, nil
}

// decodeRenew reads a renewal request and its certificate request, whose
// common name must be host.
func decodeRenew(r io.Reader, host string) (*x509.CertificateRequest, error) {
	var req api.RenewRequest
	if err := api.Decode(r, &req); err != nil {
		return nil, err
	}
	csr, err := decodeCSR(req.CSR)
	if err != nil {
		return nil, fmt.Errorf("renew: %w", err)
	}
	if csr.Subject.CommonName != host {
		return nil, errors.New("renew: csr common name is not the host name")
	}
	return csr, nil
}

// decodeHeartbeat reads a heartbeat.
func decodeHeartbeat(r io.Reader) (api.HeartbeatRequest, error) {
	var h api.HeartbeatRequest
	if err := api.Decode(r, &h); err != nil {
		return h, err
	}
	return h, h.Validate()
}

// decodeReport reads a progress or result report.
func decodeReport(r io.Reader) (api.Report, error) {
	var rep api.Report
	if err := api.Decode(r, &rep); err != nil {
		return rep, err
	}
	return rep, rep.Validate()
}

// parseWait reads a long poll's wait parameter: a Go duration, at most
// api.MaxPollWait; empty means the default.
func parseWait(s string) (time.Duration, error) {
	if s == "" {
		return defaultPollWait, nil
	}
	if len(s) > 20 {
		return 0, errors.New("wait: too long")
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("wait: %w", err)
	}
	if d < 0 || d > api.MaxPollWait {
		return 0, fmt.Errorf("wait: %s is outside 0 to %s", d, api.MaxPollWait)
	}
	return d, nil
}

const defaultPollWait = 30 * time.Second
