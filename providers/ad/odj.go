package ad

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/adshift/adshift/adid"
	"github.com/adshift/adshift/odj"
	"github.com/adshift/adshift/providers"
)

var _ providers.OfflineJoinProvisioner = (*Provider)(nil)

// odjPasswordLength is the machine password's length in characters, as
// long as the ones Windows and Samba generate (120 UTF-16 units).
const odjPasswordLength = 120

// netbiosName is what a computer name may be: 1 to 15 letters, digits and
// hyphens, not starting with a hyphen.
var netbiosName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,14}$`)

// ProvisionOfflineJoin pre-stages the computer account req.Computer in
// req.OU (or, with req.Reuse, takes over an existing one wherever it is),
// sets a fresh random 120-character machine password over the encrypted
// connection together with dNSHostName and the host SPNs, reads the domain
// facts the blob needs, and writes the ODJ blob to req.Dir with mode 0600.
// The password exists only in memory and in that file; no result, error or
// log line carries it.
func (p *Provider) ProvisionOfflineJoin(ctx context.Context, req providers.OfflineJoinRequest) (providers.OfflineJoinResult, error) {
	var res providers.OfflineJoinResult
	s, err := p.configured()
	if err != nil {
		return res, err
	}
	if !netbiosName.MatchString(req.Computer) {
		return res, fmt.Errorf("offline join: computer name %q: use 1 to 15 letters, digits and hyphens (the NetBIOS name, without $)", req.Computer)
	}
	name := strings.ToUpper(req.Computer)
	file := req.FileName
	if file == "" {
		file = name + ".odj"
	}
	if file != filepath.Base(file) || file == "." || file == ".." || strings.ContainsAny(file, `/\`) {
		return res, fmt.Errorf("offline join %s: file name %q must be a plain name inside the directory", name, file)
	}
	if req.Dir == "" {
		return res, fmt.Errorf("offline join %s: no directory for the blob", name)
	}
	facts, err := s.odjFacts(ctx)
	if err != nil {
		return res, fmt.Errorf("offline join %s: read domain facts: %w", name, err)
	}
	pw, err := odj.RandomPassword(odjPasswordLength)
	if err != nil {
		return res, fmt.Errorf("offline join %s: %w", name, err)
	}
	acct, err := s.odjAccount(ctx, name, req, facts, pw)
	if err != nil {
		return res, fmt.Errorf("offline join %s: %w", name, err)
	}
	rid, ok := acct.sid.RID()
	if d, _ := acct.sid.Domain(); !ok || d != facts.domain.SID {
		return res, fmt.Errorf("offline join %s: account SID %s is not in domain %s", name, acct.sid, facts.domain.SID)
	}
	data, err := odj.New(odj.Join{MachineName: name, Password: pw, RID: rid, Domain: facts.domain, DC: facts.dc})
	if err != nil {
		return res, fmt.Errorf("offline join %s: %w", name, err)
	}
	blob, err := data.File()
	if err != nil {
		return res, fmt.Errorf("offline join %s: %w", name, err)
	}
	path := filepath.Join(req.Dir, file)
	err = writePrivate(path, blob)
	clear(blob)
	if err != nil {
		return res, fmt.Errorf("offline join %s: %w", name, err)
	}
	p.log.Info("offline join blob written", "computer", name, "dn", acct.dn, "created", acct.created, "path", path)
	return providers.OfflineJoinResult{
		DN: acct.dn, GUID: acct.guid.String(), SID: acct.sid.String(), Created: acct.created,
		Path: path, DC: strings.TrimPrefix(facts.dc.UNC, `\\`),
	}, nil
}

// writePrivate writes b to path with mode 0600 through a temporary file in
// the same directory (created 0700 if missing), synced, then renamed: a
// reader never sees a partial blob.
func writePrivate(path string, b []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create blob directory: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write blob: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return fmt.Errorf("write blob: %w", err)
	}
	if _, err = f.Write(b); err != nil {
		return fmt.Errorf("write blob: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write blob: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write blob: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write blob: %w", err)
	}
	return nil
}

// odjFacts are the domain and DC facts of a blob, as the DC itself holds
// them.
type odjFacts struct {
	baseDN string // the domain's naming context
	domain odj.DNSDomainInfo
	dc     odj.DCInfo
}

// odjFacts reads the rootDSE, the domain head, the partitions' crossRefs
// and the DC's own server object on one connection.
func (s *session) odjFacts(ctx context.Context) (odjFacts, error) {
	var f odjFacts
	err := s.pool.do(ctx, opCtx{op: "search", dn: "rootDSE"}, func(c *conn) error {
		var err error
		f, err = readODJFacts(ctx, c)
		return err
	})
	return f, err
}

func readODJFacts(ctx context.Context, c *conn) (odjFacts, error) {
	var f odjFacts
	root, err := baseEntry(c, "", "defaultNamingContext", "configurationNamingContext", "rootDomainNamingContext",
		"dnsHostName", "serverName", "dsServiceName", "isGlobalCatalogReady")
	if err != nil {
		return f, fmt.Errorf("rootDSE: %w", err)
	}
	defaultNC, configNC, rootNC := root.GetAttributeValue("defaultNamingContext"), root.GetAttributeValue("configurationNamingContext"), root.GetAttributeValue("rootDomainNamingContext")
	host := root.GetAttributeValue("dnsHostName")
	if defaultNC == "" || configNC == "" || rootNC == "" || host == "" {
		return f, errors.New("rootDSE lacks the naming contexts or dnsHostName")
	}
	f.baseDN = defaultNC
	head, err := baseEntry(c, defaultNC, "objectGUID", "objectSid", "fSMORoleOwner")
	if err != nil {
		return f, fmt.Errorf("domain head %s: %w", defaultNC, err)
	}
	d := &f.domain
	if d.GUID, err = guidOf(head, "objectGUID"); err != nil {
		return f, fmt.Errorf("domain head %s: %w", defaultNC, err)
	}
	if d.SID, err = sidOf(head, "objectSid"); err != nil {
		return f, fmt.Errorf("domain head %s: %w", defaultNC, err)
	}
	parts := "CN=Partitions," + configNC
	refs, err := c.l.Search(ldap.NewSearchRequest(parts, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=crossRef)", []string{"nCName", "dnsRoot", "nETBIOSName"}, nil))
	if err != nil {
		return f, fmt.Errorf("crossRefs under %s: %w", parts, err)
	}
	for _, e := range refs.Entries {
		nc := e.GetAttributeValue("nCName")
		if strings.EqualFold(nc, defaultNC) {
			d.NetBIOSName, d.DNSName = e.GetAttributeValue("nETBIOSName"), e.GetAttributeValue("dnsRoot")
		}
		if strings.EqualFold(nc, rootNC) {
			d.ForestName = e.GetAttributeValue("dnsRoot")
		}
	}
	if d.NetBIOSName == "" || d.DNSName == "" || d.ForestName == "" {
		return f, fmt.Errorf("no crossRef under %s names the domain %s and the forest root %s with NetBIOS and DNS names", parts, defaultNC, rootNC)
	}
	site, err := siteOf(root.GetAttributeValue("serverName"))
	if err != nil {
		return f, err
	}
	addr, err := dcAddress(ctx, c.server)
	if err != nil {
		return f, err
	}
	// DsGetDcName's flags for this DC. It is writable (the account was
	// just written on it), a full DC (LDAP, DS, KDC, time), found by DNS
	// name, closest because the device is given the DC's own site.
	flags := odj.DCFlagLDAP | odj.DCFlagDS | odj.DCFlagKDC | odj.DCFlagTimeServ | odj.DCFlagClosest | odj.DCFlagWritable |
		odj.DCFlagGoodTimeServ | odj.DCFlagFullSecretDomain | odj.DCFlagDNSController | odj.DCFlagDNSDomain
	if strings.EqualFold(head.GetAttributeValue("fSMORoleOwner"), root.GetAttributeValue("dsServiceName")) {
		flags |= odj.DCFlagPDC
	}
	if strings.EqualFold(root.GetAttributeValue("isGlobalCatalogReady"), "TRUE") {
		flags |= odj.DCFlagGC
	}
	if strings.EqualFold(defaultNC, rootNC) {
		flags |= odj.DCFlagDNSForestRoot
	}
	f.dc = odj.DCInfo{
		UNC: `\\` + host, Address: `\\` + addr, AddressType: odj.AddressTypeInet,
		DomainGUID: d.GUID, DomainName: d.DNSName, ForestName: d.ForestName, Flags: flags,
		DCSiteName: site, ClientSiteName: site,
	}
	return f, nil
}

// siteOf returns the site of a DC's server object,
// CN=<dc>,CN=Servers,CN=<site>,CN=Sites,CN=Configuration,….
func siteOf(serverDN string) (string, error) {
	_, _, servers, err := SplitDN(serverDN)
	if err == nil {
		var siteDN string
		if _, _, siteDN, err = SplitDN(servers); err == nil {
			var site string
			if _, site, _, err = SplitDN(siteDN); err == nil && site != "" {
				return site, nil
			}
		}
	}
	return "", fmt.Errorf("rootDSE serverName %q does not name a server object in a site", serverDN)
}

// dcAddress is the IP address of the DC at server (an LDAP URL): the URL's
// host when it is an address, else its first address in DNS.
func dcAddress(ctx context.Context, server string) (string, error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", fmt.Errorf("DC address of %s: %w", server, err)
	}
	h := u.Hostname()
	if ip := net.ParseIP(h); ip != nil {
		return ip.String(), nil
	}
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, h)
	if err != nil || len(addrs) == 0 {
		return "", fmt.Errorf("DC address of %s: %v", h, err)
	}
	for _, a := range addrs {
		if a.IP.To4() != nil {
			return a.IP.String(), nil
		}
	}
	return addrs[0].IP.String(), nil
}

func baseEntry(c *conn, dn string, attrs ...string) (*ldap.Entry, error) {
	res, err := c.l.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", attrs, nil))
	if err != nil {
		return nil, err
	}
	if len(res.Entries) != 1 {
		return nil, ldap.NewError(ldap.LDAPResultNoSuchObject, errors.New("not found"))
	}
	return res.Entries[0], nil
}

func guidOf(e *ldap.Entry, attr string) (adid.GUID, error) {
	g, err := adid.DecodeGUID(e.GetRawAttributeValue(attr))
	if err != nil {
		return g, fmt.Errorf("%s: %w", attr, err)
	}
	return g, nil
}

func sidOf(e *ldap.Entry, attr string) (adid.SID, error) {
	var s adid.SID
	if err := s.UnmarshalBinary(e.GetRawAttributeValue(attr)); err != nil {
		return s, fmt.Errorf("%s: %w", attr, err)
	}
	return s, nil
}

// odjAcct is the computer account of a blob.
type odjAcct struct {
	dn      string
	guid    adid.GUID
	sid     adid.SID
	created bool
}

// odjAccount creates NAME$ in req.OU, or with req.Reuse resets an existing
// one, setting the password, dNSHostName and the host SPNs in the same
// request.
func (s *session) odjAccount(ctx context.Context, name string, req providers.OfflineJoinRequest, facts odjFacts, pw odj.Secret) (odjAcct, error) {
	var a odjAcct
	sam := name + "$"
	fqdn := strings.ToLower(name) + "." + strings.ToLower(facts.domain.DNSName)
	spns := []string{"HOST/" + name, "HOST/" + fqdn, "RestrictedKrbHost/" + name, "RestrictedKrbHost/" + fqdn}
	quoted := append([]byte{'"', 0}, append(pw.UTF16LE(), '"', 0)...)
	defer clear(quoted)

	existing, err := s.findAccount(ctx, facts.baseDN, sam)
	if err != nil {
		return a, err
	}
	switch {
	case existing != nil && !req.Reuse:
		return a, fmt.Errorf("the account %s already exists at %s; reuse it (its password is reset) or choose another name", sam, existing.DN)
	case existing != nil:
		a.dn = existing.DN
		mod := ldap.NewModifyRequest(a.dn, nil)
		mod.Replace("unicodePwd", []string{string(quoted)})
		mod.Replace("dNSHostName", []string{fqdn})
		mod.Replace("servicePrincipalName", spns)
		if uac, err := uacOf(existing.GetAttributeValue("userAccountControl"), UACWorkstationTrust); err == nil && uac&UACAccountDisable != 0 {
			mod.Replace("userAccountControl", []string{strconv.FormatUint(uint64(uac&^UACAccountDisable), 10)})
		}
		err = s.writes.do(ctx, opCtx{op: "modify", dn: a.dn, password: true}, func(c *conn) error { return c.l.Modify(mod) })
	default:
		if req.OU == "" {
			return a, fmt.Errorf("no OU to create the account %s in", sam)
		}
		a.dn = "CN=" + EscapeRDNValue(name) + "," + req.OU
		add := ldap.NewAddRequest(a.dn, nil)
		add.Attribute("objectClass", []string{"computer"})
		add.Attribute("sAMAccountName", []string{sam})
		add.Attribute("userAccountControl", []string{strconv.Itoa(UACWorkstationTrust)})
		add.Attribute("dNSHostName", []string{fqdn})
		add.Attribute("servicePrincipalName", spns)
		add.Attribute(s.cfg.MarkerAttr, []string{s.cfg.MarkerValue})
		add.Attribute("unicodePwd", []string{string(quoted)})
		a.created = true
		err = s.writes.do(ctx, opCtx{op: "add", dn: a.dn, password: true}, func(c *conn) error { return c.l.Add(add) })
	}
	if err != nil {
		return a, err
	}
	err = s.writes.do(ctx, opCtx{op: "search", dn: a.dn}, func(c *conn) error {
		e, err := baseEntry(c, a.dn, "objectGUID", "objectSid")
		if err != nil {
			return err
		}
		if a.guid, err = guidOf(e, "objectGUID"); err != nil {
			return err
		}
		a.sid, err = sidOf(e, "objectSid")
		return err
	})
	return a, err
}

// findAccount returns the computer whose sAMAccountName is sam, or nil.
func (s *session) findAccount(ctx context.Context, base, sam string) (*ldap.Entry, error) {
	filter, err := equalityFilter("sAMAccountName", sam)
	if err != nil {
		return nil, err
	}
	var found *ldap.Entry
	err = s.writes.do(ctx, opCtx{op: "search", dn: base}, func(c *conn) error {
		res, err := c.l.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, 0, false,
			filter, []string{"objectClass", "userAccountControl"}, nil))
		if err != nil {
			return err
		}
		switch len(res.Entries) {
		case 0:
		case 1:
			found = res.Entries[0]
		default:
			return fmt.Errorf("%d accounts are named %s", len(res.Entries), sam)
		}
		return nil
	})
	if err != nil || found == nil {
		return nil, err
	}
	for _, c := range found.GetAttributeValues("objectClass") {
		if strings.EqualFold(c, "computer") {
			return found, nil
		}
	}
	return nil, fmt.Errorf("%s (%s) is not a computer account", sam, found.DN)
}
