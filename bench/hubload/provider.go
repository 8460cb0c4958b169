package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/providers"
)

// viaProvider runs the wave through the device provider instead of the
// admin API: "adshift provider-serve device" as a plugin process, one
// RunDevices call with a job per device. It prints a table row: the call's
// wall time to every job queued and to the last result, and the events.
func viaProvider(ctx context.Context, adshift, hubDir, store string, db *sql.DB, admin *api.Client, devices []api.Device, actions int) error {
	p, err := providers.Launch(ctx, providers.LaunchOptions{Name: "device", Path: adshift, Argv0: "adshift", Args: []string{"provider-serve", "device"}})
	if err != nil {
		return err
	}
	defer p.Close()
	diags, err := p.Configure(ctx, cty.ObjectVal(map[string]cty.Value{
		"url": cty.StringVal(admin.BaseURL), "token": cty.StringVal(admin.AdminToken), "ca_file": cty.StringVal(filepath.Join(hubDir, "server-ca.pem")),
	}))
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		return fmt.Errorf("configure the device provider: %v", diags)
	}
	run := providers.DeviceRun{}
	for _, d := range devices {
		j := providers.DeviceJob{DeviceID: d.ID, Hostname: d.Hostname, Key: "bench-provider"}
		for range actions {
			j.Actions = append(j.Actions, providers.DeviceAction{Name: "echo", Params: map[string]string{"message": d.Hostname}})
		}
		run.Jobs = append(run.Jobs, j)
	}
	counts := map[providers.DeviceEventKind]int{}
	results := map[string]int{}
	var allQueued, lastResult time.Duration
	var lastResultAt time.Time
	start := time.Now()
	err = p.RunDevices(ctx, run, func(e providers.DeviceEvent) error {
		counts[e.Kind]++
		switch e.Kind {
		case providers.DeviceEventQueued:
			if counts[e.Kind] == len(run.Jobs) {
				allQueued = time.Since(start)
			}
		case providers.DeviceEventResult:
			results[fmt.Sprintf("%s/%d", e.Key+e.DeviceID, e.Action)]++
			lastResultAt = time.Now()
			lastResult = lastResultAt.Sub(start)
		}
		return nil
	})
	total := time.Since(start)
	if err != nil {
		return err
	}
	// The provider's lag: from the hub storing the last report to the
	// provider emitting it.
	var lastStored int64
	if err := db.QueryRowContext(ctx, `SELECT MAX(at) FROM reports`).Scan(&lastStored); err != nil {
		return err
	}
	lag := lastResultAt.Sub(time.Unix(0, lastStored))
	dup := 0
	for _, n := range results {
		if n > 1 {
			dup++
		}
	}
	if len(results) != len(run.Jobs)*actions || dup > 0 || counts[providers.DeviceEventDone] != len(run.Jobs) {
		return fmt.Errorf("RunDevices: %d distinct results (%d repeated) and %d done events for %d jobs of %d actions", len(results), dup, counts[providers.DeviceEventDone], len(run.Jobs), actions)
	}
	fmt.Printf("| %s | %d | %d | %s | %s | %s | %s | %d / %d / %d |\n", store, len(run.Jobs), actions, allQueued.Round(time.Millisecond), lastResult.Round(time.Millisecond),
		lag.Round(time.Millisecond), total.Round(time.Millisecond), counts[providers.DeviceEventResult], counts[providers.DeviceEventProgress], counts[providers.DeviceEventDone])
	return nil
}
