#!/usr/bin/env bash
# lab/up.sh — install Samba and bring up the two lab AD domain controllers.
#
#   source.test  SOURCE  127.0.0.2  ldaps://127.0.0.2:636
#   target.test  TARGET  127.0.0.3  ldaps://127.0.0.3:636
#
# Idempotent: a DC whose LDAPS already answers is reused; a provisioned but
# stopped DC is started; a missing one is provisioned (both in parallel).
# State lives in lab/.run/ (gitignored). Needs root. Then: eval "$(lab/env.sh)".
set -euo pipefail
. "$(dirname "$0")/common.sh"

[ "$(id -u)" = 0 ] || die "run as root (installs packages, adds loopback addresses, runs samba)"
start=$(date +%s)

install_packages() {
	# samba-testsuite: ndrdump, the independent decoder odj's tests check blobs with.
	local pkgs=(samba samba-ad-dc samba-ad-provision samba-dsdb-modules samba-vfs-modules winbind
		ldap-utils krb5-user python3-samba samba-testsuite openssl iproute2)
	local missing=() p
	for p in "${pkgs[@]}"; do
		# grep without -q: under pipefail, -q's early exit can SIGPIPE the writer
		# and turn a match into a failure.
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q -o DPkg::Lock::Timeout=900 --no-install-recommends "${missing[@]}" >/dev/null
}

add_addresses() {
	local dc ip
	for dc in "${LAB_DCS[@]}"; do
		ip="$(dc_ip "$dc")"
		ip -4 addr show dev lo | grep "inet $ip/" >/dev/null || ip addr add "$ip/32" dev lo
	done
}

# make_certs NAME: a lab CA per domain and a server certificate with subjectAltName.
make_certs() {
	local dc=$1 d; d="$(dc_dir "$dc")/tls"
	[ -s "$d/cert.pem" ] && [ -s "$(dc_ca "$dc")" ] && return 0
	mkdir -p "$d"; chmod 700 "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=adshift lab CA $(dc_realm "$dc")" \
		-keyout "$d/ca-key.pem" -out "$d/ca.pem" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=$(dc_host "$dc")" \
		-keyout "$d/key.pem" -out "$d/req.pem" 2>/dev/null
	printf 'subjectAltName=IP:%s,DNS:%s,DNS:%s.test\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' \
		"$(dc_ip "$dc")" "$(dc_host "$dc")" "$dc" >"$d/ext.cnf"
	openssl x509 -req -in "$d/req.pem" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial \
		-days 3650 -sha256 -extfile "$d/ext.cnf" -out "$d/cert.pem" 2>/dev/null
	chmod 600 "$d/key.pem" "$d/ca-key.pem"
	cp "$d/ca.pem" "$(dc_ca "$dc")"
}

provision() {
	local dc=$1 dir tmp; dir="$(dc_dir "$dc")"; tmp="$dir.provisioning"
	rm -rf "$tmp"; mkdir -p "$tmp/pid"
	log "$dc: provisioning $(dc_realm "$dc") on $(dc_ip "$dc")"
	samba-tool domain provision --realm="$(dc_realm "$dc")" --domain="$(dc_domain "$dc")" --server-role=dc \
		--dns-backend=SAMBA_INTERNAL --adminpass="$LAB_PASSWORD" --host-ip="$(dc_ip "$dc")" \
		--host-name=dc1 --targetdir="$tmp" \
		--option="interfaces=$(dc_ip "$dc")" --option="bind interfaces only=yes" \
		--option="dns forwarder=127.0.0.1" --option="pid directory=$dir/pid" \
		--option="log file=$dir/log" --option="server services=$(dc_services "$dc")" \
		--option="lock directory=$dir/lock" --option="state directory=$dir/state" \
		--option="cache directory=$dir/cache" --option="ncalrpc dir=$dir/ncalrpc" \
		>"$tmp.log" 2>&1 || { cat "$tmp.log" >&2; die "$dc: provision failed"; }
	# Provision wrote absolute paths of $tmp into smb.conf; move it into place and fix them.
	mv "$tmp.log" "$tmp/provision.log"
	rm -rf "$dir"; mv "$tmp" "$dir"
	sed -i "s#$tmp#$dir#g" "$dir/etc/smb.conf"
	mkdir -p "$dir/pid" "$dir/lock" "$dir/state" "$dir/cache" "$dir/ncalrpc"
}

configure_tls() {
	local dc=$1 dir; dir="$(dc_dir "$dc")"
	grep -q "^\s*tls certfile" "$dir/etc/smb.conf" && return 0
	sed -i "/^\[global\]/a\\
	tls enabled = yes\\
	tls keyfile = $dir/tls/key.pem\\
	tls certfile = $dir/tls/cert.pem\\
	tls cafile = $dir/tls/ca.pem" "$dir/etc/smb.conf"
}

# configure_services NAME: make smb.conf's "server services" what dc_services
# says. Returns 0 when it changed the file (a running DC must restart).
configure_services() {
	local dc=$1 conf want; conf="$(dc_dir "$dc")/etc/smb.conf"; want="$(dc_services "$dc")"
	[ -s "$conf" ] || return 1
	if grep -E "^\s*server services\s*=" "$conf" >/dev/null; then
		[ "$(sed -nE 's/^\s*server services\s*=\s*//p' "$conf" | tr -d ' ')" = "$(echo "$want" | tr -d ' ')" ] && return 1
		sed -i -E "s/^(\s*)server services\s*=.*/\1server services = $want/" "$conf"
	else
		sed -i "/^\[global\]/a\\
	server services = $want" "$conf"
	fi
	log "$dc: server services = $want"
	return 0
}

# configure_hosts: one /etc/hosts line per DC host name, marked so that
# re-runs replace rather than add, and down.sh can remove them. /etc/hosts
# is rewritten in place (it may be a bind mount that rename cannot replace).
configure_hosts() {
	local want="" dc cur
	for dc in "${LAB_DCS[@]}"; do want+="$(dc_ip "$dc") $(dc_host "$dc") $HOSTS_MARK"$'\n'; done
	cur="$(grep -F "$HOSTS_MARK" /etc/hosts || true)"
	[ "$cur"$'\n' = "$want" ] && return 0
	{ grep -vF "$HOSTS_MARK" /etc/hosts || true; printf '%s' "$want"; } >"$RUN_DIR/hosts.new"
	cat "$RUN_DIR/hosts.new" >/etc/hosts; rm -f "$RUN_DIR/hosts.new"
	log "/etc/hosts: $(echo "$want" | tr '\n' ';')"
}

bring_up() {
	local dc=$1 dir; dir="$(dc_dir "$dc")"
	if configure_services "$dc" && dc_running "$dc"; then
		log "$dc: restarting samba for its new services"
		"$LAB_DIR/dc.sh" stop "$dc"
	fi
	if dc_running "$dc" && dc_ldaps_ok "$dc"; then
		log "$dc: reusing running DC (pid $(dc_pid "$dc"), $(dc_url "$dc"))"
		return 0
	fi
	if dc_running "$dc"; then
		log "$dc: samba running (pid $(dc_pid "$dc")) but LDAPS not answering yet; waiting"
	else
		[ -s "$dir/private/sam.ldb" ] || provision "$dc"
		make_certs "$dc"
		configure_tls "$dc"
		log "$dc: starting samba"
		dc_start "$dc"
	fi
	dc_wait "$dc" 90 || die "$dc: LDAPS did not answer at $(dc_url "$dc") within 90 s; see $dir/log*"
	log "$dc: ready at $(dc_url "$dc")"
}

install_packages
add_addresses
mkdir -p "$RUN_DIR"; chmod 700 "$RUN_DIR"
printf '%s' "$LAB_PASSWORD" >"$RUN_DIR/password"; chmod 600 "$RUN_DIR/password"
configure_hosts

pids=()
for dc in "${LAB_DCS[@]}"; do
	bring_up "$dc" &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
[ $rc -eq 0 ] || die "lab bring-up failed"
log "up in $(($(date +%s) - start)) s; eval \"\$($LAB_DIR/env.sh)\" for the test environment"
