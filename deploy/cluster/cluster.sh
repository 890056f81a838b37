#!/usr/bin/env bash
# erpbridge in its production shape on one machine, with no container engine:
# a Temporal cluster whose frontend, history, matching and worker services run
# as separate processes on PostgreSQL (persistence and SQL visibility, with
# erpbridge's search attributes), API and worker replicas of erpbridge on
# MariaDB/MySQL, and the ERP simulator. The Temporal server reads the same
# configuration as docker-compose.yml (deploy/temporal/).
#
#   deploy/cluster/cluster.sh up               build what is missing, start everything, wait until ready
#   deploy/cluster/cluster.sh status           what runs where
#   deploy/cluster/cluster.sh env              exports for erpbridge commands: eval "$(deploy/cluster/cluster.sh env)"
#   deploy/cluster/cluster.sh temporal ARGS    the pinned Temporal CLI, pointed at the cluster
#   deploy/cluster/cluster.sh stop NAME        SIGTERM one process and wait for it (graceful)
#   deploy/cluster/cluster.sh kill NAME        SIGKILL one process
#   deploy/cluster/cluster.sh start NAME       start one process again and wait until it is ready
#   deploy/cluster/cluster.sh logs NAME        follow one process's log
#   deploy/cluster/cluster.sh down [--purge]   stop everything; --purge also drops the databases and the state
#
# NAME is one of temporal-frontend, temporal-history, temporal-matching,
# temporal-worker (or just frontend, history, matching), api-1.., worker-1..,
# erpsim.
#
# Settings (environment, read by `up`, then kept in $CLUSTER_DIR/cluster.env
# for the other commands):
#   CLUSTER_DIR        state: logs, pids, certificates, the ERP simulator's file (default .data/cluster)
#   CLUSTER_NAME       prefix of the databases: <name>_temporal, <name>_visibility (PostgreSQL), <name> (MySQL)
#                      (default erpbridge_cluster)
#   CLUSTER_PORT_BASE  first of 20 consecutive loopback ports, all below 32768 (default 17200)
#   API_REPLICAS, WORKER_REPLICAS   erpbridge replicas (default 2 and 2)
#   NUM_HISTORY_SHARDS Temporal history shards, fixed at the first start (default 4)
#   CLUSTER_TLS=1      the frontend serves TLS and requires client certificates (mTLS); erpbridge and
#                      the CLI connect with TEMPORAL_TLS_CERT/KEY/CA/SERVER_NAME (certificates made with openssl)
#   PG_HOST, PG_PORT, PG_USER, PG_PASSWORD                      PostgreSQL (default 127.0.0.1:5432, postgres, none)
#   CLUSTER_MYSQL_HOST, CLUSTER_MYSQL_PORT, CLUSTER_MYSQL_USER, CLUSTER_MYSQL_PASSWORD
#                      the MySQL-compatible server of erpbridge's store (default 127.0.0.1:3306, root, none)
#   AUTOX3_APP_SECRET, FENBEITONG_TOKEN, ERP_TOKEN, PAYLOAD_KEY  (generated when unset)
#   ERP_RETRY_INITIAL, ERP_RETRY_MAX_INTERVAL, ERP_RETRY_BUDGET, ERP_TIMEOUT, SHUTDOWN_TIMEOUT  passed to erpbridge
#   CLUSTER_OWNER_PID  when set, the cluster is torn down and purged once that process is gone (tests)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SCRIPT="$ROOT/deploy/cluster/cluster.sh"
BIN="$ROOT/bin"
CLUSTER_DIR=${CLUSTER_DIR:-$ROOT/.data/cluster}
case "$CLUSTER_DIR" in /*) ;; *) CLUSTER_DIR="$PWD/$CLUSTER_DIR" ;; esac
ENV_FILE="$CLUSTER_DIR/cluster.env"
TEMPORAL_SERVICES=(temporal-history temporal-matching temporal-frontend temporal-worker)

log() { printf '%s cluster: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() {
	log "FAILED: $*"
	exit 1
}

# --- settings ----------------------------------------------------------------

# defaults fills every setting not set yet from its default.
defaults() {
	CLUSTER_NAME=${CLUSTER_NAME:-erpbridge_cluster}
	[[ "$CLUSTER_NAME" =~ ^[a-z][a-z0-9_]{0,40}$ ]] || die "CLUSTER_NAME=$CLUSTER_NAME: use lower-case letters, digits and _"
	CLUSTER_PORT_BASE=${CLUSTER_PORT_BASE:-17200}
	API_REPLICAS=${API_REPLICAS:-2}
	WORKER_REPLICAS=${WORKER_REPLICAS:-2}
	NUM_HISTORY_SHARDS=${NUM_HISTORY_SHARDS:-4}
	CLUSTER_TLS=${CLUSTER_TLS:-0}
	PG_HOST=${PG_HOST:-127.0.0.1}
	PG_PORT=${PG_PORT:-5432}
	PG_USER=${PG_USER:-postgres}
	PG_PASSWORD=${PG_PASSWORD:-}
	CLUSTER_MYSQL_HOST=${CLUSTER_MYSQL_HOST:-127.0.0.1}
	CLUSTER_MYSQL_PORT=${CLUSTER_MYSQL_PORT:-3306}
	CLUSTER_MYSQL_USER=${CLUSTER_MYSQL_USER:-root}
	CLUSTER_MYSQL_PASSWORD=${CLUSTER_MYSQL_PASSWORD:-}
	AUTOX3_APP_SECRET=${AUTOX3_APP_SECRET:-$(openssl rand -hex 16)}
	FENBEITONG_TOKEN=${FENBEITONG_TOKEN:-$(openssl rand -hex 16)}
	ERP_TOKEN=${ERP_TOKEN:-$(openssl rand -hex 16)}
	PAYLOAD_KEY=${PAYLOAD_KEY:-$(openssl rand -base64 32)}
	ERPBRIDGE_BIN=${ERPBRIDGE_BIN:-$CLUSTER_DIR/bin/erpbridge}
}

# settings resolves every setting from the environment and writes them to
# cluster.env, so later commands (and a replacement process) see the same.
settings() {
	defaults
	mkdir -p "$CLUSTER_DIR"
	local v
	{
		echo "# written by cluster.sh up; read by its other commands"
		for v in CLUSTER_NAME CLUSTER_PORT_BASE API_REPLICAS WORKER_REPLICAS NUM_HISTORY_SHARDS CLUSTER_TLS \
			PG_HOST PG_PORT PG_USER PG_PASSWORD CLUSTER_MYSQL_HOST CLUSTER_MYSQL_PORT CLUSTER_MYSQL_USER CLUSTER_MYSQL_PASSWORD \
			AUTOX3_APP_SECRET FENBEITONG_TOKEN ERP_TOKEN PAYLOAD_KEY ERPBRIDGE_BIN \
			ERP_RETRY_INITIAL ERP_RETRY_MAX_INTERVAL ERP_RETRY_BUDGET ERP_TIMEOUT SHUTDOWN_TIMEOUT CLUSTER_OWNER_PID; do
			[ -n "${!v:-}" ] && printf '%s=%q\n' "$v" "${!v}"
		done
	} >"$ENV_FILE"
	chmod 600 "$ENV_FILE"
}

load_settings() {
	[ -f "$ENV_FILE" ] || die "no cluster in $CLUSTER_DIR (run: $0 up)"
	# shellcheck disable=SC1090
	source "$ENV_FILE"
	defaults
}

# ports derives every address from CLUSTER_PORT_BASE.
ports() {
	local b=$CLUSTER_PORT_BASE
	FRONTEND_PORT=$b FRONTEND_MEMBERSHIP_PORT=$((b + 1)) FRONTEND_HTTP_PORT=$((b + 2))
	HISTORY_PORT=$((b + 3)) HISTORY_MEMBERSHIP_PORT=$((b + 4))
	MATCHING_PORT=$((b + 5)) MATCHING_MEMBERSHIP_PORT=$((b + 6))
	TWORKER_PORT=$((b + 7)) TWORKER_MEMBERSHIP_PORT=$((b + 8))
	ERPSIM_PORT=$((b + 9))
	API_PORT0=$((b + 10)) # api-N listens on API_PORT0+N-1 (up to 5 replicas)
	WORKER_METRICS_PORT0=$((b + 15))
	TEMPORAL_ADDRESS=127.0.0.1:$FRONTEND_PORT
	ERP_URL=http://127.0.0.1:$ERPSIM_PORT
	MYSQL_DSN="$CLUSTER_MYSQL_USER:$CLUSTER_MYSQL_PASSWORD@tcp($CLUSTER_MYSQL_HOST:$CLUSTER_MYSQL_PORT)/$CLUSTER_NAME"
	TLS_DIR=$CLUSTER_DIR/tls
	TLS_SERVER_NAME=frontend.cluster.local
	((API_REPLICAS >= 1 && API_REPLICAS <= 5)) || die "API_REPLICAS must be 1 to 5"
	((WORKER_REPLICAS >= 1 && WORKER_REPLICAS <= 5)) || die "WORKER_REPLICAS must be 1 to 5"
}

procs() {
	local i
	echo "${TEMPORAL_SERVICES[@]}" erpsim
	for ((i = 1; i <= WORKER_REPLICAS; i++)); do echo "worker-$i"; done
	for ((i = 1; i <= API_REPLICAS; i++)); do echo "api-$i"; done
}

canonical() {
	case "$1" in
	frontend | history | matching) echo "temporal-$1" ;;
	*) echo "$1" ;;
	esac
}

# --- processes -----------------------------------------------------------------

pidfile() { echo "$CLUSTER_DIR/pids/$1"; }

alive() {
	local pid
	pid=$(cat "$(pidfile "$1")" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	# A zombie (a child of this very shell that died) is not alive.
	[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]
}

# launch NAME CMD...: runs CMD in a session (and process group) of its own,
# its output appended to logs/NAME.log.
launch() {
	local name=$1
	shift
	if alive "$name"; then
		log "$name already runs (pid $(cat "$(pidfile "$name")"))"
		return 0
	fi
	mkdir -p "$CLUSTER_DIR/pids" "$CLUSTER_DIR/logs"
	printf '\n==== %s start %s\n' "$(date -u +%FT%TZ)" "$name" >>"$CLUSTER_DIR/logs/$name.log"
	(cd "$CLUSTER_DIR" && exec setsid "$@" >>"$CLUSTER_DIR/logs/$name.log" 2>&1 </dev/null) &
	echo $! >"$(pidfile "$name")"
}

# signal_proc NAME SIGNAL: signals NAME's whole process group.
signal_proc() {
	local pid
	pid=$(cat "$(pidfile "$1")" 2>/dev/null) || return 0
	kill "-$2" -- "-$pid" 2>/dev/null || kill "-$2" "$pid" 2>/dev/null || true
}

# stop_proc NAME [GRACE]: SIGTERM, then SIGKILL after GRACE seconds.
stop_proc() {
	local name=$1 grace=${2:-40} i
	alive "$name" || {
		rm -f "$(pidfile "$name")"
		return 0
	}
	signal_proc "$name" TERM
	for ((i = 0; i < grace * 10; i++)); do
		alive "$name" || break
		sleep 0.1
	done
	if alive "$name"; then
		log "$name did not stop within ${grace}s: SIGKILL"
		signal_proc "$name" KILL
		sleep 0.2
	fi
	rm -f "$(pidfile "$name")"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for WHAT TIMEOUT CMD...: retries CMD every 0.5 s until it succeeds.
wait_for() {
	local what=$1 timeout=$2 deadline
	shift 2
	deadline=$((SECONDS + timeout))
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || die "$what: not ready after ${timeout}s (logs in $CLUSTER_DIR/logs)"
		sleep 0.5
	done
}

http_ok() { curl -fsS -m 2 -o /dev/null "$1"; }

# wait_proc NAME TIMEOUT CMD...: like wait_for, but gives up at once, with
# the end of its log, when NAME has exited.
wait_proc() {
	local name=$1 timeout=$2 deadline
	shift 2
	deadline=$((SECONDS + timeout))
	until "$@" >/dev/null 2>&1; do
		if ! alive "$name"; then
			tail -n 5 "$CLUSTER_DIR/logs/$name.log" | cut -c1-400 >&2
			die "$name exited (log: $CLUSTER_DIR/logs/$name.log)"
		fi
		((SECONDS < deadline)) || die "$name: not ready after ${timeout}s (logs in $CLUSTER_DIR/logs)"
		sleep 0.5
	done
}

# --- Temporal ------------------------------------------------------------------

temporal_cli() {
	local tls=()
	if [ "$CLUSTER_TLS" = 1 ]; then
		tls=(--tls-cert-path "$TLS_DIR/erpbridge.pem" --tls-key-path "$TLS_DIR/erpbridge.key"
			--tls-ca-path "$TLS_DIR/ca.pem" --tls-server-name "$TLS_SERVER_NAME")
	fi
	"$BIN/temporal" "$@" --address "$TEMPORAL_ADDRESS" "${tls[@]}"
}

# temporal_env SERVICE: the variables of deploy/temporal/config/erpbridge.yaml.
temporal_env() {
	# Connections are budgeted per service: PostgreSQL's default limit is
	# 100 and the machine is shared; history does most of the writing.
	local conns=6
	case "$1" in
	history) conns=16 ;;
	worker) conns=4 ;;
	esac
	local e=(
		DB=postgres12 POSTGRES_SEEDS="$PG_HOST" DB_PORT="$PG_PORT" POSTGRES_USER="$PG_USER" POSTGRES_PWD="$PG_PASSWORD"
		DBNAME="${CLUSTER_NAME}_temporal" VISIBILITY_DBNAME="${CLUSTER_NAME}_visibility"
		NUM_HISTORY_SHARDS="$NUM_HISTORY_SHARDS"
		SQL_MAX_CONNS=$conns SQL_MAX_IDLE_CONNS=$conns SQL_VIS_MAX_CONNS=3 SQL_VIS_MAX_IDLE_CONNS=3
		BIND_ON_IP=127.0.0.1 TEMPORAL_BROADCAST_ADDRESS=127.0.0.1
		FRONTEND_GRPC_PORT="$FRONTEND_PORT" FRONTEND_MEMBERSHIP_PORT="$FRONTEND_MEMBERSHIP_PORT" FRONTEND_HTTP_PORT="$FRONTEND_HTTP_PORT"
		HISTORY_GRPC_PORT="$HISTORY_PORT" HISTORY_MEMBERSHIP_PORT="$HISTORY_MEMBERSHIP_PORT"
		MATCHING_GRPC_PORT="$MATCHING_PORT" MATCHING_MEMBERSHIP_PORT="$MATCHING_MEMBERSHIP_PORT"
		WORKER_GRPC_PORT="$TWORKER_PORT" WORKER_MEMBERSHIP_PORT="$TWORKER_MEMBERSHIP_PORT"
		DYNAMIC_CONFIG_FILE_PATH="$ROOT/deploy/temporal/dynamicconfig.yaml"
		LOG_LEVEL="${TEMPORAL_LOG_LEVEL:-warn}"
	)
	if [ "$CLUSTER_TLS" = 1 ]; then
		e+=(TEMPORAL_TLS_FRONTEND_CERT="$TLS_DIR/frontend.pem" TEMPORAL_TLS_FRONTEND_KEY="$TLS_DIR/frontend.key"
			TEMPORAL_TLS_REQUIRE_CLIENT_AUTH=true TEMPORAL_TLS_CLIENT_CA_CERT="$TLS_DIR/ca.pem"
			TEMPORAL_TLS_SERVER_CA_CERT="$TLS_DIR/ca.pem" TEMPORAL_TLS_FRONTEND_SERVER_NAME="$TLS_SERVER_NAME"
			TEMPORAL_TLS_SYSTEM_WORKER_CERT="$TLS_DIR/system-worker.pem" TEMPORAL_TLS_SYSTEM_WORKER_KEY="$TLS_DIR/system-worker.key")
	fi
	printf '%s\n' "${e[@]}"
}

start_temporal() {
	local svc=${1#temporal-} env
	mapfile -t env < <(temporal_env "$svc")
	launch "temporal-$svc" env "${env[@]}" "$BIN/temporal-server" --root "$ROOT/deploy/temporal" --config config \
		--env erpbridge --allow-no-auth start --service "$svc"
}

# temporal_works proves history and matching serve, not just the frontend: a
# workflow start needs history, a task queue's description matching.
temporal_works() {
	local id=cluster-probe-$RANDOM$RANDOM
	temporal_cli workflow start --namespace default --task-queue cluster-probe --type probe --workflow-id "$id" &&
		temporal_cli workflow terminate --namespace default --workflow-id "$id" --reason "cluster.sh probe" &&
		temporal_cli task-queue describe --namespace default --task-queue erpbridge
}

# make_certs: a CA, the frontend's certificate and two client certificates
# (erpbridge and the CLI; the server's own system worker), valid for a week.
make_certs() {
	[ -f "$TLS_DIR/erpbridge.pem" ] && return 0
	mkdir -p "$TLS_DIR"
	(
		cd "$TLS_DIR"
		local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
		openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 7 -subj "/CN=erpbridge cluster CA" 2>/dev/null
		issue() { # name CN extensions
			openssl req "${ec[@]}" -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
			printf '%s\n' "$3" >"$1.ext"
			openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 7 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
			rm -f "$1.csr" "$1.ext"
		}
		issue frontend "$TLS_SERVER_NAME" "subjectAltName=DNS:$TLS_SERVER_NAME,DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
		issue erpbridge erpbridge "extendedKeyUsage=clientAuth"
		issue system-worker temporal-system-worker "extendedKeyUsage=clientAuth"
		chmod 600 ./*.key
	)
	log "TLS certificates in $TLS_DIR"
}

# --- erpbridge -----------------------------------------------------------------

# erpbridge_env: what every erpbridge process of the cluster is given.
erpbridge_env() {
	# The ERP is the simulator on this machine, which only the dev profile
	# accepts; migrations stay a step of their own, as in production.
	local e=(
		ERPBRIDGE_PROFILE=dev AUTO_MIGRATE=false
		MYSQL_DSN="$MYSQL_DSN" TEMPORAL_ADDRESS="$TEMPORAL_ADDRESS" TEMPORAL_NAMESPACE=default TEMPORAL_TASK_QUEUE=erpbridge
		ERP_URL="$ERP_URL" ERP_TOKEN="$ERP_TOKEN" AUTOX3_APP_SECRET="$AUTOX3_APP_SECRET" FENBEITONG_TOKEN="$FENBEITONG_TOKEN"
		PAYLOAD_KEY="$PAYLOAD_KEY" LOG_LEVEL="${ERPBRIDGE_LOG_LEVEL:-info}" SHUTDOWN_TIMEOUT="${SHUTDOWN_TIMEOUT:-20s}"
	)
	local v
	for v in ERP_RETRY_INITIAL ERP_RETRY_MAX_INTERVAL ERP_RETRY_BUDGET ERP_TIMEOUT; do
		[ -n "${!v:-}" ] && e+=("$v=${!v}")
	done
	if [ "$CLUSTER_TLS" = 1 ]; then
		e+=(TEMPORAL_TLS_CERT="$TLS_DIR/erpbridge.pem" TEMPORAL_TLS_KEY="$TLS_DIR/erpbridge.key"
			TEMPORAL_TLS_CA="$TLS_DIR/ca.pem" TEMPORAL_TLS_SERVER_NAME="$TLS_SERVER_NAME")
	fi
	printf '%s\n' "${e[@]}"
}

erpbridge_run() { # erpbridge_run COMMAND [ENV...]: runs a one-shot erpbridge command in the foreground
	local env cmd=$1
	shift
	mapfile -t env < <(erpbridge_env)
	env "${env[@]}" "$@" "$ERPBRIDGE_BIN" "$cmd"
}

start_one() {
	local name env n
	name=$(canonical "$1")
	mapfile -t env < <(erpbridge_env)
	case "$name" in
	temporal-frontend | temporal-history | temporal-matching | temporal-worker)
		start_temporal "$name"
		case "$name" in
		temporal-frontend) wait_proc "$name" 90 frontend_serving ;;
		temporal-history) wait_proc "$name" 90 port_busy "$HISTORY_PORT" ;;
		temporal-matching) wait_proc "$name" 90 port_busy "$MATCHING_PORT" ;;
		esac
		;;
	erpsim)
		launch erpsim env ERPSIM_ADDR="127.0.0.1:$ERPSIM_PORT" ERPSIM_DATA="$CLUSTER_DIR/erpsim.jsonl" ERP_TOKEN="$ERP_TOKEN" \
			LOG_LEVEL=warn "$ERPBRIDGE_BIN" erpsim
		wait_for "erpsim" 30 http_ok "$ERP_URL/healthz"
		;;
	worker-[1-9])
		n=${name#worker-}
		((n <= WORKER_REPLICAS)) || die "$name: WORKER_REPLICAS is $WORKER_REPLICAS"
		launch "$name" env "${env[@]}" METRICS_ADDR="127.0.0.1:$((WORKER_METRICS_PORT0 + n - 1))" "$ERPBRIDGE_BIN" worker
		wait_for "$name" 60 http_ok "http://127.0.0.1:$((WORKER_METRICS_PORT0 + n - 1))/healthz"
		;;
	api-[1-9])
		n=${name#api-}
		((n <= API_REPLICAS)) || die "$name: API_REPLICAS is $API_REPLICAS"
		launch "$name" env "${env[@]}" HTTP_ADDR="127.0.0.1:$((API_PORT0 + n - 1))" "$ERPBRIDGE_BIN" api
		wait_for "$name" 60 http_ok "http://127.0.0.1:$((API_PORT0 + n - 1))/readyz"
		;;
	*) die "unknown process $1 (one of: $(procs | tr '\n' ' '))" ;;
	esac
	log "$name runs (pid $(cat "$(pidfile "$name")"))"
}

frontend_serving() { temporal_cli operator cluster health | grep -q SERVING; }
namespace_ready() { temporal_cli workflow count --namespace default; }

# attributes_ready proves that the frontend and history know erpbridge's
# search attributes: the server caches them for up to a minute, and a
# workflow started meanwhile would be refused or indexed without them.
attributes_ready() {
	local id=cluster-probe-$RANDOM$RANDOM n
	temporal_cli workflow start --namespace default --task-queue cluster-probe --type probe --workflow-id "$id" \
		--search-attribute 'SyncStatus="cluster-probe"' >/dev/null 2>&1 || return 1
	sleep 1
	n=$(temporal_cli workflow count --namespace default --query "WorkflowId=\"$id\" AND SyncStatus=\"cluster-probe\"" 2>/dev/null)
	temporal_cli workflow terminate --namespace default --workflow-id "$id" --reason "cluster.sh probe" >/dev/null 2>&1
	[[ "$n" == *"Total: 1"* ]]
}

# --- commands ------------------------------------------------------------------

cmd_up() {
	settings
	ports
	command -v openssl >/dev/null || die "openssl is needed"
	command -v curl >/dev/null || die "curl is needed"
	command -v mysql >/dev/null || die "mysql is needed (MySQL/MariaDB client)"
	# Temporal's PostgreSQL schema keeps membership ports as smallint.
	((CLUSTER_PORT_BASE >= 1024 && CLUSTER_PORT_BASE + 20 <= 32768)) ||
		die "CLUSTER_PORT_BASE=$CLUSTER_PORT_BASE: the 20 ports from it must lie between 1024 and 32767"
	local p
	for ((p = CLUSTER_PORT_BASE; p < CLUSTER_PORT_BASE + 20; p++)); do
		port_busy "$p" && die "port $p is taken: choose another CLUSTER_PORT_BASE (20 ports from it are used)"
	done

	log "building what is missing (the Temporal server takes a few minutes the first time)"
	make -s -C "$ROOT" temporal-server temporal-cli >&2
	if [ "$ERPBRIDGE_BIN" = "$CLUSTER_DIR/bin/erpbridge" ]; then
		(cd "$ROOT" && go build -o "$ERPBRIDGE_BIN" ./cmd/erpbridge)
	fi
	[ -x "$ERPBRIDGE_BIN" ] || die "no erpbridge binary at $ERPBRIDGE_BIN"

	if [ -n "${CLUSTER_OWNER_PID:-}" ]; then
		# Started before anything else, so even a failed start is cleaned up.
		mkdir -p "$CLUSTER_DIR/logs"
		(exec setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; CLUSTER_DIR="$2" exec "$3" down --purge' \
			watchdog "$CLUSTER_OWNER_PID" "$CLUSTER_DIR" "$SCRIPT" >>"$CLUSTER_DIR/logs/watchdog.log" 2>&1 </dev/null) &
		echo $! >"$CLUSTER_DIR/watchdog.pid"
	fi

	log "databases: PostgreSQL ${CLUSTER_NAME}_temporal and ${CLUSTER_NAME}_visibility, MySQL $CLUSTER_NAME"
	DB=postgres12 POSTGRES_SEEDS=$PG_HOST DB_PORT=$PG_PORT POSTGRES_USER=$PG_USER POSTGRES_PWD=$PG_PASSWORD \
		DBNAME=${CLUSTER_NAME}_temporal VISIBILITY_DBNAME=${CLUSTER_NAME}_visibility TEMPORAL_SQL_TOOL=$BIN/temporal-sql-tool \
		"$ROOT/deploy/temporal/schema.sh" >&2
	MYSQL_PWD=$CLUSTER_MYSQL_PASSWORD mysql -h "$CLUSTER_MYSQL_HOST" -P "$CLUSTER_MYSQL_PORT" -u "$CLUSTER_MYSQL_USER" \
		-e "CREATE DATABASE IF NOT EXISTS \`$CLUSTER_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" ||
		die "cannot create the MySQL database $CLUSTER_NAME"
	[ "$CLUSTER_TLS" = 1 ] && make_certs

	log "Temporal: history, matching, frontend and worker services"
	# History first, alone: on an empty database the first service to start
	# writes the cluster's metadata, and services racing to do so fail. It
	# listens once that is done.
	start_temporal history
	wait_proc temporal-history 90 port_busy "$HISTORY_PORT"
	local svc
	for svc in matching frontend worker; do start_temporal "$svc"; done
	wait_for "the Temporal frontend" 120 frontend_serving
	# setup creates the namespace and registers the search attributes.
	erpbridge_run setup >>"$CLUSTER_DIR/logs/setup.log" 2>&1 || die "erpbridge setup failed (logs/setup.log)"
	wait_for "namespace default" 60 namespace_ready
	wait_for "Temporal's history and matching services" 90 temporal_works
	log "waiting until Temporal's services know the search attributes (their cache lasts up to a minute)"
	wait_for "the search attributes" 120 attributes_ready
	for svc in "${TEMPORAL_SERVICES[@]}"; do alive "$svc" || die "$svc exited (log: $CLUSTER_DIR/logs/$svc.log)"; done
	erpbridge_run migrate >>"$CLUSTER_DIR/logs/setup.log" 2>&1 || die "erpbridge migrate failed (logs/setup.log)"

	log "erpbridge: ERP simulator, $WORKER_REPLICAS workers, $API_REPLICAS API replicas"
	start_one erpsim
	local i
	for ((i = 1; i <= WORKER_REPLICAS; i++)); do start_one "worker-$i"; done
	for ((i = 1; i <= API_REPLICAS; i++)); do start_one "api-$i"; done
	cmd_status
}

cmd_status() {
	local name pid state
	printf '%-18s %-8s %s\n' PROCESS PID STATE
	for name in $(procs); do
		pid=$(cat "$(pidfile "$name")" 2>/dev/null || echo -)
		state=stopped
		alive "$name" && state=running
		printf '%-18s %-8s %s\n' "$name" "$pid" "$state"
	done
	echo
	echo "Temporal frontend  $TEMPORAL_ADDRESS$([ "$CLUSTER_TLS" = 1 ] && echo " (mTLS, server name $TLS_SERVER_NAME, certificates in $TLS_DIR)")"
	local i
	for ((i = 1; i <= API_REPLICAS; i++)); do echo "api-$i              http://127.0.0.1:$((API_PORT0 + i - 1))/webhooks/<vendor>"; done
	echo "ERP simulator      $ERP_URL"
	echo "logs               $CLUSTER_DIR/logs"
}

cmd_env() {
	local kv
	while IFS= read -r kv; do
		printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
	done < <(erpbridge_env)
	printf 'export %s=%q\n' ERPSIM_URL "$ERP_URL"
}

cmd_down() {
	local purge=${1:-}
	local wd
	wd=$(cat "$CLUSTER_DIR/watchdog.pid" 2>/dev/null || true)
	if [ -n "$wd" ] && [ "$wd" != "$$" ]; then
		kill -- "-$wd" 2>/dev/null || kill "$wd" 2>/dev/null || true
	fi
	rm -f "$CLUSTER_DIR/watchdog.pid"
	if [ -f "$ENV_FILE" ]; then
		load_settings
		ports
		# The API first (vendors are told to come back), the workers next, Temporal last.
		local i
		for ((i = API_REPLICAS; i >= 1; i--)); do stop_proc "api-$i" 30; done
		for ((i = WORKER_REPLICAS; i >= 1; i--)); do stop_proc "worker-$i" 30; done
		stop_proc erpsim 10
		for svc in temporal-frontend temporal-worker temporal-matching temporal-history; do stop_proc "$svc" 20; done
		log "stopped"
	fi
	if [ "$purge" = --purge ]; then
		if [ -f "$ENV_FILE" ]; then
			DB=postgres12 POSTGRES_SEEDS=$PG_HOST DB_PORT=$PG_PORT POSTGRES_USER=$PG_USER POSTGRES_PWD=$PG_PASSWORD \
				DBNAME=${CLUSTER_NAME}_temporal VISIBILITY_DBNAME=${CLUSTER_NAME}_visibility TEMPORAL_SQL_TOOL=$BIN/temporal-sql-tool \
				"$ROOT/deploy/temporal/schema.sh" drop >&2 || true
			MYSQL_PWD=$CLUSTER_MYSQL_PASSWORD mysql -h "$CLUSTER_MYSQL_HOST" -P "$CLUSTER_MYSQL_PORT" -u "$CLUSTER_MYSQL_USER" \
				-e "DROP DATABASE IF EXISTS \`$CLUSTER_NAME\`" || true
		fi
		rm -rf "$CLUSTER_DIR"
		log "purged: databases dropped, $CLUSTER_DIR removed"
	fi
}

main() {
	local cmd=${1:-}
	[ $# -gt 0 ] && shift
	case "$cmd" in
	up) cmd_up ;;
	down) cmd_down "$@" ;;
	status | env | temporal | start | stop | kill | restart | logs)
		load_settings
		ports
		case "$cmd" in
		status) cmd_status ;;
		env) cmd_env ;;
		temporal) temporal_cli "$@" ;;
		start) start_one "${1:?name}" ;;
		stop) stop_proc "$(canonical "${1:?name}")" "${2:-40}" ;;
		kill) signal_proc "$(canonical "${1:?name}")" KILL ;;
		restart)
			stop_proc "$(canonical "${1:?name}")"
			start_one "$1"
			;;
		logs) tail -n 50 -F "$CLUSTER_DIR/logs/$(canonical "${1:?name}").log" ;;
		esac
		;;
	*)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		[ -z "$cmd" ] || [ "$cmd" = help ] || exit 2
		;;
	esac
}

main "$@"
