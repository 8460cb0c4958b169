package ad

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/go-ldap/ldap/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"

	"github.com/adshift/adshift/odj"
	"github.com/adshift/adshift/providers"
)

// The offline domain join tests run Samba's own ODJ code against the lab's
// target DC (it runs the RPC and SMB services for this, and /etc/hosts
// names it; see lab/README.md): `net offlinejoin provision` makes blobs
// adshift must read, and `net offlinejoin requestodj` plus `net ads
// testjoin` must accept the blobs adshift makes.

// needNet skips unless Samba's net tool is installed.
func needNet(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("net")
	if err != nil {
		t.Skip("Samba's net tool is not installed (lab/up.sh installs samba); ODJ cross-check skipped")
	}
	return bin
}

// labDCHost is the target DC's host name and address, as the lab sets
// them. It fails the test, saying what to do, when the DC does not serve
// SMB (a lab brought up before lab/up.sh gave the target its RPC and SMB
// services).
func labDCHost(t *testing.T, dc labDC) (host, ip string) {
	u, err := url.Parse(dc.URL)
	if err != nil {
		t.Fatal(err)
	}
	ip = u.Hostname()
	c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, "445"), 5*time.Second)
	if err != nil {
		t.Fatalf("the %s DC does not serve SMB (%v): offline domain join needs its RPC and SMB services; run lab/up.sh, which switches it to them", dc.Name, err)
	}
	c.Close()
	return "dc1." + dc.Domain, ip
}

// device is one lab device: its own smb.conf, private and state
// directories, so that a join lands in its own secrets.tdb.
type device struct {
	name, dir, conf string
}

func newDevice(t *testing.T, dc labDC, name string) *device {
	t.Helper()
	d := &device{name: name, dir: t.TempDir()}
	var conf strings.Builder
	fmt.Fprintf(&conf, "[global]\n\tworkgroup = %s\n\trealm = %s\n\tsecurity = ads\n\tnetbios name = %s\n\tname resolve order = host\n",
		strings.ToUpper(strings.TrimSuffix(dc.Domain, ".test")), strings.ToUpper(dc.Domain), name)
	for _, k := range []string{"private dir", "state directory", "cache directory", "lock directory", "pid directory"} {
		sub := filepath.Join(d.dir, strings.ReplaceAll(k, " ", "-"))
		if err := os.MkdirAll(sub, 0o700); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&conf, "\t%s = %s\n", k, sub)
	}
	d.conf = filepath.Join(d.dir, "smb.conf")
	if err := os.WriteFile(d.conf, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

// net runs Samba's net tool with the device's configuration.
func (d *device) net(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, needNet(t), append(args, "--configfile="+d.conf)...).CombinedOutput()
	return string(out), err
}

// adminAuth writes a Samba authentication file (mode 0600) for dc's
// administrator, so the password never shows in a command line.
func adminAuth(t *testing.T, l *lab, dc labDC) string {
	f := filepath.Join(t.TempDir(), "auth")
	body := fmt.Sprintf("username = Administrator\npassword = %s\ndomain = %s\n", l.Password, strings.ToUpper(strings.TrimSuffix(dc.Domain, ".test")))
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// deleteComputer removes NAME$ from dc when the test ends.
func deleteComputer(t *testing.T, l *lab, dc labDC, name string) {
	t.Cleanup(func() {
		out := ldapTool(t, l, dc, "ldapsearch", "-LLL", "-b", dc.Base, "(sAMAccountName="+name+"$)", "1.1")
		for _, line := range strings.Split(out, "\n") {
			if dn, ok := strings.CutPrefix(line, "dn: "); ok {
				ldapTool(t, l, dc, "ldapdelete", dn)
			}
		}
	})
}

func uniqueName(prefix string) string {
	return fmt.Sprintf("%s%07d", prefix, time.Now().UnixNano()/1000%10000000)
}

// TestODJ_sambaBlobMatchesDirectory: a blob Samba's net offlinejoin
// provision makes against the target DC (over RPC: LSA, SAMR, netlogon)
// decodes field by field to the facts adshift reads over LDAP, its
// account's RID and SID are the account's, and it re-encodes to the same
// bytes.
func TestODJ_sambaBlobMatchesDirectory(t *testing.T) {
	l := needLab(t)
	dc := l.Target
	host, ip := labDCHost(t, dc)
	name := uniqueName("ODJS")
	deleteComputer(t, l, dc, name)
	dev := newDevice(t, dc, name)
	file := filepath.Join(dev.dir, name+".odj")
	out, err := dev.net(t, "offlinejoin", "provision", "domain="+strings.ToUpper(dc.Domain), "machine_name="+name,
		"dcname="+host, "savefile="+file, "-I", ip, "-A", adminAuth(t, l, dc))
	if err != nil || !strings.Contains(out, "Successfully provisioned computer") {
		t.Fatalf("net offlinejoin provision: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	data, err := odj.ReadFile(raw)
	if err != nil {
		t.Fatalf("decode Samba's blob: %v", err)
	}
	again, err := data.File()
	if err != nil || !bytes.Equal(again, raw) {
		t.Fatalf("Samba's blob does not re-encode to the same bytes (%v)", err)
	}

	p := configured(t, l, dc, cfgOpts{})
	s, err := p.configured()
	if err != nil {
		t.Fatal(err)
	}
	facts, err := s.odjFacts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	w7, err := data.Win7()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(facts.domain, w7.DNSDomain); d != "" {
		t.Errorf("DNS domain info: adshift's LDAP facts (-) vs Samba's blob (+):\n%s", d)
	}
	if d := cmp.Diff(facts.dc, w7.DC); d != "" {
		t.Errorf("DC info: adshift's LDAP facts (-) vs Samba's blob (+):\n%s", d)
	}
	// And, independently of adshift's LDAP code, the domain head's raw
	// objectSid and objectGUID as OpenLDAP's ldapsearch reads them.
	head := ldapTool(t, l, dc, "ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-b", dc.Base, "-s", "base", "objectSid", "objectGUID")
	sidBin, _ := w7.DNSDomain.SID.MarshalBinary()
	for attr, want := range map[string][]byte{"objectSid": sidBin, "objectGUID": w7.DNSDomain.GUID[:]} {
		if got := ldifBinary(t, head, attr); !bytes.Equal(got, want) {
			t.Errorf("domain head %s is % x, Samba's blob holds % x", attr, got, want)
		}
	}
	if w7.MachineName != name || !strings.EqualFold(w7.Domain, dc.Domain) || w7.Options != odj.DefaultOptions {
		t.Errorf("machine %q domain %q options %d", w7.MachineName, w7.Domain, w7.Options)
	}
	acct, err := s.findAccount(t.Context(), facts.baseDN, name+"$")
	if err != nil || acct == nil {
		t.Fatalf("find %s$: %v", name, err)
	}
	id, err := s.current(t.Context(), acct.DN)
	if err != nil {
		t.Fatal(err)
	}
	j := data.JoinProv3()
	if j == nil || j.SID != id.SID || !strings.HasSuffix(id.SID, fmt.Sprintf("-%d", j.RID)) {
		t.Errorf("join provider 3 part %+v, account objectSid %s", j, id.SID)
	}
	// The same facts through New write Samba's blob byte for byte.
	ours, err := odj.New(odj.Join{MachineName: name, Password: w7.MachinePassword, RID: j.RID, Domain: facts.domain, DC: facts.dc})
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := ours.File(); !bytes.Equal(f, raw) {
		t.Error("New with adshift's facts and Samba's password does not write Samba's bytes")
	}
}

// TestODJ_provisionAcceptedBySamba: adshift provisions a computer in a
// fresh OU and writes its blob; a lab device applies it with Samba's
// requestodj and the target DC accepts the device's machine secret (net ads
// testjoin: "Join is OK"). The password is in no result, error or log.
func TestODJ_provisionAcceptedBySamba(t *testing.T) {
	l := needLab(t)
	needNet(t)
	dc := l.Target
	host, _ := labDCHost(t, dc)
	var logs bytes.Buffer
	p := New(hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace}))
	diags, err := p.Configure(t.Context(), configValue(dc, l.Password, cfgOpts{}))
	if err != nil || diags.HasErrors() {
		t.Fatalf("Configure: %v %v", err, diags.Err())
	}
	t.Cleanup(func() { _ = p.Stop(context.Background()) })
	ou := testOU(t, l, dc, "odj")
	applyOK(t, p, []providers.Change{{ID: 1, Op: providers.OpCreate, Kind: providers.KindOU, DN: ou}})

	name := uniqueName("ODJA")
	repo := filepath.Join(t.TempDir(), "repo")
	res, err := p.ProvisionOfflineJoin(t.Context(), providers.OfflineJoinRequest{Computer: strings.ToLower(name), OU: ou, Dir: repo})
	if err != nil {
		t.Fatalf("ProvisionOfflineJoin: %v", err)
	}
	if want := "CN=" + name + "," + ou; res.DN != want || !res.Created || res.DC != host || res.Path != filepath.Join(repo, name+".odj") {
		t.Fatalf("result %+v, want DN %s created, DC %s", res, want, host)
	}
	for path, want := range map[string]os.FileMode{repo: 0o700 | os.ModeDir, res.Path: 0o600} {
		if st, err := os.Stat(path); err != nil || st.Mode() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, st.Mode(), err, want)
		}
	}
	pw := blobPassword(t, res.Path)
	acct := ldapTool(t, l, dc, "ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-b", res.DN, "-s", "base",
		"sAMAccountName", "userAccountControl", "dNSHostName", "servicePrincipalName")
	fqdn := strings.ToLower(name) + "." + dc.Domain
	for _, want := range []string{"sAMAccountName: " + name + "$", "userAccountControl: 4096", "dNSHostName: " + fqdn,
		"servicePrincipalName: HOST/" + name, "servicePrincipalName: HOST/" + fqdn,
		"servicePrincipalName: RestrictedKrbHost/" + name, "servicePrincipalName: RestrictedKrbHost/" + fqdn} {
		if !strings.Contains(acct, want+"\n") {
			t.Errorf("the account lacks %q:\n%s", want, acct)
		}
	}

	dev := newDevice(t, dc, name)
	if out, err := dev.net(t, "ads", "testjoin", "-S", host); err == nil || strings.Contains(out, "Join is OK") {
		t.Fatalf("negative control: a device that never joined passes testjoin:\n%s", out)
	}
	out, err := dev.net(t, "offlinejoin", "requestodj", "loadfile="+res.Path)
	if err != nil || !strings.Contains(out, "Successfully requested Offline Domain Join") {
		t.Fatalf("net offlinejoin requestodj: %v\n%s", err, out)
	}
	out, err = dev.net(t, "ads", "testjoin", "-S", host)
	if err != nil || !strings.Contains(out, "Join is OK") {
		t.Fatalf("net ads testjoin after requestodj: %v\n%s", err, out)
	}
	// Samba's testjoin says "Join is OK" even when the KDC refuses the
	// secret (it falls back to NTLM), so the KDC must not have refused it;
	// and the secret must open an LDAPS bind as the account (a new account
	// has no previous password that could pass instead).
	if strings.Contains(out, "Preauthentication failed") {
		t.Fatalf("net ads testjoin: the KDC refused the machine secret:\n%s", out)
	}
	if err := machineBind(t, dc, name, pw); err != nil {
		t.Fatalf("LDAPS bind as %s$ with the blob's password: %v", name, err)
	}

	// A second provisioning of the same name is refused without reuse and
	// resets the password with it; the first device's secret then fails.
	_, err = p.ProvisionOfflineJoin(t.Context(), providers.OfflineJoinRequest{Computer: name, OU: ou, Dir: repo})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second provisioning without reuse: %v", err)
	}
	errText := err.Error()
	res2, err := p.ProvisionOfflineJoin(t.Context(), providers.OfflineJoinRequest{Computer: name, OU: ou, Dir: repo, Reuse: true, FileName: "again.odj"})
	if err != nil || res2.Created || res2.DN != res.DN || res2.SID != res.SID {
		t.Fatalf("reuse: %+v %v", res2, err)
	}
	pw2 := blobPassword(t, res2.Path)
	if pw2 == pw {
		t.Fatal("reuse kept the old password")
	}
	dev2 := newDevice(t, dc, name)
	if out, err := dev2.net(t, "offlinejoin", "requestodj", "loadfile="+res2.Path); err != nil {
		t.Fatalf("requestodj of the reused account: %v\n%s", err, out)
	}
	if out, err := dev2.net(t, "ads", "testjoin", "-S", host); err != nil || !strings.Contains(out, "Join is OK") {
		t.Fatalf("testjoin of the reused account: %v\n%s", err, out)
	}
	if err := machineBind(t, dc, name, pw2); err != nil {
		t.Fatalf("LDAPS bind with the reused account's new password: %v", err)
	}
	// The first device still holds the old secret, which the reset voided:
	// the KDC refuses it. (Samba, like Windows, still takes the previous
	// password for NTLM and simple binds during its "old password allowed
	// period", so testjoin's fallback and an LDAPS bind still pass; the
	// Kerberos answer is what tells.)
	if out, _ := dev.net(t, "ads", "testjoin", "-S", host); !strings.Contains(out, "Preauthentication failed") {
		t.Errorf("the KDC still accepts the first device's old secret after the reset:\n%s", out)
	}

	for _, pass := range []string{pw, pw2} {
		for what, text := range map[string]string{
			"logs": logs.String(), "result": fmt.Sprintf("%+v %+v", res, res2), "error": errText,
		} {
			if strings.Contains(text, pass) || strings.Contains(text, pass[:16]) {
				t.Errorf("the machine password shows in the %s", what)
			}
		}
	}
	if !strings.Contains(logs.String(), "offline join blob written") {
		t.Errorf("no log line about the blob; logs:\n%s", logs.String())
	}
}

// machineBind binds over LDAPS as the computer account NAME$ with pw: the
// cheap proof that pw is the account's secret.
func machineBind(t *testing.T, dc labDC, name, pw string) error {
	t.Helper()
	pem, err := os.ReadFile(dc.CA)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	c, err := ldap.DialURL(dc.URL, ldap.DialWithTLSConfig(&tls.Config{RootCAs: roots}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.Bind(name+"$@"+strings.ToUpper(dc.Domain), pw)
}

// ldifBinary returns the base64 value of attr ("attr:: …") in ldif.
func ldifBinary(t *testing.T, ldif, attr string) []byte {
	t.Helper()
	for _, line := range strings.Split(ldif, "\n") {
		if v, ok := strings.CutPrefix(line, attr+":: "); ok {
			b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("%s: %v", attr, err)
			}
			return b
		}
	}
	t.Fatalf("no %s in:\n%s", attr, ldif)
	return nil
}

// blobPassword returns the machine password inside a blob file.
func blobPassword(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := odj.ReadFile(raw)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	w7, err := data.Win7()
	if err != nil {
		t.Fatal(err)
	}
	if w7.MachinePassword.Len() != odjPasswordLength {
		t.Fatalf("password of %d units", w7.MachinePassword.Len())
	}
	return string(utf16.Decode(w7.MachinePassword.Units()))
}
