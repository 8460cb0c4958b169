#!/usr/bin/env bash
# The hub at scale (BENCHMARKS.md, "agent hub"): builds adshift,
# adshift-agent and bench/hubload, then for each N in $SIZES enrolls N
# simulated agents against a hub on SQLite and on PostgreSQL (a throwaway
# cluster, as root with Debian's postgresql; STORES="sqlite" skips it),
# queues a job of five echo actions per agent and prints a table row per run.
# PROVIDER=1 runs each wave through the device provider instead (BENCHMARKS.md,
# "device provider"): one RunDevices call through "adshift provider-serve
# device" as a plugin process.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"1000 10000"}
PROCS=${PROCS:-2}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/adshift" ./cmd/adshift
go build -o "$out/adshift-agent" ./cmd/adshift-agent
go build -o "$out/hubload" ./bench/hubload
mode=()
if [ -n "${PROVIDER:-}" ]; then
	mode=(-provider)
	echo "| store | devices | actions per job | all queued | last result | its lag after the hub stored it | call returned | events: results / progress / done |"
	echo "|---|--:|--:|--:|--:|--:|--:|--:|"
else
	echo "| store | agents | enrollment | queue all | pickup p50 / p99 | job done p50 / p99 | results/s (5 per job) | hub peak RSS |"
	echo "|---|--:|--:|--:|--:|--:|--:|--:|"
fi
for n in $SIZES; do
	for store in ${STORES:-sqlite postgres}; do
		pg=""
		[ "$store" = postgres ] && pg=cluster
		"$out/hubload" "${mode[@]}" -adshift "$out/adshift" -agent "$out/adshift-agent" -n "$n" -procs "$PROCS" -postgres "$pg"
	done
done
