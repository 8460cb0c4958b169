package estate

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/adshift/adshift/bench/ldifwrite"
)

// Options configures a scaled estate.
type Options struct {
	// Objects is the number of users, groups and computers in the source
	// (60%, 20% and 20%); OUs and the built-in entries every domain has come
	// on top. At least MinObjects.
	Objects int
	// Seed selects the estate: the same Seed and Objects give the same bytes.
	Seed uint64
	// TargetUsers is the fraction (0 to 1) of source staff accounts that
	// already exist in the target, a third of them with attribute
	// differences. Groups (10%) and workstations (5%) are already in the
	// target in fixed proportions.
	TargetUsers float64
}

// MinObjects is the smallest scaled estate: below it the fixed groups (one
// per site and department) would outnumber the rest.
const MinObjects = 500

// Stats counts what one Write call produced.
type Stats struct {
	Entries      int // LDIF records, built-in entries and OUs included
	OUs          int
	Users        int // user accounts, built-in ones excluded
	Groups       int // groups, built-in ones excluded
	Computers    int // computers, domain controllers excluded
	Memberships  int // member values of those groups
	LargestGroup int // most members of one group
}

// Fixed shares of the target that the options do not set.
const (
	targetGroupShare       = 0.10
	targetWorkstationShare = 0.05
)

// Group kinds of regular groups.
const (
	kindGlobal = iota
	kindUniversal
	kindDomainLocal
	kindDistribution
)

var (
	scaledSource = domain{
		dns: "source.test", base: "DC=source,DC=test",
		sid:     DomainSID(1474293181, 2873316310, 3370391855),
		company: "Source Corp", style: ldifwrite.StyleLDIFDE,
	}
	scaledTarget = domain{
		dns: "target.test", base: "DC=target,DC=test",
		sid:     DomainSID(914012563, 2147950612, 4017620931),
		company: "Target Corp", style: ldifwrite.StyleLDAPSearch,
	}
	scaledStart = time.Date(2012, 6, 1, 8, 0, 0, 0, time.UTC)
	scaledEnd   = time.Date(2025, 12, 1, 18, 0, 0, 0, time.UTC)
)

// layout is everything derived from Options: counts, permutation
// multipliers and the OU DNs. All per-object data is computed from it and
// an index, on demand.
type layout struct {
	seed        uint64
	targetUsers float64

	nStaff, nAdmins, nUsers    int
	nGroups, nRegular          int
	nComputers, total, nNative int

	posMul  int // creation-order permutation over total
	nameMul int // name permutation over len(firstNames)*len(lastNames)
	qMul    int // group-name permutation within a department
	qMod    int

	corp, admins, groupsOU, wks, kiosks, servers string
	staffOU                                      [][]string // [site][dept]
	wksOU, srvOU                                 []string   // [site]
	groupDeptOU                                  []string   // [dept]

	tgtEmployees, tgtUsers, tgtGroups, tgtWks string
}

// The fixed ("special") groups come first in group index order.
var (
	nSites        = len(sites)
	nDepts        = len(departments)
	specialAll    = nSites + nDepts     // UG-AllStaff: nests every site group
	specialAdmins = nSites + nDepts + 1 // GG-Admins: every admin account
	nSpecial      = nSites + nDepts + 2
)

// Validate reports options WriteSource and WriteTarget would refuse.
func (o Options) Validate() error {
	if o.Objects < MinObjects {
		return fmt.Errorf("estate of %d objects: need at least %d", o.Objects, MinObjects)
	}
	if math.IsNaN(o.TargetUsers) || o.TargetUsers < 0 || o.TargetUsers > 1 {
		return fmt.Errorf("target user fraction %v: want 0 to 1", o.TargetUsers)
	}
	return nil
}

func newLayout(opts Options) (*layout, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	l := &layout{seed: opts.Seed, targetUsers: opts.TargetUsers}
	l.nUsers = opts.Objects * 60 / 100
	l.nGroups = opts.Objects * 20 / 100
	l.nComputers = opts.Objects - l.nUsers - l.nGroups
	l.nAdmins = max(1, l.nUsers/200)
	l.nStaff = l.nUsers - l.nAdmins
	l.nRegular = l.nGroups - nSpecial
	l.total = opts.Objects
	l.nNative = max(10, l.nStaff/100)
	l.posMul = coprime(l.total, 1_000_003)
	l.nameMul = coprime(len(firstNames)*len(lastNames), 7919)
	l.qMod = (l.nRegular + nDepts - 1) / nDepts
	l.qMul = coprime(l.qMod, 104_729)

	src, tgt := scaledSource.base, scaledTarget.base
	l.corp = childDN("OU", "Corp", src)
	staff := childDN("OU", "Staff", l.corp)
	l.admins = childDN("OU", "Admins", l.corp)
	l.groupsOU = childDN("OU", "Groups", l.corp)
	l.wks = childDN("OU", "Workstations", l.corp)
	l.kiosks = childDN("OU", "Kiosks", l.wks)
	l.servers = childDN("OU", "Servers", l.corp)
	l.staffOU = make([][]string, nSites)
	l.wksOU = make([]string, nSites)
	l.srvOU = make([]string, nSites)
	for s, st := range sites {
		siteOU := childDN("OU", st.name, staff)
		l.staffOU[s] = make([]string, nDepts)
		for d, dp := range departments {
			l.staffOU[s][d] = childDN("OU", dp.name, siteOU)
		}
		l.wksOU[s] = childDN("OU", st.name, l.wks)
		l.srvOU[s] = childDN("OU", st.name, l.servers)
	}
	l.groupDeptOU = make([]string, nDepts)
	for d, dp := range departments {
		l.groupDeptOU[d] = childDN("OU", dp.name, l.groupsOU)
	}
	l.tgtEmployees = childDN("OU", "Employees", tgt)
	migrated := childDN("OU", "Migrated", tgt)
	l.tgtUsers = childDN("OU", "Users", migrated)
	l.tgtGroups = childDN("OU", "Groups", migrated)
	l.tgtWks = childDN("OU", "Workstations", migrated)
	return l, nil
}

// coprime returns the smallest m >= start that shares no factor with n.
func coprime(n, start int) int {
	for m := start; ; m++ {
		if gcd(m, n) == 1 {
			return m
		}
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Global object indices: staff, admins, groups, computers, in that order;
// the creation position permutes them so RIDs, USNs and creation times
// interleave kinds as a grown directory does.
func (l *layout) staffX(i int) int    { return i }
func (l *layout) adminX(a int) int    { return l.nStaff + a }
func (l *layout) groupX(g int) int    { return l.nUsers + g }
func (l *layout) computerX(c int) int { return l.nUsers + l.nGroups + c }

// meta derives creation metadata of the object with global index x.
func (l *layout) meta(x int, r *prng) meta {
	pos := int64(x) * int64(l.posMul) % int64(l.total)
	span := scaledEnd.Sub(scaledStart) - 30*24*time.Hour
	created := scaledStart.Add(time.Duration(float64(span) * float64(pos) / float64(l.total))).
		Add(time.Duration(r.intn(6*3600)) * time.Second)
	m := meta{
		guid:       newGUID(r.next(), r.next()),
		rid:        uint32(1103 + pos),
		created:    created,
		changed:    created,
		usnCreated: 20000 + 2*pos,
	}
	m.usnChanged = m.usnCreated
	if r.float() < 0.6 {
		m.changed = created.Add(time.Duration(r.float() * float64(scaledEnd.Sub(created))))
		m.usnChanged = 20000 + 2*int64(l.total) + pos + int64(l.total)*int64(r.intn(4))
	}
	return m
}

// person is a staff member as the source knows them.
type person struct {
	first, last     string
	sam, mailLocal  string
	cn              string
	dept, site      int
	title, phone    string
	disabled        bool
	lastFirstFormat bool
}

func (l *layout) siteOf(i int) int {
	r := newPRNG(l.seed, tagStaff, i)
	return r.site()
}

func (l *layout) deptOf(i int) int { return i % nDepts }

// staff derives staff member i. Names are a permutation of all
// first x last pairs, so (first, last, suffix) is unique and so are
// sAMAccountName, mail and CN.
func (l *layout) staff(i int) person {
	p, r := l.staffName(i)
	titles := departments[p.dept].titles
	p.title = titles[r.intn(len(titles))]
	p.disabled = r.float() < 0.04
	if r.float() < 0.5 {
		p.phone = fmt.Sprintf("+1 555 %03d %04d", 100+p.site, i%10000)
	}
	return p
}

// staffName derives the identity of staff member i (names, CN, site,
// department) and returns the random stream positioned after it.
func (l *layout) staffName(i int) (person, prng) {
	r := newPRNG(l.seed, tagStaff, i)
	p := person{site: r.site(), dept: l.deptOf(i)}
	m := len(firstNames) * len(lastNames)
	k := (i % m) * l.nameMul % m
	suffix := i / m
	p.first, p.last = firstNames[k%len(firstNames)], lastNames[k/len(firstNames)]
	local := accountName(p.first) + "." + accountName(p.last)
	num := ""
	if suffix > 0 {
		num = strconv.Itoa(suffix + 1)
	}
	p.mailLocal = local + num
	p.sam = p.mailLocal
	if len(p.sam) > 20 {
		p.sam = fmt.Sprintf("u%07d", i)
	}
	// Some sites name accounts "Last, First" (an escaped comma in the DN).
	p.lastFirstFormat = r.float() < 0.15
	if p.lastFirstFormat {
		p.cn = p.last + ", " + p.first
	} else {
		p.cn = p.first + " " + p.last
	}
	if num != "" {
		p.cn += " " + num
	}
	return p, r
}

func (l *layout) staffDN(i int) string {
	p, _ := l.staffName(i)
	return childDN("CN", p.cn, l.staffOU[p.site][p.dept])
}

func (l *layout) staffUser(p *person, i int, d domain) *user {
	uac := int64(uacNormalAccount)
	if p.disabled {
		uac |= uacAccountDisable
	}
	return &user{
		cn: p.cn, givenName: p.first, sn: p.last, displayName: p.cn,
		sam: p.sam, upn: p.sam + "@" + d.dns, mail: p.mailLocal + "@" + scaledSource.dns,
		department: departments[p.dept].name, title: p.title, company: d.company,
		office: sites[p.site].name, phone: p.phone,
		employeeID: strconv.Itoa(200000 + i),
		uac:        uac,
	}
}

// admin derives admin account a: the privileged second account of a staff
// member, without mail.
func (l *layout) admin(a int) (dn string, u *user) {
	i := a * (l.nStaff / l.nAdmins)
	p := l.staff(i)
	sam := "adm-" + p.sam
	if len(sam) > 20 {
		sam = fmt.Sprintf("adm-u%07d", i)
	}
	u = &user{
		cn: p.cn + " (Admin)", givenName: p.first, sn: p.last, displayName: p.cn + " (Admin)",
		sam: sam, upn: sam + "@" + scaledSource.dns,
		department: departments[p.dept].name, title: "Administrative account",
		description: "Admin account of " + p.sam, company: scaledSource.company,
		uac: uacNormalAccount,
	}
	return childDN("CN", u.cn, l.admins), u
}

// groupInfo is a group's identity; members are derived separately.
type groupInfo struct {
	dn   string
	g    group
	kind int
	dept int
}

// regularKind is the kind of regular group r: the first draw of its
// random stream, which members draws the same way.
func (l *layout) regularKind(r int) int {
	p := newPRNG(l.seed, tagGroup, r)
	return kindOf(p.float())
}

var kindPrefix = [...]string{"GG", "UG", "DL", "DG"}

// group derives group g (specials first, then regular groups).
func (l *layout) group(g int) groupInfo {
	switch {
	case g < nSites:
		st := sites[g]
		name := "GG-" + st.code + "-AllUsers"
		return groupInfo{dn: childDN("CN", name, l.groupsOU), dept: -1, g: group{
			cn: name, sam: name, description: "Everyone based in " + st.name, groupType: groupGlobalSecurity}}
	case g < nSites+nDepts:
		dp := departments[g-nSites]
		name := "GG-" + dp.code + "-AllUsers"
		return groupInfo{dn: childDN("CN", name, l.groupDeptOU[g-nSites]), dept: g - nSites, g: group{
			cn: name, sam: name, description: "Everyone in " + dp.name, groupType: groupGlobalSecurity}}
	case g == specialAll:
		return groupInfo{dn: childDN("CN", "UG-AllStaff", l.groupsOU), dept: -1, kind: kindUniversal, g: group{
			cn: "UG-AllStaff", sam: "UG-AllStaff", description: "All staff, by site", groupType: groupUniversalSecurity}}
	case g == specialAdmins:
		return groupInfo{dn: childDN("CN", "GG-Admins", l.groupsOU), dept: -1, g: group{
			cn: "GG-Admins", sam: "GG-Admins", description: "Every administrative account", groupType: groupGlobalSecurity}}
	}
	r := g - nSpecial
	kind := l.regularKind(r)
	d := r % nDepts
	q := (r / nDepts) * l.qMul % l.qMod
	s := q % nSites
	q /= nSites
	topic := groupTopics[q%len(groupTopics)]
	q /= len(groupTopics)
	role := groupRoles[q%len(groupRoles)]
	q /= len(groupRoles)
	dp, st := departments[d], sites[s]
	name := kindPrefix[kind] + "-" + dp.code + "-" + st.code + "-" + topic + "-" + role
	if q > 0 {
		name += "-" + strconv.Itoa(q+1)
	}
	info := groupInfo{dn: childDN("CN", name, l.groupDeptOU[d]), kind: kind, dept: d, g: group{
		cn: name, sam: name, description: topic + " " + lowerASCII(role) + ", " + dp.name + ", " + st.name}}
	switch kind {
	case kindGlobal:
		info.g.groupType = groupGlobalSecurity
	case kindUniversal:
		info.g.groupType = groupUniversalSecurity
	case kindDomainLocal:
		info.g.groupType = groupDomainLocalSecurity
		info.g.description = "Resource access: " + info.g.description
	case kindDistribution:
		info.g.groupType = groupUniversalDistrib
		info.g.mail = lowerASCII(name) + "@" + scaledSource.dns
	}
	return info
}

// memberSet holds one group's members as sorted, unique indices; it is
// reused from group to group.
type memberSet struct {
	users  []int // staff indices
	admins []int // admin indices
	groups []int // group indices
}

func (m *memberSet) reset() {
	m.users, m.admins, m.groups = m.users[:0], m.admins[:0], m.groups[:0]
}

func sortUnique(s []int) []int {
	slices.Sort(s)
	return slices.Compact(s)
}

// members derives the members of group g into m. Special groups are large
// (every user of a site or department); regular groups have a log-normal
// size (median about 5, capped at 200) drawn mostly from their own
// department, and some nest lower-numbered groups, so the nesting is
// acyclic. Domain-local groups follow AGDLP: they hold groups, rarely users.
func (l *layout) members(g int, m *memberSet) {
	m.reset()
	switch {
	case g < nSites:
		for i := range l.nStaff {
			if l.siteOf(i) == g {
				m.users = append(m.users, i)
			}
		}
		return
	case g < nSites+nDepts:
		for i := g - nSites; i < l.nStaff; i += nDepts {
			m.users = append(m.users, i)
		}
		return
	case g == specialAll:
		for s := range nSites {
			m.groups = append(m.groups, s)
		}
		return
	case g == specialAdmins:
		for a := range l.nAdmins {
			m.admins = append(m.admins, a)
		}
		return
	}
	r := g - nSpecial
	p := newPRNG(l.seed, tagGroup, r)
	kind := kindOf(p.float())
	d := r % nDepts
	if kind == kindDomainLocal {
		for range 1 + p.intn(5) {
			if p.float() < 0.25 {
				m.groups = append(m.groups, nSites+d)
				continue
			}
			if r == 0 {
				continue
			}
			for range 3 {
				rr := p.intn(r)
				if k := l.regularKind(rr); k == kindGlobal || k == kindUniversal {
					m.groups = append(m.groups, nSpecial+rr)
					break
				}
			}
		}
		if p.float() < 0.3 {
			l.pickUsers(&p, d, 1+p.intn(10), m)
		}
	} else {
		size := int(math.Exp(1.66 + 1.2*p.normal()))
		l.pickUsers(&p, d, min(size, 200), m)
		if r >= nDepts && p.float() < 0.15 {
			for range 1 + p.intn(3) {
				rr := r - nDepts*(1+p.intn(min(r/nDepts, 50)))
				k := l.regularKind(rr)
				if k == kindGlobal || kind != kindGlobal && k == kindUniversal {
					m.groups = append(m.groups, nSpecial+rr)
				}
			}
		}
	}
	m.users = sortUnique(m.users)
	m.groups = sortUnique(m.groups)
}

func kindOf(x float64) int {
	switch {
	case x < 0.70:
		return kindGlobal
	case x < 0.78:
		return kindUniversal
	case x < 0.95:
		return kindDomainLocal
	default:
		return kindDistribution
	}
}

// pickUsers adds n staff members, 80% from department d.
func (l *layout) pickUsers(p *prng, d, n int, m *memberSet) {
	inDept := (l.nStaff - d + nDepts - 1) / nDepts
	for range min(n, l.nStaff) {
		if inDept > 0 && p.float() < 0.8 {
			m.users = append(m.users, d+nDepts*p.intn(inDept))
		} else {
			m.users = append(m.users, p.intn(l.nStaff))
		}
	}
}

// machine derives computer c.
func (l *layout) machine(c int) (dn string, pc computer, class int) {
	r := newPRNG(l.seed, tagComputer, c)
	x := r.float()
	s := r.site()
	n := fmt.Sprintf("%05d", c)
	switch {
	case x < 0.02:
		class = classKiosk
		pc = computer{name: "KIOSK-" + n, os: osWin10EntLTSC, description: "Shared kiosk"}
		dn = childDN("CN", pc.name, l.kiosks)
	case x < 0.14:
		class = classServer
		pc = computer{name: sites[s].code + "-SRV-" + n, os: pickOS(serverOS, &r)}
		pc.description = serverRoles[r.intn(len(serverRoles))]
		dn = childDN("CN", pc.name, l.srvOU[s])
	default:
		class = classWorkstation
		kind := "-WS-"
		if r.float() < 0.3 {
			kind = "-LT-"
		}
		pc = computer{name: sites[s].code + kind + n, os: pickOS(workstationOS, &r)}
		dn = childDN("CN", pc.name, l.wksOU[s])
	}
	pc.uac = uacWorkstationTrust
	if r.float() < 0.03 {
		pc.uac |= uacAccountDisable
	}
	if r.float() < 0.08 {
		pc.lastLogon = scaledEnd.Add(-time.Duration(180+r.intn(600)) * 24 * time.Hour)
	} else {
		pc.lastLogon = scaledEnd.Add(-time.Duration(r.intn(30*24*3600)) * time.Second)
	}
	return dn, pc, class
}

const (
	classWorkstation = iota
	classServer
	classKiosk
)

var serverRoles = []string{"File server", "Application server", "SQL Server", "Print server", "Web server", "Remote Desktop host", "Build agent", "Backup server"}

// WriteSource writes the source estate for opts to w, streamed.
func WriteSource(w io.Writer, opts Options) (Stats, error) {
	l, err := newLayout(opts)
	if err != nil {
		return Stats{}, err
	}
	lw := ldifwrite.NewWriter(w, ldifwrite.Options{Style: scaledSource.style})
	lw.Comment(fmt.Sprintf(
		"adshift benchmark estate: source domain %s (%s).\n"+
			"Synthetic, in the shape `ldifde -f` exports. %d users, %d groups, %d computers.\n"+
			"Regenerate: go run ./bench/genestate -objects %d -seed %d -target-users %g",
		scaledSource.dns, scaledSource.base, l.nUsers, l.nGroups, l.nComputers,
		opts.Objects, opts.Seed, opts.TargetUsers))
	e := &emitter{w: lw, d: scaledSource}
	var st Stats
	c := newClock(opts.Seed^0x5eed, scaledStart.AddDate(0, 0, -30), scaledStart, 12290, 20000+7*int64(l.total))
	e.domainRoot("source", c.next(time.Minute, 0, 1))
	e.builtins(c, "DC01", os2019)
	ou := func(dn, name, description string) {
		e.ou(dn, name, description, c.next(time.Hour, 0, 0.3))
		st.OUs++
	}
	ou(l.corp, "Corp", "Managed objects")
	staff := childDN("OU", "Staff", l.corp)
	ou(staff, "Staff", "Employee accounts by site and department")
	for s, site := range sites {
		ou(childDN("OU", site.name, staff), site.name, "")
		for d, dp := range departments {
			ou(l.staffOU[s][d], dp.name, "")
		}
	}
	ou(l.admins, "Admins", "Privileged accounts")
	ou(l.groupsOU, "Groups", "")
	for d, dp := range departments {
		ou(l.groupDeptOU[d], dp.name, "")
	}
	ou(l.wks, "Workstations", "")
	for s, site := range sites {
		ou(l.wksOU[s], site.name, "")
	}
	ou(l.kiosks, "Kiosks", "Shared kiosks: not migrated")
	ou(l.servers, "Servers", "")
	for s, site := range sites {
		ou(l.srvOU[s], site.name, "")
	}

	for i := range l.nStaff {
		p := l.staff(i)
		r := newPRNG(l.seed, tagMeta, l.staffX(i))
		e.user(childDN("CN", p.cn, l.staffOU[p.site][p.dept]), l.staffUser(&p, i, scaledSource), l.meta(l.staffX(i), &r))
		st.Users++
	}
	for a := range l.nAdmins {
		dn, u := l.admin(a)
		r := newPRNG(l.seed, tagMeta, l.adminX(a))
		e.user(dn, u, l.meta(l.adminX(a), &r))
		st.Users++
	}
	var ms memberSet
	for g := range l.nGroups {
		info := l.group(g)
		l.members(g, &ms)
		r := newPRNG(l.seed, tagMeta, l.groupX(g))
		e.group(info.dn, &info.g, l.meta(l.groupX(g), &r), func(yield func(string)) {
			for _, x := range ms.groups {
				yield(l.group(x).dn)
			}
			for _, i := range ms.users {
				yield(l.staffDN(i))
			}
			for _, a := range ms.admins {
				dn, _ := l.admin(a)
				yield(dn)
			}
		})
		n := len(ms.users) + len(ms.admins) + len(ms.groups)
		st.Groups++
		st.Memberships += n
		st.LargestGroup = max(st.LargestGroup, n)
	}
	for k := range l.nComputers {
		dn, pc, _ := l.machine(k)
		r := newPRNG(l.seed, tagMeta, l.computerX(k))
		e.computer(dn, &pc, l.meta(l.computerX(k), &r))
		st.Computers++
	}
	st.Entries = lw.Records()
	return st, flush(lw)
}

// targetUser reports whether staff member i already exists in the target
// and, if so, how its target copy differs.
func (l *layout) targetUser(i int) (present bool, r prng) {
	r = newPRNG(l.seed, tagTargetUser, i)
	return r.float() < l.targetUsers, r
}

func (l *layout) targetGroup(r int) bool {
	p := newPRNG(l.seed, tagTargetGroup, r)
	return p.float() < targetGroupShare
}

func (l *layout) targetUserDN(i int) string {
	p, _ := l.staffName(i)
	return childDN("CN", p.cn, l.tgtUsers)
}

// WriteTarget writes the target estate for opts to w, streamed: the
// target's own employees, and below OU=Migrated the staff accounts, groups
// and workstations migrated earlier.
func WriteTarget(w io.Writer, opts Options) (Stats, error) {
	l, err := newLayout(opts)
	if err != nil {
		return Stats{}, err
	}
	lw := ldifwrite.NewWriter(w, ldifwrite.Options{Style: scaledTarget.style})
	lw.Comment(fmt.Sprintf(
		"adshift benchmark estate: target domain %s (%s).\n"+
			"Synthetic, in the shape `ldapsearch -LLL` prints. Holds %.0f%% of the source\n"+
			"staff accounts, %.0f%% of its groups and %.0f%% of its workstations.\n"+
			"Regenerate: go run ./bench/genestate -objects %d -seed %d -target-users %g",
		scaledTarget.dns, scaledTarget.base, 100*opts.TargetUsers, 100*targetGroupShare,
		100*targetWorkstationShare, opts.Objects, opts.Seed, opts.TargetUsers))
	e := &emitter{w: lw, d: scaledTarget}
	var st Stats
	c := newClock(opts.Seed^0x7a26e7, scaledStart.AddDate(2, 0, 0), scaledEnd, 9000, 9000+int64(l.total)*20)
	e.domainRoot("target", c.next(time.Minute, 0, 1))
	e.builtins(c, "TDC01", os2022Std)
	rid := uint32(1103)
	nextRID := func() uint32 { rid++; return rid - 1 }

	e.ou(l.tgtEmployees, "Employees", "Target's own staff", c.next(time.Hour, 0, 0))
	st.OUs++
	m := len(firstNames) * len(lastNames)
	for j := range l.nNative {
		k := (j*l.nameMul + 12345) % m
		first, last := firstNames[k%len(firstNames)], lastNames[k/len(firstNames)]
		sam := fmt.Sprintf("t%07d", j)
		cn := first + " " + last + " (" + sam + ")"
		e.user(childDN("CN", cn, l.tgtEmployees), &user{
			cn: cn, givenName: first, sn: last, displayName: first + " " + last,
			sam: sam, upn: sam + "@" + scaledTarget.dns,
			mail:       accountName(first) + "." + accountName(last) + "." + strconv.Itoa(j) + "@" + scaledTarget.dns,
			department: departments[j%nDepts].name, company: scaledTarget.company,
			uac: uacNormalAccount,
		}, c.next(time.Hour, nextRID(), 0.4))
		st.Users++
	}
	migrated := childDN("OU", "Migrated", scaledTarget.base)
	e.ou(migrated, "Migrated", "Objects migrated from source.test", c.next(time.Hour, 0, 0))
	e.ou(l.tgtUsers, "Users", "", c.next(time.Hour, 0, 0))
	e.ou(l.tgtGroups, "Groups", "", c.next(time.Hour, 0, 0))
	e.ou(l.tgtWks, "Workstations", "", c.next(time.Hour, 0, 0))
	st.OUs += 4

	for i := range l.nStaff {
		present, r := l.targetUser(i)
		if !present {
			continue
		}
		p := l.staff(i)
		u := l.staffUser(&p, i, scaledTarget)
		u.office, u.phone = "", ""
		// A third of the migrated accounts drifted since.
		switch x := r.float(); {
		case x < 0.12:
			u.department = departments[(p.dept+1+r.intn(nDepts-1))%nDepts].name
		case x < 0.20:
			u.displayName = p.first + " " + p.last + " (" + sites[p.site].code + ")"
		case x < 0.25:
			u.sn = p.last + "-" + lastNames[r.intn(len(lastNames))]
		case x < 0.33:
			u.title = "Senior " + p.title // not templated: no change planned
		}
		e.user(childDN("CN", u.cn, l.tgtUsers), u, c.next(time.Minute, nextRID(), 0.3))
		st.Users++
	}
	var ms memberSet
	for r := range l.nRegular {
		if !l.targetGroup(r) {
			continue
		}
		g := nSpecial + r
		info := l.group(g)
		l.members(g, &ms)
		if dr := newPRNG(l.seed, tagTargetGroup, -1-r); dr.float() < 0.5 {
			info.g.description += " (migrated)"
		}
		n := 0
		e.group(childDN("CN", info.g.cn, l.tgtGroups), &info.g, c.next(time.Minute, nextRID(), 0.5), func(yield func(string)) {
			for _, x := range ms.groups {
				if x >= nSpecial && l.targetGroup(x-nSpecial) {
					yield(childDN("CN", l.group(x).g.cn, l.tgtGroups))
					n++
				}
			}
			for _, i := range ms.users {
				if present, _ := l.targetUser(i); present {
					yield(l.targetUserDN(i))
					n++
				}
			}
		})
		st.Groups++
		st.Memberships += n
		st.LargestGroup = max(st.LargestGroup, n)
	}
	for k := range l.nComputers {
		_, pc, class := l.machine(k)
		r := newPRNG(l.seed, tagTargetComputer, k)
		if class != classWorkstation || r.float() >= targetWorkstationShare {
			continue
		}
		// Reimaged during the pilot: always when the source OS is one a
		// cutover would block, otherwise half of the time.
		if r.float() < 0.5 || pc.os == osXP || pc.os == osVista || pc.os == osWin7RTM || pc.os == osWin81Pro {
			pc.os = osWin11Ent
		}
		e.computer(childDN("CN", pc.name, l.tgtWks), &pc, c.next(time.Minute, nextRID(), 0.5))
		st.Computers++
	}
	st.Entries = lw.Records()
	return st, flush(lw)
}
