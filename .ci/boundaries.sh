#!/usr/bin/env bash
# Proves the crate graph keeps its promises: the pure crates pull in no runtime, database or
# web framework, and the engine pulls in no web framework.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
check() {
    local crate="$1" forbidden="$2" depth="${3:-}"
    local found
    found=$(cargo tree -p "$crate" -e normal --prefix none ${depth:+--depth $depth} 2>/dev/null | awk '{print $1}' | grep -E "^($forbidden)$" | sort -u || true)
    if [ -n "$found" ]; then
        echo "FAIL: $crate depends on: $found"
        fail=1
    else
        echo "ok: $crate has none of $forbidden"
    fi
}
check identitymesh-domain 'tokio|sqlx|sqlx-core|rusqlite|axum|hyper'
check identitymesh-expr 'tokio|sqlx|sqlx-core|rusqlite|axum|hyper'
check identitymesh-connectors 'sqlx|sqlx-core|rusqlite|axum|hyper|identitymesh-store'
check identitymesh-engine 'axum|hyper'
check identitymesh-secrets 'tokio|sqlx|sqlx-core|rusqlite|axum|hyper'
check identitymesh-ldap 'tokio|ldap3|sqlx|sqlx-core|rusqlite|axum|hyper'
check identitymesh-protocol 'tokio|sqlx|sqlx-core|rusqlite|axum|hyper|tungstenite|identitymesh-store|identitymesh-connectors'
check identitymesh-agent 'sqlx|sqlx-core|rusqlite|axum|hyper|identitymesh-store|identitymesh-engine|identitymesh-api'
# the API reaches the database only through the store's port: no driver of its own
check identitymesh-api 'sqlx|sqlx-core|rusqlite' 1
exit $fail
