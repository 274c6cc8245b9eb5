# shellcheck shell=bash
# Throwaway PostgreSQL cluster for the test suites (backends.md DT-1; issue 7).
#
# SOURCE this file from bash (`. .ci/postgres.sh`); it is safe under
# `set -euo pipefail`. It
#   1. keeps an existing GOSSIP_POSTGRES_TEST_URL untouched (nothing started);
#   2. otherwise finds initdb/pg_ctl (PATH, then /usr/lib/postgresql/*/bin),
#      installing Debian's `postgresql` package with apt-get when they are missing;
#   3. creates a cluster in a fresh temporary directory as an unprivileged user
#      (the current user, or `postgres` / a created system user when run as
#      root), listening ONLY on a unix socket inside that directory (mode 0700);
#   4. starts it, creates the role `gossip_test` (LOGIN CREATEDB, member of
#      pg_signal_backend so DROP DATABASE ... WITH (FORCE) works on PostgreSQL 15)
#      and the database `gossip_test` OWNED by that role, and exports
#      GOSSIP_POSTGRES_TEST_URL (a keyword conninfo for that role and database).
#      Owning the database lets the role create tables in its `public` schema
#      (PostgreSQL 15 no longer grants that to everyone in `postgres`), so the
#      same URL serves the test suites (which create a database per test from
#      it) and `gossip-sim sweep --backend "postgres:$GOSSIP_POSTGRES_TEST_URL"`;
#   5. registers an EXIT trap (chained after any EXIT trap already set) that
#      stops the cluster and removes the directory.
# Durability is switched off (fsync, synchronous_commit, full_page_writes) and so
# is autovacuum: the cluster is disposable and this keeps CREATE DATABASE per
# test cheap.
# Call gossip_pg_stop yourself to stop it earlier; it is idempotent.

gossip_pg__log() { printf 'postgres.sh: %s\n' "$*" >&2; }

gossip_pg__find_bin() {
    local candidate
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
        return 0
    fi
    # Highest installed major version first.
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4,4 -rn); do
        if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    return 1
}

gossip_pg__as_user() {
    # Run "$@" as the cluster owner.
    if [ "$GOSSIP_PG_OWNER" = "$(id -un)" ]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$GOSSIP_PG_OWNER" -- "$@"
    else
        su -s /bin/sh "$GOSSIP_PG_OWNER" -c "$(printf '%q ' "$@")"
    fi
}

gossip_pg_stop() {
    local status=$?
    if [ -n "${GOSSIP_PG_DIR:-}" ] && [ -d "$GOSSIP_PG_DIR" ]; then
        if [ -f "$GOSSIP_PG_DIR/data/postmaster.pid" ]; then
            gossip_pg__as_user "$GOSSIP_PG_BIN/pg_ctl" -D "$GOSSIP_PG_DIR/data" -m fast -w \
                -t 30 stop >/dev/null 2>&1 || gossip_pg__log "pg_ctl stop failed"
        fi
        rm -rf "$GOSSIP_PG_DIR"
        gossip_pg__log "stopped the cluster and removed $GOSSIP_PG_DIR"
    fi
    GOSSIP_PG_DIR=""
    return "$status"
}

gossip_pg_start() {
    if [ -n "${GOSSIP_POSTGRES_TEST_URL:-}" ]; then
        gossip_pg__log "GOSSIP_POSTGRES_TEST_URL is already set: not starting a cluster"
        return 0
    fi

    if ! GOSSIP_PG_BIN="$(gossip_pg__find_bin)"; then
        gossip_pg__log "initdb/pg_ctl not found: installing PostgreSQL from Debian packages"
        local sudo=""
        if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        GOSSIP_PG_BIN="$(gossip_pg__find_bin)" || {
            gossip_pg__log "PostgreSQL binaries still missing after apt-get install"
            return 1
        }
    fi
    export GOSSIP_PG_BIN

    # The server refuses to run as root: pick an unprivileged owner.
    if [ "$(id -u)" -ne 0 ]; then
        GOSSIP_PG_OWNER="$(id -un)"
    elif id -u postgres >/dev/null 2>&1; then
        GOSSIP_PG_OWNER="postgres"
    else
        GOSSIP_PG_OWNER="gossip-pg"
        id -u "$GOSSIP_PG_OWNER" >/dev/null 2>&1 \
            || useradd --system --no-create-home --shell /usr/sbin/nologin "$GOSSIP_PG_OWNER"
    fi
    export GOSSIP_PG_OWNER

    GOSSIP_PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/gossip-pg.XXXXXX")"
    export GOSSIP_PG_DIR
    # Chain our cleanup after any EXIT trap the caller already registered.
    local previous
    previous="$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\\1/")"
    if [ -n "$previous" ]; then
        # shellcheck disable=SC2064
        trap "gossip_pg_stop; $previous" EXIT
    else
        trap gossip_pg_stop EXIT
    fi

    chmod 0700 "$GOSSIP_PG_DIR"
    if [ "$GOSSIP_PG_OWNER" != "$(id -un)" ]; then
        chown "$GOSSIP_PG_OWNER" "$GOSSIP_PG_DIR"
    fi

    gossip_pg__as_user "$GOSSIP_PG_BIN/initdb" -D "$GOSSIP_PG_DIR/data" --username=postgres \
        --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$GOSSIP_PG_DIR/initdb.log" 2>&1 || {
        gossip_pg__log "initdb failed:"
        cat "$GOSSIP_PG_DIR/initdb.log" >&2
        return 1
    }
    gossip_pg__as_user sh -c "cat >> '$GOSSIP_PG_DIR/data/postgresql.conf'" <<EOF
listen_addresses = ''
unix_socket_directories = '$GOSSIP_PG_DIR'
port = 5432
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
autovacuum = off
EOF
    gossip_pg__as_user "$GOSSIP_PG_BIN/pg_ctl" -D "$GOSSIP_PG_DIR/data" \
        -l "$GOSSIP_PG_DIR/server.log" -w -t 60 start >/dev/null || {
        gossip_pg__log "pg_ctl start failed:"
        cat "$GOSSIP_PG_DIR/server.log" >&2 || true
        return 1
    }

    local psql="$GOSSIP_PG_BIN/psql"
    [ -x "$psql" ] || psql="$(command -v psql)"
    "$psql" -X -q -v ON_ERROR_STOP=1 -h "$GOSSIP_PG_DIR" -p 5432 -U postgres -d postgres \
        -c "CREATE ROLE gossip_test LOGIN CREATEDB IN ROLE pg_signal_backend" \
        -c "CREATE DATABASE gossip_test OWNER gossip_test" >/dev/null

    export GOSSIP_POSTGRES_TEST_URL="host=$GOSSIP_PG_DIR port=5432 user=gossip_test dbname=gossip_test"
    gossip_pg__log "PostgreSQL $("$GOSSIP_PG_BIN/postgres" --version | awk '{print $3}') running; GOSSIP_POSTGRES_TEST_URL=$GOSSIP_POSTGRES_TEST_URL"
}

gossip_pg_start
