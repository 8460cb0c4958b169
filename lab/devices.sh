#!/usr/bin/env bash
# lab/devices.sh [make] [options] N [DIR] — make N lab devices (ws001…) in DIR
# (default lab/.run/devices), each really joined to source.test;
# lab/devices.sh remove [DIR] — leave, delete their accounts and directories;
# lab/devices.sh agents -hub URL -token SECRET -ca-fingerprint sha256:… [DIR] — run their agents.
# Options: -unsupported K -users U -target-users -files F -parallel P -prefix P.
# Needs the running lab (lab/up.sh); idempotent.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$LAB_DIR/.."
eval "$("$LAB_DIR/env.sh")"
exec go run ./internal/labdevice/cmd "$@"
