package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/adshift/adshift/hub/api"
)

// probeTimeout bounds one reachability probe.
const probeTimeout = 2 * time.Second

// Inventory reports the facts inventory.json claims (missing file: none),
// the free disk space of the directory, the domain the device is really
// joined to (smb.conf's realm, confirmed by net ads testjoin against its
// DC, the answer reused for a minute; a device without smb.conf keeps the
// claimed domain), reachability probes of the DCs it
// knows (LDAP 389 and SMB 445, by host name) and of its hubs, and the
// principals found on it.
func (b *Backend) Inventory(ctx context.Context) (api.Inventory, error) {
	var inv api.Inventory
	data, err := os.ReadFile(filepath.Join(b.dir, InventoryFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return inv, fmt.Errorf("lab inventory: %w", err)
	default:
		if err := json.Unmarshal(data, &inv); err != nil {
			return inv, fmt.Errorf("lab inventory %s: %w", filepath.Join(b.dir, InventoryFile), err)
		}
	}
	if inv.FreeDiskBytes == 0 {
		inv.FreeDiskBytes = freeDisk(b.dir)
	}
	// A device with Samba membership (samba/smb.conf) is in the domain it
	// is really joined to, whatever inventory.json claims; one without
	// (the fleet simulator's) keeps the claim.
	c, err := ReadSambaConfig(b.dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return inv, err
	}
	if err == nil {
		inv.Domain = ""
	}
	var probes []api.Probe
	if c.Realm != "" {
		ok, detail, err := b.testJoin(ctx, c, true)
		if ctx.Err() != nil {
			return inv, ctx.Err()
		}
		if err != nil {
			// Reported, not fatal: the rest of the inventory still counts.
			detail = err.Error()
		}
		if ok {
			inv.Domain = c.Domain()
		}
		probes = append(probes, api.Probe{Target: "join " + c.Domain() + " via " + c.DC, OK: ok, Detail: detail})
	}
	inv.Reachable = append(probes, b.cachedProbes(ctx, b.probeTargets(c))...)
	// Principals listed in inventory.json stand (a test or the fleet
	// simulator claims them); otherwise they are the ones found on the
	// device.
	if len(inv.Principals) == 0 {
		if inv.Principals, err = b.principals(); err != nil {
			return inv, err
		}
	}
	return inv, nil
}

// probeTargets are host:port pairs the device should reach: LDAP and SMB
// of its DC and of every domain's DC in secrets.json, and its hubs.
func (b *Backend) probeTargets(c SambaConfig) []string {
	var dcs []string
	if c.DC != "" {
		dcs = append(dcs, c.DC)
	}
	if s, err := ReadSecrets(b.dir); err == nil {
		for _, d := range s.Domains {
			if d.DC != "" {
				dcs = append(dcs, d.DC)
			}
		}
	}
	slices.Sort(dcs)
	var targets []string
	for _, dc := range slices.Compact(dcs) {
		targets = append(targets, net.JoinHostPort(dc, "389"), net.JoinHostPort(dc, "445"))
	}
	for _, h := range b.hubURLs {
		u, err := url.Parse(h)
		if err != nil || u.Host == "" {
			continue
		}
		port := u.Port()
		if port == "" {
			port = "443"
		}
		targets = append(targets, net.JoinHostPort(u.Hostname(), port))
	}
	return targets
}

// probeCache is the last inventory's reachability probes.
type probeCache struct {
	key    string
	at     time.Time
	probes []api.Probe
}

// cachedProbes probes targets, reusing the answers of the last minute
// (inventory is taken at every heartbeat).
func (b *Backend) cachedProbes(ctx context.Context, targets []string) []api.Probe {
	key := strings.Join(targets, " ")
	b.jmu.Lock()
	pc := b.probes
	b.jmu.Unlock()
	if pc != nil && pc.key == key && time.Since(pc.at) < cacheTTL {
		return slices.Clone(pc.probes)
	}
	out := b.probe(ctx, targets)
	b.jmu.Lock()
	b.probes = &probeCache{key: key, at: time.Now(), probes: out}
	b.jmu.Unlock()
	return slices.Clone(out)
}

// probe dials each host:port over TCP, in parallel.
func (b *Backend) probe(ctx context.Context, targets []string) []api.Probe {
	out := make([]api.Probe, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = dialProbe(ctx, t)
		}()
	}
	wg.Wait()
	return out
}

// dialProbe is one TCP reachability check.
func dialProbe(ctx context.Context, target string) api.Probe {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", target)
	if err != nil {
		return api.Probe{Target: target, Detail: err.Error()}
	}
	conn.Close()
	return api.Probe{Target: target, OK: true}
}

// reachable fails unless every host:port answers, naming those that
// do not.
func (b *Backend) reachable(ctx context.Context, targets ...string) error {
	var bad []string
	for _, p := range b.probe(ctx, targets) {
		if !p.OK {
			bad = append(bad, p.Target+" ("+p.Detail+")")
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("cannot reach %v: check the network path and /etc/hosts from the device", bad)
	}
	return nil
}
