package estate

import (
	"strconv"
	"time"

	"github.com/adshift/adshift/adid"
	"github.com/adshift/adshift/bench/ldifwrite"
)

// userAccountControl flags used in generated estates.
const (
	uacAccountDisable     = 0x0002
	uacNormalAccount      = 0x0200 // 512
	uacWorkstationTrust   = 0x1000 // 4096
	uacServerTrust        = 0x2000 // domain controllers
	uacDontExpirePassword = 0x10000
	uacTrustedForDeleg    = 0x80000
)

// groupType values (flags | 0x80000000 for security groups).
const (
	groupGlobalSecurity      = -2147483646
	groupDomainLocalSecurity = -2147483644
	groupUniversalSecurity   = -2147483640
	groupUniversalDistrib    = 8
)

// sAMAccountType values.
const (
	samUserAccount      = 805306368
	samMachineAccount   = 805306369
	samGroupObject      = 268435456
	samNonSecurityGroup = 268435457
	samAliasObject      = 536870912
)

// domain is the naming context an estate's entries live in.
type domain struct {
	dns     string // "source.test"
	base    string // "DC=source,DC=test"
	sid     adid.SID
	company string
	style   ldifwrite.Style
}

func (d domain) category(class string) string {
	return "CN=" + class + ",CN=Schema,CN=Configuration," + d.base
}

// meta is what every entry carries besides its own attributes.
type meta struct {
	guid       adid.GUID
	rid        uint32 // 0: the entry has no objectSid
	created    time.Time
	changed    time.Time
	usnCreated int64
	usnChanged int64
}

// emitter writes entries of one domain. It holds no estate state beyond the
// writer, so it can be used while streaming.
type emitter struct {
	w *ldifwrite.Writer
	d domain
	// num is scratch space for formatting integers without allocating.
	num []byte
}

func (e *emitter) int(name string, v int64) {
	e.num = strconv.AppendInt(e.num[:0], v, 10)
	e.w.Attr(name, string(e.num))
}

// adTime formats t as AD's GeneralizedTime ("20240115093000.0Z").
func adTime(t time.Time) string {
	return t.UTC().Format("20060102150405") + ".0Z"
}

// fileTime converts t to a Windows FILETIME (100 ns since 1601), the
// encoding of lastLogonTimestamp and pwdLastSet.
func fileTime(t time.Time) int64 {
	return (t.Unix() + 11644473600) * 10_000_000
}

// head writes dn, objectClass and the naming attribute.
func (e *emitter) head(dn string, classes []string) {
	e.w.Begin(dn)
	e.w.Attr("objectClass", classes...)
}

// common writes distinguishedName, instanceType, timestamps and USNs.
func (e *emitter) common(dn string, m meta, instanceType int64) {
	e.w.Attr("distinguishedName", dn)
	e.int("instanceType", instanceType)
	e.w.Attr("whenCreated", adTime(m.created))
	e.w.Attr("whenChanged", adTime(m.changed))
	e.int("uSNCreated", m.usnCreated)
	e.int("uSNChanged", m.usnChanged)
}

func (e *emitter) identity(name string, m meta) {
	e.w.Attr("name", name)
	e.w.Binary("objectGUID", m.guid[:])
}

func (e *emitter) sid(m meta) {
	if m.rid != 0 {
		e.w.Binary("objectSid", sidBytes(accountSID(e.d.sid, m.rid)))
	}
}

var (
	classesDomain    = []string{"top", "domain", "domainDNS"}
	classesContainer = []string{"top", "container"}
	classesOU        = []string{"top", "organizationalUnit"}
	classesUser      = []string{"top", "person", "organizationalPerson", "user"}
	classesComputer  = []string{"top", "person", "organizationalPerson", "user", "computer"}
	classesGroup     = []string{"top", "group"}
)

// domainRoot writes the domainDNS entry at the naming context's head; its
// objectSid is the domain SID itself.
func (e *emitter) domainRoot(dc string, m meta) {
	e.head(e.d.base, classesDomain)
	e.common(e.d.base, m, 5)
	e.identity(dc, m)
	e.w.Binary("objectSid", sidBytes(e.d.sid))
	e.w.Attr("dc", dc)
	e.w.Attr("objectCategory", e.d.category("Domain-DNS"))
	e.w.Attr("msDS-Behavior-Version", "7")
	e.w.Attr("ms-DS-MachineAccountQuota", "10")
	e.w.End()
}

func (e *emitter) container(dn, cn, description string, m meta) {
	e.head(dn, classesContainer)
	e.w.Attr("cn", cn)
	e.w.Attr("description", description)
	e.common(dn, m, 4)
	e.identity(cn, m)
	e.w.Attr("isCriticalSystemObject", "TRUE")
	e.w.Attr("objectCategory", e.d.category("Container"))
	e.w.End()
}

func (e *emitter) ou(dn, name, description string, m meta) {
	e.head(dn, classesOU)
	e.w.Attr("ou", name)
	if description != "" {
		e.w.Attr("description", description)
	}
	e.common(dn, m, 4)
	e.identity(name, m)
	e.w.Attr("objectCategory", e.d.category("Organizational-Unit"))
	e.w.End()
}

// user is a user account. Empty strings are attributes the account lacks.
type user struct {
	cn, givenName, sn, displayName string
	sam, upn, mail                 string
	department, title, company     string
	office, phone, employeeID      string
	description                    string
	uac                            int64
	pwdLastSet                     time.Time
}

func (e *emitter) user(dn string, u *user, m meta) {
	e.head(dn, classesUser)
	e.w.Attr("cn", u.cn)
	e.opt("sn", u.sn)
	e.opt("title", u.title)
	e.opt("description", u.description)
	e.opt("physicalDeliveryOfficeName", u.office)
	e.opt("telephoneNumber", u.phone)
	e.opt("givenName", u.givenName)
	e.common(dn, m, 4)
	e.opt("displayName", u.displayName)
	e.opt("department", u.department)
	e.opt("company", u.company)
	e.identity(u.cn, m)
	e.int("userAccountControl", u.uac)
	if !u.pwdLastSet.IsZero() {
		e.int("pwdLastSet", fileTime(u.pwdLastSet))
	}
	e.sid(m)
	e.w.Attr("sAMAccountName", u.sam)
	e.int("sAMAccountType", samUserAccount)
	e.opt("userPrincipalName", u.upn)
	e.w.Attr("objectCategory", e.d.category("Person"))
	e.opt("mail", u.mail)
	e.opt("employeeID", u.employeeID)
	e.w.End()
}

// group is a group; members are DNs.
type group struct {
	cn, sam, description, mail string
	groupType                  int64
}

func samTypeOf(groupType int64) int64 {
	switch {
	case groupType == groupDomainLocalSecurity:
		return samAliasObject
	case groupType > 0:
		return samNonSecurityGroup
	default:
		return samGroupObject
	}
}

// group writes a group entry. members is called once to stream the member
// DNs, so a group with thousands of members is never held as a slice.
func (e *emitter) group(dn string, g *group, m meta, members func(yield func(dn string))) {
	e.head(dn, classesGroup)
	e.w.Attr("cn", g.cn)
	e.opt("description", g.description)
	if members != nil {
		members(func(dn string) { e.w.Attr("member", dn) })
	}
	e.common(dn, m, 4)
	e.identity(g.cn, m)
	e.sid(m)
	e.w.Attr("sAMAccountName", g.sam)
	e.int("sAMAccountType", samTypeOf(g.groupType))
	e.int("groupType", g.groupType)
	e.w.Attr("objectCategory", e.d.category("Group"))
	e.opt("mail", g.mail)
	e.w.End()
}

// computer is a computer account; name is the NetBIOS name without "$".
type computer struct {
	name, description string
	os                osRelease
	uac               int64
	lastLogon         time.Time
}

// osRelease is what a machine reports about its operating system. An empty
// servicePack means the attribute is absent.
type osRelease struct {
	name, version, servicePack string
}

func (e *emitter) computer(dn string, c *computer, m meta) {
	e.head(dn, classesComputer)
	e.w.Attr("cn", c.name)
	e.opt("description", c.description)
	e.common(dn, m, 4)
	e.identity(c.name, m)
	e.int("userAccountControl", c.uac)
	if !c.lastLogon.IsZero() {
		e.int("lastLogonTimestamp", fileTime(c.lastLogon))
	}
	e.sid(m)
	e.w.Attr("sAMAccountName", c.name+"$")
	e.int("sAMAccountType", samMachineAccount)
	e.w.Attr("operatingSystem", c.os.name)
	e.w.Attr("operatingSystemVersion", c.os.version)
	e.opt("operatingSystemServicePack", c.os.servicePack)
	e.w.Attr("dNSHostName", lowerASCII(c.name)+"."+e.d.dns)
	e.w.Attr("objectCategory", e.d.category("Computer"))
	e.w.End()
}

func (e *emitter) opt(name, v string) {
	if v != "" {
		e.w.Attr(name, v)
	}
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
