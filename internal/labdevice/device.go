package labdevice

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/errgroup"

	"github.com/adshift/adshift/adid"
	"github.com/adshift/adshift/agent/lab"
	"github.com/adshift/adshift/internal/atomicfile"
)

// OU is the organizational unit, under each domain's base, that holds
// the lab devices' users and groups.
const OU = "OU=adshift-lab-devices"

// Options says which devices Make makes.
type Options struct {
	// Dir is the directory holding the device directories.
	Dir string
	// Count devices are made, named Prefix and a three-digit number from
	// First ("ws001"); Prefix defaults to "ws", First to 1.
	Count  int
	Prefix string
	First  int
	// Unsupported is how many of the devices (the last ones) claim a
	// platform adshift cannot migrate: Windows XP, PowerShell 1.0.
	Unsupported int
	// Users is the number of users (profiles) per device, default 2.
	Users int
	// TargetUsers also creates each user's migrated counterpart in the
	// target domain: same name and password.
	TargetUsers bool
	// Files is how many files PopulateDisk makes, default 20.
	Files int
	// Parallel is how many devices are joined at once, default 4.
	Parallel int
	// Source and Target are the lab domains (LabDomains).
	Source, Target Domain
	// Logger may be nil.
	Logger hclog.Logger
}

// Device is a made lab device.
type Device struct {
	// Name is the computer name in upper case ("WS001"), Dir its directory.
	Name, Dir string
	// Domain is the domain it is joined to ("source.test").
	Domain string
	// Users are its users in the source domain, Group the domain group
	// holding them.
	Users []Principal
	Group Principal
}

// Principal is a source domain account of a device.
type Principal struct {
	Name, SID string
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

func (o *Options) defaults() error {
	if o.Prefix == "" {
		o.Prefix = "ws"
	}
	o.Prefix = strings.ToLower(o.Prefix)
	if o.First == 0 {
		o.First = 1
	}
	if o.Users == 0 {
		o.Users = 2
	}
	if o.Files == 0 {
		o.Files = 20
	}
	if o.Parallel == 0 {
		o.Parallel = 4
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Dir == "" {
		return errors.New("labdevice: no directory for the devices")
	}
	if o.Count < 0 || o.Unsupported < 0 || o.Unsupported > o.Count || o.Users < 1 || o.Users > 99 {
		return fmt.Errorf("labdevice: count %d, unsupported %d, users %d: want 0 ≤ unsupported ≤ count and 1 ≤ users ≤ 99", o.Count, o.Unsupported, o.Users)
	}
	if !nameRE.MatchString(o.Prefix) {
		return fmt.Errorf("labdevice: prefix %q: use lower-case letters, digits and hyphens, starting with a letter", o.Prefix)
	}
	if n := len(o.Names()); n > 0 && len(o.Names()[n-1]) > 15 {
		return fmt.Errorf("labdevice: device name %s is longer than NetBIOS's 15 characters: shorten the prefix", o.Names()[n-1])
	}
	return nil
}

// Names are the devices' directory names, in lower case.
func (o *Options) Names() []string {
	prefix, first := o.Prefix, o.First
	if prefix == "" {
		prefix = "ws"
	}
	if first == 0 {
		first = 1
	}
	var out []string
	for i := 0; i < o.Count; i++ {
		out = append(out, fmt.Sprintf("%s%03d", strings.ToLower(prefix), first+i))
	}
	return out
}

// plan is what Make wants for one device.
type plan struct {
	name, dir string
	users     []string // account names
	group     string
	secrets   *lab.Secrets
	fresh     map[string]bool // users whose password is new
	supported bool
}

// Make makes opts.Count lab devices under opts.Dir, joined to the source
// domain. Re-running it is cheap and changes nothing that is in place: an
// existing device keeps its users' passwords and its domain (a device
// cut over to the target stays there).
func Make(ctx context.Context, opts Options) ([]Device, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	start := time.Now()
	var plans []*plan
	for i, name := range opts.Names() {
		p, err := newPlan(opts, name, i >= opts.Count-opts.Unsupported)
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	sids, err := ensureAccounts(ctx, opts.Source, plans, true)
	if err != nil {
		return nil, err
	}
	if opts.TargetUsers {
		if _, err := ensureAccounts(ctx, opts.Target, plans, false); err != nil {
			return nil, err
		}
	}
	opts.Logger.Debug("accounts ready", "devices", len(plans), "elapsed", time.Since(start))
	devices := make([]Device, len(plans))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Parallel)
	for i, p := range plans {
		g.Go(func() error {
			d, err := makeDevice(gctx, opts, p, sids)
			if err != nil {
				return fmt.Errorf("lab device %s: %w", p.name, err)
			}
			devices[i] = d
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	opts.Logger.Info("lab devices ready", "devices", len(devices), "elapsed", time.Since(start))
	return devices, nil
}

// newPlan reads what a device already has (its secrets) and fills in the rest.
func newPlan(opts Options, name string, unsupported bool) (*plan, error) {
	dir := filepath.Join(opts.Dir, name)
	p := &plan{name: name, dir: dir, group: name + "-users", fresh: map[string]bool{}, supported: !unsupported}
	s, err := lab.ReadSecrets(dir)
	if err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, lab.SecretsFile)); statErr == nil {
			return nil, err
		}
		s = &lab.Secrets{}
	}
	if s.Users == nil {
		s.Users = map[string]string{}
	}
	s.Domains = map[string]lab.DomainAccount{}
	for _, d := range []Domain{opts.Source, opts.Target} {
		s.Domains[strings.ToLower(d.Name)] = lab.DomainAccount{NetBIOS: d.NetBIOS, DC: d.DC, Admin: d.Admin, Password: d.Password}
	}
	for i := 1; i <= opts.Users; i++ {
		u := fmt.Sprintf("%s-u%d", name, i)
		p.users = append(p.users, u)
		if _, ok := s.Users[u]; !ok {
			pw, err := password()
			if err != nil {
				return nil, err
			}
			s.Users[u] = pw
			p.fresh[u] = true
		}
	}
	p.secrets = s
	return p, nil
}

// password is a fresh password that meets AD's complexity rules.
func password() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("labdevice: %w", err)
	}
	return "Lab-" + hex.EncodeToString(b) + "-x9", nil
}

// ensureAccounts creates what is missing of the devices' users (and, in
// the source, their groups) in d, resets the passwords of existing users
// whose password is new, and returns every account's SID by name.
func ensureAccounts(ctx context.Context, d Domain, plans []*plan, groups bool) (map[string]string, error) {
	ou := OU + "," + d.Base
	existing, err := search(ctx, d, ou, "(|(objectClass=user)(objectClass=group))", "sAMAccountName", "objectSid")
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, e := range existing {
		have[strings.ToLower(e.first("samaccountname"))] = true
	}
	var add, mod strings.Builder
	if ok, err := exists(ctx, d, ou); err != nil {
		return nil, err
	} else if !ok {
		fmt.Fprintf(&add, "dn: %s\nobjectClass: organizationalUnit\ndescription: adshift lab devices' users and groups (internal/labdevice)\n\n", ou)
	}
	for _, p := range plans {
		for _, u := range p.users {
			pw := unicodePwd(p.secrets.Users[u])
			if !have[u] {
				fmt.Fprintf(&add, "dn: CN=%s,%s\nobjectClass: user\nsAMAccountName: %s\nuserPrincipalName: %s@%s\ndescription: user of lab device %s\nunicodePwd:: %s\nuserAccountControl: 512\n\n", u, ou, u, u, d.Name, p.name, pw)
			} else if p.fresh[u] {
				fmt.Fprintf(&mod, "dn: CN=%s,%s\nchangetype: modify\nreplace: unicodePwd\nunicodePwd:: %s\n-\n\n", u, ou, pw)
			}
		}
		if !groups {
			continue
		}
		var members strings.Builder
		for _, u := range p.users {
			fmt.Fprintf(&members, "member: CN=%s,%s\n", u, ou)
		}
		if !have[p.group] {
			fmt.Fprintf(&add, "dn: CN=%s,%s\nobjectClass: group\nsAMAccountName: %s\ndescription: users of lab device %s\n%s\n", p.group, ou, p.group, p.name, members.String())
		} else {
			fmt.Fprintf(&mod, "dn: CN=%s,%s\nchangetype: modify\nreplace: member\n%s-\n\n", p.group, ou, members.String())
		}
	}
	if add.Len() > 0 {
		if _, err := ldapTool(ctx, d, "ldapadd", add.String()); err != nil {
			return nil, fmt.Errorf("create the lab devices' accounts in %s: %w", ou, err)
		}
	}
	if mod.Len() > 0 {
		if _, err := ldapTool(ctx, d, "ldapmodify", mod.String()); err != nil {
			return nil, fmt.Errorf("update the lab devices' accounts in %s: %w", ou, err)
		}
	}
	all, err := search(ctx, d, ou, "(|(objectClass=user)(objectClass=group))", "sAMAccountName", "objectSid")
	if err != nil {
		return nil, err
	}
	sids := map[string]string{}
	for _, e := range all {
		sid, _, err := adid.DecodeSID([]byte(e.first("objectsid")))
		if err != nil {
			return nil, fmt.Errorf("objectSid of %s: %w", e.DN, err)
		}
		sids[strings.ToLower(e.first("samaccountname"))] = sid.String()
	}
	return sids, nil
}

// exists says whether the object dn is in d.
func exists(ctx context.Context, d Domain, dn string) (bool, error) {
	es, err := search(ctx, d, dn, "(objectClass=*)", "1.1")
	return len(es) > 0, err
}

// inventories are the platform facts devices claim.
var (
	supportedInventory   = map[string]any{"os": "Windows 10 Enterprise", "os_version": "10.0", "os_build": "19045", "powershell": "5.1", "dotnet_release": 528372}
	unsupportedInventory = map[string]any{"os": "Windows XP Professional", "os_version": "5.1", "os_build": "2600", "service_pack": "Service Pack 3", "powershell": "1.0"}
)

// makeDevice writes one device's files and joins it to the source.
func makeDevice(ctx context.Context, opts Options, p *plan, sids map[string]string) (Device, error) {
	dev := Device{Name: strings.ToUpper(p.name), Dir: p.dir}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return dev, err
	}
	inv := supportedInventory
	if !p.supported {
		inv = unsupportedInventory
	}
	if err := writeJSON(filepath.Join(p.dir, lab.InventoryFile), inv, 0o644); err != nil {
		return dev, err
	}
	if err := lab.WriteSecrets(p.dir, p.secrets); err != nil {
		return dev, err
	}
	sid := func(name string) (string, error) {
		if s := sids[strings.ToLower(name)]; s != "" {
			return s, nil
		}
		return "", fmt.Errorf("account %s was not found in %s after creating it", name, opts.Source.Name)
	}
	var profiles []lab.Profile
	for _, u := range p.users {
		s, err := sid(u)
		if err != nil {
			return dev, err
		}
		dev.Users = append(dev.Users, Principal{Name: u, SID: s})
		profiles = append(profiles, lab.Profile{SID: s, Name: opts.Source.NetBIOS + `\` + u, Path: `C:\Users\` + u})
	}
	gs, err := sid(p.group)
	if err != nil {
		return dev, err
	}
	dev.Group = Principal{Name: p.group, SID: gs}
	groups := []lab.LocalGroup{
		{Name: "Administrators", SID: "S-1-5-32-544", Members: []string{dev.Users[0].SID}},
		{Name: "Remote Desktop Users", SID: "S-1-5-32-555", Members: []string{gs}},
	}
	if err := writeProfiles(p.dir, profiles); err != nil {
		return dev, err
	}
	if err := writeGroups(p.dir, groups); err != nil {
		return dev, err
	}
	if err := populateDisk(opts, p, dev); err != nil {
		return dev, err
	}

	b := lab.New(p.dir)
	joined, err := b.JoinedDomain(ctx)
	if err != nil {
		return dev, err
	}
	if joined == "" {
		if err := b.Join(ctx, opts.Source.Name); err != nil {
			return dev, err
		}
		joined = strings.ToLower(opts.Source.Name)
		opts.Logger.Debug("joined", "device", dev.Name, "domain", joined)
	}
	dev.Domain = joined
	return dev, nil
}

// populateDisk fills disk/ unless it has been filled already.
func populateDisk(opts Options, p *plan, dev Device) error {
	disk := filepath.Join(p.dir, lab.DiskDir)
	if ents, err := os.ReadDir(disk); err == nil && len(ents) > 0 {
		return nil
	}
	principals := []string{dev.Group.SID}
	for _, u := range dev.Users {
		principals = append(principals, u.SID)
	}
	err := lab.PopulateDisk(p.dir, lab.DiskSpec{Files: opts.Files, FilesPerFolder: 10, Owner: dev.Users[0].SID, Group: dev.Group.SID, Principals: principals})
	if notImplemented(err) {
		// TODO(join): drop once agent/lab's ACL side is merged.
		opts.Logger.Warn("disk not populated: lab.PopulateDisk is not implemented in this build", "device", dev.Name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("populate disk: %w", err)
	}
	return nil
}

// notImplemented recognises agent/lab's stubs (errors.New, no sentinel),
// until the ACL side lands.
func notImplemented(err error) bool {
	return err != nil && strings.Contains(err.Error(), "not implemented")
}

// writeProfiles writes profiles.json through agent/lab, or itself while
// agent/lab's writer is a stub.
func writeProfiles(dir string, p []lab.Profile) error {
	if err := lab.WriteProfiles(dir, p); !notImplemented(err) {
		return err
	}
	return writeJSON(filepath.Join(dir, lab.ProfilesFile), p, 0o644)
}

// writeGroups writes groups.json likewise.
func writeGroups(dir string, g []lab.LocalGroup) error {
	if err := lab.WriteGroups(dir, g); !notImplemented(err) {
		return err
	}
	return writeJSON(filepath.Join(dir, lab.GroupsFile), g, 0o644)
}

func writeJSON(path string, v any, mode os.FileMode) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(data, '\n'), mode)
}

// Remove tears down the named devices under opts.Dir: each leaves its
// domain (deleting that computer account), any computer account left in
// either domain (a disabled source account, a pre-staged target one) and
// the devices' users and groups are deleted, then their directories.
// Devices that are not there are skipped.
func Remove(ctx context.Context, opts Options, names []string) error {
	if opts.Parallel == 0 {
		opts.Parallel = 4
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if len(names) == 0 {
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Parallel)
	for _, name := range names {
		dir := filepath.Join(opts.Dir, name)
		if _, err := os.Stat(lab.SambaConfigPath(dir)); err != nil {
			continue
		}
		g.Go(func() error {
			// A failed leave leaves an account behind, deleted below.
			if err := lab.New(dir).Leave(gctx); err != nil {
				opts.Logger.Warn("leave failed; deleting the account directly", "device", name, "error", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	opts.Logger.Debug("devices left their domains", "devices", len(names))
	var filter strings.Builder
	filter.WriteString("(|")
	for _, name := range names {
		fmt.Fprintf(&filter, "(sAMAccountName=%s$)(sAMAccountName=%s-*)", ldapEscape(name), ldapEscape(name))
	}
	filter.WriteString(")")
	for _, d := range []Domain{opts.Source, opts.Target} {
		es, err := search(ctx, d, d.Base, filter.String(), "1.1")
		if err != nil {
			return fmt.Errorf("remove lab devices: %w", err)
		}
		var dns []string
		for _, e := range es {
			dns = append(dns, e.DN)
		}
		if len(dns) > 0 {
			if _, err := ldapTool(ctx, d, "ldapdelete", strings.Join(dns, "\n")+"\n", "-r"); err != nil {
				return fmt.Errorf("remove lab devices: %w", err)
			}
		}
	}
	for _, name := range names {
		if err := os.RemoveAll(filepath.Join(opts.Dir, name)); err != nil {
			return fmt.Errorf("remove lab device %s: %w", name, err)
		}
	}
	opts.Logger.Debug("removed", "devices", len(names))
	return nil
}

// ldapEscape escapes a filter value (RFC 4515).
func ldapEscape(s string) string {
	r := strings.NewReplacer(`\`, `\5c`, `*`, `\2a`, `(`, `\28`, `)`, `\29`, "\x00", `\00`)
	return r.Replace(s)
}
