package ad

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/providers"
)

// Defaults of the provider-owned configuration.
const (
	DefaultPageSize    = 1000 // AD's MaxPageSize
	DefaultRangeSize   = 1500 // AD's MaxValRange
	DefaultTimeout     = 30 * time.Second
	DefaultConnections = 4 // Samba's default prefork children for ldap
	// DefaultWriteConnections is 1: Samba serialises writes on its database
	// lock, and several writers only add lock contention (BENCHMARKS.md).
	DefaultWriteConnections = 1
	DefaultMarkerAttr       = "adminDescription"
	DefaultMarkerValue      = "adshift"
)

// Password modes of new_users.
const (
	PasswordRandom   = "random"
	PasswordDisabled = "disabled"
)

// configSchema is the provider-owned part of an environment block.
var configSchema = providers.Block{
	Attributes: []providers.Attribute{
		{Name: "servers", Type: cty.List(cty.String), Required: true, Description: "Domain controller URLs (ldaps:// or ldap://), tried in order."},
		{Name: "page_size", Type: cty.Number, Description: "Paged search page size (default 1000)."},
		{Name: "range_size", Type: cty.Number, Description: "Values per ranged retrieval of member (default 1500)."},
		{Name: "timeout", Type: cty.String, Description: `Per-operation timeout as a duration (default "30s").`},
		{Name: "connections", Type: cty.Number, Description: "Parallel LDAP connections for reads: discovery, and apply's checks and read-backs (default 4)."},
		{Name: "write_connections", Type: cty.Number, Description: "LDAP connections that write in parallel during apply (default 1: Samba serialises writes; Windows DCs may gain from more)."},
	},
	Blocks: []providers.NestedBlock{
		{Name: "bind", Required: true, Block: providers.Block{Attributes: []providers.Attribute{
			{Name: "username", Type: cty.String, Required: true, Description: "Bind name: a UPN (admin@example.com) or a DN."},
			{Name: "password", Type: cty.String, Required: true, Sensitive: true, Description: "Bind password; pass it from a sensitive variable."},
		}}},
		{Name: "tls", Block: providers.Block{Attributes: []providers.Attribute{
			{Name: "ca_file", Type: cty.String, Description: "PEM file of the CAs that sign the DCs' certificates (default: system roots)."},
			{Name: "start_tls", Type: cty.Bool, Description: "Upgrade ldap:// connections with StartTLS."},
			{Name: "insecure_skip_verify", Type: cty.Bool, Description: "Do not verify certificates. Never in production."},
		}}},
		{Name: "new_users", Block: providers.Block{Attributes: []providers.Attribute{
			{Name: "password", Type: cty.String, Description: `"random" (set a generated password, enable the account) or "disabled".`},
		}}},
		{Name: "created_marker", Block: providers.Block{Attributes: []providers.Attribute{
			{Name: "attribute", Type: cty.String, Description: `Attribute stamped on created objects (default "adminDescription").`},
			{Name: "value", Type: cty.String, Description: `Its value (default "adshift").`},
		}}},
	},
}

// Config is the decoded provider configuration.
type Config struct {
	Servers            []string
	Username           string
	Password           string // never logged or echoed
	CAFile             string
	StartTLS           bool
	InsecureSkipVerify bool
	PageSize           int
	RangeSize          int
	Timeout            time.Duration
	Connections        int
	WriteConnections   int
	NewUserPassword    string
	MarkerAttr         string
	MarkerValue        string

	tls *tls.Config
}

// String prints the configuration without the password.
func (c *Config) String() string {
	return fmt.Sprintf("servers=%v user=%s page=%d range=%d conns=%d writers=%d", c.Servers, c.Username, c.PageSize, c.RangeSize, c.Connections, c.WriteConnections)
}

// decodeConfig reads v (conforming to configSchema.ImpliedType()) into a
// Config, reporting every problem with the path to its attribute.
func decodeConfig(v cty.Value) (*Config, providers.Diagnostics) {
	var diags providers.Diagnostics
	errAt := func(path cty.Path, summary, detail string) {
		diags = append(diags, providers.Diagnostic{Severity: providers.SeverityError, Summary: summary, Detail: detail, Attribute: path})
	}
	c := &Config{
		PageSize: DefaultPageSize, RangeSize: DefaultRangeSize, Timeout: DefaultTimeout, Connections: DefaultConnections,
		WriteConnections: DefaultWriteConnections,
		NewUserPassword:  PasswordRandom, MarkerAttr: DefaultMarkerAttr, MarkerValue: DefaultMarkerValue,
	}
	if v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() {
		errAt(nil, "Missing ad provider configuration", "The environment block needs at least servers and a bind block.")
		return nil, diags
	}
	attr := func(obj cty.Value, name string) cty.Value {
		if obj.IsNull() || !obj.Type().IsObjectType() || !obj.Type().HasAttribute(name) {
			return cty.NullVal(cty.DynamicPseudoType)
		}
		return obj.GetAttr(name)
	}
	str := func(obj cty.Value, name string, path cty.Path, dst *string) {
		a := attr(obj, name)
		if a.IsNull() {
			return
		}
		if !a.IsKnown() || a.Type() != cty.String {
			errAt(path, "Invalid value", fmt.Sprintf("%q must be a known string.", name))
			return
		}
		*dst = a.AsString()
	}
	boolean := func(obj cty.Value, name string, path cty.Path, dst *bool) {
		a := attr(obj, name)
		if a.IsNull() {
			return
		}
		if !a.IsKnown() || a.Type() != cty.Bool {
			errAt(path, "Invalid value", fmt.Sprintf("%q must be a known bool.", name))
			return
		}
		*dst = a.True()
	}
	integer := func(obj cty.Value, name string, path cty.Path, min, max int64, dst *int) {
		a := attr(obj, name)
		if a.IsNull() {
			return
		}
		if !a.IsKnown() || a.Type() != cty.Number {
			errAt(path, "Invalid value", fmt.Sprintf("%q must be a known number.", name))
			return
		}
		bf := a.AsBigFloat()
		i, acc := bf.Int64()
		if acc != big.Exact || i < min || i > max {
			errAt(path, "Invalid value", fmt.Sprintf("%q must be a whole number from %d to %d.", name, min, max))
			return
		}
		*dst = int(i)
	}

	root := cty.Path{}
	servers := attr(v, "servers")
	switch {
	case servers.IsNull() || !servers.IsKnown() || servers.LengthInt() == 0:
		errAt(root.GetAttr("servers"), "Missing domain controller", `Set "servers" to at least one ldaps:// or ldap:// URL.`)
	default:
		for it := servers.ElementIterator(); it.Next(); {
			k, s := it.Element()
			p := root.GetAttr("servers").Index(k)
			if s.IsNull() || !s.IsKnown() {
				errAt(p, "Invalid server URL", "Each server must be a known ldaps:// or ldap:// URL.")
				continue
			}
			u, err := url.Parse(s.AsString())
			if err != nil || (u.Scheme != "ldaps" && u.Scheme != "ldap") || u.Host == "" {
				errAt(p, "Invalid server URL", fmt.Sprintf("%q is not an ldaps:// or ldap:// URL with a host.", s.AsString()))
				continue
			}
			c.Servers = append(c.Servers, s.AsString())
		}
	}

	bind := attr(v, "bind")
	if bind.IsNull() {
		errAt(root.GetAttr("bind"), "Missing bind block", "Add a bind block with username and password (from a sensitive variable).")
	} else {
		str(bind, "username", root.GetAttr("bind").GetAttr("username"), &c.Username)
		str(bind, "password", root.GetAttr("bind").GetAttr("password"), &c.Password)
		if c.Username == "" {
			errAt(root.GetAttr("bind").GetAttr("username"), "Missing bind user name", "Set bind.username to a UPN (admin@example.com) or a DN.")
		}
		if c.Password == "" {
			errAt(root.GetAttr("bind").GetAttr("password"), "Missing bind password", "Set bind.password from a sensitive variable; AD treats an empty password as an anonymous bind.")
		}
	}

	tlsb := attr(v, "tls")
	tp := root.GetAttr("tls")
	str(tlsb, "ca_file", tp.GetAttr("ca_file"), &c.CAFile)
	boolean(tlsb, "start_tls", tp.GetAttr("start_tls"), &c.StartTLS)
	boolean(tlsb, "insecure_skip_verify", tp.GetAttr("insecure_skip_verify"), &c.InsecureSkipVerify)

	integer(v, "page_size", root.GetAttr("page_size"), 1, 100000, &c.PageSize)
	integer(v, "range_size", root.GetAttr("range_size"), 1, 100000, &c.RangeSize)
	integer(v, "connections", root.GetAttr("connections"), 1, 64, &c.Connections)
	integer(v, "write_connections", root.GetAttr("write_connections"), 1, 64, &c.WriteConnections)
	var timeout string
	str(v, "timeout", root.GetAttr("timeout"), &timeout)
	if timeout != "" {
		d, err := time.ParseDuration(timeout)
		if err != nil || d <= 0 {
			errAt(root.GetAttr("timeout"), "Invalid timeout", fmt.Sprintf("%q is not a positive duration such as \"30s\" or \"2m\".", timeout))
		} else {
			c.Timeout = d
		}
	}

	nu := attr(v, "new_users")
	str(nu, "password", root.GetAttr("new_users").GetAttr("password"), &c.NewUserPassword)
	if c.NewUserPassword != PasswordRandom && c.NewUserPassword != PasswordDisabled {
		errAt(root.GetAttr("new_users").GetAttr("password"), "Invalid new_users password mode",
			fmt.Sprintf(`%q is not a mode: use "random" (a generated password, never stored) or "disabled".`, c.NewUserPassword))
	}
	cm := attr(v, "created_marker")
	str(cm, "attribute", root.GetAttr("created_marker").GetAttr("attribute"), &c.MarkerAttr)
	str(cm, "value", root.GetAttr("created_marker").GetAttr("value"), &c.MarkerValue)
	if c.MarkerAttr == "" || c.MarkerValue == "" {
		errAt(root.GetAttr("created_marker"), "Invalid created marker", "created_marker needs a non-empty attribute and value.")
	}

	if c.InsecureSkipVerify {
		diags = append(diags, providers.Diagnostic{
			Severity:  providers.SeverityWarning,
			Summary:   "TLS certificate verification is disabled",
			Detail:    "tls.insecure_skip_verify = true: anyone on the network path can impersonate the domain controller and read the bind password. Set tls.ca_file to the CA that signs the DCs' certificates instead.",
			Attribute: tp.GetAttr("insecure_skip_verify"),
		})
	}
	usesPlain := false
	for _, s := range c.Servers {
		if strings.HasPrefix(s, "ldap://") {
			usesPlain = true
		}
	}
	if usesPlain && !c.StartTLS {
		diags = append(diags, providers.Diagnostic{
			Severity:  providers.SeverityWarning,
			Summary:   "Unencrypted LDAP connection",
			Detail:    "An ldap:// server without tls.start_tls = true sends the bind password in clear text, and AD refuses to set passwords on such a connection. Use ldaps:// or set tls.start_tls = true.",
			Attribute: root.GetAttr("servers"),
		})
	}

	if diags.HasErrors() {
		return nil, diags
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // opt-in, warned on every Configure
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			errAt(tp.GetAttr("ca_file"), "Cannot read CA file", fmt.Sprintf("Reading %s: %v.", c.CAFile, err))
			return nil, diags
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			errAt(tp.GetAttr("ca_file"), "No certificates in CA file", fmt.Sprintf("%s holds no PEM certificate.", c.CAFile))
			return nil, diags
		}
		tc.RootCAs = pool
	}
	c.tls = tc
	return c, diags
}
