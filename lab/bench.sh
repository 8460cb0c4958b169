#!/usr/bin/env bash
# lab/bench.sh — the ad provider's benchmarks against the lab, next to the
# OpenLDAP tools doing the same work, in one run. Prints Markdown for
# BENCHMARKS.md. Needs a running lab (lab/up.sh). The apply benchmark resets
# the target DC to a freshly provisioned database before each run and leaves
# a fresh one behind: whatever the target held is gone.
#   lab/bench.sh [CREATES [discover|apply|all]]   (default 8000 all)
# CREATES is each apply tool's total, split over ROUNDS runs (default 4: runs
# of 2,000, the issue's size); DISCOVER_ROUNDS (default 3) discovery rounds;
# ADDS_ONLY_DEPTH (default 1) adds in flight at once in the "adds only" column.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$LAB_DIR/.."
eval "$("$LAB_DIR/env.sh")"
creates=${1:-8000}
what=${2:-all}

"$LAB_DIR/seed.sh" source Bench 10000 0 10

ldap() {
	local dc=$1 cmd=$2; shift 2
	LDAPTLS_CACERT="$(dc_ca "$dc")" LDAPTLS_REQCERT=demand \
		"$cmd" -H "$(dc_url "$dc")" -x -D "$(dc_admin "$dc")" -y "$RUN_DIR/password" "$@"
}
secs() { local s=$1 e; e=$(date +%s.%N); echo "$e - $s" | bc; }
# dc_cpu NAME: CPU seconds used so far by the DC's samba processes (all of
# its process tree), to tell what each tool costs the server.
dc_cpu() {
	local pids todo p kids
	todo=$(dc_pid "$1"); pids=""
	while [ -n "$todo" ]; do
		pids="$pids $todo"; kids=""
		for p in $todo; do kids="$kids $(ps -o pid= --ppid "$p" | tr '\n' ' ')"; done
		todo=$(echo $kids)
	done
	for p in $pids; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null; done | paste -sd+ | sed 's|$|)/100|; s|^|(|' | bc -l
}

attrs="objectClass objectGUID objectSid uSNChanged sAMAccountType sAMAccountName userPrincipalName displayName mail userAccountControl"
search_cmd="ldapsearch -LLL -E pr=1000/noprompt -b OU=Bench,DC=source,DC=test (sAMAccountType=805306368) $attrs"
echo "## ad provider"
echo
echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) on the shared 2-core CI machine (load average $(cut -d' ' -f1-3 /proc/loadavg) at start), Samba $(samba -V | cut -d' ' -f2), lab DCs from lab/up.sh; command: \`lab/bench.sh $creates\`."
echo
if [ "$what" != apply ]; then
echo "### Discovery of 10,000 users (lab/seed.sh source Bench 10000 0 10: ten sub-OUs)"
echo
echo "${DISCOVER_ROUNDS:-3} rounds, interleaved so that the machine's load (other engineers' builds) hits all alike; wall time per full discovery:"
echo
echo "| round | ldapsearch | adshift 1 conn | adshift 2 conns | adshift 4 conns |"
echo "|---|---|---|---|---|"
for ((i = 1; i <= ${DISCOVER_ROUNDS:-3}; i++)); do
	row="| $i"
	s=$(date +%s.%N)
	n=$(ldap source $search_cmd | grep -c '^dn:')
	t=$(secs "$s")
	[ "$n" = 10000 ] || { echo "ldapsearch returned $n entries" >&2; exit 1; }
	row="$row | $(printf %.2f "$t") s"
	for c in 1 2 4; do
		ns=$(go test ./providers/ad -run '^$' -bench "Discover10k/connections=$c\$" -benchtime 1x -count 1 2>&1 | awk '/^BenchmarkDiscover10k/ {print $3}')
		[ -n "$ns" ] || { echo "benchmark failed" >&2; exit 1; }
		row="$row | $(echo "scale=2; $ns / 1000000000" | bc) s"
	done
	echo "$row |"
done
echo
echo "ldapsearch: \`$search_cmd > /dev/null\` (LDAPS, bound as the admin);"
echo "adshift: \`go test ./providers/ad -run '^\$' -bench 'Discover10k/connections=N\$' -benchtime 1x\` (Discover with page size 1000, objects converted and emitted per page)."
echo
fi
[ "$what" = discover ] && exit 0
rounds=${ROUNDS:-4}; per=$((creates / rounds))
echo "### Apply of $creates creates (users, created disabled, marker attribute) into empty OUs of the target"
echo
echo "$rounds rounds of $per creates per tool, interleaved (the machine's load swings by 3x within minutes); seconds per round."
echo "Every run starts from the same database: the target DC is stopped, reset to a copy of a freshly provisioned"
echo "one, and started before each tool's run (untimed). The DC slows down as its database grows (Samba rewrites"
echo "index records that list every object of a class, and tdb files never shrink), which would otherwise favour"
echo "whichever tool ran first. The order of the tools still rotates, so that the machine's load drifts hit all alike."
echo
echo "| round | order | ldapadd | adds only | adshift 1 writer (default) | adshift 4 writers |"
echo "|---|---|---|---|---|---|"
tools=(l a 1 4)
declare -A names=([l]=ldapadd [a]="adds only" [1]="adshift 1 writer" [4]="adshift 4 writers")
declare -A tot=([l]=0 [a]=0 [1]=0 [4]=0) cpu=([l]=0 [a]=0 [1]=0 [4]=0) took
ldif=$(mktemp); bin=$(mktemp)
go test -c -o "$bin" ./providers/ad
# A freshly provisioned target, kept stopped as $snap; fresh_target puts a
# copy of it in place of the target's database and starts it.
snap="$RUN_DIR/target.fresh"
"$LAB_DIR/dc.sh" stop target 2>/dev/null
rm -rf "$(dc_dir target)" "$snap"
"$LAB_DIR/up.sh" >/dev/null 2>&1 || die "provisioning a fresh target failed"
"$LAB_DIR/dc.sh" stop target 2>/dev/null
cp -a "$(dc_dir target)" "$snap"
rm -f "$snap"/pid/*.pid # a stale pid could be another process's by now
fresh_target() {
	"$LAB_DIR/dc.sh" stop target 2>/dev/null
	rm -rf "$(dc_dir target)"
	cp -a "$snap" "$(dc_dir target)"
	cp "$snap/tls/ca.pem" "$(dc_ca target)" # the copy's CA, should the lab have been re-provisioned meanwhile
	"$LAB_DIR/dc.sh" start target 2>/dev/null
}
# Leave a fresh target behind, running.
trap 'rm -f "$ldif" "$bin"; fresh_target; rm -rf "$snap"' EXIT
run_tool() { # run_tool l|a|1|4 ROUND: one round of one tool; sets took[tool]
	local tool=$1 r=$2 c0 s ns
	fresh_target
	c0=$(dc_cpu target)
	if [ "$tool" = l ]; then
		s=$(date +%s.%N)
		ldap target ldapadd -f "$ldif" >/dev/null
		took[l]=$(secs "$s")
	else
		local writers=$tool only=
		[ "$tool" = a ] && writers=1 only=${ADDS_ONLY_DEPTH:-1}
		ns=$(cd providers/ad && ADSHIFT_BENCH_CREATES=$per ADSHIFT_BENCH_WRITERS=$writers ADSHIFT_BENCH_ADDS_ONLY=$only "$bin" -test.run '^$' -test.bench ApplyCreates -test.benchtime 1x -test.timeout 60m 2>&1 | awk '/^BenchmarkApplyCreates/ {print $3}')
		[ -n "$ns" ] || { echo "apply benchmark failed" >&2; exit 1; }
		took[$tool]=$(echo "scale=3; $ns / 1000000000" | bc)
	fi
	tot[$tool]=$(echo "${tot[$tool]} + ${took[$tool]}" | bc)
	cpu[$tool]=$(echo "${cpu[$tool]} + $(dc_cpu target) - $c0" | bc)
}
for ((r = 1; r <= rounds; r++)); do
	ou="OU=BenchLdapadd-$$-$r,DC=target,DC=test"
	{
		printf 'dn: %s\nobjectClass: organizationalUnit\n\n' "$ou"
		for ((j = 0; j < per; j++)); do
			printf -v sam 'l%d%d-%05d' $(($$ % 10000)) $r $j
			printf 'dn: CN=%s,%s\nobjectClass: user\nsAMAccountName: %s\nuserPrincipalName: %s@target.test\ngivenName: Bench\nsn: %s\ndisplayName: Bench %s\nmail: %s@target.test\nuserAccountControl: 514\nadminDescription: adshift\n\n' \
				"$sam" "$ou" "$sam" "$sam" "$sam" "$sam" "$sam"
		done
	} >"$ldif"
	order=""
	for ((k = 0; k < ${#tools[@]}; k++)); do
		tool=${tools[$(((r - 1 + k) % ${#tools[@]}))]}
		run_tool "$tool" "$r"
		order="$order${order:+, }${names[$tool]}"
	done
	row="| $r | $order"
	for tool in "${tools[@]}"; do row="$row | $(printf %.1f "${took[$tool]}")"; done
	echo "$row |"
done
rate() { echo "scale=1; $creates / $1" | bc; }
ms() { echo "scale=1; 1000 * $1 / $creates" | bc; }
row="| **total** |"; crow="| DC CPU per create |"
for tool in "${tools[@]}"; do
	row="$row | **$(printf %.0f "${tot[$tool]}") s = $(rate "${tot[$tool]}")/s ($(printf %.2f "$(echo "scale=4; ${tot[l]} / ${tot[$tool]}" | bc)")x)**"
	crow="$crow | $(ms "${cpu[$tool]}") ms"
done
echo "$row |"
echo "$crow |"
echo
echo "- ldapadd: \`ldapadd -f users.ldif\` (one OU + $per users per round, one connection, LDAPS; the LDIF is written before the timing)."
echo "- adshift: \`ADSHIFT_BENCH_CREATES=$per ADSHIFT_BENCH_WRITERS=N go test ./providers/ad -run '^\$' -bench ApplyCreates -benchtime 1x\`,"
echo "  timed like ldapadd's run: Configure (connect, bind), then Apply of the OU and of $per OpCreate user changes; each create is"
echo "  an add on a write connection plus a read-back of objectGUID, objectSid and uSNChanged for the Result, on one of the 4 read connections."
echo "- adds only: the same benchmark with \`ADSHIFT_BENCH_ADDS_ONLY=${ADDS_ONLY_DEPTH:-1}\`: the provider's add requests on one connection,"
echo "  ${ADDS_ONLY_DEPTH:-1} in flight at once (1: one after the other, as ldapadd sends them), and no read-back."
