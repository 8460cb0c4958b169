package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/adshift/adshift/agent"
	"github.com/adshift/adshift/agent/lab"
	"github.com/adshift/adshift/hub/api"
)

// cmdSimulate runs n agents in this process over the same client code,
// each with its own key, certificate, journal and lab device directory
// under -data-dir, for scale tests and demos. Agents enrolled by an
// earlier run are reused.
func cmdSimulate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	var n, parallel int
	var prefix string
	var ramp time.Duration
	base, ok := settings("simulate", args, environ, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&n, "n", 10, "How many agents")
		fs.IntVar(&parallel, "enroll-parallel", 16, "How many enrollments at once")
		fs.StringVar(&prefix, "prefix", "sim", "Host name prefix (host names are PREFIX-00001 …)")
		fs.DurationVar(&ramp, "ramp", -1, "Spread the agents' starts over this long (default 2ms per agent), as a fleet comes online")
	})
	if !ok {
		return 1
	}
	log := logger(environ, stderr)
	start := time.Now()
	ids := make([]*agent.Identity, n)
	var enrolled atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for i := range n {
		g.Go(func() error {
			s := simSettings(base, prefix, i)
			id, err := agent.LoadIdentity(s.DataDir)
			if errors.Is(err, agent.ErrNotEnrolled) {
				if err := os.MkdirAll(s.DeviceDir, 0o755); err != nil {
					return err
				}
				if err := writeSimInventory(s.DeviceDir, i); err != nil {
					return err
				}
				id, err = agent.Enroll(gctx, s)
				enrolled.Add(1)
			}
			if err != nil {
				return fmt.Errorf("agent %s: %w", s.Hostname, err)
			}
			ids[i] = id
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	took := time.Since(start)
	rate := 0.0
	if enrolled.Load() > 0 {
		rate = float64(enrolled.Load()) / took.Seconds()
	}
	fmt.Fprintf(stdout, "simulate: %d agents ready (%d enrolled now in %s, %.0f/s); running until interrupted\n", n, enrolled.Load(), took.Round(time.Millisecond), rate)
	if ramp < 0 {
		ramp = time.Duration(n) * 2 * time.Millisecond
	}
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i, id := range ids {
		s := simSettings(base, prefix, i)
		a, err := agent.New(agent.Options{Settings: s, Identity: id, Backend: lab.New(s.DeviceDir), Logger: log.Named(s.Hostname)})
		if err != nil {
			fmt.Fprintf(stderr, "Error: %v\n", err)
			return 1
		}
		wg.Add(1)
		delay := time.Duration(0)
		if n > 1 {
			delay = ramp * time.Duration(i) / time.Duration(n-1)
		}
		go func() {
			defer wg.Done()
			defer a.Close()
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			if err := a.Run(ctx); err != nil {
				failed.Add(1)
				log.Error("agent stopped", "agent", s.Hostname, "error", err)
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		fmt.Fprintf(stderr, "Error: %d agents stopped with an error\n", failed.Load())
		return 1
	}
	return 0
}

// simSettings are agent i's settings: its own directories and host name.
func simSettings(base agent.Settings, prefix string, i int) agent.Settings {
	s := base
	s.Hostname = fmt.Sprintf("%s-%05d", prefix, i+1)
	s.DataDir = filepath.Join(base.DataDir, s.Hostname, "agent")
	s.DeviceDir = filepath.Join(base.DataDir, s.Hostname, "device")
	return s
}

// writeSimInventory gives simulated device i a plausible inventory.
func writeSimInventory(dir string, i int) error {
	oses := []api.Inventory{
		{OS: "Windows 10 Pro", OSVersion: "10.0", OSBuild: "19045", PowerShell: "5.1", DotNetRelease: 528372},
		{OS: "Windows 11 Enterprise", OSVersion: "10.0", OSBuild: "22631", PowerShell: "5.1", DotNetRelease: 533320},
		{OS: "Windows 7 Professional", OSVersion: "6.1", OSBuild: "7601", ServicePack: "SP1", PowerShell: "2.0", DotNetRelease: 379893},
		{OS: "Windows Server 2019 Standard", OSVersion: "10.0", OSBuild: "17763", PowerShell: "5.1", DotNetRelease: 528049},
	}
	inv := oses[i%len(oses)]
	inv.Domain = "source.test"
	b, err := json.Marshal(inv)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, lab.InventoryFile), b, 0o644)
}
