package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// hostDeathAfter is how many completed changes the apply reports before
// the test ends it.
const hostDeathAfter = 10

// TestApplyHostDeath ends a running apply of the quickstart (the ldif
// provider, one change in flight) in the ways of issue 11: SIGKILL;
// SIGHUP, to the apply alone and to its process group (as a terminal's
// hangup does, reaching the providers too); and closing the pipe its
// output goes to, as `adshift apply | head` does (SIGPIPE). In each, no
// provider-serve process of the apply is left a few seconds later. SIGHUP
// and SIGPIPE stop it like an interrupt: it exits with status 1, not
// killed by the signal, after finishing the change in flight and saving
// state. State and its journal replay as after any interrupted apply: the
// re-plan drops exactly the completed changes, and a finishing apply
// converges.
func TestApplyHostDeath(t *testing.T) {
	for _, how := range []string{"SIGKILL", "SIGHUP", "SIGHUP-group", "SIGPIPE"} {
		t.Run(how, func(t *testing.T) { testHostDeath(t, how) })
	}
}

func testHostDeath(t *testing.T, how string) {
	bin, dir := adshiftBin(t), quickstart(t)
	before := runAdshift(t, bin, dir, nil, "plan", "-json")
	if before.code != 0 {
		t.Fatalf("plan: %s", before.stderr)
	}
	all := plannedChanges(t, before.stdout)
	if len(all) < 3*hostDeathAfter {
		t.Fatalf("only %d changes planned", len(all))
	}

	// The marker, in the apply's environment and so in its providers',
	// tells this apply's processes from any other test's.
	marker := fmt.Sprintf("ADSHIFT_TEST_HOST_DEATH=%d-%s", os.Getpid(), how)
	cmd := exec.Command(bin, "-chdir="+dir, "apply", "-auto-approve", "-json", "-parallelism=1")
	cmd.Env = append(os.Environ(), marker, "ADSHIFT_LDIF_APPLY_DELAY=15ms")
	newProcessGroup(cmd)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	killed := false
	defer func() {
		if !killed {
			killGroup(cmd)
			cmd.Wait()
		}
		// Whatever a failure left behind.
		for pid := range markedProcesses(t, marker) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}()

	// The reader counts the completed changes; at hostDeathAfter it
	// reports, and for SIGPIPE closes its end of the pipe and stops.
	type report struct {
		completed map[int64]bool
		summaries []string // of diagnostics
	}
	going := make(chan struct{})
	readDone := make(chan report, 1)
	go func() {
		r := report{completed: map[int64]bool{}}
		defer func() { readDone <- r }()
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var ev struct {
				Type       string `json:"type"`
				ID         int64  `json:"id"`
				Diagnostic struct {
					Summary string `json:"summary"`
				} `json:"diagnostic"`
			}
			if json.Unmarshal(sc.Bytes(), &ev) != nil {
				continue
			}
			switch ev.Type {
			case "apply_complete":
				r.completed[ev.ID] = true
				if len(r.completed) == hostDeathAfter {
					close(going)
					if how == "SIGPIPE" {
						out.Close()
						return
					}
				}
			case "diagnostic":
				r.summaries = append(r.summaries, ev.Diagnostic.Summary)
			}
		}
		out.Close()
	}()
	var r report
	read := false
	select {
	case <-going:
	case r = <-readDone:
		read = true
		select {
		case <-going: // SIGPIPE: the reader closed the pipe and returned
		default:
			err := cmd.Wait()
			killed = true
			t.Fatalf("the apply ended (%v) after %d changes, before the test could end it\n%s", err, len(r.completed), stderr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("the apply did not complete %d changes in 2 minutes", hostDeathAfter)
	}

	providers := markedProcesses(t, marker)
	if len(providers) == 0 {
		t.Fatal("no provider-serve process of the apply found")
	}
	for pid, ppid := range providers {
		if ppid != cmd.Process.Pid {
			t.Errorf("provider-serve process %d has parent %d, not the apply (%d)", pid, ppid, cmd.Process.Pid)
		}
	}
	switch how {
	case "SIGKILL":
		err = cmd.Process.Signal(syscall.SIGKILL)
	case "SIGHUP":
		err = cmd.Process.Signal(syscall.SIGHUP)
	case "SIGHUP-group":
		err = syscall.Kill(-cmd.Process.Pid, syscall.SIGHUP)
	}
	if err != nil {
		t.Fatal(err)
	}
	waitErr := cmd.Wait()
	killed = true
	if !read {
		r = <-readDone
	}

	// No provider outlives the apply.
	deadline := time.Now().Add(10 * time.Second)
	for pid := range providers {
		if !awaitExit(t, pid, deadline) {
			t.Errorf("provider-serve process %d still runs 10 s after the apply ended", pid)
		}
	}
	for pid := range markedProcesses(t, marker) {
		t.Errorf("provider-serve process %d of the apply is left", pid)
	}

	var ee *exec.ExitError
	if !errors.As(waitErr, &ee) {
		t.Fatalf("the apply: %v, want it to fail", waitErr)
	}
	ws := ee.Sys().(syscall.WaitStatus)
	switch how {
	case "SIGKILL":
		if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("the apply: %v, want killed", waitErr)
		}
	default:
		// Stopped cleanly: its own exit, saying why.
		if ws.Signaled() || ws.ExitStatus() != exitError {
			t.Errorf("the apply: %v, want exit status %d after stopping cleanly\n%s", waitErr, exitError, stderr.String())
		}
		why := map[string]*regexp.Regexp{
			"SIGHUP":       regexp.MustCompile(`Hangup \(SIGHUP\) received: finishing the changes in flight and saving state`),
			"SIGHUP-group": regexp.MustCompile(`Hangup \(SIGHUP\) received: finishing the changes in flight and saving state`),
			"SIGPIPE":      regexp.MustCompile(`Cannot write the output \(.*broken pipe\): finishing the changes in flight and saving state`),
		}[how]
		if !why.MatchString(stderr.String()) {
			t.Errorf("stderr does not say why the apply stopped (want %q):\n%s", why, stderr.String())
		}
	}
	if strings.HasPrefix(how, "SIGHUP") {
		// The providers, which got the group's SIGHUP too, finished the
		// change in flight: nothing failed.
		if want := []string{"Apply interrupted"}; !slices.Equal(r.summaries, want) {
			t.Errorf("the apply's diagnostics are %q, want %q", r.summaries, want)
		}
	}

	// State and journal: the re-plan drops the completed changes.
	journal := filepath.Join(dir, "adshift.state.journal")
	if how == "SIGKILL" && lineCount(journal) == 0 {
		t.Error("no state journal after the kill: the test did not exercise its replay")
	}
	rest := replan(t, bin, dir, all)
	gone, printed := len(all)-len(rest), len(r.completed)
	switch how {
	case "SIGKILL":
		// With -parallelism=1, at most one change can be durable without
		// its completion having been printed before the kill.
		if gone < printed || gone > printed+1 {
			t.Errorf("%d changes completed and were reported, but the re-plan dropped %d of %d", printed, gone, len(all))
		}
	case "SIGHUP", "SIGHUP-group":
		// Stopped cleanly: every completed change was reported.
		if gone != printed {
			t.Errorf("%d changes completed and were reported, but the re-plan dropped %d of %d", printed, gone, len(all))
		}
	case "SIGPIPE":
		// The test stopped reading the reports at printed.
		if gone < printed {
			t.Errorf("%d changes completed and were reported, but the re-plan dropped only %d of %d", printed, gone, len(all))
		}
	}
	if len(rest) == 0 {
		t.Fatalf("the apply finished before it was ended (%d changes)", len(all))
	}
	t.Logf("%s after %d reported changes: the re-plan shows %d of %d", how, printed, len(rest), len(all))
	finishApply(t, bin, dir)
}

// markedProcesses returns the live provider-serve processes whose
// environment holds marker (KEY=VALUE), with their parent process IDs.
func markedProcesses(t *testing.T, marker string) map[int]int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	found := map[int]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// A process may exit at any point of the walk: a file that
		// cannot be read is a process that is gone.
		environ, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(append([]byte{0}, environ...), []byte("\x00"+marker+"\x00")) {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte("\x00provider-serve\x00")) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 || fields[0] == "Z" {
			continue // a zombie has exited
		}
		ppid, _ := strconv.Atoi(fields[1])
		found[pid] = ppid
	}
	return found
}

// awaitExit waits until process pid has exited, or deadline; it reports
// whether the process exited.
func awaitExit(t *testing.T, pid int, deadline time.Time) bool {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return true
	}
	if err != nil {
		t.Fatalf("pidfd_open %d: %v", pid, err)
	}
	defer unix.Close(fd)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		// A pidfd becomes readable when its process exits.
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, int(left.Milliseconds())+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			t.Fatalf("poll the pidfd of %d: %v", pid, err)
		}
		if n > 0 {
			return true
		}
	}
}
