#!/usr/bin/env bash
# down.sh DIR: stop the trytond that up.sh DIR started. The database stays in
# DIR; up.sh DIR starts the server on it again.
set -euo pipefail

log() { printf 'tryton down: %s\n' "$*" >&2; }

[ $# -eq 1 ] && [ -n "$1" ] || { log "usage: down.sh DIR"; exit 1; }
[ -d "$1" ] || { log "$1: no such directory"; exit 0; }
DIR=$(cd "$1" && pwd)
PIDFILE=$DIR/trytond.pid

[ -f "$PIDFILE" ] || { log "not running (no $PIDFILE)"; exit 0; }
pid=$(cat "$PIDFILE")
if ! [[ $pid =~ ^[0-9]+$ ]] || ! kill -0 "$pid" 2>/dev/null ||
	! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q trytond; then
	log "not running (stale pid file)"
	rm -f "$PIDFILE"
	exit 0
fi

kill -TERM "$pid"
for _ in $(seq 1 100); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
	log "trytond (pid $pid) ignored SIGTERM for 10s; sending SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
fi
rm -f "$PIDFILE"
log "stopped trytond (pid $pid)"
