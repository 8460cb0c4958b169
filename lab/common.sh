# shellcheck shell=bash
# Shared settings of the lab scripts; sourced, never run.
# Two Samba AD DCs on loopback: source.test on 127.0.0.2, target.test on 127.0.0.3.

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUN_DIR="${ADSHIFT_LAB_RUN:-$LAB_DIR/.run}"
# A fixed password is fine for a throwaway loopback lab; the product never logs it.
LAB_PASSWORD="${ADSHIFT_LAB_PASSWORD:-Adshift-Lab-Pa55!}"
LAB_DCS=(source target)

dc_realm()  { case "$1" in source) echo SOURCE.TEST ;; target) echo TARGET.TEST ;; esac; }
dc_domain() { case "$1" in source) echo SOURCE ;; target) echo TARGET ;; esac; }
dc_ip()     { case "$1" in source) echo 127.0.0.2 ;; target) echo 127.0.0.3 ;; esac; }
dc_base()   { case "$1" in source) echo DC=source,DC=test ;; target) echo DC=target,DC=test ;; esac; }
dc_host()   { echo "dc1.${1}.test"; }
# dc_services NAME: the smb.conf "server services" of a DC. Both run
# Samba's full default set: lab devices join the source (net ads join) and
# the target (offline domain join, net offlinejoin provision), and prove it
# with net ads testjoin; all of that needs the RPC and SMB services.
dc_services() {
	echo "s3fs, rpc, nbt, wrepl, ldap, cldap, kdc, drepl, winbindd, ntp_signd, kcc, dnsupdate, dns"
}
# The /etc/hosts lines that resolve each DC's host name (SMB/RPC clients such
# as net offlinejoin need it; the DCs' own DNS is not the machine's resolver).
HOSTS_MARK="# adshift lab"
dc_dir()    { echo "$RUN_DIR/$1"; }
dc_ca()     { echo "$RUN_DIR/$1-ca.pem"; }
dc_url()    { echo "ldaps://$(dc_ip "$1"):636"; }
dc_admin()  { echo "Administrator@$(dc_realm "$1")"; }

log() { printf 'lab: %s\n' "$*" >&2; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

dc_pid() {
	local f; f="$(dc_dir "$1")/pid/samba.pid"
	[ -s "$f" ] && cat "$f"
}

dc_running() {
	local pid; pid="$(dc_pid "$1")" || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# dc_ldaps_ok NAME: LDAPS answers a bound rootDSE read with certificate verification on.
dc_ldaps_ok() {
	LDAPTLS_CACERT="$(dc_ca "$1")" LDAPTLS_REQCERT=demand timeout 5 \
		ldapsearch -LLL -o nettimeout=3 -H "$(dc_url "$1")" -x -D "$(dc_admin "$1")" -y "$RUN_DIR/password" \
		-b "" -s base dnsHostName >/dev/null 2>&1
}

# dc_wait NAME SECONDS: poll LDAPS until it answers or the bound runs out.
dc_wait() {
	local i
	for ((i = 0; i < $2 * 4; i++)); do
		dc_ldaps_ok "$1" && return 0
		# No pid file yet: the daemon is still starting (dc_start removes
		# a stale one first, so a pid file names this run's process).
		if [ -s "$(dc_dir "$1")/pid/samba.pid" ]; then
			dc_running "$1" || { log "$1: samba exited; see $(dc_dir "$1")/log*"; return 1; }
		fi
		sleep 0.25
	done
	return 1
}

# dc_start NAME starts a DC's samba as a daemon without the caller's open
# file descriptors beyond stdio: a daemon that inherits, say, a flock(1) lock
# holds it for as long as it runs.
dc_start() {
	rm -f "$(dc_dir "$1")/pid/samba.pid"
	(
		for fd in /proc/$BASHPID/fd/*; do
			n=${fd##*/}
			[ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"
		done
		exec samba -s "$(dc_dir "$1")/etc/smb.conf" -D
	)
}

