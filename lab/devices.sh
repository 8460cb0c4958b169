#!/usr/bin/env bash
# lab/devices.sh [make] [options] N [DIR] — make N lab devices (ws001…) in DIR
# (default $RUN_DIR/devices, i.e. lab/.run/devices), each really joined to source.test;
# lab/devices.sh remove [DIR] — leave, delete their accounts and directories;
# lab/devices.sh agents -hub URL -token SECRET -ca-fingerprint sha256:… [DIR] — run their agents.
# Options: -unsupported K -users U -target-users -files F -parallel P -prefix P.
# Needs the running lab (lab/up.sh); idempotent. A relative DIR is taken from the caller's directory.
set -euo pipefail
. "$(dirname "$0")/common.sh"
eval "$("$LAB_DIR/env.sh")"
export ADSHIFT_LAB_DEVICES="${ADSHIFT_LAB_DEVICES:-$RUN_DIR/devices}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go build -C "$LAB_DIR/.." -o "$tmp/labdevice" ./internal/labdevice/cmd
rc=0
"$tmp/labdevice" "$@" || rc=$?
exit "$rc"
