package estate

import (
	"math/rand/v2"
	"time"
)

// clock hands out creation metadata in creation order: time moves forward
// by a random step, uSNCreated increases, GUIDs come from the same seeded
// source. Objects changed after creation take uSNChanged from a second,
// later counter, as on a real DC where later writes get later USNs.
type clock struct {
	rng     *rand.Rand
	now     time.Time
	end     time.Time // latest change time
	usn     int64
	lateUSN int64
}

func newClock(seed uint64, start, end time.Time, firstUSN, lateUSN int64) *clock {
	return &clock{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: start, end: end, usn: firstUSN, lateUSN: lateUSN}
}

// next returns metadata for an object created up to step after the
// previous one. With probability pChanged it was modified later.
func (c *clock) next(step time.Duration, rid uint32, pChanged float64) meta {
	c.now = c.now.Add(time.Duration(c.rng.Int64N(int64(step))) + time.Second)
	c.usn += 1 + c.rng.Int64N(4)
	m := meta{
		guid:       newGUID(c.rng.Uint64(), c.rng.Uint64()),
		rid:        rid,
		created:    c.now.Truncate(time.Second),
		changed:    c.now.Truncate(time.Second),
		usnCreated: c.usn,
		usnChanged: c.usn,
	}
	if c.rng.Float64() < pChanged && c.end.After(c.now) {
		m.changed = c.now.Add(time.Duration(c.rng.Int64N(int64(c.end.Sub(c.now))))).Truncate(time.Second)
		c.lateUSN += 1 + c.rng.Int64N(9)
		m.usnChanged = c.lateUSN
	}
	return m
}

// Well-known RIDs of every domain.
const (
	ridAdministrator = 500
	ridGuest         = 501
	ridKrbtgt        = 502
	ridDomainAdmins  = 512
	ridDomainUsers   = 513
)

// builtins writes the entries every AD domain has outside the managed OUs:
// CN=Users with the built-in accounts and groups, and OU=Domain Controllers
// with one DC. They are out of scope for a workflow scoped to OU=Corp.
func (e *emitter) builtins(c *clock, dcName string, dcOS osRelease) {
	users := childDN("CN", "Users", e.d.base)
	e.container(users, "Users", "Default container for upgraded user accounts", c.next(time.Minute, 0, 0))
	admin := childDN("CN", "Administrator", users)
	e.user(admin, &user{
		cn: "Administrator", sam: "Administrator",
		description: "Built-in account for administering the computer/domain",
		uac:         uacNormalAccount | uacDontExpirePassword,
	}, c.next(time.Minute, ridAdministrator, 0.5))
	e.user(childDN("CN", "Guest", users), &user{
		cn: "Guest", sam: "Guest",
		description: "Built-in account for guest access to the computer/domain",
		uac:         uacNormalAccount | uacDontExpirePassword | uacAccountDisable | 0x20,
	}, c.next(time.Minute, ridGuest, 0))
	e.user(childDN("CN", "krbtgt", users), &user{
		cn: "krbtgt", sam: "krbtgt",
		description: "Key Distribution Center Service Account",
		uac:         uacNormalAccount | uacAccountDisable,
	}, c.next(time.Minute, ridKrbtgt, 0))
	e.group(childDN("CN", "Domain Admins", users), &group{
		cn: "Domain Admins", sam: "Domain Admins",
		description: "Designated administrators of the domain",
		groupType:   groupGlobalSecurity,
	}, c.next(time.Minute, ridDomainAdmins, 0.5), func(yield func(string)) { yield(admin) })
	e.group(childDN("CN", "Domain Users", users), &group{
		cn: "Domain Users", sam: "Domain Users",
		description: "All domain users",
		groupType:   groupGlobalSecurity,
	}, c.next(time.Minute, ridDomainUsers, 0), nil)

	dcs := childDN("OU", "Domain Controllers", e.d.base)
	e.ou(dcs, "Domain Controllers", "Default container for domain controllers", c.next(time.Minute, 0, 0))
	e.computer(childDN("CN", dcName, dcs), &computer{
		name: dcName, os: dcOS,
		uac:       uacServerTrust | uacTrustedForDeleg,
		lastLogon: c.end.Add(-36 * time.Hour),
	}, c.next(time.Minute, 1000, 1))
}
