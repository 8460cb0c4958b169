package lab

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/adshift/adshift/dn"
	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/internal/atomicfile"
	"github.com/adshift/adshift/odj"
)

// The join actions: offline_domain_join stages a blob, cutover moves the
// device from its domain to the target, rollback moves it back. They run
// Samba's net tool with the device's own smb.conf, so the device's
// domain membership is real: net ads testjoin against the DC proves it.

func init() {
	actions[api.ActionOfflineDomainJoin] = offlineDomainJoin
	actions[api.ActionCutover] = cutover
	actions[api.ActionRollback] = rollback
}

// maxNotice bounds cutover's restart notice: a day.
const maxNotice = 24 * 60 * 60

// stagedDir is where offline_domain_join keeps the staged blob.
const stagedDir = "odj"

// param returns a's required parameter name.
func param(a api.Action, name string) (string, error) {
	v := strings.TrimSpace(a.Params[name])
	if v == "" {
		return "", fmt.Errorf("%s: parameter %q is missing", a.Name, name)
	}
	return v, nil
}

// accountName is the computer name a computer account's DN names: the
// value of its first RDN ("CN=WS001,OU=…" → "WS001").
func accountName(accountDN string) (string, error) {
	d, err := dn.Parse(accountDN)
	if err != nil || d.IsZero() {
		return "", fmt.Errorf("computer account %q is not a DN", accountDN)
	}
	_, v := d.RDN()
	return v, nil
}

// checkAccount fails unless accountDN (when given) is the computer account
// of the device named device.
func checkAccount(a api.Action, key, device string) error {
	v := strings.TrimSpace(a.Params[key])
	if v == "" {
		return nil
	}
	name, err := accountName(v)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", a.Name, key, err)
	}
	if !strings.EqualFold(name, device) {
		return fmt.Errorf("%s: %s %q is not this device's account (the device is %s): the job is for another device", a.Name, key, v, device)
	}
	return nil
}

// offlineDomainJoin validates the ODJ file at params["blob"] (its machine
// must be this device, its domain the target when target_domain is
// given) and stages a copy in journal/odj/ with its SHA-256. It does not
// join: cutover applies the staged blob.
func offlineDomainJoin(ctx context.Context, b *Backend, a api.Action, progress func(done, total int64)) (string, error) {
	b.acts.Lock()
	defer b.acts.Unlock()
	path, err := param(a, api.ParamBlob)
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("offline domain join blob: %w (is the repository share reachable from the device?)", err)
	}
	pd, err := odj.ReadFile(data)
	if err != nil {
		return "", fmt.Errorf("offline domain join blob %s: %w", path, err)
	}
	w7, err := pd.Win7()
	if err != nil {
		return "", fmt.Errorf("offline domain join blob %s: %w", path, err)
	}
	cur, err := ReadSambaConfig(b.dir)
	if err != nil {
		return "", err
	}
	if !strings.EqualFold(w7.MachineName, cur.NetBIOSName) {
		return "", fmt.Errorf("offline domain join blob %s is for computer %s, not this device %s: provision the blob for this device", path, w7.MachineName, cur.NetBIOSName)
	}
	if t := a.Params[api.ParamTargetDomain]; t != "" && !strings.EqualFold(w7.Domain, t) {
		return "", fmt.Errorf("offline domain join blob %s joins %s, not the target domain %s: provision it in the target", path, w7.Domain, t)
	}
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	r, err := b.startRun(a)
	if err != nil {
		return "", err
	}
	dst := filepath.Join(b.dir, JournalDir, stagedDir, strings.ToUpper(w7.MachineName)+".odj")
	out := fmt.Sprintf("staged the offline domain join of %s to %s (sha256 %s)", strings.ToUpper(w7.MachineName), strings.ToLower(w7.Domain), digest[:16])
	if s := r.j.Staged; s != nil && s.SHA256 == digest && fileSHA256(s.Path) == digest {
		progress(1, 1)
		return out + "; already staged", nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return "", fmt.Errorf("stage offline domain join blob: %w", err)
	}
	// The blob holds the machine password: readable by the device only.
	if err := atomicfile.Write(dst, data, 0o600); err != nil {
		return "", fmt.Errorf("stage offline domain join blob: %w", err)
	}
	if got := fileSHA256(dst); got != digest {
		return "", fmt.Errorf("staged offline domain join blob %s does not read back whole (sha256 %s, want %s): check the device's disk", dst, got, digest)
	}
	r.j.Staged = &stagedBlob{Path: dst, From: path, SHA256: digest, Machine: strings.ToUpper(w7.MachineName), Domain: strings.ToLower(w7.Domain)}
	if err := r.finish(out); err != nil {
		return "", err
	}
	progress(1, 1)
	return out, nil
}

// fileSHA256 is the hex SHA-256 of a file's bytes; "" when unreadable.
func fileSHA256(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// targetConfig is the smb.conf of a domain given by the action's
// parameters under the keys of one side (source or target).
func domainConfig(a api.Action, device, domainKey, dcKey, netbiosKey string) (SambaConfig, error) {
	c := SambaConfig{NetBIOSName: device}
	var err error
	if c.Realm, err = param(a, domainKey); err != nil {
		return c, err
	}
	if c.DC, err = param(a, dcKey); err != nil {
		return c, err
	}
	if c.Workgroup, err = param(a, netbiosKey); err != nil {
		return c, err
	}
	c.Realm, c.Workgroup = strings.ToUpper(c.Realm), strings.ToUpper(c.Workgroup)
	// They end up in smb.conf and on net's command line.
	if !validHost(c.Realm) {
		return c, fmt.Errorf("%s: %s %q is not a DNS domain name", a.Name, domainKey, c.Realm)
	}
	if !validHost(c.DC) {
		return c, fmt.Errorf("%s: %s %q is not a host name", a.Name, dcKey, c.DC)
	}
	if !validNetBIOS(c.Workgroup) {
		return c, fmt.Errorf("%s: %s %q is not a NetBIOS domain name", a.Name, netbiosKey, c.Workgroup)
	}
	return c, nil
}

// validHost says whether s is a DNS name (letters, digits, hyphens and
// dots; no label starting with a hyphen), as it may go on a command line
// and into smb.conf.
func validHost(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// validNetBIOS says whether s is a NetBIOS domain name without the
// characters Windows forbids (or smb.conf would misread).
func validNetBIOS(s string) bool {
	if s == "" || len(s) > 15 || s[0] == '-' {
		return false
	}
	return !strings.ContainsAny(s, "\\/:*?\"<>|.,;=+[]@#\r\n\t ")
}

// cutover moves the device from its domain to the target: it leaves the
// source keeping the computer account, disabled; points smb.conf at the
// target; joins it with the staged offline domain join blob (or online
// with the pre-staged account when none is staged); records the restart
// after the notice; and proves the join with net ads testjoin against the
// target DC. Each step checks whether it is done already.
func cutover(ctx context.Context, b *Backend, a api.Action, progress func(done, total int64)) (string, error) {
	b.acts.Lock()
	defer b.acts.Unlock()
	cur, err := ReadSambaConfig(b.dir)
	if err != nil {
		return "", err
	}
	device := cur.NetBIOSName
	target, err := domainConfig(a, device, api.ParamTargetDomain, api.ParamTargetDC, api.ParamTargetNetBIOS)
	if err != nil {
		return "", err
	}
	notice := 0
	if v := a.Params[api.ParamNoticeSeconds]; v != "" {
		if notice, err = strconv.Atoi(v); err != nil || notice < 0 || notice > maxNotice {
			return "", fmt.Errorf("cutover: notice_seconds %q is not a number of seconds from 0 to %d", v, maxNotice)
		}
	}
	if err := checkAccount(a, api.ParamSourceAccount, device); err != nil {
		return "", err
	}
	if err := checkAccount(a, api.ParamTargetAccount, device); err != nil {
		return "", err
	}
	secrets, err := ReadSecrets(b.dir)
	if err != nil {
		return "", err
	}
	r, err := b.startRun(a)
	if err != nil {
		return "", err
	}
	if r.entry.Done {
		done, err := r.stillDone(ctx, cur, target)
		if err != nil {
			return "", err
		}
		if done {
			progress(5, 5)
			return r.entry.Output, nil
		}
	}
	const total = 5
	how := r.entry.Join
	if how == "" {
		how = "already joined"
	}

	// 1. Leave the source, keeping its computer account, disabled.
	if !r.done("leave_source") {
		if cur.Realm != target.Realm {
			if cur.Realm == "" {
				return "", fmt.Errorf("cutover: device %s is in no domain (smb.conf names no realm): nothing to cut over from", device)
			}
			src := cur
			r.j.Source = &src
			if err := r.save(); err != nil {
				return "", err
			}
			d, err := secrets.Domain(src.Domain())
			if err != nil {
				return "", fmt.Errorf("cutover: %w", err)
			}
			if err := b.leaveDisabled(ctx, src, d); err != nil {
				return "", fmt.Errorf("cutover: %w", err)
			}
		}
		if err := r.mark("leave_source"); err != nil {
			return "", err
		}
	}
	progress(1, total)

	// 2. Point the device at the target.
	if err := r.switchTo(target); err != nil {
		return "", err
	}
	progress(2, total)

	// 3. Join the target. Until the journal records this step, the join
	// is made (again): applying the staged blob, or joining online, is
	// safe to repeat, while net ads testjoin is no proof that it was made
	// — on the lab it has answered "Join is OK" for a device whose join
	// to the target was never made (an NTLM fallback), which would skip
	// the offline domain join.
	if !r.done("join_target") {
		if how, err = b.joinTarget(ctx, r.j.Staged, target, secrets); err != nil {
			return "", fmt.Errorf("cutover: %w", err)
		}
		r.entry.Join = how
		if err := r.mark("join_target"); err != nil {
			return "", err
		}
	}
	progress(3, total)

	// 4. Restart after the notice.
	if !r.done("restart") {
		// The notice runs from the first attempt: a resumed cutover
		// waits only what is left of it.
		if r.entry.NoticeUntil.IsZero() {
			r.entry.NoticeUntil = time.Now().UTC().Add(time.Duration(notice) * time.Second)
			if err := r.save(); err != nil {
				return "", err
			}
		}
		if wait := time.Until(r.entry.NoticeUntil); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return "", fmt.Errorf("cutover: stopped during the restart notice (the device is joined to %s; a re-run records the restart): %w", target.Domain(), ctx.Err())
			case <-t.C:
			}
		}
		if err := b.recordRestart(fmt.Sprintf("cutover to %s after %d s notice", target.Domain(), notice)); err != nil {
			return "", err
		}
		if err := r.mark("restart"); err != nil {
			return "", err
		}
	}
	progress(4, total)

	// 5. Prove it.
	if err := b.proveJoin(ctx, target); err != nil {
		return "", fmt.Errorf("cutover: %w", err)
	}
	progress(5, total)
	from := "its domain"
	if r.j.Source != nil {
		from = r.j.Source.Domain()
	}
	out := fmt.Sprintf("%s joined %s (%s; net ads testjoin -S %s: Join is OK); left %s keeping the computer account, disabled; restart recorded", device, target.Domain(), how, target.DC, from)
	r.forget(api.ActionRollback)
	if err := r.finish(out); err != nil {
		return "", err
	}
	return out, nil
}

// leaveDisabled leaves the domain of c keeping the computer account,
// disabled. When the join no longer holds (a run stopped after the
// leave), it disables the account directly.
func (b *Backend) leaveDisabled(ctx context.Context, c SambaConfig, d DomainAccount) error {
	ok, _, err := b.testJoin(ctx, c, false)
	if err != nil {
		return err
	}
	if ok {
		return b.leaveKeep(ctx, c, d)
	}
	return b.setAccountEnabled(ctx, c, d, false)
}

// setAccountEnabled enables or disables the device's computer account in
// the domain of c with samba-tool over LDAP (signed and sealed, so no
// TLS setup is needed on the device).
func (b *Backend) setAccountEnabled(ctx context.Context, c SambaConfig, d DomainAccount, enable bool) error {
	verb := "disable"
	if enable {
		verb = "enable"
	}
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "samba-tool", "user", verb, c.NetBIOSName+"$", "-H", "ldap://"+c.DC, "-U", d.Admin)
	cmd.Env = append(withoutPasswd(os.Environ()), "PASSWD="+d.Password)
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := strings.ReplaceAll(lastLine(string(out)), d.Password, "********")
		return fmt.Errorf("%s computer account %s$ in %s through %s: %s", verb, c.NetBIOSName, c.Domain(), c.DC, msg)
	}
	return nil
}

// withoutPasswd drops Samba's password variables from an environment.
func withoutPasswd(env []string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PASSWD=") && !strings.HasPrefix(kv, "PASSWD_FD=") && !strings.HasPrefix(kv, "PASSWD_FILE=") {
			out = append(out, kv)
		}
	}
	return out
}

// joinTarget joins the target with the staged blob (net offlinejoin
// requestodj) or, when none is staged for that domain or the blob's join
// does not hold (its account was disabled by a rollback), online with the
// device's account for the target. It says how.
func (b *Backend) joinTarget(ctx context.Context, staged *stagedBlob, target SambaConfig, s *Secrets) (string, error) {
	var why string
	if staged != nil && strings.EqualFold(staged.Domain, target.Domain()) {
		b.forgetJoin()
		if _, err := b.net(ctx, "", "offlinejoin", "requestodj", "loadfile="+staged.Path); err != nil {
			return "", fmt.Errorf("apply the staged offline domain join blob %s: %w", staged.Path, err)
		}
		ok, detail, err := b.testJoin(ctx, target, false)
		if err != nil {
			return "", err
		}
		if ok {
			return "offline domain join blob applied", nil
		}
		why = fmt.Sprintf("the staged blob's join did not take (%s)", detail)
	}
	d, err := s.Domain(target.Domain())
	if err != nil {
		if why != "" {
			return "", fmt.Errorf("%s and %w", why, err)
		}
		return "", fmt.Errorf("no offline domain join blob is staged for %s (run offline_domain_join first) and %w", target.Domain(), err)
	}
	if err := b.joinOnline(ctx, target, d); err != nil {
		return "", err
	}
	if why != "" {
		return "joined online: " + why, nil
	}
	return "joined online with net ads join", nil
}

// recordRestart appends the restart the device would make to restarts.log.
func (b *Backend) recordRestart(why string) error {
	f, err := os.OpenFile(filepath.Join(b.dir, RestartsLog), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("lab restarts log: %w", err)
	}
	_, err = fmt.Fprintf(f, "%s restart: %s\n", time.Now().UTC().Format(time.RFC3339), why)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// rollback moves the device back to the source domain: it leaves the
// target keeping that account (disabled), points smb.conf at the source,
// rejoins it online (which enables the source computer account again)
// and proves the join with net ads testjoin against the source DC. With
// reacl_rollback = "true" it then runs the reacl_rollback action. The
// source is the one the action names (source_domain, source_dc,
// source_netbios) or else the one cutover left.
func rollback(ctx context.Context, b *Backend, a api.Action, progress func(done, total int64)) (string, error) {
	b.acts.Lock()
	defer b.acts.Unlock()
	cur, err := ReadSambaConfig(b.dir)
	if err != nil {
		return "", err
	}
	device := cur.NetBIOSName
	withReACL := false
	switch v := a.Params[api.ParamWithReACLRollback]; v {
	case "", "false":
	case "true":
		withReACL = true
	default:
		return "", fmt.Errorf("rollback: reacl_rollback %q is neither true nor false", v)
	}
	if err := checkAccount(a, api.ParamSourceAccount, device); err != nil {
		return "", err
	}
	r, err := b.startRun(a)
	if err != nil {
		return "", err
	}
	var src SambaConfig
	switch {
	case a.Params[api.ParamSourceDomain] != "":
		if src, err = domainConfig(a, device, api.ParamSourceDomain, api.ParamSourceDC, api.ParamSourceNetBIOS); err != nil {
			return "", err
		}
	case r.j.Source != nil:
		src = *r.j.Source
		src.NetBIOSName = device
	default:
		return "", fmt.Errorf("rollback: device %s does not know its source domain (no cutover recorded in %s): pass source_domain, source_dc and source_netbios", device, b.journalPath())
	}
	secrets, err := ReadSecrets(b.dir)
	if err != nil {
		return "", err
	}
	total := int64(4)
	if withReACL {
		total = 5
	}
	if r.entry.Done {
		done, err := r.stillDone(ctx, cur, src)
		if err != nil {
			return "", err
		}
		if done {
			progress(total, total)
			return r.entry.Output, nil
		}
	}

	// 1. Leave the target, keeping its account (disabled).
	left := "no other domain"
	if !r.done("leave_target") {
		if cur.Realm != "" && cur.Realm != src.Realm {
			left = cur.Domain()
			ok, _, err := b.testJoin(ctx, cur, false)
			if err != nil {
				return "", err
			}
			if ok {
				d, err := secrets.Domain(cur.Domain())
				if err != nil {
					return "", fmt.Errorf("rollback: %w", err)
				}
				if err := b.leaveKeep(ctx, cur, d); err != nil {
					return "", fmt.Errorf("rollback: %w", err)
				}
			}
		}
		if err := r.mark("leave_target"); err != nil {
			return "", err
		}
	}
	progress(1, total)

	// 2. Point the device at the source.
	if err := r.switchTo(src); err != nil {
		return "", err
	}
	progress(2, total)

	// 3. Rejoin the source; net ads join enables the kept account. Made
	// until the journal records it, never skipped on net ads testjoin's
	// word (see cutover's step 3).
	if !r.done("join_source") {
		d, err := secrets.Domain(src.Domain())
		if err != nil {
			return "", fmt.Errorf("rollback: %w", err)
		}
		if err := b.joinOnline(ctx, src, d); err != nil {
			return "", fmt.Errorf("rollback: %w", err)
		}
		// The target account is disabled now: a staged blob for it
		// would not join. A new cutover joins online or gets a new blob.
		r.j.Staged = nil
		if err := r.mark("join_source"); err != nil {
			return "", err
		}
	}
	progress(3, total)

	// 4. Prove it.
	if err := b.proveJoin(ctx, src); err != nil {
		return "", fmt.Errorf("rollback: %w", err)
	}
	progress(4, total)
	out := fmt.Sprintf("%s rejoined %s (net ads testjoin -S %s: Join is OK; computer account enabled); left %s keeping its account, disabled", device, src.Domain(), src.DC, left)
	if left == "no other domain" && r.done("leave_target") {
		out = fmt.Sprintf("%s rejoined %s (net ads testjoin -S %s: Join is OK; computer account enabled)", device, src.Domain(), src.DC)
	}

	// 5. Restore the descriptors, when asked.
	if withReACL && !r.done("reacl_rollback") {
		f := actions[api.ActionReACLRollback]
		if f == nil {
			return "", errors.New("rollback: reacl_rollback was asked for but this lab backend has no reacl_rollback action yet; the domain rollback is done, run it again once it has")
		}
		sub := api.Action{Name: api.ActionReACLRollback, Params: a.Params}
		res, err := f(ctx, b, sub, func(int64, int64) {})
		if err != nil {
			return "", fmt.Errorf("rollback: %w", err)
		}
		out += "; " + res
		if err := r.mark("reacl_rollback"); err != nil {
			return "", err
		}
	}
	progress(total, total)
	r.forget(api.ActionCutover)
	if err := r.finish(out); err != nil {
		return "", err
	}
	return out, nil
}
