#!/usr/bin/env bash
# bench/wave.sh — one device wave of N simulated devices applied with
# `adshift apply` through a real hub: wall time from the start of apply to
# its end (the last device's result recorded in state), and plan time.
#
#   N=1000 BATCH=1000 bench/wave.sh        # prints one Markdown table row
#
# Everything runs as processes on loopback: adshift hub serve (SQLite),
# adshift-agent simulate (N agents of the lab backend, no domain join), and
# adshift plan/apply with two ldif snapshots holding the N computers (each
# matched in the target, so every device is ready). The wave's actions are
# upload_logs and download: real file work on each simulated device, no
# directory controller needed.
set -euo pipefail
N=${N:-1000}
BATCH=${BATCH:-$N}
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

(cd "$root" && go build -o "$work/adshift" ./cmd/adshift && go build -o "$work/adshift-agent" ./cmd/adshift-agent)

"$work/adshift" hub serve -data "$work/hub" -listen 127.0.0.1:0 >"$work/hub.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do [ -s "$work/hub/hub.url" ] && break; sleep 0.1; done
url="$(cat "$work/hub/hub.url")"
"$work/adshift" hub token create -data "$work/hub" -uses "$N" -json >"$work/token.json"
secret="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"]["secret"])' "$work/token.json")"
fp="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"]["ca_fingerprint"])' "$work/token.json")"

"$work/adshift-agent" simulate -n "$N" -prefix sim -hub "$url" -ca-fingerprint "$fp" \
	-token "$secret" -data-dir "$work/agents" -heartbeat 10s -poll-wait 30s >"$work/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 1200); do grep -q "agents ready" "$work/sim.log" 2>/dev/null && break; sleep 0.1; done
grep -q "agents ready" "$work/sim.log" || { cat "$work/sim.log" >&2; exit 1; }

# Two ldif snapshots: N computers in the source, the same N pre-staged in
# the target, matched by sAMAccountName.
python3 - "$N" "$work" <<'EOF'
import sys
n, work = int(sys.argv[1]), sys.argv[2]
for side, base in (("source", "DC=source,DC=test"), ("target", "DC=target,DC=test")):
    with open(f"{work}/{side}.ldif", "w") as f:
        f.write(f"dn: {base}\nobjectClass: domain\n\ndn: OU=Devices,{base}\nobjectClass: organizationalUnit\n\n")
        for i in range(1, n + 1):
            name = f"SIM-{i:05d}"
            f.write(f"dn: CN={name},OU=Devices,{base}\nobjectClass: computer\nsAMAccountName: {name}$\n"
                    f"operatingSystem: Windows 10 Pro\noperatingSystemVersion: 10.0 (19045)\nuserAccountControl: 4096\n\n")
EOF
mkdir -p "$work/config" "$work/repo"
echo "bench" >"$work/repo/readme.txt"
cat >"$work/config/main.hcl" <<EOF
variable "hub_token" {
  type      = string
  sensitive = true
}
environment "source" {
  provider          = "ldif"
  file              = "$work/source.ldif"
  domain            = "source.test"
  domain_controller = "dc1.source.test"
  base_dn           = "DC=source,DC=test"
  include           = ["devices"]
}
environment "target" {
  provider          = "ldif"
  file              = "$work/target.ldif"
  domain            = "target.test"
  domain_controller = "dc1.target.test"
  base_dn           = "DC=target,DC=test"
  include           = ["devices"]
}
workflow "devices" {
  source = environment.source
  target = environment.target
  steps  = ["read", "match"]
  match { devices = ["sAMAccountName"] }
}
hub "bench" {
  url     = "$url"
  token   = var.hub_token
  ca_file = "$work/hub/server-ca.pem"
}
repository "share" { path = "$work/repo" }
device_cutover "wave" {
  workflow     = workflow.devices
  hub          = hub.bench
  repository   = repository.share
  actions      = ["upload_logs", "download"]
  download     = ["readme.txt"]
  batch_size   = $BATCH
  max_failures = $N
}
EOF
export ADSHIFT_VAR_hub_token="$(cat "$work/hub/admin.token")"
# Every agent must have reported its inventory (they start over -ramp):
# plan until all N devices are ready, then time the last plan.
for _ in $(seq 60); do
	"$work/adshift" -chdir="$work/config" plan -no-color >"$work/plan.txt" || true
	grep -q "Devices: $N ready" "$work/plan.txt" && break
	sleep 2
done
t0=$(date +%s.%N)
"$work/adshift" -chdir="$work/config" plan -out wave.plan -no-color >"$work/plan.txt"
t1=$(date +%s.%N)
"$work/adshift" -chdir="$work/config" apply -json wave.plan >"$work/apply.jsonl"
t2=$(date +%s.%N)
grep -q "Devices: $N ready" "$work/plan.txt" || { grep "^Plan:" "$work/plan.txt" >&2; echo "not every device is ready" >&2; exit 1; }
ok=$(grep '"type":"device_done"' "$work/apply.jsonl" | grep -c '"status":"succeeded"' || true)
results=$(grep -c '"type":"device_action"' "$work/apply.jsonl" || true)
[ "$ok" = "$N" ] || { tail -5 "$work/apply.jsonl" >&2; echo "$ok of $N devices succeeded" >&2; exit 1; }
printf '| %d | %d | %.1f s | %.1f s | %d | %d |\n' "$N" "$BATCH" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "$ok" "$results"
