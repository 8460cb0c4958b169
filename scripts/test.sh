#!/usr/bin/env bash
# The project's test command (README, .ci/run): vet, the Samba AD lab when
# this machine can run it, then every test with the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

echo "== go vet"
go vet ./...

echo "== gofmt"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$bad" ]; then
	echo "gofmt would change:"; echo "$bad"; exit 1
fi

if [ "${ADSHIFT_LAB:-}" != "0" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "== lab: two Samba AD domain controllers (lab/up.sh)"
	lab/up.sh
	eval "$(lab/env.sh)"
else
	echo "== lab: skipped (needs root on Debian; set ADSHIFT_LAB=0 to skip on purpose)"
	echo "   tests that need the lab or python3-samba skip and say so"
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	# The hub's tests run its store suite on a throwaway PostgreSQL cluster
	# and the agent through an authenticating web proxy.
	if ! { command -v tinyproxy && ls /usr/lib/postgresql/*/bin/initdb; } >/dev/null 2>&1; then
		echo "== hub tests: installing postgresql and tinyproxy"
		apt-get install -y postgresql tinyproxy >/dev/null
	fi
else
	echo "== hub tests: PostgreSQL and proxy tests skip (they need root on Debian, or ADSHIFT_TEST_PG)"
fi

echo "== go test -race"
# Packages run one at a time: the lab DCs and the race detector share 2 cores.
go test -race -p 1 -timeout 25m ./...

echo "== done in $(( $(date +%s) - start ))s"
