package state

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// helperEnv makes the test binary, re-executed, hold a lock instead of
// running tests (see TestMain).
const helperEnv = "ADSHIFT_STATE_LOCK_HELPER"

// recordEnv makes the test binary, re-executed, record objects until it is
// killed (see TestLocal_killMidApply).
const recordEnv = "ADSHIFT_STATE_RECORD_HELPER"

func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		os.Exit(holdLock(path))
	}
	if path := os.Getenv(recordEnv); path != "" {
		os.Exit(recordForever(path))
	}
	os.Exit(m.Run())
}

// recordForever is the helper process of TestLocal_killMidApply: it locks,
// loads and records objects 0, 1, 2, … printing each number once
// PutObject has returned.
func recordForever(path string) int {
	ctx := context.Background()
	l := NewLocal(path)
	if _, err := l.Lock(ctx, NewLockInfo("apply")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s, err := l.Load(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	txn, err := l.Begin(ctx, s)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for i := 0; ; i++ {
		if err := txn.PutObject(testObject(i)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(i)
	}
}

// holdLock is the helper process: it takes the lock on the state at path,
// says "locked <id>" on stdout and holds it until stdin closes.
func holdLock(path string) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u, err := NewLocal(path).Lock(ctx, NewLockInfo("apply"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("locked %s\n", u.(*localLock).Info().ID)
	io.Copy(io.Discard, os.Stdin)
	if err := u.Unlock(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// timeout returns a context that is done after d.
func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestLock_twoLocals(t *testing.T) {
	a := newTestLocal(t)
	b := NewLocal(a.Path())
	infoA := LockInfo{ID: "lock-a", Operation: "apply", Who: "alice@ws1", Created: at, PID: 4242}
	ua, err := a.Lock(t.Context(), infoA)
	if err != nil {
		t.Fatal(err)
	}

	_, err = b.Lock(timeout(t, 100*time.Millisecond), NewLockInfo("plan"))
	var le *LockError
	if !errors.As(err, &le) {
		t.Fatalf("second Lock: err = %v, want *LockError", err)
	}
	if diff := cmp.Diff(infoA, le.Info); diff != "" {
		t.Errorf("LockError.Info (-want +got):\n%s", diff)
	}
	if le.Path != a.LockPath() || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("LockError = %#v, want path %s wrapping DeadlineExceeded", le, a.LockPath())
	}
	const want = "state is locked by alice@ws1 (pid 4242) since 2026-11-26T01:02:03Z for \"apply\" (lock ID lock-a); " +
		"wait, or if that run is dead run `adshift force-unlock lock-a`"
	if err.Error() != want {
		t.Errorf("message:\n got %s\nwant %s", err, want)
	}

	// A waiting Lock gets the lock once it is released.
	got := make(chan error, 1)
	var ub Unlocker
	go func() {
		var err error
		ub, err = b.Lock(timeout(t, 30*time.Second), LockInfo{ID: "lock-b", Operation: "plan"})
		got <- err
	}()
	if err := ua.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("waiting Lock: %v", err)
	}
	info, err := readLockInfo(a.LockPath())
	if err != nil || info.ID != "lock-b" || info.PID != os.Getpid() || info.Who == "" || info.Created.IsZero() {
		t.Errorf("lock file holds %+v (err %v), want lock-b with defaults filled", info, err)
	}
	if err := ub.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := ub.Unlock(); err != nil {
		t.Errorf("second Unlock: %v, want a no-op", err)
	}
	if info, _ := readLockInfo(a.LockPath()); info.ID != "" {
		t.Errorf("lock file after Unlock holds %+v, want nothing", info)
	}
}

func TestLock_doneContextTriesOnce(t *testing.T) {
	l := newTestLocal(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	u, err := l.Lock(ctx, NewLockInfo("apply"))
	if err != nil {
		t.Fatalf("Lock of a free state with a done context: %v, want the lock", err)
	}
	defer u.Unlock()
	if _, err := NewLocal(l.Path()).Lock(ctx, NewLockInfo("apply")); !errors.As(err, new(*LockError)) {
		t.Errorf("Lock of a held state with a done context: %v, want *LockError at once", err)
	}
}

func TestLockError_unknownHolder(t *testing.T) {
	err := &LockError{Path: "adshift.state.lock", Err: context.DeadlineExceeded}
	const want = "state is locked by another run (adshift.state.lock holds no information about it); wait for it to finish"
	if err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
}

// startHolder re-executes the test binary to hold the lock on path from
// another process, and returns it once it holds the lock, with its lock ID.
func startHolder(t *testing.T, path string) (*exec.Cmd, io.WriteCloser, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	id, ok := strings.CutPrefix(strings.TrimSpace(line), "locked ")
	if err != nil || !ok {
		t.Fatalf("helper said %q, %v", line, err)
	}
	return cmd, stdin, id
}

func TestLock_twoProcesses(t *testing.T) {
	for _, ending := range []string{"unlocks", "is killed"} {
		t.Run("holder "+ending, func(t *testing.T) {
			l := newTestLocal(t)
			cmd, stdin, id := startHolder(t, l.Path())

			_, err := l.Lock(timeout(t, 100*time.Millisecond), NewLockInfo("plan"))
			var le *LockError
			if !errors.As(err, &le) {
				t.Fatalf("Lock held by another process: err = %v, want *LockError", err)
			}
			if le.Info.PID != cmd.Process.Pid || le.Info.ID != id || le.Info.Operation != "apply" {
				t.Errorf("LockError.Info = %+v, want pid %d, ID %s, apply", le.Info, cmd.Process.Pid, id)
			}
			if !strings.Contains(err.Error(), "(pid "+strconv.Itoa(cmd.Process.Pid)+")") {
				t.Errorf("message %q does not name the holder's pid", err)
			}
			// A live holder keeps its OS lock even against force-unlock.
			if err := l.ForceUnlock(id); err == nil || !strings.Contains(err.Error(), "still held by a running process") {
				t.Errorf("ForceUnlock of a live holder: err = %v", err)
			}

			waiting := make(chan error, 1)
			go func() {
				u, err := l.Lock(timeout(t, 30*time.Second), NewLockInfo("apply"))
				if err == nil {
					err = u.Unlock()
				}
				waiting <- err
			}()
			if ending == "unlocks" {
				stdin.Close()
			} else {
				cmd.Process.Kill() // the OS releases a dead holder's lock
			}
			if err := <-waiting; err != nil {
				t.Fatalf("Lock after the holder %s: %v", ending, err)
			}
		})
	}
}

func TestForceUnlock(t *testing.T) {
	l := newTestLocal(t)
	if err := l.ForceUnlock("x"); err == nil || !strings.Contains(err.Error(), "not locked") {
		t.Errorf("ForceUnlock of an unlocked state: err = %v", err)
	}
	// What a dead run leaves: its LockInfo, no OS lock.
	f, err := os.Create(l.LockPath())
	if err != nil {
		t.Fatal(err)
	}
	if err := writeLockInfo(f, LockInfo{ID: "dead-run", Who: "bob@ci", PID: 1}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := l.ForceUnlock("other"); err == nil || !strings.Contains(err.Error(), `lock ID "other" does not match the current lock (ID dead-run, held by bob@ci)`) {
		t.Errorf("ForceUnlock with a wrong ID: err = %v", err)
	}
	if info, _ := readLockInfo(l.LockPath()); info.ID != "dead-run" {
		t.Fatalf("a refused ForceUnlock changed the lock file: %+v", info)
	}
	if err := l.ForceUnlock("dead-run"); err != nil {
		t.Fatalf("ForceUnlock: %v", err)
	}
	if info, _ := readLockInfo(l.LockPath()); info.ID != "" {
		t.Errorf("lock file after ForceUnlock holds %+v", info)
	}
	u, err := l.Lock(timeout(t, time.Second), NewLockInfo("apply"))
	if err != nil {
		t.Fatal(err)
	}
	u.Unlock()
}

// TestLocal_killMidApply kills a process in the middle of recording (no
// Commit, no Unlock, possibly in the middle of a write) and checks that
// every change it was told is recorded is there, and that the state is not
// left locked.
func TestLocal_killMidApply(t *testing.T) {
	l := newTestLocal(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), recordEnv+"="+l.Path())
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := -1
	sc := bufio.NewScanner(stdout)
	for acked < 60 && sc.Scan() {
		if acked, err = strconv.Atoi(sc.Text()); err != nil {
			t.Fatal(err)
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if acked < 60 {
		t.Fatalf("helper stopped after %d records", acked+1)
	}

	u, err := l.Lock(timeout(t, 10*time.Second), NewLockInfo("apply"))
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	defer u.Unlock()
	s := mustLoad(t, l)
	for i := 0; i <= acked; i++ {
		if diff := cmp.Diff(testObject(i), s.Objects[testObject(i).Address]); diff != "" {
			t.Fatalf("acknowledged object %d (-want +got):\n%s", i, diff)
		}
	}
	if s.Serial != uint64(len(s.Objects)) || s.Serial < uint64(acked+1) {
		t.Errorf("serial %d with %d objects, %d acknowledged", s.Serial, len(s.Objects), acked+1)
	}
	// The next apply folds what the killed one left and goes on.
	before := s.Serial
	txn := mustBegin(t, l, s)
	if err := txn.PutObject(testObject(1000)); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := mustLoad(t, l); got.Serial != before+1 || len(got.Objects) != len(s.Objects) {
		t.Errorf("after the next apply: serial %d, %d objects; want %d, %d", got.Serial, len(got.Objects), before+1, len(s.Objects))
	}
}
