#!/usr/bin/env bash
# up.sh DIR: a local Tryton 6.0 server with what erpbridge's default Tryton
# mapping needs, its state kept under DIR (see docs/erp-tryton.md).
#
# The first run creates DIR/trytond.conf and the SQLite database
# DIR/db/erpbridge.sqlite, activates the modules, and runs setup.py (a
# company in CNY, a chart of accounts, a fiscal year, payment terms, service
# products and the user erpbridge). Every run starts trytond on a free
# loopback port in the background unless it is already running, waits until
# JSON-RPC answers, and prints exactly these lines on stdout:
#
#   TRYTON_URL=http://127.0.0.1:<port>/
#   TRYTON_DATABASE=erpbridge
#   TRYTON_USER=erpbridge
#   TRYTON_PASSWORD=<password>
#
# Progress goes to stderr; the server's log is DIR/trytond.log. A second run
# on the same DIR reuses the database. down.sh DIR stops the server.
set -euo pipefail

DB=erpbridge
LOGIN=erpbridge
MODULES=(party company currency account account_invoice product sale)
START_TIMEOUT=60

log() { printf 'tryton up: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: up.sh DIR"
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONF=$DIR/trytond.conf
PIDFILE=$DIR/trytond.pid

TRYTOND=$(command -v trytond) || die "trytond not found: apt-get install tryton-server tryton-modules-sale"
TRYTOND_ADMIN=$(command -v trytond-admin) || die "trytond-admin not found: apt-get install tryton-server"
# The Python that trytond runs on (its #! line), for setup.py and probes.
read -r SHEBANG <"$TRYTOND"
PYTHON=${SHEBANG#\#!}
case $PYTHON in
/usr/bin/env\ *) PYTHON=${PYTHON#/usr/bin/env } ;;
esac
PYTHON=${PYTHON%% *}

running_pid() {
	local pid
	[ -f "$PIDFILE" ] || return 1
	pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q trytond || return 1
	echo "$pid"
}

# free_port PREFERRED: PREFERRED when it is free on 127.0.0.1 (so the server
# keeps its URL across restarts), else any free port.
free_port() {
	"$PYTHON" - "$1" <<'EOF'
import socket, sys
for port in (int(sys.argv[1]), 0):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(('127.0.0.1', port))
    except OSError:
        s.close()
        continue
    print(s.getsockname()[1])
    s.close()
    break
EOF
}

# answers PORT: JSON-RPC answers on PORT (common.server.version).
answers() {
	"$PYTHON" - "$1" <<'EOF' >/dev/null 2>&1
import json, sys, urllib.request
req = urllib.request.Request(
    'http://127.0.0.1:%s/' % sys.argv[1],
    data=json.dumps({'id': 0, 'method': 'common.server.version', 'params': []}).encode(),
    headers={'Content-Type': 'application/json'})
with urllib.request.urlopen(req, timeout=2) as resp:
    sys.exit(0 if 'result' in json.load(resp) else 1)
EOF
}

random_secret() {
	"$PYTHON" -c 'import secrets; print(secrets.token_hex(16))'
}

write_conf() {
	umask 077
	cat >"$CONF" <<EOF
# Written by deploy/tryton/up.sh; rewritten on every start.
[database]
uri = sqlite://
path = $DIR/db
list = False

[web]
listen = 127.0.0.1:$1
EOF
}

print_env() {
	printf 'TRYTON_URL=http://127.0.0.1:%s/\n' "$1"
	printf 'TRYTON_DATABASE=%s\n' "$DB"
	printf 'TRYTON_USER=%s\n' "$LOGIN"
	printf 'TRYTON_PASSWORD=%s\n' "$(cat "$DIR/password")"
}

if pid=$(running_pid); then
	port=$(cat "$DIR/port")
	if answers "$port"; then
		log "trytond already running (pid $pid) on port $port"
		print_env "$port"
		exit 0
	fi
	die "trytond (pid $pid) runs but does not answer on port $port: see $DIR/trytond.log, or run down.sh $DIR"
fi

started=$(date +%s)
if [ ! -f "$DIR/.ready" ]; then
	log "creating database $DB under $DIR"
	rm -rf "$DIR/db"
	mkdir -p "$DIR/db"
	: >"$DIR/db/$DB.sqlite"
	(umask 077 && random_secret >"$DIR/admin-password" && random_secret >"$DIR/password")
	write_conf 0
	log "activating ${MODULES[*]} (and their dependencies)"
	TRYTONPASSFILE=$DIR/admin-password "$TRYTOND_ADMIN" -c "$CONF" -d "$DB" --all --email admin@example.invalid \
		-u "${MODULES[@]}" --activate-dependencies >"$DIR/setup.log" 2>&1 ||
		die "trytond-admin failed: see $DIR/setup.log"
	log "creating company, chart of accounts, fiscal year, products and user $LOGIN"
	"$PYTHON" "$HERE/setup.py" "$CONF" "$DB" "$LOGIN" <"$DIR/password" >>"$DIR/setup.log" 2>&1 ||
		die "setup.py failed: see $DIR/setup.log"
	touch "$DIR/.ready"
	log "database ready in $(($(date +%s) - started))s"
fi

previous=$(cat "$DIR/port" 2>/dev/null || true)
[[ $previous =~ ^[0-9]+$ ]] || previous=0
port=$(free_port "$previous")
write_conf "$port"
echo "$port" >"$DIR/port"
log "starting trytond on 127.0.0.1:$port (log: $DIR/trytond.log)"
rm -f "$PIDFILE"
# setsid: the server outlives this script and the caller's process group.
setsid "$TRYTOND" -c "$CONF" -d "$DB" --pidfile "$PIDFILE" </dev/null >>"$DIR/trytond.log" 2>&1 &
launched=$!

deadline=$(($(date +%s) + START_TIMEOUT))
until answers "$port"; do
	if ! kill -0 "$launched" 2>/dev/null; then
		tail -n 20 "$DIR/trytond.log" >&2 || true
		die "trytond exited before answering: see $DIR/trytond.log"
	fi
	if [ "$(date +%s)" -ge "$deadline" ]; then
		kill "$launched" 2>/dev/null || true
		die "trytond did not answer on port $port within ${START_TIMEOUT}s: see $DIR/trytond.log"
	fi
	sleep 0.2
done
[ -s "$PIDFILE" ] || echo "$launched" >"$PIDFILE"
log "trytond answers on port $port ($(($(date +%s) - started))s)"
print_env "$port"
