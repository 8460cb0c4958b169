#!/usr/bin/env bash
# The hub at scale (BENCHMARKS.md, "agent hub"): builds adshift,
# adshift-agent and bench/hubload, then for each N in $SIZES enrolls N
# simulated agents against a hub on SQLite (and on PostgreSQL when
# $ADSHIFT_BENCH_PG names a server DSN; each run gets a fresh database),
# queues a job per agent and prints one table row per run.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"1000 10000"}
PROCS=${PROCS:-2}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/adshift" ./cmd/adshift
go build -o "$out/adshift-agent" ./cmd/adshift-agent
go build -o "$out/hubload" ./bench/hubload
echo "| store | agents | enrollment | queue all | pickup p50 / p99 | result p50 / p99 | results/s | hub peak RSS |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|"
for n in $SIZES; do
	"$out/hubload" -adshift "$out/adshift" -agent "$out/adshift-agent" -n "$n" -procs "$PROCS"
	if [ -n "${ADSHIFT_BENCH_PG:-}" ]; then
		db="hubbench_${n}_$$"
		psql "$ADSHIFT_BENCH_PG" -qc "CREATE DATABASE $db" >/dev/null
		"$out/hubload" -adshift "$out/adshift" -agent "$out/adshift-agent" -n "$n" -procs "$PROCS" -postgres "${ADSHIFT_BENCH_PG%/*}/$db"
	fi
done
