// Package pgtest runs a throwaway PostgreSQL cluster for tests: Debian's
// postgresql binaries, initdb'd in a temp directory as the postgres user,
// on a private loopback port and socket directory, stopped and removed
// afterwards. ADSHIFT_TEST_PG (a DSN of a server the tests may create
// databases on) replaces it.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrUnavailable says PostgreSQL cannot be run here; tests skip with it.
var ErrUnavailable = errors.New("PostgreSQL is not available: install Debian's postgresql (scripts/test.sh does, as root) or set ADSHIFT_TEST_PG to a server's DSN")

// Cluster is a running PostgreSQL server the tests own.
type Cluster struct {
	base string // DSN without the database
	dir  string
	cmd  *exec.Cmd
	n    atomic.Int64
}

// Start starts a cluster, or uses the server ADSHIFT_TEST_PG names.
func Start(ctx context.Context) (*Cluster, error) {
	if dsn := os.Getenv("ADSHIFT_TEST_PG"); dsn != "" {
		return &Cluster{base: dsn}, nil
	}
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	pg, err := user.Lookup("postgres")
	if err != nil || os.Geteuid() != 0 {
		return nil, ErrUnavailable
	}
	uid, _ := strconv.Atoi(pg.Uid)
	gid, _ := strconv.Atoi(pg.Gid)
	dir, err := os.MkdirTemp("", "adshift-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir}
	if err := os.Chown(dir, uid, gid); err != nil {
		c.Stop()
		return nil, err
	}
	data := filepath.Join(dir, "data")
	out, err := exec.CommandContext(ctx, "runuser", "-u", "postgres", "--", filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync").CombinedOutput()
	if err != nil {
		c.Stop()
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		c.Stop()
		return nil, err
	}
	// postgres runs as the postgres user directly (not under runuser),
	// so that Stop's signal reaches it.
	c.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200")
	c.cmd.SysProcAttr = runAs(uid, gid)
	c.cmd.Dir = dir
	if err := c.cmd.Start(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	c.base = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, c.base)
		if err == nil {
			conn.Close(ctx)
			return c, nil
		}
		if time.Now().After(deadline) {
			c.Stop()
			return nil, fmt.Errorf("postgres did not start: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// NewDatabase creates an empty database and returns its DSN.
func (c *Cluster) NewDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t_%d_%d", os.Getpid(), c.n.Add(1))
	conn, err := pgx.Connect(ctx, c.base)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(c.base)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// Stop stops the cluster and removes its files (nothing for a server
// given by ADSHIFT_TEST_PG).
func (c *Cluster) Stop() {
	if c.cmd != nil && c.cmd.Process != nil {
		// SIGINT is PostgreSQL's "fast" shutdown: clients are disconnected.
		c.cmd.Process.Signal(os.Interrupt)
		c.cmd.Wait()
	}
	if c.dir != "" {
		os.RemoveAll(c.dir)
	}
}

// binDir finds the newest installed PostgreSQL's programs.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Strings(dirs)
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", ErrUnavailable
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// StartT starts a cluster for the test, stopped when it ends; without
// PostgreSQL the test is skipped, saying why.
func StartT(t testing.TB) *Cluster {
	t.Helper()
	c, err := Start(t.Context())
	if errors.Is(err, ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return c
}

// DatabaseT creates a database for the test and returns its DSN.
func (c *Cluster) DatabaseT(t testing.TB) string {
	t.Helper()
	dsn, err := c.NewDatabase(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}
