package agent

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"
)

// Settings configure the agent, like the incumbent's installer
// properties. They come from a file, then the environment, then flags,
// each overriding the one before.
type Settings struct {
	HubURL        string // https://host:port
	Token         string // enrollment token (enroll only)
	CAFingerprint string // the hub CA's sha256: fingerprint (enroll only)
	DataDir       string // identity and journal
	DeviceDir     string // the lab backend's device directory
	Hostname      string // default: the OS host name
	ProxyURL      string // http://proxy:port
	ProxyUser     string
	ProxyPassword string
	PollWait      time.Duration // how long one long poll is held; default 30s
	Heartbeat     time.Duration // heartbeat interval; default 30s
	RetryMax      time.Duration // longest wait between reconnects; default 5m
}

// settingKeys maps the file keys and environment names (upper-cased,
// prefixed ADSHIFT_AGENT_) to fields.
func (s *Settings) settingKeys() map[string]*string {
	return map[string]*string{
		"hub_url":          &s.HubURL,
		"enrollment_token": &s.Token,
		"ca_fingerprint":   &s.CAFingerprint,
		"data_dir":         &s.DataDir,
		"device_dir":       &s.DeviceDir,
		"hostname":         &s.Hostname,
		"proxy_url":        &s.ProxyURL,
		"proxy_user":       &s.ProxyUser,
		"proxy_password":   &s.ProxyPassword,
	}
}

// durationKeys are the duration settings.
func (s *Settings) durationKeys() map[string]*time.Duration {
	return map[string]*time.Duration{"poll_wait": &s.PollWait, "heartbeat": &s.Heartbeat, "retry_max": &s.RetryMax}
}

// Set assigns one setting by its key (hub_url, enrollment_token,
// ca_fingerprint, data_dir, device_dir, hostname, proxy_url, proxy_user,
// proxy_password, poll_wait, heartbeat, retry_max).
func (s *Settings) Set(key, value string) error {
	if p, ok := s.settingKeys()[key]; ok {
		*p = value
		return nil
	}
	if p, ok := s.durationKeys()[key]; ok {
		d, err := time.ParseDuration(value)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		*p = d
		return nil
	}
	return fmt.Errorf("unknown setting %q", key)
}

// LoadFile reads key = value lines (# comments) into s.
func (s *Settings) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("agent settings: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("%s:%d: want key = value", path, n)
		}
		if err := s.Set(strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"`)); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("agent settings %s: %w", path, err)
	}
	return nil
}

// EnvPrefix prefixes the settings' environment variables.
const EnvPrefix = "ADSHIFT_AGENT_"

// LoadEnv reads ADSHIFT_AGENT_* variables from environ into s.
func (s *Settings) LoadEnv(environ []string) error {
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		name, ok := strings.CutPrefix(k, EnvPrefix)
		if !ok || v == "" {
			continue
		}
		if err := s.Set(strings.ToLower(name), v); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

// withDefaults fills in what is unset.
func (s Settings) withDefaults() Settings {
	if s.PollWait <= 0 {
		s.PollWait = 30 * time.Second
	}
	if s.Heartbeat <= 0 {
		s.Heartbeat = 30 * time.Second
	}
	if s.RetryMax <= 0 {
		s.RetryMax = 5 * time.Minute
	}
	if s.Hostname == "" {
		s.Hostname, _ = os.Hostname()
	}
	return s
}
