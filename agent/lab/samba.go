package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/adshift/adshift/internal/atomicfile"
)

// SambaConfig is what a lab device's samba/smb.conf says about its domain
// membership. The file also points Samba's private, state, cache, lock and
// pid directories into samba/, so nothing under /etc/samba or /var is
// touched, and resolves host names only (/etc/hosts carries the DCs).
type SambaConfig struct {
	// NetBIOSName is the device's computer name ("WS001").
	NetBIOSName string
	// Workgroup is the domain's NetBIOS name ("SOURCE"), Realm its
	// Kerberos realm ("SOURCE.TEST"); both empty: in no domain.
	Workgroup, Realm string
	// DC is the host name of the domain controller the device talks to
	// (smb.conf "password server").
	DC string
}

// Domain is the DNS domain name of the realm, in lower case.
func (c SambaConfig) Domain() string { return strings.ToLower(c.Realm) }

// SambaConfigPath is the device's smb.conf.
func SambaConfigPath(dir string) string { return filepath.Join(dir, SambaDir, "smb.conf") }

// WriteSambaConfig writes dir's samba/smb.conf for c and makes the
// directories it names.
func WriteSambaConfig(dir string, c SambaConfig) error {
	abs, err := filepath.Abs(filepath.Join(dir, SambaDir))
	if err != nil {
		return fmt.Errorf("lab samba config: %w", err)
	}
	var b strings.Builder
	b.WriteString("# The lab device's own Samba client configuration (adshift agent/lab).\n[global]\n")
	set := func(k, v string) { fmt.Fprintf(&b, "\t%s = %s\n", k, v) }
	set("netbios name", c.NetBIOSName)
	if c.Realm != "" {
		set("workgroup", c.Workgroup)
		set("realm", c.Realm)
		set("security", "ads")
	} else {
		set("workgroup", "WORKGROUP")
		set("security", "user")
	}
	if c.DC != "" {
		set("password server", c.DC)
	}
	for _, d := range []string{"private", "state", "cache", "lock", "pid"} {
		p := filepath.Join(abs, d)
		if err := os.MkdirAll(p, 0o700); err != nil {
			return fmt.Errorf("lab samba config: %w", err)
		}
		key := d + " directory"
		if d == "private" {
			key = "private dir"
		}
		set(key, p)
	}
	set("log file", filepath.Join(abs, "log.%m"))
	set("name resolve order", "host")
	return atomicfile.Write(SambaConfigPath(dir), []byte(b.String()), 0o644)
}

// ReadSambaConfig reads the membership facts of dir's smb.conf.
func ReadSambaConfig(dir string) (SambaConfig, error) {
	data, err := os.ReadFile(SambaConfigPath(dir))
	if err != nil {
		return SambaConfig{}, fmt.Errorf("lab samba config: %w", err)
	}
	return parseSambaConfig(data), nil
}

// parseSambaConfig reads the membership parameters of an smb.conf; the
// last of a repeated one counts, as in Samba. Other sections than
// [global] are not expected in a device's file and are read alike.
func parseSambaConfig(data []byte) SambaConfig {
	var c SambaConfig
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.Join(strings.Fields(k), " ")) {
		case "netbios name":
			c.NetBIOSName = strings.ToUpper(v)
		case "workgroup":
			c.Workgroup = strings.ToUpper(v)
		case "realm":
			c.Realm = strings.ToUpper(v)
		case "password server":
			c.DC = v
		}
	}
	if c.Realm == "" {
		c.Workgroup = ""
	}
	return c
}

// net runs Samba's net tool with the device's smb.conf. A password, when
// given, goes in the PASSWD environment variable (Samba's credentials
// read it), never on the command line; the output is trimmed and any
// password in it masked.
func (b *Backend) net(ctx context.Context, password string, args ...string) (string, error) {
	args = append(args, "--configfile="+SambaConfigPath(b.dir))
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "net", args...)
	env := withoutPasswd(os.Environ())
	if password != "" {
		env = append(env, "PASSWD="+password)
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	text := strings.TrimSpace(string(out))
	if password != "" {
		text = strings.ReplaceAll(text, password, "********")
	}
	if err != nil {
		var ee *exec.ExitError
		switch {
		case ctx.Err() != nil:
			return text, fmt.Errorf("net %s: stopped after %s or by the job: %w", args[0]+" "+args[1], toolTimeout, ctx.Err())
		case errors.As(err, &ee):
			return text, fmt.Errorf("net %s: %s", args[0]+" "+args[1], lastLine(text))
		}
		return text, fmt.Errorf("net %s: %w (is Samba's net installed?)", args[0]+" "+args[1], err)
	}
	return text, nil
}

// toolTimeout bounds one run of net, kinit or samba-tool: a DC that
// accepts connections but never answers must fail the action, not hold
// the job until its lease runs out.
const toolTimeout = 2 * time.Minute

// lastLine is the last non-empty line of s: the conclusion of Samba's
// tools, after their Kerberos fallback chatter.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return "(no output)"
}

// cacheTTL is how long inventory reuses a testjoin answer (a process and
// a round trip to the DC) and its reachability probes.
const cacheTTL = time.Minute

// joinCheck is a cached net ads testjoin answer.
type joinCheck struct {
	realm, dc string
	at        time.Time
	ok        bool
	detail    string
}

// testJoin asks dc whether the device's join to the realm of its smb.conf
// holds (net ads testjoin says "Join is OK"). detail is the tool's
// conclusion. cached answers younger than cacheTTL are reused when cached.
func (b *Backend) testJoin(ctx context.Context, c SambaConfig, cached bool) (ok bool, detail string, err error) {
	if c.Realm == "" || c.DC == "" {
		return false, "smb.conf names no realm and DC", nil
	}
	b.jmu.Lock()
	jc := b.joinCache
	b.jmu.Unlock()
	if cached && jc != nil && jc.realm == c.Realm && jc.dc == c.DC && time.Since(jc.at) < cacheTTL {
		return jc.ok, jc.detail, nil
	}
	out, runErr := b.net(ctx, "", "ads", "testjoin", "-S", c.DC)
	if ctx.Err() != nil {
		return false, "", ctx.Err()
	}
	ok = runErr == nil && strings.Contains(out, "Join is OK")
	detail = lastLine(out)
	if runErr != nil && out == "" {
		return false, "", runErr
	}
	b.jmu.Lock()
	b.joinCache = &joinCheck{realm: c.Realm, dc: c.DC, at: time.Now(), ok: ok, detail: detail}
	b.jmu.Unlock()
	return ok, detail, nil
}

// forgetJoin drops the cached testjoin answer (the membership changed).
func (b *Backend) forgetJoin() {
	b.jmu.Lock()
	b.joinCache = nil
	b.jmu.Unlock()
}

// joinOnline joins the domain of smb.conf c online with the account d
// (net ads join; an existing computer account is reused and enabled).
func (b *Backend) joinOnline(ctx context.Context, c SambaConfig, d DomainAccount) error {
	b.forgetJoin()
	if _, err := b.net(ctx, d.Password, "ads", "join", "--no-dns-updates", "-U", d.Admin, "-S", c.DC); err != nil {
		return fmt.Errorf("join %s through %s as %s: %w", c.Domain(), c.DC, d.Admin, err)
	}
	return nil
}

// leaveKeep leaves the domain of smb.conf c, keeping the computer
// account: net ads leave --keep-account disables it (userAccountControl
// gains ACCOUNTDISABLE) and drops the machine secret.
func (b *Backend) leaveKeep(ctx context.Context, c SambaConfig, d DomainAccount) error {
	b.forgetJoin()
	if _, err := b.net(ctx, d.Password, "ads", "leave", "--keep-account", "-U", d.Admin, "-S", c.DC); err != nil {
		return fmt.Errorf("leave %s through %s (keeping the account): %w", c.Domain(), c.DC, err)
	}
	return nil
}

// Join joins the device to the domain named in its secrets.json (DNS
// name) unless it is already joined there, and proves the join with net
// ads testjoin. It rewrites smb.conf for the domain, so it moves a device
// joined elsewhere without leaving there first (use the cutover action
// for a migration).
func (b *Backend) Join(ctx context.Context, domain string) error {
	s, err := ReadSecrets(b.dir)
	if err != nil {
		return err
	}
	d, err := s.Domain(domain)
	if err != nil {
		return err
	}
	cur, err := ReadSambaConfig(b.dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if cur.NetBIOSName == "" {
		cur.NetBIOSName = strings.ToUpper(filepath.Base(b.dir))
	}
	want := SambaConfig{NetBIOSName: cur.NetBIOSName, Workgroup: strings.ToUpper(d.NetBIOS), Realm: strings.ToUpper(domain), DC: d.DC}
	if cur == want {
		if ok, _, err := b.testJoin(ctx, want, false); err != nil {
			return err
		} else if ok {
			return nil
		}
	}
	if err := WriteSambaConfig(b.dir, want); err != nil {
		return err
	}
	if err := b.joinOnline(ctx, want, d); err != nil {
		return err
	}
	return b.proveJoin(ctx, want)
}

// proveJoin fails unless net ads testjoin against c's DC says "Join is OK".
func (b *Backend) proveJoin(ctx context.Context, c SambaConfig) error {
	ok, detail, err := b.testJoin(ctx, c, false)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("device %s is not joined to %s: net ads testjoin -S %s says %q", c.NetBIOSName, c.Domain(), c.DC, detail)
	}
	return nil
}

// Leave leaves the device's current domain and deletes its computer
// account there (net ads leave), for tearing a lab device down. A device
// in no domain, or whose join no longer holds, is left as it is.
func (b *Backend) Leave(ctx context.Context) error {
	c, err := ReadSambaConfig(b.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if ok, _, err := b.testJoin(ctx, c, false); err != nil || !ok {
		return err
	}
	s, err := ReadSecrets(b.dir)
	if err != nil {
		return err
	}
	d, err := s.Domain(c.Domain())
	if err != nil {
		return err
	}
	b.forgetJoin()
	if _, err := b.net(ctx, d.Password, "ads", "leave", "-U", d.Admin, "-S", c.DC); err != nil {
		return fmt.Errorf("leave %s through %s: %w", c.Domain(), c.DC, err)
	}
	return nil
}

// JoinedDomain is the DNS domain the device is really joined to: its
// smb.conf's realm, when net ads testjoin against its DC says "Join is
// OK" (asked afresh); "" when it is in no domain or the join does not
// hold.
func (b *Backend) JoinedDomain(ctx context.Context) (string, error) {
	c, err := ReadSambaConfig(b.dir)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	ok, _, err := b.testJoin(ctx, c, false)
	if err != nil || !ok {
		return "", err
	}
	return c.Domain(), nil
}
