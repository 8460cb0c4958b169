package main

import (
	"bufio"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"golang.org/x/sync/errgroup"
	_ "modernc.org/sqlite"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/internal/pgtest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "hubload:", err)
		os.Exit(1)
	}
}

func run() error {
	adshift := flag.String("adshift", "adshift", "adshift binary")
	agentBin := flag.String("agent", "adshift-agent", "adshift-agent binary")
	n := flag.Int("n", 1000, "simulated agents")
	procs := flag.Int("procs", 2, "simulator processes (descriptors: one TLS connection per agent)")
	dir := flag.String("dir", "", "work directory (default: a temp directory)")
	pg := flag.String("postgres", "", "PostgreSQL DSN for the hub, or \"cluster\" for a throwaway local cluster (default SQLite)")
	actions := flag.Int("actions", 5, "echo actions per job (each stores one result)")
	batch := flag.Int("batch", 100, "jobs per admin batch request, two in flight, as the device provider queues a wave (1: one request per job, 16 in flight)")
	provider := flag.Bool("provider", false, "run the wave through the device provider (one RunDevices call) instead of the admin API")
	flag.Parse()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if *dir == "" {
		d, err := os.MkdirTemp("", "hubload-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	if *pg == "cluster" {
		c, err := pgtest.Start(ctx)
		if err != nil {
			return err
		}
		defer c.Stop()
		if *pg, err = c.NewDatabase(ctx); err != nil {
			return err
		}
	}
	hubDir := filepath.Join(*dir, "hub")
	args := []string{"hub", "serve", "-data", hubDir, "-listen", "127.0.0.1:0"}
	if *pg != "" {
		args = append(args, "-postgres", *pg)
	}
	hub := exec.Command(*adshift, args...)
	hub.Env = os.Environ()
	if os.Getenv("GOMEMLIMIT") == "" {
		// 10,000 connections hold ~500 MiB live; Go's default GOGC=100
		// lets the heap reach twice that. A soft limit keeps the hub
		// under the 1 GiB target at the price of more frequent GC.
		hub.Env = append(hub.Env, "GOMEMLIMIT=900MiB")
	}
	hub.Stderr = os.Stderr
	if err := hub.Start(); err != nil {
		return err
	}
	defer func() { hub.Process.Signal(os.Interrupt); hub.Wait() }()
	admin, err := adminClient(ctx, hubDir)
	if err != nil {
		return err
	}
	tok, err := admin.CreateToken(ctx, api.TokenRequest{Scope: "bench", TTL: 2 * time.Hour, Uses: *n})
	if err != nil {
		return err
	}

	// Enroll and connect.
	start := time.Now()
	per := *n / *procs
	var sims []*exec.Cmd
	for p := range *procs {
		count := per
		if p == *procs-1 {
			count = *n - per*(*procs-1)
		}
		sim := exec.Command(*agentBin, "simulate", "-n", fmt.Sprint(count), "-prefix", fmt.Sprintf("sim%d", p), "-enroll-parallel", "8",
			"-hub", admin.BaseURL, "-token", tok.Secret, "-ca-fingerprint", tok.CAFingerprint, "-data-dir", filepath.Join(*dir, fmt.Sprintf("sim%d", p)),
			"-heartbeat", "60s", "-poll-wait", "50s", "-retry-max", "10s")
		sim.Env = append(os.Environ(), "ADSHIFT_LOG=warn", "GOMEMLIMIT=900MiB")
		sim.Stdout, sim.Stderr = os.Stderr, os.Stderr
		if err := sim.Start(); err != nil {
			return err
		}
		sims = append(sims, sim)
	}
	defer func() {
		for _, s := range sims {
			s.Process.Signal(os.Interrupt)
			s.Wait()
		}
	}()
	db, query, err := openDB(hubDir, *pg)
	if err != nil {
		return err
	}
	defer db.Close()
	// Connected = polled at least once (the hub sets last seen).
	for {
		var seen int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM devices WHERE last_seen > 0`).Scan(&seen); err != nil && !strings.Contains(err.Error(), "no such table") {
			return err
		}
		if seen == *n {
			break
		}
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
	enrollTook := time.Since(start)
	fmt.Fprintf(os.Stderr, "hubload: %d agents enrolled and polling after %s\n", *n, enrollTook.Round(time.Millisecond))
	// Let every agent settle into its long poll, then count the hub's
	// connections (one descriptor per agent over HTTP/2).
	if err := sleep(ctx, 5*time.Second); err != nil {
		return err
	}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", hub.Process.Pid))
	fmt.Fprintf(os.Stderr, "hubload: hub holds %d descriptors\n", len(fds))
	devices, err := admin.Devices(ctx)
	if err != nil {
		return err
	}

	if *provider {
		store := "SQLite"
		if *pg != "" {
			store = "PostgreSQL"
		}
		return viaProvider(ctx, *adshift, hubDir, store, db, admin, devices, *actions)
	}

	// One echo job per agent, queued in batches (two in flight) or one
	// request per job (16 in flight).
	g, gctx := errgroup.WithContext(ctx)
	queueStart := time.Now()
	reqs := make([]api.JobRequest, len(devices))
	for i, d := range devices {
		reqs[i] = api.JobRequest{DeviceID: d.ID, IdempotencyKey: "bench"}
		for range *actions {
			reqs[i].Actions = append(reqs[i].Actions, api.Action{Name: "echo", Params: map[string]string{"message": d.Hostname}})
		}
	}
	if *batch <= 1 {
		g.SetLimit(16)
		for _, req := range reqs {
			g.Go(func() error {
				_, err := admin.QueueJob(gctx, req)
				return err
			})
		}
	} else {
		g.SetLimit(2)
		for part := range slices.Chunk(reqs, *batch) {
			g.Go(func() error {
				res, err := admin.QueueJobs(gctx, part)
				for _, r := range res {
					if err == nil && r.Error != nil {
						err = fmt.Errorf("queue a job: %s", r.Error.Message)
					}
				}
				return err
			})
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	queueTook := time.Since(queueStart)
	var lat, done []time.Duration
	var first, last int64
	for {
		lat, done, first, last, err = measure(ctx, db, query)
		if err != nil {
			return err
		}
		if len(lat) == *n {
			break
		}
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
	slices.Sort(lat)
	slices.Sort(done)
	rss, _ := peakRSS(hub.Process.Pid)
	window := time.Duration(last - first)
	store := "SQLite"
	if *pg != "" {
		store = "PostgreSQL"
	}
	fmt.Printf("| %s | %d | %.0f/s (%s) | %s | %s / %s | %s / %s | %.0f | %d MiB |\n", store, *n, float64(*n)/enrollTook.Seconds(), enrollTook.Round(time.Second),
		queueTook.Round(time.Millisecond), pct(lat, 50), pct(lat, 99), pct(done, 50), pct(done, 99), float64(*n**actions)/window.Seconds(), rss>>20)
	return nil
}

// adminClient waits for the hub's files and builds an admin client.
func adminClient(ctx context.Context, dir string) (*api.Client, error) {
	for {
		url, err := os.ReadFile(filepath.Join(dir, "hub.url"))
		if err == nil {
			ca, err := os.ReadFile(filepath.Join(dir, "server-ca.pem"))
			if err != nil {
				return nil, err
			}
			token, err := os.ReadFile(filepath.Join(dir, "admin.token"))
			if err != nil {
				return nil, err
			}
			cfg, err := api.ClientTLS("127.0.0.1", ca, nil)
			if err != nil {
				return nil, err
			}
			return &api.Client{BaseURL: strings.TrimSpace(string(url)), AdminToken: strings.TrimSpace(string(token)),
				HTTP: &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, MaxIdleConnsPerHost: 16}}}, nil
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return nil, err
		}
	}
}

// openDB opens the hub's database read-side, for measuring.
func openDB(hubDir, pg string) (*sql.DB, string, error) {
	// Pickup is queued → leased (the audit entry written as the job is
	// handed to the agent's long poll); done is queued → last result. The
	// lease times are grouped first: the audit log has no index on object.
	q := `WITH l AS (SELECT object, MIN(at) AS at FROM audit WHERE action = 'job.lease' GROUP BY object),
		r AS (SELECT job_id, MAX(at) AS at, COUNT(*) AS n FROM reports GROUP BY job_id)
		SELECT j.created_at, l.at, r.at, r.n FROM jobs j JOIN l ON l.object = 'job:' || j.id JOIN r ON r.job_id = j.id
		WHERE j.idem_key = 'bench' AND j.state = 'succeeded'`
	if pg != "" {
		db, err := sql.Open("pgx", pg)
		return db, q, err
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(hubDir, "hub.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	return db, q, err
}

// measure returns each finished job's pickup (queued → leased) and
// done (queued → last result) times, the first lease and the last report.
func measure(ctx context.Context, db *sql.DB, q string) ([]time.Duration, []time.Duration, int64, int64, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	defer rows.Close()
	var lat, done []time.Duration
	var first, last int64
	for rows.Next() {
		var created, leased, at, n int64
		if err := rows.Scan(&created, &leased, &at, &n); err != nil {
			return nil, nil, 0, 0, err
		}
		lat = append(lat, time.Duration(leased-created))
		done = append(done, time.Duration(at-created))
		if first == 0 || leased < first {
			first = leased
		}
		last = max(last, at)
	}
	return lat, done, first, last, rows.Err()
}

func pct(d []time.Duration, p int) string {
	if len(d) == 0 {
		return "-"
	}
	return d[(len(d)-1)*p/100].Round(time.Millisecond).String()
}

// peakRSS is a process's peak resident set (VmHWM).
func peakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int64
		if _, err := fmt.Sscanf(sc.Text(), "VmHWM: %d kB", &kb); err == nil {
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM for %d", pid)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
