package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/adshift/adshift/adid"
	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/internal/atomicfile"
)

func init() { actions[api.ActionCacheCredentials] = cacheCredentials }

// CredentialCacheFile is the cached credential set, under credentials/.
const CredentialCacheFile = "cache.json"

// credentialCache is credentials/cache.json: the users whose target
// credentials the device verified against a target DC and holds a
// Kerberos ticket for, so that cutover can go on without the DC.
type credentialCache struct {
	Domain string             `json:"domain"`
	DC     string             `json:"dc"`
	Users  []cachedCredential `json:"users"`
}

// cachedCredential is one verified user: no password, only where its
// ticket cache is.
type cachedCredential struct {
	SourceSID     string    `json:"source_sid"`
	TargetAccount string    `json:"target_account"`
	TicketCache   string    `json:"ticket_cache"`
	Verified      time.Time `json:"verified"`
}

// userLine is one "SOURCE-SID=TARGET-SAMACCOUNTNAME" of the users
// parameter.
type userLine struct {
	sid     adid.SID
	account string
}

// parseUsers reads the users parameter (empty: no user).
func parseUsers(v string) ([]userLine, error) {
	var out []userLine
	for i, line := range strings.Split(v, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		s, account, ok := strings.Cut(line, "=")
		account = strings.TrimSpace(account)
		if !ok || account == "" {
			return nil, fmt.Errorf("users line %d %q is not SOURCE-SID=TARGET-ACCOUNT", i+1, line)
		}
		sid, err := adid.ParseSID(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("users line %d: %w", i+1, err)
		}
		// The name becomes a Kerberos principal and a file name.
		if len(account) > 64 || account[0] == '-' || account[0] == '.' || strings.ContainsAny(account, "\"/\\[]:;|=,+*?<>@\x00\t\r") {
			return nil, fmt.Errorf("users line %d: %q is not a sAMAccountName", i+1, account)
		}
		out = append(out, userLine{sid: sid, account: account})
	}
	return out, nil
}

// cacheCredentials checks that both DCs answer, then verifies each listed
// user's target credentials with a real Kerberos logon (kinit) against
// the target DC, using the user's password from secrets.json, and keeps
// the ticket and the verified set in credentials/. Users verified before
// against the same domain and DC are skipped.
func cacheCredentials(ctx context.Context, b *Backend, a api.Action, progress func(done, total int64)) (string, error) {
	b.acts.Lock()
	defer b.acts.Unlock()
	sourceDC, err := param(a, api.ParamSourceDC)
	if err != nil {
		return "", err
	}
	targetDC, err := param(a, api.ParamTargetDC)
	if err != nil {
		return "", err
	}
	domain, err := param(a, api.ParamTargetDomain)
	if err != nil {
		return "", err
	}
	for k, v := range map[string]string{api.ParamSourceDC: sourceDC, api.ParamTargetDC: targetDC, api.ParamTargetDomain: domain} {
		if !validHost(v) {
			return "", fmt.Errorf("cache_credentials: %s %q is not a host or domain name", k, v)
		}
	}
	domain = strings.ToLower(domain)
	users, err := parseUsers(a.Params[api.ParamUsers])
	if err != nil {
		return "", fmt.Errorf("cache_credentials: %w", err)
	}
	if err := b.reachable(ctx, net.JoinHostPort(sourceDC, "389"), net.JoinHostPort(targetDC, "389"), net.JoinHostPort(targetDC, "88")); err != nil {
		return "", fmt.Errorf("cache_credentials: %w", err)
	}
	if len(users) == 0 {
		// The planner lists only users it matched in the target.
		progress(1, 1)
		return fmt.Sprintf("%s and %s reachable; no users listed, none verified or cached", sourceDC, targetDC), nil
	}
	secrets, err := ReadSecrets(b.dir)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(b.dir, CredentialDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("cache_credentials: %w", err)
	}
	krb5, err := writeKrb5Conf(dir, domain, targetDC)
	if err != nil {
		return "", err
	}
	cache := readCredentialCache(dir)
	if cache.Domain != domain || cache.DC != targetDC {
		cache = &credentialCache{Domain: domain, DC: targetDC}
	}
	total := int64(len(users))
	reused := 0
	for i, u := range users {
		if cache.has(u) {
			reused++
			progress(int64(i+1), total)
			continue
		}
		pw, ok := secrets.UserPassword(u.account)
		if !ok {
			return "", fmt.Errorf("cache_credentials: %s has no password for user %s (source %s): the device cannot verify its target credentials", SecretsFile, u.account, u.sid)
		}
		ccache := filepath.Join(dir, strings.ToLower(u.account)+".ccache")
		if err := kinit(ctx, krb5, ccache, u.account+"@"+strings.ToUpper(domain), pw); err != nil {
			return "", fmt.Errorf("cache_credentials: user %s (source %s) cannot log on to %s through %s: %w", u.account, u.sid, domain, targetDC, err)
		}
		cache.Users = append(cache.Users, cachedCredential{SourceSID: u.sid.String(), TargetAccount: u.account, TicketCache: ccache, Verified: time.Now().UTC()})
		if err := writeCredentialCache(dir, cache); err != nil {
			return "", err
		}
		progress(int64(i+1), total)
	}
	out := fmt.Sprintf("verified %d users' credentials against %s (%s) and cached them", len(users), targetDC, domain)
	if reused > 0 {
		out += fmt.Sprintf("; %d were cached already", reused)
	}
	return out, nil
}

// has says whether u was verified already and its ticket cache is there.
func (c *credentialCache) has(u userLine) bool {
	for _, cu := range c.Users {
		if cu.SourceSID == u.sid.String() && strings.EqualFold(cu.TargetAccount, u.account) {
			_, err := os.Stat(cu.TicketCache)
			return err == nil
		}
	}
	return false
}

// readCredentialCache reads credentials/cache.json; missing or unreadable
// is an empty cache (everything is verified again).
func readCredentialCache(dir string) *credentialCache {
	c := &credentialCache{}
	data, err := os.ReadFile(filepath.Join(dir, CredentialCacheFile))
	if err != nil || json.Unmarshal(data, c) != nil {
		return &credentialCache{}
	}
	return c
}

func writeCredentialCache(dir string, c *credentialCache) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("credential cache: %w", err)
	}
	return atomicfile.Write(filepath.Join(dir, CredentialCacheFile), append(data, '\n'), 0o600)
}

// writeKrb5Conf writes the Kerberos configuration the device's logons
// use: the target realm's KDC by host name, no DNS lookups.
func writeKrb5Conf(dir, domain, dc string) (string, error) {
	realm := strings.ToUpper(domain)
	conf := fmt.Sprintf("[libdefaults]\n\tdefault_realm = %s\n\tdns_lookup_kdc = false\n\tdns_lookup_realm = false\n\trdns = false\n[realms]\n\t%s = {\n\t\tkdc = %s\n\t}\n", realm, realm, dc)
	path := filepath.Join(dir, "krb5.conf")
	if err := atomicfile.Write(path, []byte(conf), 0o644); err != nil {
		return "", fmt.Errorf("credential cache: %w", err)
	}
	return path, nil
}

// kinit logs principal on with password (given on stdin, never on the
// command line) and keeps the ticket in ccache.
func kinit(ctx context.Context, krb5, ccache, principal, password string) error {
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kinit", "-c", "FILE:"+ccache, principal)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+krb5)
	cmd.Stdin = strings.NewReader(password + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return fmt.Errorf("kinit: %w (install krb5-user)", err)
		}
		return fmt.Errorf("kinit: %s", strings.ReplaceAll(lastLine(string(out)), password, "********"))
	}
	return nil
}
