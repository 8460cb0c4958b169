package agent

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/adshift/adshift/hub/api"
)

func TestSettings_fileThenEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.conf")
	conf := "# installer properties\nhub_url = https://hub.example:443\nproxy_url = http://proxy:3128\nproxy_user = \"alice\"\npoll_wait = 10s\n"
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var s Settings
	if err := s.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if err := s.LoadEnv([]string{"ADSHIFT_AGENT_PROXY_USER=bob", "ADSHIFT_AGENT_PROXY_PASSWORD=pw", "OTHER=x", "ADSHIFT_AGENT_DATA_DIR="}); err != nil {
		t.Fatal(err)
	}
	want := Settings{HubURL: "https://hub.example:443", ProxyURL: "http://proxy:3128", ProxyUser: "bob", ProxyPassword: "pw", PollWait: 10 * time.Second}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"nonsense\n", "colour = blue\n", "poll_wait = soon\n"} {
		if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := new(Settings).LoadFile(path); err == nil {
			t.Errorf("LoadFile(%q) succeeded", bad)
		}
	}
}

func TestJournal_replaysAndIgnoresATornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	r1 := api.Report{ID: "r1", JobID: "j", Action: 0, Kind: api.ReportResult, Status: api.StatusOK}
	r2 := api.Report{ID: "r2", JobID: "j", Action: 1, Kind: api.ReportResult, Status: api.StatusFailed}
	for _, err := range []error{j.Record(r1), j.Ack("r1"), j.Record(r2)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"ack":"r`) // a crash mid-write
	f.Close()

	j, err = OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if got, ok := j.Result("j", 1); !ok || got.ID != "r2" {
		t.Errorf("Result(j, 1) = %+v, %v", got, ok)
	}
	if !j.Acked("r1") || j.Acked("r2") {
		t.Errorf("acked r1 %v r2 %v; want true false", j.Acked("r1"), j.Acked("r2"))
	}
	if diff := cmp.Diff([]api.Report{r2}, j.Pending(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("pending (-want +got):\n%s", diff)
	}
}

func TestBackoff_jitteredWithinBounds(t *testing.T) {
	b := Backoff{Base: time.Second, Max: time.Minute}
	seen := map[time.Duration]bool{}
	for attempt := range 40 {
		d := b.Next(attempt)
		ceiling := min(time.Minute, time.Second<<min(attempt, 20))
		if d <= 0 || d > ceiling {
			t.Fatalf("Next(%d) = %v, want in (0, %v]", attempt, d, ceiling)
		}
		seen[d] = true
	}
	if len(seen) < 30 {
		t.Errorf("%d distinct waits in 40: not jittered", len(seen))
	}
}
