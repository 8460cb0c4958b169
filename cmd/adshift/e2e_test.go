package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// adshiftBin returns a path that runs this test binary as adshift (see
// TestMain), as a real separate process.
func adshiftBin(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "adshift")
	if err := os.Symlink(exe, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// quickstart copies the quickstart example into a fresh directory.
func quickstart(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "qs")
	if err := copyDir(filepath.Join("..", "..", "examples", "quickstart"), dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

type result struct {
	stdout, stderr string
	code           int
}

func runAdshift(t *testing.T, bin, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-chdir=" + dir}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// scanJSON decodes each line of a -json run into a fresh T and calls fn
// with it; a line that is not JSON fails the test.
func scanJSON[T any](t *testing.T, jsonLines string, fn func(ev T)) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(jsonLines))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var ev T
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Text())
		}
		fn(ev)
	}
}

// plannedChanges returns the change keys (address, action, membership)
// of a plan -json run.
func plannedChanges(t *testing.T, jsonLines string) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	scanJSON(t, jsonLines, func(ev struct {
		Type   string `json:"type"`
		Change struct {
			Address string `json:"address"`
			Action  string `json:"action"`
			Members bool   `json:"members"`
		} `json:"change"`
	}) {
		if ev.Type == "planned_change" {
			keys[changeKey(ev.Change.Address, ev.Change.Action, ev.Change.Members)] = true
		}
	})
	return keys
}

func changeKey(addr, action string, members bool) string {
	return addr + " " + action + " " + strconv.FormatBool(members)
}

func lineCount(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\n"))
}

// TestApplyKilledMidway kills an apply (adshift and its provider, with
// SIGKILL) in the middle, and checks that the next plan shows exactly the
// changes that did not complete, and that finishing the apply converges
// without duplicates.
func TestApplyKilledMidway(t *testing.T) {
	bin, dir := adshiftBin(t), quickstart(t)
	before := runAdshift(t, bin, dir, nil, "plan", "-json")
	if before.code != 0 {
		t.Fatalf("plan: %s", before.stderr)
	}
	all := plannedChanges(t, before.stdout)
	if len(all) < 50 {
		t.Fatalf("only %d changes planned", len(all))
	}

	cmd := exec.Command(bin, "-chdir="+dir, "apply", "-auto-approve", "-json", "-parallelism=1")
	cmd.Env = append(os.Environ(), "ADSHIFT_LDIF_APPLY_DELAY=15ms")
	newProcessGroup(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	completed := map[string]bool{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev struct {
				Type    string `json:"type"`
				Address string `json:"address"`
				Action  string `json:"action"`
				ID      int64  `json:"id"`
			}
			if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Type == "apply_complete" {
				mu.Lock()
				completed[strconv.FormatInt(ev.ID, 10)] = true
				mu.Unlock()
			}
		}
	}()
	journal := filepath.Join(dir, "adshift.state.journal")
	deadline := time.Now().Add(60 * time.Second)
	for lineCount(journal) < 30 {
		if time.Now().After(deadline) {
			killGroup(cmd)
			t.Fatal("the apply never got going")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := killGroup(cmd); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	<-done
	mu.Lock()
	printed := len(completed)
	mu.Unlock()

	rest := replan(t, bin, dir, all)
	gone := len(all) - len(rest)
	// With -parallelism=1, at most one change can be durable in the target
	// without its completion having been printed before the kill.
	if gone < printed || gone > printed+1 {
		t.Errorf("%d changes completed and were reported, but the re-plan dropped %d of %d", printed, gone, len(all))
	}
	if len(rest) == 0 || gone == 0 {
		t.Fatalf("the kill did not land midway (remaining %d of %d)", len(rest), len(all))
	}
	t.Logf("killed after %d reported changes; re-plan shows %d of %d", printed, len(rest), len(all))

	finishApply(t, bin, dir)
}

// replan runs plan -json after an interrupted apply of the quickstart in
// dir and returns its change keys, which must all be among all, the
// changes planned before.
func replan(t *testing.T, bin, dir string, all map[string]bool) map[string]bool {
	t.Helper()
	after := runAdshift(t, bin, dir, nil, "plan", "-json")
	if after.code != 0 {
		t.Fatalf("re-plan after the interrupted apply: %s", after.stderr)
	}
	rest := plannedChanges(t, after.stdout)
	for k := range rest {
		if !all[k] {
			t.Errorf("the re-plan has a change the first plan did not: %s", k)
		}
	}
	return rest
}

// finishApply finishes an interrupted apply of the quickstart in dir and
// checks that it converges, with every user exactly once in the target.
func finishApply(t *testing.T, bin, dir string) {
	t.Helper()
	if r := runAdshift(t, bin, dir, nil, "apply", "-auto-approve"); r.code != 0 {
		t.Fatalf("finishing apply: %s", r.stderr)
	}
	if r := runAdshift(t, bin, dir, nil, "plan", "-detailed-exitcode"); r.code != 0 {
		t.Fatalf("plan after finishing: exit %d\n%s", r.code, r.stdout)
	}
	target, _ := os.ReadFile(filepath.Join(dir, "target.ldif"))
	seen := map[string]int{}
	for _, m := range regexp.MustCompile(`(?mi)^sAMAccountName: (.+)$`).FindAllSubmatch(target, -1) {
		seen[strings.ToLower(string(m[1]))]++
	}
	if len(seen) == 0 {
		t.Fatal("the target holds no user after the apply")
	}
	for name, n := range seen {
		if n > 1 {
			t.Errorf("sAMAccountName %s appears %d times in the target", name, n)
		}
	}
}

// TestSensitiveNeverWritten runs every command that writes something with
// a sensitive variable set and debug logging on, then greps everything
// written for the secret.
func TestSensitiveNeverWritten(t *testing.T) {
	const secret = "Pr0xy-S3cret-7781"
	bin, dir := adshiftBin(t), quickstart(t)
	logPath := filepath.Join(dir, "adshift.log")
	env := []string{"ADSHIFT_VAR_proxy_password=" + secret, "ADSHIFT_LOG=trace", "ADSHIFT_LOG_PATH=" + logPath}
	var outputs []string
	for _, args := range [][]string{
		{"validate"},
		{"plan", "-out", "p"},
		{"plan", "-json"},
		{"show", "-json", "p"},
		{"show", "p"},
		{"apply", "-json", "p"},
		{"show", "-json"},
		{"state", "list"},
		{"plan", "-var", "proxy_password=" + secret, "-detailed-exitcode"},
	} {
		r := runAdshift(t, bin, dir, env, args...)
		if r.code != 0 {
			t.Fatalf("adshift %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
		outputs = append(outputs, r.stdout, r.stderr)
	}
	// A template that would write the secret is refused, without echoing it.
	leak := filepath.Join(dir, "leak.hcl")
	os.WriteFile(leak, []byte(`locals { x = var.proxy_password }`+"\n"), 0o644)
	bad := runAdshift(t, bin, dir, env, "validate")
	outputs = append(outputs, bad.stdout, bad.stderr)
	os.WriteFile(leak, []byte(`workflow "leak" {
  source = environment.source
  target = environment.target
  template {
    users {
      target_ou  = "OU=Users,DC=target,DC=test"
      attributes = { info = "pw ${var.proxy_password}" }
    }
  }
}
`), 0o644)
	bad = runAdshift(t, bin, dir, env, "plan")
	if bad.code == 0 || !strings.Contains(bad.stderr, "Sensitive value in a template attribute") {
		t.Fatalf("a template writing a sensitive value must be refused; got exit %d\n%s", bad.code, bad.stderr)
	}
	outputs = append(outputs, bad.stdout, bad.stderr)

	if logs, _ := os.ReadFile(logPath); len(logs) == 0 {
		t.Fatal("no debug log was written, so the log check proves nothing")
	}
	for i, o := range outputs {
		if strings.Contains(o, secret) {
			t.Errorf("output %d shows the secret:\n%s", i, o)
		}
	}
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the secret", path)
		}
		return nil
	})
}

var pluginStarted = regexp.MustCompile(`plugin started: provider=\S+ pid=(\d+)`)

// TestProvidersAreProcesses checks that providers run in their own
// processes, and that a provider dying in the middle of an apply is named
// in the error while what it completed stays in state.
func TestProvidersAreProcesses(t *testing.T) {
	bin, dir := adshiftBin(t), quickstart(t)
	r := runAdshift(t, bin, dir, []string{"ADSHIFT_LOG=debug"}, "plan")
	if r.code != 0 {
		t.Fatalf("plan: %s", r.stderr)
	}
	pids := map[string]bool{}
	for _, m := range pluginStarted.FindAllStringSubmatch(r.stderr, -1) {
		pids[m[1]] = true
	}
	if len(pids) < 2 {
		t.Fatalf("want one provider process per environment, the log shows %v\n%s", pids, r.stderr)
	}

	cmd := exec.Command(bin, "-chdir="+dir, "apply", "-auto-approve", "-parallelism=1")
	cmd.Env = append(os.Environ(), "ADSHIFT_LDIF_APPLY_DELAY=15ms", "ADSHIFT_LOG=debug")
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var log strings.Builder
	copied := make(chan struct{})
	go func() {
		io.Copy(lockedWriter{&mu, &log}, stderr)
		close(copied)
	}()
	journal := filepath.Join(dir, "adshift.state.journal")
	deadline := time.Now().Add(60 * time.Second)
	for lineCount(journal) < 20 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	mu.Lock()
	all := pluginStarted.FindAllStringSubmatch(log.String(), -1)
	mu.Unlock()
	if len(all) == 0 {
		t.Fatal("no provider process seen")
	}
	victim, _ := strconv.Atoi(all[len(all)-1][1])
	if victim == cmd.Process.Pid {
		t.Fatal("the provider runs in the adshift process")
	}
	if p, err := os.FindProcess(victim); err == nil {
		p.Kill()
	}
	<-copied
	err := cmd.Wait()
	if err == nil {
		t.Fatal("apply succeeded although its provider was killed")
	}
	msg := log.String()
	if !strings.Contains(msg, `provider "ldif"`) || !strings.Contains(msg, "Failed to") {
		t.Fatalf("the error does not name the provider:\n%s", tail(msg, 40))
	}
	re := runAdshift(t, bin, dir, nil, "plan", "-detailed-exitcode")
	if re.code != 2 {
		t.Fatalf("re-plan: exit %d (want 2: changes remain)\n%s", re.code, re.stderr)
	}
	if runAdshift(t, bin, dir, nil, "apply", "-auto-approve").code != 0 {
		t.Fatal("finishing the apply failed")
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestStateLock checks that a second run is refused while an apply holds
// the state lock, names the holder, and with -lock-timeout waits for it.
func TestStateLock(t *testing.T) {
	bin, dir := adshiftBin(t), quickstart(t)
	cmd := exec.Command(bin, "-chdir="+dir, "apply", "-auto-approve", "-parallelism=1")
	cmd.Env = append(os.Environ(), "ADSHIFT_LDIF_APPLY_DELAY=10ms")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(dir, "adshift.state.journal")
	deadline := time.Now().Add(60 * time.Second)
	for lineCount(journal) < 3 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	r := runAdshift(t, bin, dir, nil, "plan")
	if r.code != 1 || !strings.Contains(r.stderr, "State is locked") || !strings.Contains(r.stderr, `"apply"`) {
		t.Errorf("a plan during an apply: exit %d\n%s", r.code, r.stderr)
	}
	r = runAdshift(t, bin, dir, nil, "plan", "-lock-timeout=120s", "-detailed-exitcode")
	if r.code != 0 {
		t.Errorf("plan -lock-timeout must wait for the apply and then find nothing to do: exit %d\n%s", r.code, r.stderr)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the apply: %v", err)
	}
}
