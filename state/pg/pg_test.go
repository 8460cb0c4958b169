package pg

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/adshift/adshift/internal/pgtest"
	"github.com/adshift/adshift/state"
	"github.com/adshift/adshift/state/statetest"
)

// The package's tests share one PostgreSQL cluster and database; each
// test gets its own schema.
var (
	dsn     string
	skipWhy error
	schemas atomic.Int64
)

func TestMain(m *testing.M) {
	if os.Getenv("ADSHIFT_PG_HOLD") != "" {
		holdLock()
		return
	}
	ctx := context.Background()
	c, err := pgtest.Start(ctx)
	switch {
	case errors.Is(err, pgtest.ErrUnavailable):
		skipWhy = err
	case err != nil:
		fmt.Fprintln(os.Stderr, "start PostgreSQL:", err)
		os.Exit(1)
	default:
		dsn, err = c.NewDatabase(ctx)
		if err != nil {
			c.Stop()
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	if c != nil {
		c.Stop()
	}
	os.Exit(code)
}

// newStore returns a Store in a fresh schema.
func newStore(t *testing.T) *Store {
	t.Helper()
	if skipWhy != nil {
		t.Skip(skipWhy)
	}
	s, err := New(Options{ConnString: dsn, Schema: fmt.Sprintf("t%d_%d", os.Getpid(), schemas.Add(1))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSuite(t *testing.T) {
	statetest.Run(t, func(t *testing.T) state.Workspaces { return newStore(t) })
}

func TestNew_errors(t *testing.T) {
	if _, err := New(Options{ConnString: "postgres://u:hunter2@127.0.0.1/db", Schema: "Bad"}); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad schema: %v", err)
	}
	if _, err := New(Options{}); err == nil || !strings.Contains(err.Error(), "ADSHIFT_PG_CONN_STR") {
		t.Errorf("no connection string: %v", err)
	}
	s, err := New(Options{ConnString: "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=5"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.Describe(), "hunter2") {
		t.Errorf("Describe shows the password: %s", s.Describe())
	}
	// An unreachable server: the error names the schema, not the password.
	_, err = s.Backend(t.Context(), "wave1")
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "schema adshift") {
		t.Errorf("unreachable server: %v", err)
	}
}

// TestMigrate_newerSchema: a schema of a newer adshift is refused, and
// migrating again is a no-op.
func TestMigrate_newerSchema(t *testing.T) {
	s := newStore(t)
	if _, err := s.List(t.Context()); err != nil {
		t.Fatal(err)
	}
	s2, _ := New(Options{ConnString: dsn, Schema: s.schema})
	if _, err := s2.List(t.Context()); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	conn, err := s.connect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), `INSERT INTO `+s.q+`.schema_migrations (version) VALUES (999)`); err != nil {
		t.Fatal(err)
	}
	s3, _ := New(Options{ConnString: dsn, Schema: s.schema})
	if _, err := s3.List(t.Context()); err == nil || !strings.Contains(err.Error(), "newer adshift") {
		t.Errorf("newer schema: %v", err)
	}
}

// TestVersionsKept: every fold is a version of its own.
func TestVersionsKept(t *testing.T) {
	s := newStore(t)
	b, err := s.Backend(t.Context(), state.DefaultWorkspace)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		u, err := b.Lock(t.Context(), state.NewLockInfo("apply"))
		if err != nil {
			t.Fatal(err)
		}
		st, err := b.Load(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		txn, err := b.Begin(t.Context(), st)
		if err != nil {
			t.Fatal(err)
		}
		if err := txn.PutObject(statetest.Object("w", i)); err != nil {
			t.Fatal(err)
		}
		if err := txn.Commit(); err != nil {
			t.Fatal(err)
		}
		u.Unlock()
	}
	conn, err := s.connect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var n, serials int
	if err := conn.QueryRow(t.Context(), `SELECT count(*), sum(serial) FROM `+s.q+`.versions WHERE workspace = 'default'`).Scan(&n, &serials); err != nil {
		t.Fatal(err)
	}
	if n != 3 || serials != 1+2+3 {
		t.Errorf("%d versions (serials summing to %d), want 3 (1+2+3)", n, serials)
	}
}

// TestLockConcurrentWorkspaces: locks of two workspaces are independent,
// and within one workspace a waiting Lock gets it once the holder lets go.
func TestLockConcurrentWorkspaces(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	if err := s.Create(ctx, "wave1"); err != nil {
		t.Fatal(err)
	}
	bd, _ := s.Backend(ctx, state.DefaultWorkspace)
	bw, _ := s.Backend(ctx, "wave1")
	ud, err := bd.Lock(ctx, state.NewLockInfo("apply"))
	if err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	uw, err := bw.Lock(done, state.NewLockInfo("apply"))
	if err != nil {
		t.Fatalf("wave1 while default is locked: %v", err)
	}
	uw.Unlock()
	ud.Unlock()
}

// TestLockReleasedWhenHolderKilled: a holder process killed with SIGKILL
// loses its lock with its session; the next Lock gets it without
// force-unlock.
func TestLockReleasedWhenHolderKilled(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "ADSHIFT_PG_HOLD="+s.schema, "ADSHIFT_PG_HOLD_DSN="+dsn)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "locked ") {
		t.Fatalf("holder said %q (%v)", line, err)
	}
	id := strings.TrimSpace(strings.TrimPrefix(line, "locked "))

	b, _ := s.Backend(ctx, state.DefaultWorkspace)
	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err = b.Lock(done, state.NewLockInfo("apply"))
	var le *state.LockError
	if !errors.As(err, &le) || le.Info.ID != id || le.Info.PID != cmd.Process.Pid {
		t.Fatalf("Lock while the holder lives: %v (holder %+v), want a refusal naming lock %s, pid %d", err, le, id, cmd.Process.Pid)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	// The server notices the closed connection and ends the session; wait
	// for that (bounded by the test's context), without force-unlock.
	wait, cancelWait := context.WithTimeout(ctx, time.Minute)
	defer cancelWait()
	u, err := b.Lock(wait, state.NewLockInfo("apply"))
	if err != nil {
		t.Fatalf("Lock after SIGKILL of the holder: %v", err)
	}
	if k := u.(*lock); k.Info().ID == id {
		t.Errorf("got the dead holder's lock ID")
	}
	u.Unlock()
}

// holdLock is the helper process: it takes the default workspace's lock,
// says "locked ID" and waits to be killed.
func holdLock() {
	s, err := New(Options{ConnString: os.Getenv("ADSHIFT_PG_HOLD_DSN"), Schema: os.Getenv("ADSHIFT_PG_HOLD")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx := context.Background()
	b, err := s.Backend(ctx, state.DefaultWorkspace)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	info := state.NewLockInfo("apply")
	if _, err := b.Lock(ctx, info); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("locked %s\n", info.ID)
	select {}
}

// TestForceUnlock_liveSession: force-unlock of a lock whose session is
// still there ends that session; the holder can no longer write.
func TestForceUnlock_liveSession(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	b, _ := s.Backend(ctx, state.DefaultWorkspace)
	info := state.NewLockInfo("apply")
	u, err := b.Lock(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Unlock()
	st, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	txn, err := b.Begin(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ForceUnlock(ctx, state.DefaultWorkspace, info.ID); err != nil {
		t.Fatalf("ForceUnlock: %v", err)
	}
	if err := txn.PutObject(statetest.Object("w", 1)); err == nil {
		t.Errorf("the force-unlocked holder could still write")
	}
	b2, _ := s.Backend(ctx, state.DefaultWorkspace)
	done, cancel := context.WithCancel(ctx)
	cancel()
	u2, err := b2.Lock(done, state.NewLockInfo("apply"))
	if err != nil {
		t.Fatalf("Lock after ForceUnlock: %v", err)
	}
	u2.Unlock()
}

// TestPlanKeysPruned: keys of lineages never stored are bounded; the key
// of the workspace's stored lineage is kept however many come after it.
func TestPlanKeysPruned(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	bk, _ := s.Backend(ctx, state.DefaultWorkspace)
	b := bk.(*Backend)
	st := state.New()
	st.Objects[statetest.Object("w", 1).Address] = statetest.Object("w", 1)
	u, err := b.Lock(ctx, state.NewLockInfo("apply"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Write(ctx, st); err != nil {
		t.Fatal(err)
	}
	u.Unlock()
	keep, err := b.PlanKey(ctx, st.Lineage, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range maxPlanKeys + 10 {
		if _, err := b.PlanKey(ctx, fmt.Sprintf("made-up-%d", i), true); err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.PlanKey(ctx, st.Lineage, false)
	if err != nil || string(got) != string(keep) {
		t.Fatalf("the stored lineage's key: %v", err)
	}
	if _, err := b.PlanKey(ctx, fmt.Sprintf("made-up-%d", maxPlanKeys+9), false); err != nil {
		t.Errorf("the newest key: %v", err)
	}
	if _, err := b.PlanKey(ctx, "made-up-0", false); !errors.Is(err, state.ErrNoPlanKey) {
		t.Errorf("the oldest made-up key: %v, want it pruned", err)
	}
}

// BenchmarkRecord measures recording changes from 8 goroutines, as the
// apply walk does (group commit: concurrent records share a round trip).
func BenchmarkRecord(b *testing.B) {
	if skipWhy != nil {
		b.Skip(skipWhy)
	}
	s, err := New(Options{ConnString: dsn, Schema: fmt.Sprintf("b%d_%d", os.Getpid(), schemas.Add(1))})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	bk, err := s.Backend(ctx, state.DefaultWorkspace)
	if err != nil {
		b.Fatal(err)
	}
	u, err := bk.Lock(ctx, state.NewLockInfo("apply"))
	if err != nil {
		b.Fatal(err)
	}
	defer u.Unlock()
	st, err := bk.Load(ctx)
	if err != nil {
		b.Fatal(err)
	}
	txn, err := bk.Begin(ctx, st)
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.SetParallelism(4) // 2 cores × 4 = 8 goroutines
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := txn.PutObject(statetest.Object("w", int(n.Add(1)))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if err := txn.Commit(); err != nil {
		b.Fatal(err)
	}
}

// TestSchemasIndependent: the same workspace in two schemas locks
// independently, and two first runs migrating one new schema at once
// both succeed.
func TestSchemasIndependent(t *testing.T) {
	ctx := t.Context()
	a, b := newStore(t), newStore(t)
	ba, _ := a.Backend(ctx, state.DefaultWorkspace)
	bb, _ := b.Backend(ctx, state.DefaultWorkspace)
	ua, err := ba.Lock(ctx, state.NewLockInfo("apply"))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Unlock()
	done, cancel := context.WithCancel(ctx)
	cancel()
	ub, err := bb.Lock(done, state.NewLockInfo("apply"))
	if err != nil {
		t.Fatalf("default of another schema while this one's is locked: %v", err)
	}
	ub.Unlock()

	schema := fmt.Sprintf("race%d_%d", os.Getpid(), schemas.Add(1))
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := New(Options{ConnString: dsn, Schema: schema})
			if err == nil {
				_, err = s.List(ctx)
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent first use: %v", err)
		}
	}
}
