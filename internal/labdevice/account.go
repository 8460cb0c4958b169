package labdevice

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// ComputerAccount is a device's computer account as a DC has it.
type ComputerAccount struct {
	DN string
	// UserAccountControl holds ACCOUNTDISABLE (2) when disabled.
	UserAccountControl int
}

// Disabled says whether the account is disabled.
func (c ComputerAccount) Disabled() bool { return c.UserAccountControl&2 != 0 }

// FindComputer reads the computer account of device name (NAME$) in d
// over LDAPS; nil when there is none.
func FindComputer(ctx context.Context, d Domain, name string) (*ComputerAccount, error) {
	es, err := search(ctx, d, d.Base, fmt.Sprintf("(sAMAccountName=%s$)", ldapEscape(name)), "userAccountControl")
	if err != nil || len(es) == 0 {
		return nil, err
	}
	uac, err := strconv.Atoi(es[0].first("useraccountcontrol"))
	if err != nil {
		return nil, fmt.Errorf("userAccountControl of %s: %w", es[0].DN, err)
	}
	return &ComputerAccount{DN: es[0].DN, UserAccountControl: uac}, nil
}

// ProvisionODJ provisions an offline domain join of computer machine in
// d with Samba's net offlinejoin provision (the DC creates the account)
// and writes the djoin file to savefile, as the planner's offline domain
// join step leaves it in the repository. An existing file is kept.
func ProvisionODJ(ctx context.Context, d Domain, machine, savefile string) error {
	if _, err := os.Stat(savefile); err == nil {
		return nil
	}
	dir, err := os.MkdirTemp("", "labdevice-odj-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	conf := fmt.Sprintf("[global]\n\tworkgroup = %s\n\trealm = %s\n\tsecurity = ads\n\tnetbios name = ODJ-PROVISION\n\tname resolve order = host\n", d.NetBIOS, strings.ToUpper(d.Name))
	for _, k := range []string{"private dir", "state directory", "cache directory", "lock directory", "pid directory"} {
		conf += fmt.Sprintf("\t%s = %s\n", k, dir)
	}
	confPath := filepath.Join(dir, "smb.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "net", "offlinejoin", "provision", "domain="+strings.ToUpper(d.Name), "machine_name="+strings.ToUpper(machine),
		"dcname="+d.DC, "savefile="+savefile, "-U", d.Admin, "--configfile="+confPath)
	cmd.Env = append(os.Environ(), "PASSWD="+d.Password)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("net offlinejoin provision %s in %s: %v: %s", machine, d.Name, err, strings.ReplaceAll(strings.TrimSpace(string(out)), d.Password, "********"))
	}
	return nil
}
