package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/adshift/adshift/internal/atomicfile"
)

// Secrets is secrets.json: the passwords a lab device's platform holds.
// On Windows they would be the join account's credentials in the
// deployment tool and the users' own logons; in the lab they sit in the
// device directory (mode 0600). None of them is ever sent to the hub,
// written to a log or put in an action's output.
type Secrets struct {
	// Domains are the domains the device may join or leave, by DNS name
	// in lower case ("source.test").
	Domains map[string]DomainAccount `json:"domains"`
	// Users are the passwords of the device's users, by account name
	// (sAMAccountName, compared without regard to case). A migrated user
	// keeps the same name and password in the target domain.
	Users map[string]string `json:"users,omitempty"`
}

// DomainAccount is how the device's platform joins and leaves one domain:
// the domain's NetBIOS name, the DC it talks to (host name), and an
// account allowed to join computers, with its password.
type DomainAccount struct {
	NetBIOS  string `json:"netbios"`
	DC       string `json:"dc"`
	Admin    string `json:"admin"`
	Password string `json:"password"`
}

// ReadSecrets reads dir's secrets.json; a missing file is an error saying
// what it is for.
func ReadSecrets(dir string) (*Secrets, error) {
	path := filepath.Join(dir, SecretsFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("lab device %s has no %s: it holds the passwords to join and leave domains (make the device with lab/devices.sh)", dir, SecretsFile)
	}
	if err != nil {
		return nil, fmt.Errorf("lab secrets: %w", err)
	}
	var s Secrets
	if err := json.Unmarshal(data, &s); err != nil {
		// The decoder's message may quote the file; it holds passwords.
		return nil, fmt.Errorf("lab secrets %s: not valid JSON", path)
	}
	return &s, nil
}

// WriteSecrets replaces dir's secrets.json (mode 0600).
func WriteSecrets(dir string, s *Secrets) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("lab secrets: %w", err)
	}
	return atomicfile.Write(filepath.Join(dir, SecretsFile), append(data, '\n'), 0o600)
}

// Domain returns the account for the DNS domain name (any case).
func (s *Secrets) Domain(name string) (DomainAccount, error) {
	if d, ok := s.Domains[strings.ToLower(name)]; ok {
		if d.Admin == "" || d.Password == "" || d.DC == "" {
			return d, fmt.Errorf("lab %s: domain %s lacks its dc, admin or password", SecretsFile, name)
		}
		return d, nil
	}
	return DomainAccount{}, fmt.Errorf("lab %s holds no account for domain %s: the device cannot join or leave it", SecretsFile, name)
}

// UserPassword returns the password of the user named name (any case).
func (s *Secrets) UserPassword(name string) (string, bool) {
	for n, pw := range s.Users {
		if strings.EqualFold(n, name) {
			return pw, true
		}
	}
	return "", false
}
