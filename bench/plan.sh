#!/usr/bin/env bash
# bench/plan.sh: time `adshift plan` on generated estates of growing size.
#
# For each size it generates an estate with bench/genestate (source.ldif,
# target.ldif, main.hcl under bench/out/estate-N, reused when already made
# by the same generator with the same seed), runs
#
#     adshift -chdir=DIR plan -no-color > /dev/null
#
# under /usr/bin/time -v, and prints a Markdown table of wall time, CPU time
# and peak RSS. CPU time includes the provider plugin processes adshift
# starts and reaps; peak RSS is that of the largest single process (getrusage
# maxrss), not a sum over plugins. Run from anywhere:
#
#     bench/plan.sh                      # 10k 20k 40k 60k 80k 100k objects
#     SIZES="1000 5000" RUNS=3 bench/plan.sh
#
# Environment:
#     SIZES   objects per estate (users+groups+computers), default below
#     SEED    estate seed (default 1)
#     RUNS    plan runs per size; the table shows the fastest (default 1)
#     REGEN=1 regenerate estates even if present
#
# Without cmd/adshift in the tree (or with PLAN=0) only the estates are
# generated and timed, and the plan columns say n/a.
set -euo pipefail

cd "$(dirname "$0")/.."
SIZES=${SIZES:-"10000 20000 40000 60000 80000 100000"}
SEED=${SEED:-1}
RUNS=${RUNS:-1}
REGEN=${REGEN:-0}
PLAN=${PLAN:-1}
OUT=bench/out
TIME=/usr/bin/time

if ! "$TIME" -v true >/dev/null 2>&1; then
	echo "plan.sh: GNU time is missing; install it: apt-get install -y time" >&2
	exit 1
fi
mkdir -p "$OUT"

go build -o "$OUT/genestate" ./bench/genestate
if [ "$PLAN" = 1 ] && [ -d cmd/adshift ]; then
	go build -o "$OUT/adshift" ./cmd/adshift
else
	PLAN=0
	echo "plan.sh: cmd/adshift not built (missing or PLAN=0): generating estates only" >&2
fi

# seconds converts GNU time's "h:mm:ss" or "m:ss.ss" to seconds.
seconds() {
	awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }' <<<"$1"
}

# field prints the value of a `time -v` report line.
field() {
	sed -n "s/^[[:space:]]*$1: //p" "$2"
}

mib() {
	awk '{ printf "%.1f", $1 / 1048576 }' <<<"$1"
}

echo "| objects | source.ldif (MiB) | target.ldif (MiB) | generate (s) | plan wall (s) | plan CPU (s) | plan peak RSS (MiB) | plan exit |"
echo "|--------:|------------------:|------------------:|-------------:|--------------:|-------------:|--------------------:|----------:|"
# An estate is reused only when made by this very generator binary (Go builds
# are reproducible, so the hash changes exactly when the generator does).
genhash=$(sha256sum "$OUT/genestate" | cut -c1-16)
for n in $SIZES; do
	dir="$OUT/estate-$n"
	stamp="$dir/.stamp"
	gen="cached"
	if [ "$REGEN" = 1 ] || [ ! -f "$dir/main.hcl" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$SEED $genhash" ]; then
		mkdir -p "$dir"
		"$TIME" -v -o "$OUT/gen-$n.time" "$OUT/genestate" -objects "$n" -seed "$SEED" -out "$dir" 2>"$OUT/gen-$n.log"
		echo "$SEED $genhash" >"$stamp"
		gen=$(seconds "$(field 'Elapsed (wall clock) time (h:mm:ss or m:ss)' "$OUT/gen-$n.time")")
	fi
	src=$(mib "$(stat -c %s "$dir/source.ldif")")
	tgt=$(mib "$(stat -c %s "$dir/target.ldif")")

	wall="n/a" cpu="n/a" rss="n/a" code="n/a"
	if [ "$PLAN" = 1 ]; then
		best=""
		for run in $(seq "$RUNS"); do
			tf="$OUT/plan-$n-$run.time"
			set +e
			"$TIME" -v -o "$tf" "$OUT/adshift" -chdir="$dir" plan -no-color >/dev/null 2>"$OUT/plan-$n-$run.stderr"
			rc=$?
			set -e
			# time -v reports "Command exited with non-zero status N" first.
			w=$(seconds "$(field 'Elapsed (wall clock) time (h:mm:ss or m:ss)' "$tf")")
			u=$(field 'User time (seconds)' "$tf")
			s=$(field 'System time (seconds)' "$tf")
			r=$(field 'Maximum resident set size (kbytes)' "$tf")
			if [ -z "$best" ] || awk -v a="$w" -v b="$best" 'BEGIN { exit !(a < b) }'; then
				best=$w wall=$w code=$rc
				cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
			fi
			if [ "$rss" = "n/a" ] || [ "$r" -gt "$rss" ]; then
				rss=$r
			fi
			if [ "$rc" -ne 0 ]; then
				echo "plan.sh: adshift plan on $dir exited $rc; see $OUT/plan-$n-$run.stderr" >&2
			fi
		done
		rss=$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')
	fi
	echo "| $n | $src | $tgt | $gen | $wall | $cpu | $rss | $code |"
done
