#!/usr/bin/env bash
# lab/dc.sh stop|start|status NAME — control one lab DC (source or target).
# Tests use it to stop the target DC in the middle of an apply.
set -euo pipefail
. "$(dirname "$0")/common.sh"

cmd=${1:?usage: dc.sh stop|start|status NAME}; dc=${2:?usage: dc.sh stop|start|status NAME}
[ -n "$(dc_realm "$dc")" ] || die "unknown DC $dc (source or target)"
case "$cmd" in
stop)
	if dc_running "$dc"; then
		pid="$(dc_pid "$dc")"
		kill "$pid"
		for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
		log "$dc: stopped (pid $pid)"
	else
		log "$dc: not running"
	fi
	;;
start)
	dc_running "$dc" || dc_start "$dc"
	dc_wait "$dc" 90 || die "$dc: LDAPS did not answer within 90 s"
	log "$dc: ready at $(dc_url "$dc")"
	;;
status)
	if dc_running "$dc" && dc_ldaps_ok "$dc"; then echo "$dc: up $(dc_url "$dc")"; else echo "$dc: down"; exit 1; fi
	;;
*) die "unknown command $cmd" ;;
esac
