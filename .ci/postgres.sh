#!/usr/bin/env bash
# Starts (or stops) a private PostgreSQL cluster for the store's contract tests.
#
#   eval "$(.ci/postgres.sh start)"   # prints: export IDENTITYMESH_TEST_POSTGRES_URL=...
#   .ci/postgres.sh stop
#
# The cluster lives in $IDENTITYMESH_PG_DIR (default: a fixed directory under $TMPDIR),
# owned by the `postgres` user, listens on 127.0.0.1:$IDENTITYMESH_PG_PORT (default 55432)
# with fsync off, and trusts local connections: it is for tests only. Starting is
# idempotent: if something already answers on the port, only the export line is printed.
# Everything but the export line goes to stderr.
set -euo pipefail

PORT="${IDENTITYMESH_PG_PORT:-55432}"
DIR="${IDENTITYMESH_PG_DIR:-${TMPDIR:-/tmp}/identitymesh-pg-$PORT}"
URL="postgres://postgres@127.0.0.1:$PORT/postgres"

log() { echo "postgres.sh: $*" >&2; }

as_postgres() {
    if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

find_bin() {
    local name="$1" candidate
    if candidate="$(command -v "$name" 2>/dev/null)"; then echo "$candidate"; return 0; fi
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$candidate/$name" ]; then echo "$candidate/$name"; return 0; fi
    done
    return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

install_if_missing() {
    if find_bin initdb >/dev/null && find_bin pg_ctl >/dev/null; then return 0; fi
    log "initdb not found: installing PostgreSQL from the distribution"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
}

start() {
    if port_open; then
        log "something already listens on 127.0.0.1:$PORT; using it"
        echo "export IDENTITYMESH_TEST_POSTGRES_URL=$URL"
        return 0
    fi
    install_if_missing
    local initdb pg_ctl
    initdb="$(find_bin initdb)"
    pg_ctl="$(find_bin pg_ctl)"
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$DIR" postgres
    mkdir -p "$DIR"
    chown postgres "$DIR"
    chmod 700 "$DIR"
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
        log "creating a cluster in $DIR/data"
        as_postgres "$initdb" -D "$DIR/data" -U postgres --auth=trust --no-sync >&2
    fi
    log "starting on 127.0.0.1:$PORT"
    as_postgres "$pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >&2
    for _ in $(seq 1 100); do
        if port_open; then
            echo "export IDENTITYMESH_TEST_POSTGRES_URL=$URL"
            return 0
        fi
        sleep 0.1
    done
    log "PostgreSQL did not come up; see $DIR/server.log"
    return 1
}

stop() {
    if [ ! -f "$DIR/data/postmaster.pid" ]; then
        log "no cluster running in $DIR"
        return 0
    fi
    as_postgres "$(find_bin pg_ctl)" -D "$DIR/data" -m fast -w stop >&2
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
esac
