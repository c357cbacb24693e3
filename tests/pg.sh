# pg.sh - a throw-away PostgreSQL 15 server for tests and benchmarks. Source it (after tests/lib.sh),
# then `pg_start DIR` makes a cluster in DIR/pg (initdb), listening on 127.0.0.1 only on a free port of
# its own, and `pg_stop` stops it (pg_start arms an EXIT trap helper: call pg_stop in your own trap).
# initdb and postgres refuse to run as root, and CI runs as root: then they run as the unprivileged
# `postgres` account Debian's package creates (or a system account `dumpscout-pg` made here).
# Sets PGHOST, PGPORT, PGUSER (the superuser "scout_admin"), PGPASSWORD, PGDATABASE and PG_URL (a libpq
# connection string for the superuser). Local socket connections are off; TCP needs a password (SCRAM).
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR= PG_RUN_AS=

# pg_available: 0 when a PostgreSQL 15 server can be started here.
pg_available() { [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] && command -v psql >/dev/null; }

# pg_as CMD...: runs CMD as the account that owns the cluster.
pg_as() {
	if [ -n "$PG_RUN_AS" ]; then
		setpriv --reuid="$PG_RUN_AS" --regid="$(id -g "$PG_RUN_AS")" --clear-groups -- env HOME=/ "$@"
	else
		"$@"
	fi
}

pg_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

pg_start() {
	local base=$1
	PG_DIR=$base/pg
	mkdir -p "$PG_DIR"
	if [ "$(id -u)" -eq 0 ]; then
		if id postgres >/dev/null 2>&1; then PG_RUN_AS=postgres
		else
			id dumpscout-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin dumpscout-pg
			PG_RUN_AS=dumpscout-pg
		fi
		chown "$PG_RUN_AS" "$PG_DIR"
		chmod 711 "$base"
	fi
	PGPASSWORD=${PGPASSWORD:-pg-admin-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')}
	printf '%s\n' "$PGPASSWORD" >"$PG_DIR/.pw"
	[ -z "$PG_RUN_AS" ] || chown "$PG_RUN_AS" "$PG_DIR/.pw"
	chmod 600 "$PG_DIR/.pw"
	pg_as "$PG_BIN/initdb" -N -D "$PG_DIR/data" -U scout_admin --pwfile="$PG_DIR/.pw" --auth-local=reject \
		--auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 || {
		echo "pg_start: initdb failed: $(tail -3 "$PG_DIR/initdb.log")" >&2; return 1; }
	PGPORT=$(pg_free_port)
	cat >>"$PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = ''
fsync = off
synchronous_commit = on
shared_buffers = 64MB
max_connections = 50
log_min_messages = warning
CONF
	export PGHOST=127.0.0.1 PGPORT PGUSER=scout_admin PGPASSWORD PGDATABASE=postgres
	PG_URL="host=127.0.0.1 port=$PGPORT user=scout_admin dbname=postgres"
	pg_resume
}

# pg_pause / pg_resume: stop the server (fast: connections are cut) and start it again on the same data.
pg_pause() { pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >>"$PG_DIR/ctl.log" 2>&1; }
pg_resume() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 start >>"$PG_DIR/ctl.log" 2>&1 || {
		echo "pg_start: the server did not start: $(tail -5 "$PG_DIR/server.log")" >&2; return 1; }
}
# pg_stop: stops the server if one was started (idempotent).
pg_stop() {
	[ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ] && pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
	return 0
}
# psql_q SQL [USER PASSWORD]: one query, unaligned and quiet, on PGDATABASE.
psql_q() {
	if [ $# -ge 3 ]; then PGUSER=$2 PGPASSWORD=$3 psql -X -qAt -v ON_ERROR_STOP=1 -c "$1"
	else psql -X -qAt -v ON_ERROR_STOP=1 -c "$1"; fi
}

# pg_test_begin NAME: the common start of a fleet test. Skips NAME (returns 1) without the binaries,
# PostgreSQL 15 or the sqlite3 shell; else sets W (a temporary folder) and PIDS (the agents the test
# starts) and traps EXIT with pg_test_end, which kills those agents, stops the server and removes W
# (kept when KEEP_W is set).
pg_test_begin() {
	if [ ! -x "$DSD" ] || [ ! -x "$DS" ]; then
		skip "$1" "no $DSD or $DS (build them with make)"
		return 1
	fi
	if ! pg_available || ! command -v sqlite3 >/dev/null; then
		skip "$1" "PostgreSQL 15 (postgresql-15) or the sqlite3 shell missing (make deps)"
		return 1
	fi
	W=$(mktemp -d "${TMPDIR:-/tmp}/dumpscout-$1.XXXXXX")
	PIDS=()
	trap pg_test_end EXIT
}
pg_test_end() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	pg_stop
	[ -n "${KEEP_W:-}" ] || rm -rf "$W"
}
