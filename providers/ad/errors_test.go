package ad

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/adshift/adshift/providers/ad/wire"
)

func TestMapError(t *testing.T) {
	srv := "ldaps://dc1:636"
	tests := []struct {
		name      string
		oc        opCtx
		err       error
		want      []string
		retry     bool
		transport bool
	}{
		{"wrong password", opCtx{op: "bind", dn: "admin@x.test", server: srv},
			ldap.NewError(49, errors.New("80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data 52e, v4563")),
			[]string{"invalid credentials", `"admin@x.test"`, "user name or password is wrong", srv}, false, false},
		{"locked out", opCtx{op: "bind", dn: "admin@x.test"}, ldap.NewError(49, errors.New("… data 775, v4563")),
			[]string{"locked out"}, false, false},
		{"bad bind without sub-code", opCtx{op: "bind", dn: "u"}, ldap.NewError(49, errors.New("")),
			[]string{"wrong user name or password"}, false, false},
		{"password policy", opCtx{op: "add", dn: "CN=a,OU=b", password: true}, ldap.NewError(19, errors.New("0000052D: Constraint violation")),
			[]string{"password policy", "unicodePwd"}, false, false},
		{"constraint without password", opCtx{op: "modify", dn: "CN=a"}, ldap.NewError(19, errors.New("attribute too long")),
			[]string{"constraint violation", "attribute too long"}, false, false},
		{"password over plain LDAP", opCtx{op: "add", dn: "CN=a", password: true}, ldap.NewError(53, errors.New("")),
			[]string{"encrypted connection"}, false, false},
		{"parent missing", opCtx{op: "add", dn: `CN=a\,b,OU=Gone,DC=x`}, ldap.NewError(32, errors.New("")),
			[]string{`parent "OU=Gone,DC=x" does not exist`}, false, false},
		{"object gone", opCtx{op: "modify", dn: "CN=a"}, ldap.NewError(32, errors.New("")),
			[]string{"moved or deleted since the plan"}, false, false},
		{"insufficient access", opCtx{op: "delete", dn: "CN=a"}, ldap.NewError(50, errors.New("")),
			[]string{"insufficient access"}, false, false},
		{"exists", opCtx{op: "add", dn: "CN=a"}, ldap.NewError(68, errors.New("")), []string{"already exists"}, false, false},
		{"busy", opCtx{op: "add", dn: "CN=a"}, ldap.NewError(51, errors.New("")), []string{"busy or unavailable"}, true, false},
		{"unavailable", opCtx{op: "add", dn: "CN=a"}, ldap.NewError(52, errors.New("")), []string{"busy or unavailable"}, true, false},
		{"non-leaf", opCtx{op: "delete", dn: "OU=a"}, ldap.NewError(66, errors.New("")), []string{"still has children"}, false, false},
		{"refused", opCtx{op: "connect", server: srv}, ldap.NewError(ldap.ErrorNetwork, errors.New("dial tcp 127.0.0.3:636: connect: connection refused")),
			[]string{"connection refused", srv}, true, true},
		{"lost", opCtx{op: "search", server: srv}, ldap.NewError(ldap.ErrorNetwork, errors.New("ldap: connection closed")),
			[]string{"was lost"}, true, true},
		{"timeout", opCtx{op: "bind", server: srv}, ldap.NewError(ldap.ErrorNetwork, errors.New("ldap: connection timed out")),
			[]string{"no answer from " + srv}, true, true},
		{"unknown CA", opCtx{op: "connect", server: srv}, ldap.NewError(ldap.ErrorNetwork, fmt.Errorf("tls: %w", x509.UnknownAuthorityError{})),
			[]string{"TLS certificate verification of " + srv, "tls.ca_file"}, false, true},
		{"wrong name", opCtx{op: "connect", server: srv}, ldap.NewError(ldap.ErrorNetwork, fmt.Errorf("tls: %w", x509.HostnameError{Host: "dc1", Certificate: &x509.Certificate{}})),
			[]string{"does not name this server"}, false, true},
		{"other code", opCtx{op: "modify", dn: "CN=a"}, ldap.NewError(80, errors.New("internal")), []string{"LDAP result 80", "internal"}, false, false},
		// go-ldap's error for the request in flight when the server went
		// away, as pool.once classifies it (the connection is closing).
		{"lost in flight", opCtx{op: "add", dn: "CN=a", server: srv}, lostConnection(errors.New("unable to read LDAP response packet: EOF")),
			[]string{"was lost"}, true, true},
		{"wire connection closed", opCtx{op: "search", dn: "OU=a", server: srv}, wireError(fmt.Errorf("search: read: connection closed by the server: %w", io.EOF)),
			[]string{"was lost"}, true, true},
		{"wire notice of disconnection", opCtx{op: "search", dn: "OU=a", server: srv}, wireError(&wire.ResultError{Op: "search", Code: 52, Diagnostic: "the server ended the connection"}),
			[]string{"busy or unavailable"}, true, false},
	}
	for _, keep := range []error{ldap.NewError(50, errors.New("")), &pageDone{err: errors.New("emit")}, context.Canceled} {
		if got := lostConnection(keep); got != keep {
			t.Errorf("lostConnection(%v) = %v, want it unchanged", keep, got)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mapError(tt.oc, tt.err)
			var oe *OpError
			if !errors.As(err, &oe) {
				t.Fatalf("mapError returned %T", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not contain %q", err.Error(), w)
				}
			}
			if !errors.Is(err, tt.err) {
				t.Error("the underlying error is not wrapped")
			}
			if got := retryable(tt.err); got != tt.retry {
				t.Errorf("retryable = %v, want %v", got, tt.retry)
			}
			if got := transportFailure(tt.err); got != tt.transport {
				t.Errorf("transportFailure = %v, want %v", got, tt.transport)
			}
		})
	}
	if mapError(opCtx{}, nil) != nil {
		t.Error("mapError(nil) != nil")
	}
}

func TestDroppedConnection(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"EOF in the TLS handshake", mapError(opCtx{op: "connect"}, ldap.NewError(ldap.ErrorNetwork, io.EOF)), true},
		{"lost under the bind", mapError(opCtx{op: "bind"}, lostConnection(errors.New("unable to read LDAP response packet: EOF"))), true},
		{"refused dial", mapError(opCtx{op: "connect"}, ldap.NewError(ldap.ErrorNetwork, refused)), false},
		{"timeout", mapError(opCtx{op: "bind"}, ldap.NewError(ldap.ErrorNetwork, timeout)), false},
		{"unknown CA", mapError(opCtx{op: "connect"}, ldap.NewError(ldap.ErrorNetwork, fmt.Errorf("tls: %w", x509.UnknownAuthorityError{}))), false},
		{"wrong password", mapError(opCtx{op: "bind"}, ldap.NewError(49, errors.New("data 52e"))), false},
		{"busy", mapError(opCtx{op: "bind"}, ldap.NewError(51, errors.New(""))), false},
	} {
		if got := droppedConnection(tt.err); got != tt.want {
			t.Errorf("%s: droppedConnection = %v, want %v (%v)", tt.name, got, tt.want, tt.err)
		}
	}
}
