//go:build unix

package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
)

// pgDSN returns a fresh database's connection string with a password
// (ignored by the trust-auth test cluster) that no output may show.
func pgDSN(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(pgDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), pgSecret)
	return u.String()
}

// pgQuickstart returns a copy of the quickstart configured for the pg
// backend in schema qs. Each copy has its own LDIF directories, so that
// two copies in two workspaces of one backend are two migration projects.
func pgQuickstart(t *testing.T) string {
	t.Helper()
	dir := quickstart(t)
	main := filepath.Join(dir, "main.hcl")
	src, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	pg := strings.Replace(string(src), `backend "local" { path = "adshift.state" }`, `backend "pg" { schema = "qs" }`, 1)
	if pg == string(src) {
		t.Fatal("the quickstart's backend block moved")
	}
	if err := os.WriteFile(main, []byte(pg), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const pgSecret = "pg-secret-4f1d"

// journalRows counts the journal rows of a workspace.
func journalRows(t *testing.T, dsn, workspace string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var n int
	err = conn.QueryRow(t.Context(), `SELECT count(*) FROM qs.journal WHERE workspace = $1`, workspace).Scan(&n)
	if err != nil {
		return 0 // the schema is not there yet
	}
	return n
}

// TestPGBackend runs the quickstart on the pg backend: concurrent applies
// in two workspaces (two copies of the quickstart, two migration projects
// sharing one backend), a second apply on a locked workspace refused
// naming the holder or waiting with -lock-timeout, and an apply killed
// with SIGKILL whose lock goes with its session.
func TestPGBackend(t *testing.T) {
	dsn := pgDSN(t)
	env := []string{"ADSHIFT_PG_CONN_STR=" + dsn}
	dirs := map[string]string{"default": pgQuickstart(t), "wave-2": pgQuickstart(t), "wave-3": pgQuickstart(t)}
	bin := adshiftBin(t)
	run := func(ws string, args ...string) result {
		t.Helper()
		r := runAdshift(t, bin, dirs[ws], append([]string{"ADSHIFT_WORKSPACE=" + ws}, env...), args...)
		noSecret(t, pgSecret, []string{r.stdout, r.stderr}, dirs[ws])
		return r
	}
	must := func(r result) result {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("exit %d\n%s\n%s", r.code, tail(r.stdout, 20), r.stderr)
		}
		return r
	}
	slowApply := func(ws string) *proc {
		return startProc(t, bin, append([]string{"ADSHIFT_WORKSPACE=" + ws, "ADSHIFT_LDIF_APPLY_DELAY=10ms"}, env...),
			"-chdir="+dirs[ws], "apply", "-auto-approve", "-parallelism=1")
	}

	must(run("default", "init"))
	if r := run("default", "workspace", "new", "wave-2"); r.code != 0 || !strings.Contains(r.stdout, `Created workspace "wave-2"`) {
		t.Fatalf("workspace new: %d %s %s", r.code, r.stdout, r.stderr)
	}
	must(run("default", "workspace", "new", "wave-3"))
	if r := must(run("default", "workspace", "list")); !strings.Contains(r.stdout, "* default\n") || !strings.Contains(r.stdout, "  wave-2\n") {
		t.Errorf("workspace list:\n%s", r.stdout)
	}

	// Two workspaces apply at the same time.
	a, b := slowApply("default"), slowApply("wave-2")
	eventually(t, "both applies record changes", func() string {
		if d, w := journalRows(t, dsn, "default"), journalRows(t, dsn, "wave-2"); d < 3 || w < 3 {
			return fmt.Sprintf("%d and %d journal rows", d, w)
		}
		return ""
	})
	// A second apply on a locked workspace is refused, naming the holder.
	r := run("default", "apply", "-auto-approve")
	if r.code != 1 || !strings.Contains(r.stderr, "State is locked") || !strings.Contains(r.stderr, `"apply"`) || !strings.Contains(r.stderr, "since") || !strings.Contains(r.stderr, fmt.Sprintf("pid %d", a.cmd.Process.Pid)) {
		t.Errorf("a second apply in a locked workspace: exit %d\n%s", r.code, r.stderr)
	}
	// With -lock-timeout it waits for the first, then has nothing to do.
	r = must(run("default", "apply", "-auto-approve", "-lock-timeout=120s"))
	if !strings.Contains(r.stdout, "Plan: 0 to add, 0 to change, 0 to move, 0 to destroy") {
		t.Errorf("apply after waiting for the lock:\n%s", tail(r.stdout, 10))
	}
	for ws, p := range map[string]*proc{"default": a, "wave-2": b} {
		<-p.done
		if p.code != 0 || !strings.Contains(p.out.String(), "Apply complete!") {
			t.Fatalf("concurrent apply: exit %d\n%s", p.code, tail(p.out.String(), 20))
		}
		noSecret(t, pgSecret, []string{p.out.String()}, dirs[ws])
	}
	if r := must(run("wave-2", "state", "list", "workflow.identities")); !strings.Contains(r.stdout, `workflow.identities.user["abello"]`) {
		t.Errorf("wave-2 state:\n%s", r.stdout)
	}

	// An apply killed with SIGKILL leaves its lock to its session's end:
	// the next run gets it without force-unlock and replays the journal.
	c := slowApply("wave-3")
	eventually(t, "the apply records changes", func() string {
		if n := journalRows(t, dsn, "wave-3"); n < 3 {
			return fmt.Sprintf("%d journal rows", n)
		}
		return ""
	})
	c.kill()
	r = must(run("wave-3", "apply", "-auto-approve", "-lock-timeout=60s"))
	if !strings.Contains(r.stdout, "Apply complete!") {
		t.Errorf("the apply after the killed one:\n%s", tail(r.stdout, 5))
	}

	// force-unlock of a hung holder (SIGSTOP) ends its database session:
	// the next apply gets the lock, and the holder, once resumed, can no
	// longer write state and fails.
	must(run("default", "workspace", "new", "wave-4"))
	dirs["wave-4"] = pgQuickstart(t)
	hung := slowApply("wave-4")
	eventually(t, "the apply records changes", func() string {
		if n := journalRows(t, dsn, "wave-4"); n < 3 {
			return fmt.Sprintf("%d journal rows", n)
		}
		return ""
	})
	if err := hung.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	r = run("wave-4", "apply", "-auto-approve")
	m := regexp.MustCompile(`lock ID\s+([0-9a-f-]{36})`).FindStringSubmatch(r.stderr)
	if r.code != 1 || m == nil {
		t.Fatalf("apply while the holder hangs: exit %d\n%s", r.code, r.stderr)
	}
	if r := must(run("wave-4", "force-unlock", m[1])); !strings.Contains(r.stdout, "unlocked") {
		t.Errorf("force-unlock: %s", r.stdout)
	}
	must(run("wave-4", "apply", "-auto-approve", "-lock-timeout=60s"))
	hung.cmd.Process.Signal(syscall.SIGCONT)
	<-hung.done
	if hung.code == 0 || !strings.Contains(hung.out.String(), "Cannot save state") {
		t.Errorf("the force-unlocked apply, resumed: exit %d\n%s", hung.code, tail(hung.out.String(), 15))
	}
	if r := must(run("wave-4", "plan", "-detailed-exitcode")); !strings.Contains(r.stdout, "Plan: 0 to add, 0 to change") {
		t.Errorf("after the force-unlocked apply resumed, the state must still be whole:\n%s", tail(r.stdout, 3))
	}

	// A saved plan names its workspace; pull shows the state; force-unlock
	// of an unlocked workspace says so; a non-empty workspace is deleted
	// only with -force.
	plan := filepath.Join(dirs["default"], "p")
	must(run("default", "plan", "-out", plan))
	r = runAdshift(t, bin, dirs["default"], append([]string{"ADSHIFT_WORKSPACE=wave-2"}, env...), "apply", plan)
	if r.code != 1 || !strings.Contains(r.stderr, `made in workspace "default"`) {
		t.Errorf("a default plan applied in wave-2: exit %d\n%s", r.code, r.stderr)
	}
	if r := must(run("default", "state", "pull")); !strings.Contains(r.stdout, `"lineage"`) {
		t.Errorf("state pull:\n%s", tail(r.stdout, 5))
	}
	if r := run("default", "force-unlock", "x"); r.code != 1 || !strings.Contains(r.stderr, "not locked") {
		t.Errorf("force-unlock: exit %d %s", r.code, r.stderr)
	}
	if r := run("default", "workspace", "delete", "wave-3"); r.code != 1 || !strings.Contains(r.stderr, "not empty") {
		t.Errorf("workspace delete of a non-empty workspace: exit %d %s", r.code, r.stderr)
	}
	must(run("default", "workspace", "delete", "-force", "wave-3"))
	if r := must(run("default", "workspace", "list")); strings.Contains(r.stdout, "wave-3") {
		t.Errorf("wave-3 still listed:\n%s", r.stdout)
	}

	// conn_str from a sensitive variable, given by -var or ADSHIFT_VAR_.
	dir := dirs["default"]
	main := filepath.Join(dir, "main.hcl")
	src, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	byVar := strings.Replace(string(src), `backend "pg" { schema = "qs" }`, `backend "pg" {
    schema   = "qs"
    conn_str = var.state_db
  }`, 1) + "\nvariable \"state_db\" {\n  type      = string\n  sensitive = true\n}\n"
	if err := os.WriteFile(main, []byte(byVar), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runAdshift(t, bin, dir, []string{"ADSHIFT_WORKSPACE=default", "ADSHIFT_VAR_state_db=" + dsn}, "state", "list", "workflow.identities")
	if r.code != 0 || !strings.Contains(r.stdout, `workflow.identities.user["abello"]`) {
		t.Errorf("state list with conn_str = var.state_db: exit %d\n%s%s", r.code, tail(r.stdout, 3), r.stderr)
	}
	r = runAdshift(t, bin, dir, []string{"ADSHIFT_WORKSPACE=default"}, "plan", "-var", "state_db="+dsn, "-detailed-exitcode", "-out", plan)
	if r.code != 0 {
		t.Errorf("plan -var state_db=…: exit %d\n%s", r.code, r.stderr)
	}
	noSecret(t, pgSecret, []string{r.stdout, r.stderr}, dir)
}
