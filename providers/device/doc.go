// Package device is the built-in "device" provider: the planner's handle
// on the agent hub. It owns talking to the hub's admin API (hub/api) for
// the host: checking the hub at Configure, listing the fleet with each
// device's inventory and newest jobs (ListDevices), and queueing a wave's
// jobs and watching them until final (RunDevices), both of the optional
// providers.DeviceRunner interface.
//
// It discovers no directory objects: Discover emits nothing, and the
// planner reads devices through ListDevices. Apply carries out nothing;
// it answers every change with an error, since device jobs run through
// RunDevices. The planner, not this package, decides which jobs a wave
// gets and what their actions are.
//
// A wave costs a few requests whatever its size: its jobs are queued in
// batches (api.PathJobBatch, one store transaction each), then watched
// with one long poll at a time over the hub's changes feed (the reports
// it records, by cursor), not a request per job.
package device
