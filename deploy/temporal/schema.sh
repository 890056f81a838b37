#!/usr/bin/env bash
# Creates (if missing) and migrates the two databases of erpbridge's Temporal
# server, persistence and visibility, with Temporal's own schema tool and the
# schemas built into it. Safe to run at every start: a database that exists
# is kept and only brought to the tool's newest schema version.
#
# It reads the variables of config/erpbridge.yaml (see README.md here):
#   DB                    postgres12 (default), postgres12_pgx or mysql8
#   POSTGRES_SEEDS / MYSQL_SEEDS, DB_PORT, POSTGRES_USER / MYSQL_USER,
#   POSTGRES_PWD / MYSQL_PWD, DBNAME, VISIBILITY_DBNAME
# and TEMPORAL_SQL_TOOL, the schema tool (default: temporal-sql-tool on PATH;
# `make temporal-server` builds it into bin/, and Temporal's admin-tools
# image has it).
#
#   deploy/temporal/schema.sh            create and migrate both databases
#   deploy/temporal/schema.sh drop       drop both databases (no prompt)
set -euo pipefail

db=${DB:-postgres12}
case "$db" in
postgres12 | postgres12_pgx)
	host=${POSTGRES_SEEDS:?POSTGRES_SEEDS is not set}
	port=${DB_PORT:-5432}
	user=${POSTGRES_USER:-}
	pwd=${POSTGRES_PWD:-}
	schemas=postgresql/v12
	;;
mysql8)
	host=${MYSQL_SEEDS:?MYSQL_SEEDS is not set}
	port=${DB_PORT:-3306}
	user=${MYSQL_USER:-}
	pwd=${MYSQL_PWD:-}
	schemas=mysql/v8
	;;
*)
	echo "schema.sh: DB=$db: use postgres12, postgres12_pgx or mysql8" >&2
	exit 2
	;;
esac
tool=${TEMPORAL_SQL_TOOL:-temporal-sql-tool}

sqltool() {
	local database=$1
	shift
	"$tool" --plugin "$db" --endpoint "$host" --port "$port" --user "$user" --password "$pwd" --database "$database" "$@"
}

migrate() {
	local database=$1 schema=$2 out
	# create-database fails on an existing database; that one is kept.
	if ! out=$(sqltool "$database" create-database 2>&1); then
		if ! grep -qi "already exists" <<<"$out"; then
			echo "$out" >&2
			echo "schema.sh: cannot create database $database" >&2
			return 1
		fi
	fi
	# Version 0.0 only creates the version table (a no-op when it exists);
	# update-schema then applies every versioned step not yet applied. The
	# tool logs every statement; that is shown only when it fails.
	if ! out=$(sqltool "$database" setup-schema --version 0.0 2>&1) ||
		! out=$(sqltool "$database" update-schema --schema-name "$schemas/$schema" 2>&1); then
		echo "$out" >&2
		echo "schema.sh: cannot migrate $database" >&2
		return 1
	fi
	echo "schema.sh: $database is at the newest $schemas/$schema schema"
}

case "${1:-setup}" in
setup)
	migrate "${DBNAME:-temporal}" temporal
	migrate "${VISIBILITY_DBNAME:-temporal_visibility}" visibility
	;;
drop)
	for database in "${DBNAME:-temporal}" "${VISIBILITY_DBNAME:-temporal_visibility}"; do
		sqltool "$database" drop-database --force >/dev/null 2>&1 || true
		echo "schema.sh: dropped $database"
	done
	;;
*)
	echo "usage: schema.sh [setup|drop]" >&2
	exit 2
	;;
esac
