#!/usr/bin/env bash
# A wave through the device provider (BENCHMARKS.md, "device provider"):
# builds adshift, adshift-agent and bench/hubload, then for each N in
# $SIZES enrolls N simulated agents against a hub on SQLite and on
# PostgreSQL (a throwaway cluster; STORES="sqlite" skips it), and runs one
# RunDevices call of a job per agent through "adshift provider-serve
# device" as a plugin process, printing a table row per run.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"1000"}
PROCS=${PROCS:-2}
ACTIONS=${ACTIONS:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/adshift" ./cmd/adshift
go build -o "$out/adshift-agent" ./cmd/adshift-agent
go build -o "$out/hubload" ./bench/hubload
echo "| store | devices | actions per job | all queued | last result | call returned | events: results / progress / done |"
echo "|---|--:|--:|--:|--:|--:|--:|"
for n in $SIZES; do
	for store in ${STORES:-sqlite postgres}; do
		pg=""
		[ "$store" = postgres ] && pg=cluster
		"$out/hubload" -provider -adshift "$out/adshift" -agent "$out/adshift-agent" -n "$n" -procs "$PROCS" -actions "$ACTIONS" -postgres "$pg"
	done
done
