#!/usr/bin/env bash
# bench/plan-same.sh: check that a change to the planner or the providers
# leaves plans as they were. Builds adshift at a base revision (default
# main) and from the working tree, plans the same generated estate with
# both (text output, no colour) and compares the outputs byte for byte,
# after dropping the discovery progress lines ("Reading...", "Read N
# objects in T": environments are read concurrently, so their order and
# timings vary), the only lines allowed to differ.
#
#     bench/plan-same.sh                 # estate of 100000 objects, base main
#     BASE=44bd89b N=20000 bench/plan-same.sh
set -euo pipefail

cd "$(dirname "$0")/.."
BASE=${BASE:-main}
N=${N:-100000}
OUT=bench/out
mkdir -p "$OUT"
SIZES=$N PLAN=0 bench/plan.sh >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git archive "$BASE" | tar -x -C "$work"
(cd "$work" && go build -o "$work/adshift-base" ./cmd/adshift)
go build -o "$work/adshift-new" ./cmd/adshift
strip() { sed -E '/^environment\.[^ ]+: (Read [0-9]+ objects in |Reading\.\.\.$)/d' "$1"; }
for v in base new; do
	set +e
	"$work/adshift-$v" -chdir="$OUT/estate-$N" plan -no-color >"$work/$v.txt" 2>&1
	echo $? >>"$work/$v.txt"
	set -e
done
if cmp -s <(strip "$work/base.txt") <(strip "$work/new.txt"); then
	echo "plan-same: plans of $N objects identical at $BASE and in the working tree ($(wc -l <"$work/new.txt") lines)"
else
	echo "plan-same: plans of $N objects differ between $BASE (-) and the working tree (+):" >&2
	diff <(strip "$work/base.txt") <(strip "$work/new.txt") | head -40 >&2
	exit 1
fi
