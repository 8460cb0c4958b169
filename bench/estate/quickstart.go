package estate

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/adshift/adshift/bench/ldifwrite"
)

// QuickstartCommand is the command that regenerates the quickstart estate;
// it is recorded in the files' header comment.
const QuickstartCommand = "go run ./bench/genestate -quickstart -out examples/quickstart"

var (
	qsSource = domain{
		dns: "source.test", base: "DC=source,DC=test",
		sid:     DomainSID(3623811015, 3361044348, 30300820),
		company: "Source Corp", style: ldifwrite.StyleLDIFDE,
	}
	qsTarget = domain{
		dns: "target.test", base: "DC=target,DC=test",
		sid:     DomainSID(2127521184, 1604012920, 1887927527),
		company: "Target Corp", style: ldifwrite.StyleLDAPSearch,
	}
	qsStart = time.Date(2019, 3, 4, 9, 12, 0, 0, time.UTC)
	qsEnd   = time.Date(2025, 10, 31, 17, 0, 0, 0, time.UTC)
)

// qsPerson is one quickstart user. mail and upn derive from mailLocal and
// sam; cn is "first last" unless cn is set.
type qsPerson struct {
	first, last, sam, mailLocal, dept, title string
	cn                                       string
	office                                   string
	disabled                                 bool
}

// qsStaff are the users in OU=Staff,OU=Corp, in creation order. The set
// covers the cases a reader must handle: non-ASCII names (base64 values
// and DNs), a "Last, First" CN (escaped comma in the DN), an apostrophe,
// and disabled accounts.
var qsStaff = []qsPerson{
	{first: "Alice", last: "Johnson", sam: "ajohnson", mailLocal: "alice.johnson", dept: "Finance", title: "Finance Director"},
	{first: "John", last: "Smith", sam: "jsmith", mailLocal: "john.smith", dept: "Finance", title: "Senior Accountant", cn: "Smith, John"},
	{first: "José", last: "García", sam: "jgarcia", mailLocal: "jose.garcia", dept: "Finance", title: "Financial Analyst", office: "Madrid"},
	{first: "Emma", last: "Wilson", sam: "ewilson", mailLocal: "emma.wilson", dept: "Finance", title: "Accounts Payable Clerk"},
	{first: "Liam", last: "Brown", sam: "lbrown", mailLocal: "liam.brown", dept: "Finance", title: "Payroll Specialist"},
	{first: "Olivia", last: "Taylor", sam: "otaylor", mailLocal: "olivia.taylor", dept: "Finance", title: "Controller"},
	{first: "Noah", last: "Davies", sam: "ndavies", mailLocal: "noah.davies", dept: "Finance", title: "Financial Analyst", disabled: true},
	{first: "Chloé", last: "Martin", sam: "cmartin", mailLocal: "chloe.martin", dept: "Finance", title: "Accountant", office: "Paris"},
	{first: "Michael", last: "Chen", sam: "mchen", mailLocal: "michael.chen", dept: "Sales", title: "Sales Director"},
	{first: "Sophia", last: "Lee", sam: "slee", mailLocal: "sophia.lee", dept: "Sales", title: "Account Executive"},
	{first: "James", last: "Walker", sam: "jwalker", mailLocal: "james.walker", dept: "Sales", title: "Account Executive"},
	{first: "Isabella", last: "Hall", sam: "ihall", mailLocal: "isabella.hall", dept: "Sales", title: "Sales Representative"},
	{first: "Benjamin", last: "Young", sam: "byoung", mailLocal: "benjamin.young", dept: "Sales", title: "Sales Representative"},
	{first: "Mia", last: "King", sam: "mking", mailLocal: "mia.king", dept: "Sales", title: "Inside Sales Representative"},
	{first: "Lucas", last: "Wright", sam: "lwright", mailLocal: "lucas.wright", dept: "Sales", title: "Sales Operations Analyst"},
	{first: "Zoë", last: "Ågren", sam: "zagren", mailLocal: "zoe.agren", dept: "Sales", title: "Regional Sales Manager", office: "Stockholm"},
	{first: "Ethan", last: "Scott", sam: "escott", mailLocal: "ethan.scott", dept: "Sales", title: "Sales Representative", disabled: true},
	{first: "David", last: "Miller", sam: "dmiller", mailLocal: "david.miller", dept: "IT", title: "IT Manager"},
	{first: "Sarah", last: "Connor", sam: "sconnor", mailLocal: "sarah.connor", dept: "IT", title: "Systems Administrator"},
	{first: "Raj", last: "Patel", sam: "rpatel", mailLocal: "raj.patel", dept: "IT", title: "Network Engineer"},
	{first: "Łukasz", last: "Nowak", sam: "lnowak", mailLocal: "lukasz.nowak", dept: "IT", title: "Service Desk Analyst", office: "Warsaw"},
	{first: "Fatima", last: "Khan", sam: "fkhan", mailLocal: "fatima.khan", dept: "IT", title: "Security Analyst"},
	{first: "Kevin", last: "O'Brien", sam: "kobrien", mailLocal: "kevin.obrien", dept: "IT", title: "Service Desk Analyst"},
	{first: "Hannah", last: "Schmidt", sam: "hschmidt", mailLocal: "hannah.schmidt", dept: "IT", title: "Systems Engineer"},
	{first: "Laura", last: "Thompson", sam: "lthompson", mailLocal: "laura.thompson", dept: "HR", title: "HR Director"},
	{first: "Daniel", last: "Harris", sam: "dharris", mailLocal: "daniel.harris", dept: "HR", title: "HR Business Partner"},
	{first: "Grace", last: "Lewis", sam: "glewis", mailLocal: "grace.lewis", dept: "HR", title: "Recruiter"},
	{first: "Jürgen", last: "Müller", sam: "jmueller", mailLocal: "juergen.mueller", dept: "HR", title: "Payroll and Benefits Advisor", office: "Munich"},
	{first: "Amelia", last: "Clark", sam: "aclark", mailLocal: "amelia.clark", dept: "HR", title: "HR Coordinator"},
	{first: "Henry", last: "Robinson", sam: "hrobinson", mailLocal: "henry.robinson", dept: "HR", title: "Learning and Development Specialist"},
	{first: "Priya", last: "Sharma", sam: "psharma", mailLocal: "priya.sharma", dept: "Engineering", title: "VP Engineering"},
	{first: "Thomas", last: "Anderson", sam: "tanderson", mailLocal: "thomas.anderson", dept: "Engineering", title: "Principal Engineer"},
	{first: "Wei", last: "Zhang", sam: "wzhang", mailLocal: "wei.zhang", dept: "Engineering", title: "Senior Software Engineer"},
	{first: "Søren", last: "Nielsen", sam: "snielsen", mailLocal: "soren.nielsen", dept: "Engineering", title: "Software Engineer", office: "Copenhagen"},
	{first: "Elena", last: "Rossi", sam: "erossi", mailLocal: "elena.rossi", dept: "Engineering", title: "Software Engineer"},
	{first: "Mateo", last: "Fernández", sam: "mfernandez", mailLocal: "mateo.fernandez", dept: "Engineering", title: "QA Engineer"},
	{first: "Aisha", last: "Bello", sam: "abello", mailLocal: "aisha.bello", dept: "Engineering", title: "DevOps Engineer"},
	{first: "Ryan", last: "Murphy", sam: "rmurphy", mailLocal: "ryan.murphy", dept: "Engineering", title: "Software Engineer"},
	{first: "Yuki", last: "Tanaka", sam: "ytanaka", mailLocal: "yuki.tanaka", dept: "Engineering", title: "UX Designer"},
	{first: "Marcus", last: "Johnson", sam: "mjohnson", mailLocal: "marcus.johnson", dept: "Engineering", title: "Engineering Manager"},
	{first: "Nora", last: "Berg", sam: "nberg", mailLocal: "nora.berg", dept: "Engineering", title: "Data Engineer"},
	{first: "François", last: "Dubois", sam: "fdubois", mailLocal: "francois.dubois", dept: "Engineering", title: "Software Engineer", office: "Paris"},
	{first: "Charlotte", last: "Evans", sam: "cevans", mailLocal: "charlotte.evans", dept: "Marketing", title: "Marketing Manager"},
	{first: "Oliver", last: "Green", sam: "ogreen", mailLocal: "oliver.green", dept: "Marketing", title: "Content Strategist"},
	{first: "Ava", last: "Mitchell", sam: "amitchell", mailLocal: "ava.mitchell", dept: "Marketing", title: "Brand Designer"},
	{first: "Samuel", last: "Baker", sam: "sbaker", mailLocal: "samuel.baker", dept: "Marketing", title: "Marketing Analyst"},
	{first: "Lily", last: "Adams", sam: "ladams", mailLocal: "lily.adams", dept: "Marketing", title: "Events Coordinator"},
}

// qsAdmins are the separate admin accounts in OU=Admins,OU=Corp: no mail,
// so a match on mail falls through to sAMAccountName.
var qsAdmins = []string{"dmiller", "sconnor", "rpatel"}

// qsGroup is one quickstart group; members name users by sAMAccountName
// or other groups by sAMAccountName (a nested group).
type qsGroup struct {
	name, description, mail string
	groupType               int64
	members                 []string
}

var qsGroups = []qsGroup{
	{name: "GG-Finance", description: "Finance department staff", groupType: groupGlobalSecurity, members: qsDept("Finance")},
	{name: "GG-Sales", description: "Sales department staff", groupType: groupGlobalSecurity, members: qsDept("Sales")},
	{name: "GG-IT", description: "IT department staff", groupType: groupGlobalSecurity, members: qsDept("IT")},
	{name: "GG-HR", description: "Human Resources staff", groupType: groupGlobalSecurity, members: qsDept("HR")},
	{name: "GG-Engineering", description: "Engineering department staff", groupType: groupGlobalSecurity, members: qsDept("Engineering")},
	{name: "GG-Marketing", description: "Marketing department staff", groupType: groupGlobalSecurity, members: qsDept("Marketing")},
	{name: "GG-Managers", description: "People managers", groupType: groupGlobalSecurity,
		members: []string{"ajohnson", "otaylor", "mchen", "dmiller", "lthompson", "psharma", "mjohnson", "cevans"}},
	{name: "GG-Helpdesk", description: "Service desk and admin accounts", groupType: groupGlobalSecurity,
		members: []string{"adm-dmiller", "adm-sconnor", "adm-rpatel", "lnowak", "kobrien"}},
	{name: "GG-Project-Atlas", description: "Project Atlas (not started)", groupType: groupGlobalSecurity},
	{name: "UG-AllStaff", description: "Every department group", groupType: groupUniversalSecurity,
		members: []string{"GG-Finance", "GG-Sales", "GG-IT", "GG-HR", "GG-Engineering", "GG-Marketing"}},
	{name: "DL-FS-Finance-RW", description: `Modify on \\fs01\finance`, groupType: groupDomainLocalSecurity,
		members: []string{"GG-Finance", "GG-Managers"}},
	{name: "DL-Print-Seattle", description: "Print to Seattle office printers", groupType: groupDomainLocalSecurity,
		members: []string{"UG-AllStaff"}},
	{name: "AllStaff-Announce", description: "All staff announcements (distribution list)", mail: "allstaff@source.test",
		groupType: groupUniversalDistrib, members: []string{"UG-AllStaff"}},
}

func qsDept(dept string) []string {
	var out []string
	for _, p := range qsStaff {
		if p.dept == dept {
			out = append(out, p.sam)
		}
	}
	return out
}

// Operating systems as AD records them (operatingSystem,
// operatingSystemVersion, operatingSystemServicePack).
var (
	osWin10Ent     = osRelease{"Windows 10 Enterprise", "10.0 (19045)", ""}
	osWin10EntLTSC = osRelease{"Windows 10 Enterprise LTSC", "10.0 (17763)", ""}
	osWin10Pro     = osRelease{"Windows 10 Pro", "10.0 (19044)", ""}
	osWin11Pro     = osRelease{"Windows 11 Pro", "10.0 (22631)", ""}
	osWin11Ent     = osRelease{"Windows 11 Enterprise", "10.0 (22631)", ""}
	osWin81Pro     = osRelease{"Windows 8.1 Pro", "6.3 (9600)", ""}
	osWin7SP1      = osRelease{"Windows 7 Professional", "6.1 (7601)", "Service Pack 1"}
	osWin7RTM      = osRelease{"Windows 7 Professional", "6.1 (7600)", ""}
	osXP           = osRelease{"Windows XP Professional", "5.1 (2600)", "Service Pack 3"}
	osVista        = osRelease{"Windows Vista™ Business", "6.0 (6002)", "Service Pack 2"}
	os2008R2       = osRelease{"Windows Server 2008 R2 Standard", "6.1 (7601)", "Service Pack 1"}
	os2012R2       = osRelease{"Windows Server 2012 R2 Standard", "6.3 (9600)", ""}
	os2016         = osRelease{"Windows Server 2016 Standard", "10.0 (14393)", ""}
	os2019         = osRelease{"Windows Server 2019 Standard", "10.0 (17763)", ""}
	os2022Std      = osRelease{"Windows Server 2022 Standard", "10.0 (20348)", ""}
	os2022DC       = osRelease{"Windows Server 2022 Datacenter", "10.0 (20348)", ""}
	// A Linux host joined with realmd/adcli records os-release NAME and
	// VERSION_ID.
	osUbuntu = osRelease{"Ubuntu", "22.04", ""}
)

// qsComputer is one quickstart computer; ou is the path below OU=Corp
// ("Finance,Workstations" means OU=Finance,OU=Workstations,OU=Corp).
type qsComputer struct {
	name, ou, description string
	os                    osRelease
}

var qsComputers = []qsComputer{
	{name: "FIN-WS-001", ou: "Finance,Workstations", os: osWin10Ent},
	{name: "FIN-WS-002", ou: "Finance,Workstations", os: osWin10Ent},
	{name: "FIN-WS-003", ou: "Finance,Workstations", os: osWin11Pro},
	{name: "FIN-WS-004", ou: "Finance,Workstations", os: osWin7SP1},
	{name: "FIN-WS-005", ou: "Finance,Workstations", os: osXP, description: "Legacy check scanner PC"},
	{name: "SAL-WS-001", ou: "Sales,Workstations", os: osWin11Pro},
	{name: "SAL-WS-002", ou: "Sales,Workstations", os: osWin10Ent},
	{name: "SAL-WS-003", ou: "Sales,Workstations", os: osWin7RTM, description: "Never patched to SP1"},
	{name: "SAL-WS-004", ou: "Sales,Workstations", os: osVista},
	{name: "SAL-WS-005", ou: "Sales,Workstations", os: osWin11Pro},
	{name: "LT-0001", ou: "Workstations", os: osWin10Ent, description: "Laptop"},
	{name: "LT-0002", ou: "Workstations", os: osWin11Pro, description: "Laptop"},
	{name: "LT-0003", ou: "Workstations", os: osWin7SP1, description: "Laptop"},
	{name: "KIOSK-01", ou: "Kiosks,Workstations", os: osWin10EntLTSC, description: "Lobby kiosk"},
	{name: "KIOSK-02", ou: "Kiosks,Workstations", os: osWin10EntLTSC, description: "Cafeteria kiosk"},
	{name: "SRV-FS01", ou: "Servers", os: os2016, description: "File server"},
	{name: "SRV-APP01", ou: "Servers", os: os2019, description: "Line-of-business applications"},
	{name: "SRV-SQL01", ou: "Servers", os: os2022DC, description: "SQL Server"},
	{name: "SRV-LEGACY01", ou: "Servers", os: os2008R2, description: "Legacy ERP"},
	{name: "SRV-PRINT01", ou: "Servers", os: os2012R2, description: "Print server"},
	{name: "LNX-WEB01", ou: "Servers", os: osUbuntu, description: "Intranet web server (Samba/realmd join)"},
}

// WriteQuickstartSource writes the quickstart source estate (source.test,
// ldifde style) to w.
func WriteQuickstartSource(w io.Writer) error {
	lw := ldifwrite.NewWriter(w, ldifwrite.Options{Style: qsSource.style})
	lw.Comment(fmt.Sprintf(
		"adshift quickstart estate: source domain %s (%s).\n"+
			"Synthetic data in the shape `ldifde -f` exports (changetype: add records).\n"+
			"Regenerate: %s\n"+
			"Do not edit by hand: change bench/estate/quickstart.go and regenerate.",
		qsSource.dns, qsSource.base, QuickstartCommand))
	e := &emitter{w: lw, d: qsSource}
	c := newClock(1, qsStart, qsEnd, 12290, 40000)
	e.domainRoot("source", c.next(time.Minute, 0, 1))
	e.builtins(c, "DC01", os2022Std)

	corp := childDN("OU", "Corp", qsSource.base)
	staff := childDN("OU", "Staff", corp)
	admins := childDN("OU", "Admins", corp)
	groups := childDN("OU", "Groups", corp)
	wks := childDN("OU", "Workstations", corp)
	for _, ou := range []struct{ dn, name, description string }{
		{corp, "Corp", "Managed objects"},
		{staff, "Staff", "Employee accounts"},
		{admins, "Admins", "Privileged accounts"},
		{groups, "Groups", ""},
		{wks, "Workstations", ""},
		{childDN("OU", "Finance", wks), "Finance", ""},
		{childDN("OU", "Sales", wks), "Sales", ""},
		{childDN("OU", "Kiosks", wks), "Kiosks", "Shared kiosks: not migrated"},
		{childDN("OU", "Servers", corp), "Servers", ""},
	} {
		e.ou(ou.dn, ou.name, ou.description, c.next(time.Hour, 0, 0.2))
	}

	rid := uint32(1103)
	nextRID := func() uint32 { rid++; return rid - 1 }
	dnOf := map[string]string{} // sAMAccountName -> DN, for group members
	for i, p := range qsStaff {
		u := qsUser(p, i)
		dn := childDN("CN", u.cn, staff)
		dnOf[p.sam] = dn
		e.user(dn, u, c.next(72*time.Hour, nextRID(), 0.5))
	}
	for _, sam := range qsAdmins {
		var p qsPerson
		for _, s := range qsStaff {
			if s.sam == sam {
				p = s
			}
		}
		u := &user{
			cn: p.first + " " + p.last + " (Admin)", givenName: p.first, sn: p.last,
			displayName: p.first + " " + p.last + " (Admin)",
			sam:         "adm-" + sam, upn: "adm-" + sam + "@" + qsSource.dns,
			department: p.dept, title: "Administrative account",
			description: "Admin account of " + sam,
			uac:         uacNormalAccount,
		}
		dn := childDN("CN", u.cn, admins)
		dnOf[u.sam] = dn
		e.user(dn, u, c.next(24*time.Hour, nextRID(), 0.3))
	}
	for _, g := range qsGroups {
		dn := childDN("CN", g.name, groups)
		dnOf[g.name] = dn
		members := g.members
		e.group(dn, &group{cn: g.name, sam: g.name, description: g.description, mail: g.mail, groupType: g.groupType},
			c.next(24*time.Hour, nextRID(), 0.6), func(yield func(string)) {
				for _, m := range members {
					yield(dnOf[m])
				}
			})
	}
	for i, pc := range qsComputers {
		dn := childDN("CN", pc.name, ouPath(pc.ou, corp))
		e.computer(dn, &computer{
			name: pc.name, description: pc.description, os: pc.os,
			uac:       uacWorkstationTrust,
			lastLogon: qsEnd.Add(-time.Duration(1+i*37%90) * 24 * time.Hour),
		}, c.next(48*time.Hour, nextRID(), 0.7))
	}
	return flush(lw)
}

// qsTargetUser says how an existing target account differs from its
// source; zero fields mean "as the template would write it".
type qsTargetUser struct {
	sam                            string
	cn, givenName, sn, displayName string
	department, title, upn, phone  string
}

// qsTargetUsers already exist in OU=Users,OU=Migrated on the target (a
// pilot migrated by hand). They match their source by mail and
// sAMAccountName; some differ in templated attributes (update), some only
// in attributes no template names (no-op).
var qsTargetUsers = []qsTargetUser{
	{sam: "ajohnson", title: "Head of Finance"},                                                     // untemplated difference only
	{sam: "jsmith", department: "Accounting"},                                                       // department update
	{sam: "jgarcia", cn: "Jose Garcia", displayName: "Jose Garcia", upn: "jose.garcia@target.test"}, // displayName, UPN
	{sam: "mchen", givenName: "Mike", displayName: "Mike Chen"},                                     // givenName, displayName
	{sam: "dmiller", phone: "+1 206 555 0142"},                                                      // identical where templated
	{sam: "lthompson", sn: "Thompson-Reed", displayName: "Laura Thompson-Reed"},                     // sn, displayName
}

// WriteQuickstartTarget writes the quickstart target estate (target.test,
// ldapsearch style) to w.
func WriteQuickstartTarget(w io.Writer) error {
	lw := ldifwrite.NewWriter(w, ldifwrite.Options{Style: qsTarget.style})
	lw.Comment(fmt.Sprintf(
		"adshift quickstart estate: target domain %s (%s).\n"+
			"Synthetic data in the shape `ldapsearch -LLL` prints (content records).\n"+
			"OU=Migrated is partly built: Users and Groups exist, Workstations does not.\n"+
			"Regenerate: %s\n"+
			"Do not edit by hand: change bench/estate/quickstart.go and regenerate.",
		qsTarget.dns, qsTarget.base, QuickstartCommand))
	e := &emitter{w: lw, d: qsTarget}
	c := newClock(2, qsStart.AddDate(3, 0, 0), qsEnd, 8000, 30000)
	e.domainRoot("target", c.next(time.Minute, 0, 1))
	e.builtins(c, "TDC01", os2022Std)
	e.user(childDN("CN", "Backup Service", childDN("CN", "Users", qsTarget.base)), &user{
		cn: "Backup Service", sam: "svc-backup", upn: "svc-backup@target.test",
		description: "Backup agent service account (target only)",
		uac:         uacNormalAccount | uacDontExpirePassword,
	}, c.next(time.Hour, 1104, 0))

	migrated := childDN("OU", "Migrated", qsTarget.base)
	users := childDN("OU", "Users", migrated)
	groups := childDN("OU", "Groups", migrated)
	e.ou(migrated, "Migrated", "Objects migrated from source.test", c.next(24*time.Hour, 0, 0))
	e.ou(users, "Users", "", c.next(time.Hour, 0, 0))
	e.ou(groups, "Groups", "", c.next(time.Hour, 0, 0))

	rid := uint32(1105)
	dnOf := map[string]string{}
	for _, tu := range qsTargetUsers {
		var p qsPerson
		idx := -1
		for i, s := range qsStaff {
			if s.sam == tu.sam {
				p, idx = s, i
			}
		}
		u := qsUser(p, idx)
		u.upn = p.sam + "@" + qsTarget.dns
		u.company = qsTarget.company
		u.office = ""
		u.phone = tu.phone
		override(&u.cn, tu.cn)
		override(&u.givenName, tu.givenName)
		override(&u.sn, tu.sn)
		override(&u.displayName, tu.displayName)
		override(&u.department, tu.department)
		override(&u.title, tu.title)
		override(&u.upn, tu.upn)
		dn := childDN("CN", u.cn, users)
		dnOf[p.sam] = dn
		e.user(dn, u, c.next(time.Hour, rid, 0.5))
		rid++
	}
	e.group(childDN("CN", "GG-Finance", groups), &group{
		cn: "GG-Finance", sam: "GG-Finance", description: "Finance (migration pilot)",
		groupType: groupGlobalSecurity,
	}, c.next(time.Hour, rid, 0.5), func(yield func(string)) {
		for _, sam := range []string{"ajohnson", "jsmith", "jgarcia"} {
			yield(dnOf[sam])
		}
	})
	return flush(lw)
}

func override(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// qsUser builds the source attributes of quickstart person i.
func qsUser(p qsPerson, i int) *user {
	cn := p.cn
	if cn == "" {
		cn = p.first + " " + p.last
	}
	office := p.office
	if office == "" {
		office = "Seattle"
	}
	uac := int64(uacNormalAccount)
	if p.disabled {
		uac |= uacAccountDisable
	}
	return &user{
		cn: cn, givenName: p.first, sn: p.last, displayName: cn,
		sam: p.sam, upn: p.sam + "@" + qsSource.dns, mail: p.mailLocal + "@" + qsSource.dns,
		department: p.dept, title: p.title, company: qsSource.company,
		office: office, phone: fmt.Sprintf("+1 206 555 %04d", 100+i),
		employeeID: fmt.Sprintf("%06d", 100001+i),
		uac:        uac,
	}
}

// ouPath turns "Finance,Workstations" into OU=Finance,OU=Workstations,parent.
func ouPath(path, parent string) string {
	dn := parent
	parts := strings.Split(path, ",")
	for i := len(parts) - 1; i >= 0; i-- {
		dn = childDN("OU", parts[i], dn)
	}
	return dn
}

func flush(lw *ldifwrite.Writer) error {
	if err := lw.Flush(); err != nil {
		return fmt.Errorf("write estate: %w", err)
	}
	return nil
}
