#!/usr/bin/env bash
# lab/down.sh — stop both lab DCs. With --purge also delete lab/.run (the
# provisioned databases, certificates) and the loopback addresses.
set -euo pipefail
. "$(dirname "$0")/common.sh"

for dc in "${LAB_DCS[@]}"; do
	"$LAB_DIR/dc.sh" stop "$dc"
done
if grep -F "$HOSTS_MARK" /etc/hosts >/dev/null 2>&1; then
	grep -vF "$HOSTS_MARK" /etc/hosts >"/tmp/adshift-hosts.$$" || true
	cat "/tmp/adshift-hosts.$$" >/etc/hosts; rm -f "/tmp/adshift-hosts.$$"
	log "/etc/hosts: removed the lab lines"
fi
if [ "${1:-}" = "--purge" ]; then
	rm -rf "$RUN_DIR"
	for dc in "${LAB_DCS[@]}"; do ip addr del "$(dc_ip "$dc")/32" dev lo 2>/dev/null || true; done
	log "purged $RUN_DIR"
fi
