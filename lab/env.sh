#!/usr/bin/env bash
# lab/env.sh — print `export ...` lines describing the running lab, for tests:
#   eval "$(lab/env.sh)"
set -euo pipefail
. "$(dirname "$0")/common.sh"

q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
echo "export ADSHIFT_LAB=1"
echo "export ADSHIFT_LAB_DIR=$(q "$LAB_DIR")"
echo "export ADSHIFT_LAB_PASSWORD=$(q "$LAB_PASSWORD")"
for dc in "${LAB_DCS[@]}"; do
	up="$(echo "$dc" | tr a-z A-Z)"
	echo "export ADSHIFT_LAB_${up}_URL=$(q "$(dc_url "$dc")")"
	echo "export ADSHIFT_LAB_${up}_CA=$(q "$(dc_ca "$dc")")"
	echo "export ADSHIFT_LAB_${up}_ADMIN=$(q "$(dc_admin "$dc")")"
	echo "export ADSHIFT_LAB_${up}_BASE=$(q "$(dc_base "$dc")")"
	echo "export ADSHIFT_LAB_${up}_DOMAIN=$(q "${dc}.test")"
	echo "export ADSHIFT_LAB_${up}_SMBCONF=$(q "$(dc_dir "$dc")/etc/smb.conf")"
done
