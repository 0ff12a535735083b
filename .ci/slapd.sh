#!/usr/bin/env bash
# OpenLDAP slapd for the LDAP connector's tests: install it, start a private server in a
# temporary directory on a loopback port, stop it by its pid.
#
#   bash .ci/slapd.sh install                 # apt: slapd + ldap-utils, never started by apt
#   bash .ci/slapd.sh start DIR PORT [SUFFIX...]   # writes DIR/slapd.conf, starts, waits
#   bash .ci/slapd.sh stop DIR
#
# The root password comes from IDENTITYMESH_TEST_SLAPD_PASSWORD (default: a fixed test value).
# The main database serves dc=example,dc=test; each extra SUFFIX (e.g. o=SGI,c=US) gets its own
# mdb database with the same root password (rootdn cn=admin,SUFFIX). The size limit is 1000
# entries, so an import that does not follow paged results is cut short.
set -euo pipefail

cmd="${1:-}"
case "$cmd" in
install)
    if command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ]; then
        if command -v ldapadd >/dev/null 2>&1; then echo "slapd and ldap-utils already installed"; exit 0; fi
    fi
    apt-get update -q
    echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slapd ldap-utils
    ;;
start)
    dir="${2:?usage: slapd.sh start DIR PORT [SUFFIX...]}"
    port="${3:?usage: slapd.sh start DIR PORT [SUFFIX...]}"
    shift 3
    password="${IDENTITYMESH_TEST_SLAPD_PASSWORD:-Secret-Test-Pw1}"
    slapd_bin=$(command -v slapd || echo /usr/sbin/slapd)
    [ -x "$slapd_bin" ] || { echo "slapd is not installed: run 'bash .ci/slapd.sh install'" >&2; exit 2; }
    schema=/etc/ldap/schema
    mkdir -p "$dir/db-main"
    {
        echo "include $schema/core.schema"
        echo "include $schema/cosine.schema"
        echo "include $schema/nis.schema"
        echo "include $schema/inetorgperson.schema"
        echo "modulepath /usr/lib/ldap"
        echo "moduleload back_mdb"
        echo "moduleload syncprov"
        echo "moduleload memberof"
        echo "pidfile $dir/slapd.pid"
        echo "argsfile $dir/slapd.args"
        echo "sizelimit size.soft=1000 size.hard=1000 size.prtotal=unlimited"
        echo
        echo "database mdb"
        echo "maxsize 268435456"
        echo "suffix \"dc=example,dc=test\""
        echo "rootdn \"cn=admin,dc=example,dc=test\""
        echo "rootpw $password"
        echo "directory $dir/db-main"
        echo "index objectClass,entryCSN,entryUUID eq"
        echo "overlay syncprov"
        echo "overlay memberof"
        n=0
        for suffix in "$@"; do
            n=$((n + 1))
            mkdir -p "$dir/db-$n"
            echo
            echo "database mdb"
            echo "maxsize 268435456"
            echo "suffix \"$suffix\""
            echo "rootdn \"cn=admin,$suffix\""
            echo "rootpw $password"
            echo "directory $dir/db-$n"
            echo "index objectClass,entryCSN,entryUUID eq"
            echo "overlay syncprov"
        done
    } > "$dir/slapd.conf"
    "$slapd_bin" -f "$dir/slapd.conf" -h "ldap://127.0.0.1:$port/" > "$dir/slapd.log" 2>&1 || {
        cat "$dir/slapd.log" >&2; exit 1; }
    for _ in $(seq 1 100); do
        if ldapsearch -x -H "ldap://127.0.0.1:$port/" -b "" -s base -LLL namingContexts >/dev/null 2>&1; then
            echo "slapd ready on ldap://127.0.0.1:$port/ (pid $(cat "$dir/slapd.pid"))"
            exit 0
        fi
        sleep 0.05
    done
    echo "slapd did not answer on port $port within 5 s" >&2
    cat "$dir/slapd.log" >&2
    exit 1
    ;;
stop)
    dir="${2:?usage: slapd.sh stop DIR}"
    [ -f "$dir/slapd.pid" ] || exit 0
    pid=$(cat "$dir/slapd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        [ -r "/proc/$pid/stat" ] && grep -q ') Z ' "/proc/$pid/stat" && break
        sleep 0.05
    done
    rm -f "$dir/slapd.pid"
    ;;
*)
    echo "usage: slapd.sh install | start DIR PORT [SUFFIX...] | stop DIR" >&2
    exit 2
    ;;
esac
