package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adshift/adshift/agent"
	"github.com/adshift/adshift/hub/api"
)

// startProxy runs Debian's tinyproxy with basic auth on a loopback port,
// allowing CONNECT to hubPort; it returns the proxy's URL and log path.
// Without tinyproxy the test is skipped (scripts/test.sh installs it).
func startProxy(t *testing.T, user, password, hubPort string) (string, string) {
	t.Helper()
	bin, err := exec.LookPath("tinyproxy")
	if err != nil {
		t.Skip("tinyproxy is not installed (apt-get install tinyproxy); skipping the web proxy test")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	dir := t.TempDir()
	logFile := filepath.Join(dir, "tinyproxy.log")
	conf := fmt.Sprintf("Port %s\nListen 127.0.0.1\nTimeout 600\nAllow 127.0.0.1\nBasicAuth %s %s\nConnectPort %s\nLogFile %q\nLogLevel Connect\nPidFile %q\nMaxClients 50\n",
		port, user, password, hubPort, logFile, filepath.Join(dir, "tinyproxy.pid"))
	confFile := filepath.Join(dir, "tinyproxy.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	startProc(t, bin, nil, "-d", "-c", confFile)
	eventually(t, "tinyproxy start", func() string {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err != nil {
			return err.Error()
		}
		c.Close()
		return ""
	})
	return "http://127.0.0.1:" + port, logFile
}

func TestHubE2E_throughAnAuthenticatingProxy(t *testing.T) {
	bin := adshiftBin(t)
	h := serveHub(t, bin, t.TempDir(), "127.0.0.1:0")
	_, hubPort, _ := net.SplitHostPort(h.listen)
	proxyURL, proxyLog := startProxy(t, "agentproxy", "s3cret", hubPort)

	// Wrong credentials: the agent says so.
	tok := func() api.TokenCreated {
		var doc struct{ Token api.TokenCreated }
		decodeJSON(t, h.cli(t, "token", "create", "-json"), &doc)
		return doc.Token
	}
	bad := tok()
	out, err := exec.Command(agentBin(t), "enroll", "-hub", h.admin.BaseURL, "-token", bad.Secret, "-ca-fingerprint", bad.CAFingerprint,
		"-data-dir", t.TempDir(), "-hostname", "ws-bad", "-proxy", proxyURL, "-proxy-user", "agentproxy", "-proxy-password", "wrong").CombinedOutput()
	if err == nil || !strings.Contains(string(out), agent.ErrProxyAuth.Error()) {
		t.Errorf("enroll with wrong proxy credentials: %v\n%s", err, out)
	}

	// Right credentials (the password from the environment): enrollment,
	// polling and results all go through the proxy.
	good := tok()
	d := &fleetDevice{bin: agentBin(t), data: t.TempDir(), dev: t.TempDir(), host: "ws-proxied"}
	settings := filepath.Join(t.TempDir(), "agent.conf")
	conf := fmt.Sprintf("hub_url = %s\nproxy_url = %s\nproxy_user = agentproxy\ndata_dir = %s\ndevice_dir = %s\nhostname = ws-proxied\n", h.admin.BaseURL, proxyURL, d.data, d.dev)
	if err := os.WriteFile(settings, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	enroll := exec.Command(d.bin, "enroll", "-config", settings, "-token", good.Secret, "-ca-fingerprint", good.CAFingerprint)
	enroll.Env = append(os.Environ(), "ADSHIFT_AGENT_PROXY_PASSWORD=s3cret")
	if out, err := enroll.CombinedOutput(); err != nil {
		t.Fatalf("enroll through the proxy: %v\n%s", err, out)
	}
	dev, err := h.admin.Device(t.Context(), "ws-proxied")
	if err != nil {
		t.Fatal(err)
	}
	d.id = dev.ID
	d.p = startProc(t, d.bin, []string{"ADSHIFT_AGENT_PROXY_PASSWORD=s3cret", "ADSHIFT_AGENT_RETRY_MAX=200ms"}, "run", "-config", settings, "-heartbeat", "200ms", "-poll-wait", "5s")
	job := h.queue(t, d, "k", echoAction("via proxy"))
	got := waitJob(t, h, job.ID, api.JobSucceeded)
	if len(got.Reports) != 1 || got.Reports[0].Output != "via proxy" {
		t.Errorf("reports %+v", got.Reports)
	}
	logText, err := os.ReadFile(proxyLog)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(logText), "CONNECT"); n < 2 {
		t.Errorf("tinyproxy logged %d CONNECTs; want the enrollment's and the agent's:\n%s", n, logText)
	}
}
