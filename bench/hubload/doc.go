// Command hubload measures the agent hub at scale: it starts an adshift
// hub process (SQLite, or PostgreSQL with -postgres), enrolls -n
// simulated agents through adshift-agent simulate processes, waits until
// every agent is connected, queues one echo job per agent, and reports the
// enrollment rate, job pickup latency (queued → first report stored, an
// upper bound of queued → agent has it), results stored per second and
// the hub's peak RSS. bench/hub.sh builds and runs it; BENCHMARKS.md has
// the numbers.
package main
