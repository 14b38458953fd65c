#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster for tests.
#
#   scripts/pg-cluster.sh start DIR [PORT]  initdb + start; prints the DSN on stdout
#   scripts/pg-cluster.sh stop  DIR         stop the server and remove DIR
#   scripts/pg-cluster.sh env   DIR         prints: export GRIDHALL_TEST_POSTGRES='<dsn>'
#   scripts/pg-cluster.sh dsn   DIR         prints the DSN of a running cluster
#   scripts/pg-cluster.sh halt  DIR [MODE]  stop the server, keep DIR (MODE: fast, immediate)
#   scripts/pg-cluster.sh resume DIR        start a halted cluster again on its port
#
# DSN format: postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
#
# The server listens on 127.0.0.1 only (unix socket inside DIR/sock), uses
# trust auth and fsync=off. PostgreSQL refuses to run as root, so when run as
# root the cluster is owned by and run as an unprivileged system user
# ($PG_TEST_USER, default gridhall-test, created with useradd when missing).
# All diagnostics go to stderr; stdout carries only the DSN / env line.
# PG_TEST_DURABLE=1 keeps PostgreSQL's durable defaults (fsync, synchronous
# commit) for tests that crash the server and count what survived.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_TEST_USER=${PG_TEST_USER:-gridhall-test}
MARKER=.gridhall-pg-cluster

die() {
	echo "pg-cluster: error: $*" >&2
	exit 1
}
log() { echo "pg-cluster: $*" >&2; }

usage() {
	sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
DIR=$2
PORT_ARG=${3:-}
[ -n "$DIR" ] || die "DIR must not be empty"
case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac
DIR=${DIR%/}
[ -n "$DIR" ] && [ "$DIR" != / ] || die "refusing to use / as the cluster directory"

DATA="$DIR/data"
SOCK="$DIR/sock"
LOGFILE="$DIR/server.log"
PORTFILE="$DIR/port"

# as_pg CMD...: run CMD as the cluster owner (unprivileged user when root).
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd "$DIR" && runuser -u "$PG_TEST_USER" -- "$@")
	else
		(cd "$DIR" && "$@")
	fi
}

dsn_for() { echo "postgres://postgres@127.0.0.1:$1/postgres?sslmode=disable"; }

show_log() {
	if [ -f "$LOGFILE" ]; then
		echo "pg-cluster: ---- last 40 lines of $LOGFILE ----" >&2
		tail -n 40 "$LOGFILE" >&2 || true
		echo "pg-cluster: ---- end of server log ----" >&2
	fi
}

port_in_use() {
	local p=$1
	if command -v ss >/dev/null 2>&1; then
		ss -Htln "sport = :$p" 2>/dev/null | grep -q . && return 0
		return 1
	fi
	# Fallback: a successful connect means something listens there.
	(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0
	return 1
}

pick_port() {
	local p i
	for i in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		if ! port_in_use "$p"; then
			echo "$p"
			return 0
		fi
	done
	die "could not find a free TCP port"
}

ensure_user() {
	[ "$(id -u)" -eq 0 ] || return 0
	if ! id -u "$PG_TEST_USER" >/dev/null 2>&1; then
		log "creating system user $PG_TEST_USER"
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$PG_TEST_USER" ||
			die "useradd $PG_TEST_USER failed"
	fi
}

start() {
	[ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] ||
		die "PostgreSQL 15 binaries not found in $PG_BIN (apt-get install postgresql-15)"
	ensure_user

	mkdir -p "$DIR"
	if [ -d "$DATA" ] && [ -f "$DATA/PG_VERSION" ]; then
		die "$DATA already holds a cluster; run '$0 stop $DIR' first"
	fi
	touch "$DIR/$MARKER"
	mkdir -p "$SOCK"
	if [ "$(id -u)" -eq 0 ]; then
		chown -R "$PG_TEST_USER:" "$DIR"
	fi
	chmod 700 "$DIR"

	log "initdb in $DATA"
	if ! as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=trust \
		--encoding=UTF8 --locale=C.UTF-8 --no-sync >"$DIR/initdb.log" 2>&1; then
		# Older/odd environments may lack C.UTF-8: retry with plain C.
		rm -rf "$DATA"
		if ! as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=trust \
			--encoding=UTF8 --locale=C --no-sync >"$DIR/initdb.log" 2>&1; then
			tail -n 40 "$DIR/initdb.log" >&2 || true
			die "initdb failed (log: $DIR/initdb.log)"
		fi
	fi

	cat >>"$DATA/postgresql.conf" <<EOF

# --- throwaway test cluster (scripts/pg-cluster.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCK'
max_connections = 300
logging_collector = off
log_min_messages = warning
EOF
	if [ "${PG_TEST_DURABLE:-}" != 1 ]; then
		printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n' >>"$DATA/postgresql.conf"
	fi

	local attempts=1 port
	[ -n "$PORT_ARG" ] || attempts=5
	for ((i = 1; i <= attempts; i++)); do
		if [ -n "$PORT_ARG" ]; then port=$PORT_ARG; else port=$(pick_port); fi
		log "starting PostgreSQL on 127.0.0.1:$port (attempt $i/$attempts)"
		if as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t 60 \
			-o "-p $port" start >/dev/null 2>"$DIR/pg_ctl.err"; then
			echo "$port" >"$PORTFILE"
			if ! "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 10 2>/dev/null; then
				show_log
				die "server started but 127.0.0.1:$port is not accepting connections"
			fi
			log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') up at 127.0.0.1:$port (dir $DIR)"
			dsn_for "$port"
			return 0
		fi
		cat "$DIR/pg_ctl.err" >&2 || true
		# Retry only on an auto-picked port that got taken meanwhile.
		if [ -z "$PORT_ARG" ] && grep -qi 'could not bind\|address already in use' "$LOGFILE" 2>/dev/null; then
			as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1 || true
			: >"$LOGFILE"
			continue
		fi
		break
	done
	show_log
	die "could not start PostgreSQL (data dir $DATA)"
}

stop() {
	if [ ! -e "$DIR" ]; then
		log "$DIR does not exist; nothing to stop"
		return 0
	fi
	if [ ! -f "$DIR/$MARKER" ] && [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then
		die "$DIR is not a pg-cluster.sh directory (no $MARKER); refusing to remove it"
	fi
	if [ -f "$DATA/postmaster.pid" ]; then
		log "stopping PostgreSQL in $DATA"
		if ! as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null 2>&1; then
			log "fast shutdown failed; trying immediate"
			as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 || {
				# Last resort: kill the postmaster recorded in the pid file.
				pid=$(head -n 1 "$DATA/postmaster.pid" 2>/dev/null || true)
				case "$pid" in '' | *[!0-9]*) ;; *) kill -9 "$pid" 2>/dev/null || true ;; esac
			}
		fi
	fi
	rm -rf -- "$DIR"
	log "removed $DIR"
}

# halt and resume simulate a database outage (the durability tests): the
# cluster keeps its data directory and comes back on the same port.
halt() {
	local mode=${1:-fast}
	case "$mode" in fast | immediate) ;; *) die "halt mode must be fast or immediate, got $mode" ;; esac
	[ -f "$DIR/$MARKER" ] || die "$DIR is not a pg-cluster.sh directory"
	as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m "$mode" -w -t 60 stop >/dev/null 2>"$DIR/pg_ctl.err" || {
		cat "$DIR/pg_ctl.err" >&2 || true
		die "could not stop PostgreSQL in $DATA"
	}
	log "halted ($mode) PostgreSQL in $DATA"
}

resume() {
	[ -f "$PORTFILE" ] || die "no cluster started in $DIR (missing $PORTFILE)"
	local port
	port=$(cat "$PORTFILE")
	as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t 60 -o "-p $port" start >/dev/null 2>"$DIR/pg_ctl.err" || {
		cat "$DIR/pg_ctl.err" >&2 || true
		show_log
		die "could not start PostgreSQL again on 127.0.0.1:$port"
	}
	log "resumed PostgreSQL on 127.0.0.1:$port"
}

running_port() {
	[ -f "$PORTFILE" ] || die "no cluster started in $DIR (missing $PORTFILE)"
	local port
	port=$(cat "$PORTFILE")
	"$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 5 2>/dev/null ||
		die "cluster in $DIR (port $port) is not accepting connections"
	echo "$port"
}

case "$cmd" in
start) start ;;
stop) stop ;;
env)
	port=$(running_port)
	echo "export GRIDHALL_TEST_POSTGRES='$(dsn_for "$port")'"
	;;
dsn) dsn_for "$(running_port)" ;;
halt) halt "$PORT_ARG" ;;
resume) resume ;;
*) usage ;;
esac
