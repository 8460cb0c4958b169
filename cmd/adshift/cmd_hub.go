package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/adshift/adshift/hub"
	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/hub/store/sqlstore"
	"github.com/adshift/adshift/internal/atomicfile"
	"github.com/adshift/adshift/ui"
)

const hubUsage = `Usage: adshift hub <command> [options]

  serve                      Run the agent hub
  token create|list|revoke   Manage enrollment tokens
  device list|show|revoke    Inspect and revoke enrolled devices
  audit                      Show the audit log

Admin commands find the hub through -data DIR (the hub's data directory,
on the hub's machine) or -hub URL with -ca-file and ADSHIFT_HUB_TOKEN.`

// Files serve leaves in the data directory for the admin commands.
const (
	hubURLFile      = "hub.url"
	hubServerCAFile = "server-ca.pem"
)

// hubCommands are the hub subcommands, for "did you mean".
var hubCommands = []string{"serve", "token create", "token list", "token revoke", "device list", "device show", "device revoke", "audit"}

func runHub(m *meta, args []string) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprintf(m.stdout, "%s\n\n%s.\n", hubUsage, synopses["hub"])
		return exitOK
	}
	if len(args) == 0 {
		fmt.Fprintln(m.stderr, hubUsage)
		return exitError
	}
	sub, rest := args[0], args[1:]
	if sub != "serve" && sub != "audit" {
		if len(rest) == 0 {
			fmt.Fprintln(m.stderr, hubUsage)
			return exitError
		}
		sub, rest = sub+" "+rest[0], rest[1:]
	}
	switch sub {
	case "serve":
		return runHubServe(m, rest)
	case "token create", "token list", "token revoke", "device list", "device show", "device revoke", "audit":
		return runHubAdmin(m, sub, rest)
	}
	fmt.Fprintf(m.stderr, "Error: unknown hub command %q%s\n\n%s\n", sub, didYouMean(sub, hubCommands), hubUsage)
	return exitError
}

func runHubServe(m *meta, args []string) int {
	var dataDir, listen, certFile, keyFile, hosts, pgDSN, udpAddr string
	var lease, retry time.Duration
	fs := newFlags(m, "hub serve", "hub serve [options]")
	fs.StringVar(&dataDir, "data", "adshift-hub", "The hub's data `DIR`: CA, admin token, SQLite database")
	fs.StringVar(&listen, "listen", ":443", "TCP `ADDRESS` to serve HTTPS on")
	fs.StringVar(&certFile, "tls-cert", "", "Server certificate chain `FILE` (ending with the CA agents pin); default: issued by the hub's CA")
	fs.StringVar(&keyFile, "tls-key", "", "Server key `FILE` (with -tls-cert)")
	fs.StringVar(&hosts, "hosts", "", "Comma-separated names and addresses for the generated server certificate (default 127.0.0.1,::1,localhost)")
	fs.DurationVar(&lease, "lease", 2*time.Minute, "How long a job handed to an agent is held without a heartbeat")
	fs.StringVar(&udpAddr, "udp", "", "Also answer authenticated UDP \"is work waiting?\" pings on this `ADDRESS` (e.g. :3030)")
	fs.StringVar(&pgDSN, "postgres", os.Getenv("ADSHIFT_HUB_POSTGRES"), "Keep the hub's data in PostgreSQL at this `DSN` (or ADSHIFT_HUB_POSTGRES) instead of SQLite; several hubs may share it")
	fs.DurationVar(&retry, "retry-backoff", 5*time.Second, "How long after an expired lease a job is offered again (doubling per attempt, at most 5m)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	// A long-running server holding many connections: the planner's
	// memory-for-speed GC setting (run.go) would multiply its footprint.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(100)
	}
	if (certFile == "") != (keyFile == "") {
		m.view.Diagnostics(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Incomplete server certificate", Detail: "Set both -tls-cert and -tls-key, or neither to have the hub's CA issue one."}})
		return exitError
	}
	err := os.MkdirAll(dataDir, 0o700)
	if err != nil {
		m.view.Diagnostics(errDiag("Cannot create the hub's data directory", err, ""))
		return exitError
	}
	var st *sqlstore.Store
	if pgDSN != "" {
		st, err = sqlstore.OpenPostgres(m.ctx, pgDSN)
	} else {
		st, err = sqlstore.OpenSQLite(m.ctx, filepath.Join(dataDir, "hub.db"))
	}
	if err != nil {
		m.view.Diagnostics(errDiag("Cannot open the hub's database", err, ""))
		return exitError
	}
	defer st.Close()
	opts := hub.Options{Store: st, DataDir: dataDir, CertFile: certFile, KeyFile: keyFile, LeaseDuration: lease,
		Logger: m.logger.Named("hub"), Version: version, Backoff: retryBackoff(retry)}
	if hosts != "" {
		opts.Hosts = strings.Split(hosts, ",")
	}
	srv, err := hub.New(opts)
	if err != nil {
		m.view.Diagnostics(errDiag("Cannot start the hub", err, ""))
		return exitError
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		m.view.Diagnostics(errDiag("Cannot listen", err, "Choose another -listen address or port."))
		return exitError
	}
	url := "https://" + ln.Addr().String()
	if err := atomicfile.Write(filepath.Join(dataDir, hubServerCAFile), srv.ServerCAPEM(), 0o644); err != nil {
		m.view.Diagnostics(errDiag("Cannot write the hub's CA", err, ""))
		return exitError
	}
	// hub.url goes last: admin commands and tests take it as "serving".
	if err := atomicfile.Write(filepath.Join(dataDir, hubURLFile), []byte(url+"\n"), 0o644); err != nil {
		m.view.Diagnostics(errDiag("Cannot write the hub's URL", err, ""))
		return exitError
	}
	done := make(chan error, 2)
	if udpAddr != "" {
		pc, err := net.ListenPacket("udp", udpAddr)
		if err != nil {
			m.view.Diagnostics(errDiag("Cannot listen for UDP pings", err, "Choose another -udp address or port."))
			return exitError
		}
		go func() {
			if err := srv.ServeUDP(pc); err != nil {
				done <- err
			}
		}()
	}
	m.view.HubServing(url, srv.ServerCAFingerprint(), dataDir)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		m.view.Diagnostics(errDiag("The hub stopped", err, ""))
		return exitError
	case <-m.stop:
	case <-m.ctx.Done():
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(m.ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		m.view.Diagnostics(errDiag("The hub did not stop cleanly", err, ""))
		return exitError
	}
	<-done
	fmt.Fprintln(m.stdout, "adshift hub stopped.")
	return exitOK
}

// retryBackoff delays a job whose lease expired: base, doubling per
// attempt, at most 5 minutes.
func retryBackoff(base time.Duration) func(attempt int) time.Duration {
	return func(attempt int) time.Duration {
		return min(base<<min(max(attempt-1, 0), 10), 5*time.Minute)
	}
}

// hubConn is how an admin command reaches the hub.
type hubConn struct {
	dataDir, url, caFile, tokenFile string
}

func (c *hubConn) register(fs *flag.FlagSet) {
	fs.StringVar(&c.dataDir, "data", "", "The hub's data `DIR` (on the hub's machine): URL, CA and admin token from there")
	fs.StringVar(&c.url, "hub", os.Getenv("ADSHIFT_HUB_URL"), "The hub's `URL` (or ADSHIFT_HUB_URL)")
	fs.StringVar(&c.caFile, "ca-file", os.Getenv("ADSHIFT_HUB_CA"), "The hub's CA certificate `FILE` (or ADSHIFT_HUB_CA)")
	fs.StringVar(&c.tokenFile, "token-file", "", "Admin token `FILE` (or the token in ADSHIFT_HUB_TOKEN)")
}

// client builds the admin client.
func (c *hubConn) client() (*api.Client, error) {
	token := os.Getenv("ADSHIFT_HUB_TOKEN")
	if c.dataDir != "" {
		b, err := os.ReadFile(filepath.Join(c.dataDir, hubURLFile))
		if err != nil && c.url == "" {
			return nil, fmt.Errorf("read the hub's URL (is it serving?): %w", err)
		}
		if c.url == "" {
			c.url = strings.TrimSpace(string(b))
		}
		if c.caFile == "" {
			c.caFile = filepath.Join(c.dataDir, hubServerCAFile)
		}
		if c.tokenFile == "" && token == "" {
			c.tokenFile = filepath.Join(c.dataDir, hub.AdminTokenFile)
		}
	}
	if c.tokenFile != "" {
		b, err := os.ReadFile(c.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("read the admin token: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	if c.url == "" || c.caFile == "" || token == "" {
		return nil, errors.New("no hub given: use -data DIR, or -hub URL with -ca-file and ADSHIFT_HUB_TOKEN")
	}
	ca, err := os.ReadFile(c.caFile)
	if err != nil {
		return nil, fmt.Errorf("read the hub's CA: %w", err)
	}
	host := strings.TrimPrefix(c.url, "https://")
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	cfg, err := api.ClientTLS(host, ca, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.caFile, err)
	}
	return &api.Client{BaseURL: strings.TrimRight(c.url, "/"), HTTP: &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}, AdminToken: token}, nil
}

func runHubAdmin(m *meta, sub string, args []string) int {
	var conn hubConn
	var jsonMode bool
	var scope string
	var ttl time.Duration
	var uses, limit int
	fs := newFlags(m, "hub "+sub, "hub "+sub+" [options]"+map[string]string{"token revoke": " ID", "device show": " HOSTNAME|ID", "device revoke": " HOSTNAME|ID"}[sub])
	conn.register(fs)
	fs.BoolVar(&jsonMode, "json", false, "Write one JSON document")
	switch sub {
	case "token create":
		fs.StringVar(&scope, "scope", "", "The project or wave the token enrolls devices into")
		fs.DurationVar(&ttl, "ttl", 24*time.Hour, "How long the token is valid")
		fs.IntVar(&uses, "uses", 1, "How many devices may enroll with it")
	case "audit":
		fs.IntVar(&limit, "limit", 50, "How many entries, newest first")
	}
	// Flags may follow the argument too (device show WS001 -json).
	var pos []string
	for {
		if code, ok := parseFlags(fs, args); !ok {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	wantArg := sub == "token revoke" || sub == "device show" || sub == "device revoke"
	if wantArg != (len(pos) == 1) || !wantArg && len(pos) > 0 {
		fs.Usage()
		return exitError
	}
	arg := ""
	if wantArg {
		arg = pos[0]
	}
	c, err := conn.client()
	if err != nil {
		m.view.Diagnostics(errDiag("Cannot reach the hub", err, ""))
		return exitError
	}
	defer c.HTTP.CloseIdleConnections()
	ctx := m.ctx
	var out any
	key := strings.ReplaceAll(sub, " ", "_")
	switch sub {
	case "token create":
		var t api.TokenCreated
		if t, err = c.CreateToken(ctx, api.TokenRequest{Scope: scope, TTL: ttl, Uses: uses}); err == nil && !jsonMode {
			m.view.HubTokenCreated(t)
		}
		out, key = t, "token"
	case "token list":
		var ts []api.Token
		if ts, err = c.Tokens(ctx); err == nil && !jsonMode {
			m.view.HubTokens(ts, time.Now())
		}
		out, key = ts, "tokens"
	case "token revoke":
		if err = c.RevokeToken(ctx, arg); err == nil && !jsonMode {
			fmt.Fprintf(m.stdout, "Enrollment token %s revoked.\n", arg)
		}
		out, key = map[string]string{"id": arg, "state": "revoked"}, "token"
	case "device list":
		var ds []api.Device
		if ds, err = c.Devices(ctx); err == nil && !jsonMode {
			m.view.HubDevices(ds)
		}
		out, key = ds, "devices"
	case "device show":
		var d api.DeviceDetail
		if d, err = c.Device(ctx, arg); err == nil && !jsonMode {
			m.view.HubDevice(d)
		}
		out, key = d, "device"
	case "device revoke":
		if err = c.RevokeDevice(ctx, arg); err == nil && !jsonMode {
			fmt.Fprintf(m.stdout, "Device %s revoked: the hub refuses its certificate from now on.\n", arg)
		}
		out, key = map[string]string{"device": arg, "state": "revoked"}, "device"
	case "audit":
		var es []api.AuditEntry
		if es, err = c.Audit(ctx, limit); err == nil && !jsonMode {
			m.view.HubAudit(es)
		}
		out, key = es, "audit"
	}
	if err != nil {
		m.view.Diagnostics(errDiag("The hub refused or failed", err, ""))
		return exitError
	}
	if jsonMode {
		if err := ui.HubDocument(m.stdout, key, out); err != nil {
			return exitError
		}
	}
	return exitOK
}
