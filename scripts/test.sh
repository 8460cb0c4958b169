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

if [ "${ADSHIFT_CHROMIUM_INSTALL:-}" != "0" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! command -v chromium >/dev/null; then
	echo "== chromium for the show -html browser test (set ADSHIFT_CHROMIUM_INSTALL=0 to skip)"
	# apt may be locked by another install: wait for it rather than fail.
	for i in $(seq 1 30); do
		if DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core >/tmp/adshift-chromium-install.log 2>&1; then
			break
		fi
		if [ "$i" = 1 ]; then apt-get update >/dev/null 2>&1 || true; fi
		echo "   apt-get install chromium failed (attempt $i; locked?), retrying in 10s"; sleep 10
	done
	command -v chromium >/dev/null || { cat /tmp/adshift-chromium-install.log; exit 1; }
fi
# Screenshots and timings of the browser test go where CI keeps artifacts.
export ADSHIFT_ARTIFACTS="${ADSHIFT_ARTIFACTS:-$PWD/artifacts}"
mkdir -p "$ADSHIFT_ARTIFACTS"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	# The hub's tests run its store suite on a throwaway PostgreSQL cluster
	# and the agent through an authenticating web proxy.
	if ! { command -v tinyproxy && ls /usr/lib/postgresql/*/bin/initdb; } >/dev/null 2>&1; then
		echo "== hub tests: installing postgresql and tinyproxy"
		for i in $(seq 1 30); do
			if DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql tinyproxy >/tmp/adshift-hub-install.log 2>&1; then
				break
			fi
			if [ "$i" = 1 ]; then apt-get update >/dev/null 2>&1 || true; fi
			echo "   apt-get install postgresql tinyproxy failed (attempt $i; locked?), retrying in 10s"; sleep 10
		done
		command -v tinyproxy >/dev/null || { cat /tmp/adshift-hub-install.log; exit 1; }
	fi
else
	echo "== hub tests: PostgreSQL and proxy tests skip (they need root on Debian, or ADSHIFT_TEST_PG)"
fi

echo "== go test -race"
# Packages run one at a time: the lab DCs and the race detector share 2 cores.
go test -race -p 1 -timeout 25m ./...

echo "== done in $(( $(date +%s) - start ))s"
