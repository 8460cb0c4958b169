#!/usr/bin/env bash
# lab/seed.sh DC NAME USERS [MEMBERS] [OUS] — seed a lab DC over LDAPS with ldapadd.
#
# Creates OU=NAME under the domain, USERS disabled users spread over OUS
# sub-OUs (OU=p00..), and, when MEMBERS > 0, a global security group
# CN=NAME-big in OU=NAME holding the first MEMBERS users. The LDIF goes into
# the local DC database through Samba's own module stack (seed-load.py, which
# skips what exists, so an interrupted seed resumes). Idempotent: OU=NAME gets
# description "adshift-seed USERS MEMBERS OUS" when complete and is then left alone.
#   lab/seed.sh source Scale 3000 2000 4
set -euo pipefail
. "$(dirname "$0")/common.sh"

dc=${1:?usage: seed.sh DC NAME USERS [MEMBERS] [OUS]}; name=${2:?name}; users=${3:?users}
members=${4:-0}; ous=${5:-1}
[ -n "$(dc_realm "$dc")" ] || die "unknown DC $dc"
base="$(dc_base "$dc")"; ou="OU=$name,$base"; stamp="adshift-seed $users $members $ous"

ldap() {
	local cmd=$1; shift
	LDAPTLS_CACERT="$(dc_ca "$dc")" LDAPTLS_REQCERT=demand \
		"$cmd" -H "$(dc_url "$dc")" -x -D "$(dc_admin "$dc")" -y "$RUN_DIR/password" "$@"
}

if ldap ldapsearch -LLL -b "$ou" -s base "(description=$stamp)" dn 2>/dev/null | grep '^dn:' >/dev/null; then
	log "$dc: $ou already seeded ($stamp)"
	exit 0
fi

start=$(date +%s)
ldif="$(mktemp)"; trap 'rm -f "$ldif"' EXIT
awk -v ou="$ou" -v name="$name" -v users="$users" -v members="$members" -v ous="$ous" -v realm="${dc}.test" '
BEGIN {
	printf "dn: %s\nobjectClass: organizationalUnit\n\n", ou
	for (p = 0; p < ous; p++) printf "dn: OU=p%02d,%s\nobjectClass: organizationalUnit\n\n", p, ou
	for (i = 0; i < users; i++) {
		u = sprintf("%s-u%05d", tolower(name), i)
		printf "dn: CN=%s,OU=p%02d,%s\nobjectClass: user\nsAMAccountName: %s\n", u, i % ous, ou, u
		printf "userPrincipalName: %s@%s\ngivenName: Seed\nsn: User %05d\ndisplayName: Seed User %05d\n", u, realm, i, i
		printf "mail: %s@%s\ndepartment: Dept %d\nuserAccountControl: 514\n\n", u, realm, i % 17
	}
	if (members > 0) {
		printf "dn: CN=%s-big,%s\nobjectClass: group\nsAMAccountName: %s-big\ngroupType: -2147483646\n", name, ou, tolower(name)
		for (i = 0; i < members; i++) printf "member: CN=%s-u%05d,OU=p%02d,%s\n", tolower(name), i, i % ous, ou
		printf "\n"
	}
}' >"$ldif"
/usr/bin/python3 "$LAB_DIR/seed-load.py" "$(dc_dir "$dc")/etc/smb.conf" "$ldif"
printf 'dn: %s\nchangetype: modify\nreplace: description\ndescription: %s\n' "$ou" "$stamp" | ldap ldapmodify >/dev/null
log "$dc: seeded $ou with $users users in $ous OUs, group of $members in $(($(date +%s) - start)) s"
