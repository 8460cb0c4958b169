package ad

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// OpError is an LDAP operation that failed, with a message a user can act
// on. It never carries attribute values, so it is safe to log and show.
type OpError struct {
	Op      string // "bind", "search", "add", "modify", "modify DN", "delete", "connect"
	DN      string // object (or bind name) concerned
	Server  string // DC URL
	Code    uint16 // LDAP result code, or 0 for transport failures
	Message string // the sentence for the user
	Err     error  // the underlying error
}

func (e *OpError) Error() string {
	var sb strings.Builder
	sb.WriteString(e.Op)
	if e.DN != "" {
		sb.WriteString(" ")
		sb.WriteString(e.DN)
	}
	if e.Server != "" {
		sb.WriteString(" on ")
		sb.WriteString(e.Server)
	}
	sb.WriteString(": ")
	sb.WriteString(e.Message)
	return sb.String()
}

func (e *OpError) Unwrap() error { return e.Err }

// ErrStale is returned (wrapped) when an object changed since the plan
// recorded its token.
var ErrStale = errors.New("object changed since the plan")

// adDataCode extracts the Windows error sub-code of an AD diagnostic
// message, e.g. "80090308: LdapErr: DSID-0C09042A, comment: AcceptSecurityContext error, data 52e, v3839".
var adDataCode = regexp.MustCompile(`data ([0-9a-fA-F]{3,8})`)

// bindDetail turns AD's invalid-credentials sub-codes into words.
var bindDetail = map[string]string{
	"525": "the user does not exist",
	"52e": "the user name or password is wrong",
	"530": "the account may not log on at this time",
	"531": "the account may not log on from this workstation",
	"532": "the account's password has expired",
	"533": "the account is disabled",
	"701": "the account has expired",
	"773": "the account's password must be changed before it can be used",
	"775": "the account is locked out",
}

// opCtx says what an operation touched, for error messages.
type opCtx struct {
	op       string
	dn       string
	server   string
	password bool // the request carried unicodePwd
}

// mapError turns an error from go-ldap into an *OpError with a clear
// message. It returns nil for nil.
func mapError(c opCtx, err error) error {
	if err == nil {
		return nil
	}
	var oe *OpError
	var pd *pageDone
	if errors.As(err, &oe) {
		return err
	}
	if errors.As(err, &pd) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	e := &OpError{Op: c.op, DN: c.dn, Server: c.server, Err: err}
	var le *ldap.Error
	if !errors.As(err, &le) {
		e.Message = transportMessage(c, err)
		return e
	}
	e.Code = le.ResultCode
	diag := ""
	if le.Err != nil {
		diag = le.Err.Error()
	}
	switch le.ResultCode {
	case ldap.ErrorNetwork:
		e.Message = transportMessage(c, err)
	case ldap.LDAPResultInvalidCredentials:
		why := "wrong user name or password, or the account is disabled, locked or expired"
		if m := adDataCode.FindStringSubmatch(diag); m != nil {
			if w, ok := bindDetail[strings.ToLower(m[1])]; ok {
				why = w
			}
		}
		e.Message = fmt.Sprintf("invalid credentials: the domain controller refused the bind as %q (%s); check bind.username and the password variable", c.dn, why)
	case ldap.LDAPResultInsufficientAccessRights:
		e.Message = "insufficient access: the bind account lacks the permission for this operation; use an account with the needed rights on this OU"
	case ldap.LDAPResultConstraintViolation:
		if c.password {
			e.Message = "the domain's password policy refused the generated password (constraint violation on unicodePwd); check the domain's minimum length and complexity settings"
		} else {
			e.Message = "constraint violation: a value breaks a directory constraint (length, uniqueness or format)" + detail(diag)
		}
	case ldap.LDAPResultUnwillingToPerform:
		if c.password {
			e.Message = "the domain controller refused to set the password: passwords can only be set over an encrypted connection (ldaps:// or tls.start_tls) and must satisfy the password policy" + detail(diag)
		} else {
			e.Message = "the domain controller is unwilling to perform this operation" + detail(diag)
		}
	case ldap.LDAPResultNoSuchObject:
		switch c.op {
		case "add":
			e.Message = fmt.Sprintf("the parent %q does not exist: create the OU first or fix the template's target OU", parentOf(c.dn))
		case "modify DN":
			e.Message = "the object or the destination OU does not exist (moved or deleted since the plan?)"
		default:
			e.Message = "no such object: it was moved or deleted since the plan"
		}
	case ldap.LDAPResultEntryAlreadyExists:
		e.Message = "an object with this name already exists (in AD, sAMAccountName and userPrincipalName must also be unique in the domain)"
	case ldap.LDAPResultAttributeOrValueExists:
		e.Message = "the attribute value already exists on the object" + detail(diag)
	case ldap.LDAPResultNoSuchAttribute:
		e.Message = "the attribute or value to remove is not on the object" + detail(diag)
	case ldap.LDAPResultUndefinedAttributeType:
		e.Message = "an attribute name is not in the directory schema" + detail(diag)
	case ldap.LDAPResultInvalidAttributeSyntax:
		e.Message = "a value has the wrong syntax for its attribute" + detail(diag)
	case ldap.LDAPResultObjectClassViolation:
		e.Message = "the object would break its class's schema rules (a required attribute missing or an attribute not allowed)" + detail(diag)
	case ldap.LDAPResultNamingViolation, ldap.LDAPResultInvalidDNSyntax:
		e.Message = "the DN is not valid here (wrong naming attribute or syntax)" + detail(diag)
	case ldap.LDAPResultNotAllowedOnNonLeaf:
		e.Message = "the object still has children; move or delete them first"
	case ldap.LDAPResultBusy, ldap.LDAPResultUnavailable:
		e.Message = "the domain controller is busy or unavailable" + detail(diag)
	case ldap.LDAPResultStrongAuthRequired, ldap.LDAPResultConfidentialityRequired:
		e.Message = "the domain controller requires an encrypted connection: use ldaps:// or tls.start_tls = true"
	case ldap.LDAPResultSizeLimitExceeded, ldap.LDAPResultAdminLimitExceeded:
		e.Message = "the domain controller's size limit was exceeded; lower page_size"
	case ldap.LDAPResultTimeLimitExceeded, ldap.LDAPResultTimeout:
		e.Message = "the operation timed out; raise timeout or lower page_size"
	default:
		e.Message = fmt.Sprintf("LDAP result %d (%s)%s", le.ResultCode, ldap.LDAPResultCodeMap[le.ResultCode], detail(diag))
	}
	return e
}

// detail appends the server's diagnostic text, which names attributes, not
// values.
func detail(diag string) string {
	diag = strings.TrimSpace(diag)
	if diag == "" {
		return ""
	}
	if len(diag) > 300 {
		diag = diag[:300] + "…"
	}
	return ": " + diag
}

func transportMessage(c opCtx, err error) string {
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var cie x509.CertificateInvalidError
	var ne net.Error
	switch {
	case errors.As(err, &uae):
		return fmt.Sprintf("TLS certificate verification of %s failed: the certificate is not signed by a CA in tls.ca_file (%v)", c.server, uae)
	case errors.As(err, &hne):
		return fmt.Sprintf("TLS certificate verification of %s failed: the certificate does not name this server (%v); use the name or address in its subjectAltName", c.server, hne)
	case errors.As(err, &cie):
		return fmt.Sprintf("TLS certificate verification of %s failed: %v", c.server, cie)
	case strings.Contains(err.Error(), "connection refused"):
		return fmt.Sprintf("cannot connect to %s: connection refused (is the domain controller running?)", c.server)
	case errors.As(err, &ne) && ne.Timeout(), strings.Contains(err.Error(), "timed out"):
		return fmt.Sprintf("no answer from %s within the timeout (raise timeout if the DC is slow)", c.server)
	case strings.Contains(err.Error(), "connection closed") || strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "reset by peer") || strings.Contains(err.Error(), "broken pipe"):
		return fmt.Sprintf("the connection to %s was lost", c.server)
	}
	return fmt.Sprintf("connection to %s failed: %v", c.server, err)
}

// retryable reports whether err is worth retrying after a pause (and, for
// transport errors, a redial): busy, unavailable, a lost connection.
func retryable(err error) bool {
	if err == nil {
		return false
	}
	var ce x509.UnknownAuthorityError
	var he x509.HostnameError
	var ie x509.CertificateInvalidError
	var rh tls.RecordHeaderError
	if errors.As(err, &ce) || errors.As(err, &he) || errors.As(err, &ie) || errors.As(err, &rh) {
		return false // retrying cannot fix a certificate or protocol mismatch
	}
	var le *ldap.Error
	if errors.As(err, &le) {
		switch le.ResultCode {
		case ldap.LDAPResultBusy, ldap.LDAPResultUnavailable, ldap.ErrorNetwork, ldap.LDAPResultServerDown, ldap.LDAPResultConnectError:
			return true
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed)
}

// droppedConnection reports whether err is a connection that the server
// accepted and then lost, as opposed to a dial that was refused or timed
// out, a certificate problem or an LDAP result.
func droppedConnection(err error) bool {
	if !transportFailure(err) || !retryable(err) {
		return false
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return false
	}
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// transportFailure reports whether err means the connection is unusable.
func transportFailure(err error) bool {
	var le *ldap.Error
	if errors.As(err, &le) {
		return le.ResultCode == ldap.ErrorNetwork || le.ResultCode == ldap.LDAPResultServerDown || le.ResultCode == ldap.LDAPResultConnectError
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed)
}

// ldapCode returns err's LDAP result code, or 0.
func ldapCode(err error) uint16 {
	var oe *OpError
	if errors.As(err, &oe) && oe.Code != 0 {
		return oe.Code
	}
	var le *ldap.Error
	if errors.As(err, &le) {
		return le.ResultCode
	}
	return 0
}
