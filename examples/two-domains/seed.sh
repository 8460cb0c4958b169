#!/usr/bin/env bash
# Put the example estate (the quickstart's OU=Corp) into the lab's source.test
# DC over LDAPS. Idempotent: entries and members that exist are skipped.
# Needs the lab (lab/up.sh) and its environment (eval "$(lab/env.sh)").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${ADSHIFT_LAB_SOURCE_URL:?run: eval \"\$(lab/env.sh)\"}"
export LDAPTLS_CACERT="$ADSHIFT_LAB_SOURCE_CA"
pwfile="$(mktemp)"; trap 'rm -f "$pwfile"' EXIT
printf %s "$ADSHIFT_LAB_PASSWORD" >"$pwfile"   # mktemp makes it 0600; never on a command line
auth=(-H "$ADSHIFT_LAB_SOURCE_URL" -D "$ADSHIFT_LAB_SOURCE_ADMIN" -y "$pwfile")
ldapadd -c "${auth[@]}" -f "$here/seed.ldif" >/dev/null 2>&1 || true
ldapmodify -c "${auth[@]}" -f "$here/seed-members.ldif" >/dev/null 2>&1 || true
n=$(ldapsearch -LLL "${auth[@]}" -b "OU=Corp,DC=source,DC=test" "(|(objectClass=user)(objectClass=group))" dn | grep -c '^dn:')
echo "seed: OU=Corp,DC=source,DC=test holds $n users, computers and groups"
