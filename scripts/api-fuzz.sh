#!/usr/bin/env bash
# Schemathesis against the Admin API's own OpenAPI document: every documented operation is
# called with generated valid and invalid inputs, as an administrator (an API token), and the
# run fails on any server error (5xx) or a response that breaks the documented error body.
#
#   scripts/api-fuzz.sh                 # uses target/release/identitymesh (builds it if missing)
#   IDENTITYMESH_BIN=path scripts/api-fuzz.sh
#   API_FUZZ_EXAMPLES=50 scripts/api-fuzz.sh
#
# Needs Python 3 with pip (installs schemathesis into a private virtual environment under
# target/). Starts `identitymesh serve` on a free loopback port with the quickstart data in a
# temporary directory and stops it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${IDENTITYMESH_BIN:-target/release/identitymesh}"
if [ ! -x "$bin" ]; then cargo build --release -q -p identitymesh; fi
examples="${API_FUZZ_EXAMPLES:-25}"

venv=target/schemathesis-venv
if [ ! -x "$venv/bin/st" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check 'schemathesis>=4,<5'
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

data="$work/data"
"$bin" --data-dir "$data" quickstart --json > "$work/quickstart.json"
password="fuzz-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$password" | "$bin" users add fuzzer --role admin --data-dir "$data" > /dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$bin" --data-dir "$data" serve --interval 0 --listen "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    if curl -fsS "$base/healthz" > /dev/null 2>&1; then break; fi
    sleep 0.2
done
curl -fsS "$base/readyz" > /dev/null

# sign in, then mint an admin API token for the run (the token's value is shown once)
python3 - "$base" "$password" > "$work/token" <<'PY'
import json, sys, urllib.request, http.cookiejar
base, password = sys.argv[1], sys.argv[2]
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
def call(method, path, body, headers=None):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method=method,
                                 headers={"Content-Type": "application/json", "Origin": base, **(headers or {})})
    return json.load(opener.open(req))
session = call("POST", "/api/v1/session", {"name": "fuzzer", "password": password})
csrf = session.get("csrf_token") or session.get("csrf")
token = call("POST", "/api/v1/tokens", {"name": "schemathesis", "role": "admin", "days": 1},
             {"X-CSRF-Token": csrf})
print(token.get("token") or token.get("value"))
PY
token=$(cat "$work/token")

status=0
"$venv/bin/st" run "$base/api/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error \
    --max-examples "$examples" \
    --workers 1 \
    --request-timeout 20 \
    --suppress-health-check all \
    --seed 20261203 \
    --warnings off || status=$?

if grep -qi "panicked" "$work/serve.log"; then
    echo "api-fuzz: the server panicked:" >&2
    grep -i -A5 "panicked" "$work/serve.log" >&2
    status=1
fi
if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "api-fuzz: the server died during the run; its log:" >&2
    tail -50 "$work/serve.log" >&2
    status=1
fi
exit "$status"
