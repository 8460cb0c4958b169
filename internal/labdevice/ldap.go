package labdevice

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"unicode/utf16"
)

// ldapTool runs one of OpenLDAP's tools against d over LDAPS, bound as
// its administrator; the password goes through a 0600 file (-y), never
// the command line. stdin, when not empty, is the LDIF to send.
func ldapTool(ctx context.Context, d Domain, tool, stdin string, args ...string) (string, error) {
	pw, err := os.CreateTemp("", "labdevice-pw-*")
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", tool, d.Name, err)
	}
	defer os.Remove(pw.Name())
	if _, err := pw.WriteString(d.Password); err != nil {
		pw.Close()
		return "", fmt.Errorf("%s %s: %w", tool, d.Name, err)
	}
	if err := pw.Close(); err != nil {
		return "", fmt.Errorf("%s %s: %w", tool, d.Name, err)
	}
	all := append([]string{"-H", d.URL, "-x", "-D", d.BindDN, "-y", pw.Name()}, args...)
	cmd := exec.CommandContext(ctx, tool, all...)
	cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+d.CA, "LDAPTLS_REQCERT=demand")
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return stdout.String(), fmt.Errorf("%s against %s (%s): exit %d: %s", tool, d.Name, d.URL, ee.ExitCode(), strings.TrimSpace(stderr.String()))
		}
		return "", fmt.Errorf("%s against %s: %w (install ldap-utils)", tool, d.Name, err)
	}
	return stdout.String(), nil
}

// entry is one LDIF entry of ldapsearch output; binary values (":: ")
// are decoded.
type entry struct {
	DN    string
	Attrs map[string][]string
}

// search runs ldapsearch under base with filter and returns the entries.
func search(ctx context.Context, d Domain, base, filter string, attrs ...string) ([]entry, error) {
	out, err := ldapTool(ctx, d, "ldapsearch", "", append([]string{"-LLL", "-o", "ldif-wrap=no", "-b", base, filter}, attrs...)...)
	if err != nil {
		// 32: no such object (the base is not there yet).
		if strings.Contains(err.Error(), "exit 32") {
			return nil, nil
		}
		return nil, err
	}
	return parseLDIF(out)
}

// parseLDIF reads ldapsearch -LLL -o ldif-wrap=no output.
func parseLDIF(s string) ([]entry, error) {
	var out []entry
	var cur *entry
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("ldapsearch output line %q is not LDIF", line)
		}
		if strings.HasPrefix(v, ":") {
			b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v[1:]))
			if err != nil {
				return nil, fmt.Errorf("ldapsearch output attribute %s: %w", k, err)
			}
			v = string(b)
		} else {
			v = strings.TrimPrefix(v, " ")
		}
		if strings.EqualFold(k, "dn") {
			out = append(out, entry{DN: v, Attrs: map[string][]string{}})
			cur = &out[len(out)-1]
			continue
		}
		if k == "ref" || cur == nil {
			continue
		}
		k = strings.ToLower(k)
		cur.Attrs[k] = append(cur.Attrs[k], v)
	}
	return out, sc.Err()
}

// first is an entry's first value of attr (lower case), or "".
func (e entry) first(attr string) string {
	if v := e.Attrs[attr]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// unicodePwd is the LDIF value of a password for AD's unicodePwd: the
// quoted password in UTF-16LE, base64.
func unicodePwd(pw string) string {
	u := utf16.Encode([]rune(`"` + pw + `"`))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return base64.StdEncoding.EncodeToString(b)
}
