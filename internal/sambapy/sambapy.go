// Package sambapy finds the Python interpreter that has python3-samba, for
// the tests that compare adshift's codecs with Samba's own (adid, reacl).
package sambapy

import (
	"os"
	"os/exec"
	"testing"
)

// Python returns the interpreter with python3-samba: ADSHIFT_SAMBA_PYTHON,
// else Debian's system python3 (a pyenv or venv python3 first in PATH
// would not see the package), else python3. It skips t, saying so, when
// that interpreter cannot import the modules, and fails it instead when
// ADSHIFT_LAB is set (CI, where the lab installs python3-samba).
func Python(t testing.TB, modules string) string {
	t.Helper()
	py := os.Getenv("ADSHIFT_SAMBA_PYTHON")
	if py == "" {
		py = "python3"
		if _, err := os.Stat("/usr/bin/python3"); err == nil {
			py = "/usr/bin/python3"
		}
	}
	if out, err := exec.Command(py, "-c", "import "+modules).CombinedOutput(); err != nil {
		if os.Getenv("ADSHIFT_LAB") != "" {
			t.Fatalf("ADSHIFT_LAB is set but %s cannot import python3-samba: %v\n%s", py, err, out)
		}
		t.Skipf("python3-samba is not installed (%s: %v); install it with apt-get install python3-samba "+
			"to compare with Samba, or set ADSHIFT_LAB=1 to make its absence a failure", py, err)
	}
	return py
}
