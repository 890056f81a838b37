#!/bin/sh
# Creates the secrets docker-compose.yml mounts, in SECRETS_DIR (default
# ./secrets): random database passwords, payload key and Grafana password,
# each only if missing (so running it again changes nothing). The vendors'
# and the ERP's secrets are theirs to give: this names the files to write.
#
# Files are mode 0644 in a 0700 directory: the containers' users (nonroot,
# mysql, postgres, grafana) must read them through the bind mount, and no
# other user of this host can reach the directory.
set -eu
dir=${SECRETS_DIR:-./secrets}
umask 077
mkdir -p "$dir"
chmod 700 "$dir"

random() { # name, command printing the secret
	f="$dir/$1"
	if [ -s "$f" ]; then
		echo "kept     $f"
		return
	fi
	sh -c "$2" | tr -d '\n' >"$f"
	chmod 644 "$f"
	echo "created  $f"
}
random mysql_root_password 'openssl rand -hex 24'
random erpbridge_db_password 'openssl rand -hex 24'
random temporal_db_password 'openssl rand -hex 24'
random grafana_admin_password 'openssl rand -hex 16'
# Keep this one: workflows written with it cannot be read without it.
random payload_key 'openssl rand -base64 32'

missing=
for name in autox3_app_secret fenbeitong_token erp_token; do
	[ -e "$dir/$name" ] || missing="$missing $name"
done
if [ -n "$missing" ]; then
	echo
	echo "Still to write, from the vendors and the ERP, one value per file, mode 0644"
	echo "(with an editor, not on a command line; an empty file refuses that vendor, or sends no ERP token):"
	for name in $missing; do
		echo "  $dir/$name"
	done
fi
