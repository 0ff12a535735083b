#!/usr/bin/env bash
# Issue 6's benchmark: a relay-hosted full import beside the same import run locally.
# Target: "A relay-hosted import of 100,000 objects runs at no less than half the speed of the
# same import run locally" (relay objects/s ÷ local objects/s ≥ 0.5).
#
#   bash scripts/bench-relay.sh [--persons N] [--keep]      # N defaults to 100000
#
# Both cases go through the same path: `identitymesh serve --interval 0` on a free loopback
# port, an administrator signs in, `POST /api/v1/connectors/hr/runs {"profile":"full-import"}`,
# and the run is polled until it ends. The time is the run's own: ended_at − started_at from
# `GET /api/v1/runs/{id}` (the engine's clock, not the polling).
#
# 1. A CSV of N persons (python3), copied into both data directories.
# 2. Local: data directory A, connector `hr` (type csv) reading the file by its absolute path.
# 3. Relay: data directory B, the same connector with `relay = "bench"` and a relative path
#    resolved in the relay's own data directory C. A test license allowing one relay agent,
#    signed by a throw-away issuer (the `issue-license` example of identitymesh-secrets,
#    trusted through IDENTITYMESH_LICENSE_ISSUERS), is installed in B; `relay enroll-token
#    bench`; `serve`; `relay run --hub ws://127.0.0.1:PORT/hub/v1 --enroll-token …`; once the
#    relay is connected, the same full import through the API.
# 4. One JSON line per case on standard output:
#      {"phase","objects","seconds","objects_per_sec","peak_rss_bytes"}
#    peak_rss_bytes is serve's VmHWM (from /proc/PID/status just before it is stopped); the
#    relay line also has relay_peak_rss_bytes (the `relay run` process's VmHWM) and both have
#    wall_seconds (POST to the poll that saw the end, for reference) and the CPU seconds
#    (user + system, whole process life, from /proc/PID/stat) of serve and, for the relay
#    case, of the relay agent (serve_cpu_seconds, relay_cpu_seconds). A final line has
#    relay_speed / local_speed and the verdict against 0.5. Progress goes to standard error.
#
# Fails (exit 1) unless both runs completed with stats.read = N and staged_adds = N.
# Exit 0 otherwise, whatever the verdict (it is in the last line).
#
# Needs: python3, curl, cargo (for the license tool; the binary is built if missing).
# The binary: $IDENTITYMESH_BIN, else target/release/identitymesh.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
persons=100000
keep=false
while [ $# -gt 0 ]; do
    case "$1" in
    --persons) persons="${2:?--persons needs a number}"; shift 2 ;;
    --keep) keep=true; shift ;;
    *) echo "usage: $0 [--persons N] [--keep]" >&2; exit 2 ;;
    esac
done
case "$persons" in '' | *[!0-9]*) echo "--persons must be a positive integer" >&2; exit 2 ;; esac
[ "$persons" -gt 0 ] || { echo "--persons must be a positive integer" >&2; exit 2; }

log() { echo "bench-relay: $*" >&2; }
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 1; }

bin="${IDENTITYMESH_BIN:-$repo/target/release/identitymesh}"
if [ ! -x "$bin" ]; then
    log "building $bin"
    (cd "$repo" && cargo build --release -q -p identitymesh)
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

work=$(mktemp -d "${TMPDIR:-/tmp}/identitymesh-bench-relay.XXXXXX")
local_dir="$work/local"
main_dir="$work/main"
relay_dir="$work/relay"
logs="$work/logs"
mkdir -p "$local_dir" "$main_dir" "$relay_dir" "$logs"
chmod 700 "$relay_dir"

pids=()
cleanup() {
    local status=$? pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ "$keep" = true ] || [ "$status" -ne 0 ]; then
        log "work directory kept: $work"
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stop() { # PID: stops a child started here and forgets it
    local pid="$1" p rest=()
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for p in "${pids[@]}"; do [ "$p" = "$pid" ] || rest+=("$p"); done
    pids=("${rest[@]}")
}

cpu() { # PID: its user + system CPU seconds so far (from /proc/PID/stat), 0 if unreadable
    python3 - "$1" <<'PY' 2>/dev/null || echo 0
import os, sys
fields = open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split()
print(round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2))
PY
}

hwm() { # PID: its peak resident set in bytes (VmHWM), 0 if unreadable
    awk '/^VmHWM:/ { print $2 * 1024; found = 1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# ---- 1. the HR file ---------------------------------------------------------------------
log "writing $persons persons"
python3 - "$persons" "$work/hr.csv" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("EmpID,Name,Department,Email\n")
    for i in range(1, n + 1):
        f.write(f"{100000 + i},Person {i},Dept {i % 37},person.{i}@example.com\n")
PY
cp "$work/hr.csv" "$local_dir/hr.csv"
cp "$work/hr.csv" "$relay_dir/hr.csv"

config() { # RELAY_LINE PATH: the configuration, with or without relay = "…"
    cat <<EOF
[mesh.person]
attributes = [
  { name = "employeeId", unique = true },
  { name = "displayName" },
  { name = "department" },
  { name = "email" },
]

[connectors.hr]
type = "csv"
$1
mesh_type = "person"
anchor = "EmpID"
columns = ["EmpID", "Name", "Department", "Email"]
projection = {}
csv = { path = "$2" }
join = [{ mesh_attribute = "employeeId", value = "trim(EmpID)" }]
flows_in = { employeeId = "trim(EmpID)", displayName = "collapse_spaces(Name)", department = "trim(Department)", email = "lower(Email)" }
EOF
}
config "" "$local_dir/hr.csv" > "$work/local.toml"
config 'relay = "bench"' "hr.csv" > "$work/relay.toml"

password="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
prepare() { # DIR TOML: migrated data directory with the configuration and an admin
    "$bin" --data-dir "$1" config apply "$2" > /dev/null
    printf '%s' "$password" | "$bin" --data-dir "$1" users add bench --role admin > /dev/null
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

serve_pid=""
base=""
start_serve() { # DIR NAME: starts serve; sets serve_pid and base
    local attempt port
    for attempt in 1 2 3; do
        port=$(free_port)
        base="http://127.0.0.1:$port"
        "$bin" --data-dir "$1" serve --interval 0 --listen "127.0.0.1:$port" \
            > "$logs/$2-$attempt.out" 2> "$logs/$2-$attempt.err" &
        serve_pid=$!
        pids+=("$serve_pid")
        for _ in $(seq 1 300); do
            if curl -fsS "$base/healthz" > /dev/null 2>&1; then return 0; fi
            if ! kill -0 "$serve_pid" 2>/dev/null; then break; fi
            sleep 0.1
        done
        stop "$serve_pid"
        if ! grep -q "cannot listen" "$logs/$2-$attempt.err"; then
            log "serve did not start; its log:"; cat "$logs/$2-$attempt.err" >&2; exit 1
        fi
    done
    log "serve found no free port in three attempts"; exit 1
}

# The API driver: signs in, optionally waits for a relay, runs the full import, checks it,
# prints {"seconds","wall_seconds","run"}.
cat > "$work/drive.py" <<'PY'
import json, sys, time, urllib.request, urllib.error, http.cookiejar
from datetime import datetime
base, password, persons, relay = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                     urllib.request.ProxyHandler({}))
csrf = {}
def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", "Origin": base, **csrf})
    try:
        return json.load(opener.open(req, timeout=60))
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}")
session = call("POST", "/api/v1/session", {"name": "bench", "password": password})
csrf["X-CSRF-Token"] = session["csrf_token"]
def log(msg): print(f"bench-relay: {msg}", file=sys.stderr, flush=True)
if relay:
    deadline = time.time() + 120
    while True:
        items = call("GET", "/api/v1/relays")["items"]
        if any(r["name"] == relay and r.get("connected_here") for r in items):
            break
        if time.time() > deadline:
            sys.exit(f"relay {relay} did not connect within 120 s: {items}")
        time.sleep(0.1)
    log(f"relay {relay} connected")
posted = time.monotonic()
started = call("POST", "/api/v1/connectors/hr/runs", {"profile": "full-import"})
run_id = started.get("run_id")
if run_id is None:
    sys.exit(f"the import did not start: {started}")
log(f"run #{run_id} started")
deadline = time.time() + 3600
while True:
    run = call("GET", f"/api/v1/runs/{run_id}")["run"]
    if run["status"] != "running":
        break
    if time.time() > deadline:
        sys.exit(f"run #{run_id} still running after an hour")
    time.sleep(0.05)
wall = time.monotonic() - posted
stats = run.get("stats", {})
problems = []
if run["status"] != "completed":
    problems.append(f"status {run['status']} ({run.get('reason')})")
for key in ("read", "staged_adds"):
    if stats.get(key) != persons:
        problems.append(f"stats.{key} = {stats.get(key)}, expected {persons}")
if problems:
    sys.exit(f"run #{run_id}: " + "; ".join(problems) + f"\n{json.dumps(run)}")
def at(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
seconds = (at(run["ended_at"]) - at(run["started_at"])).total_seconds()
print(json.dumps({"seconds": seconds, "wall_seconds": round(wall, 3), "run": run}))
PY

emit() { # PHASE RESULT_JSON SERVE_HWM SERVE_CPU [RELAY_HWM RELAY_CPU]: the phase's JSON line
    python3 - "$1" "$2" "$3" "$4" "${5:-}" "${6:-}" "$persons" <<'PY'
import json, sys
phase, result, serve_hwm, serve_cpu, relay_hwm, relay_cpu, n = sys.argv[1:8]
result, serve_hwm, n = json.loads(result), int(serve_hwm), int(n)
s = result["seconds"]
line = {"phase": phase, "objects": n, "seconds": round(s, 3),
        "objects_per_sec": round(n / s, 1) if s > 0 else None,
        "peak_rss_bytes": serve_hwm}
if relay_hwm:
    line["relay_peak_rss_bytes"] = int(relay_hwm)
line["serve_cpu_seconds"] = float(serve_cpu)
if relay_cpu:
    line["relay_cpu_seconds"] = float(relay_cpu)
line["wall_seconds"] = result["wall_seconds"]
line["run_id"] = result["run"]["id"]
print(json.dumps(line))
PY
}

# ---- 2. local -----------------------------------------------------------------------------
log "local: preparing $local_dir"
prepare "$local_dir" "$work/local.toml"
start_serve "$local_dir" serve-local
log "local: serve on $base, importing"
local_result=$(python3 "$work/drive.py" "$base" "$password" "$persons" "")
local_hwm=$(hwm "$serve_pid")
local_cpu=$(cpu "$serve_pid")
stop "$serve_pid"
local_line=$(emit local "$local_result" "$local_hwm" "$local_cpu")
echo "$local_line"

# ---- 3. relay -----------------------------------------------------------------------------
log "relay: issuing a test license for one relay agent"
issue=(cargo run --release -q --manifest-path "$repo/Cargo.toml" -p identitymesh-secrets --example issue-license --)
issuer_public=$("${issue[@]}" new-issuer "$work/issuer.key" 2> /dev/null)
cat > "$work/license.json" <<'EOF'
{"id": "LIC-BENCH-RELAY", "licensee": "bench-relay.sh", "edition": "standard",
 "issued": "2000-01-01", "expires": "2999-12-31", "grace_days": 30,
 "limits": {"relay_agents": 1}, "features": []}
EOF
"${issue[@]}" sign "$work/issuer.key" "$work/license.json" > "$work/license.key"
export IDENTITYMESH_LICENSE_ISSUERS="$issuer_public"

log "relay: preparing $main_dir and $relay_dir"
prepare "$main_dir" "$work/relay.toml"
"$bin" --data-dir "$main_dir" license install "$work/license.key" > /dev/null
token=$("$bin" --data-dir "$main_dir" relay enroll-token bench 2> /dev/null)
start_serve "$main_dir" serve-relay
hub="ws://${base#http://}/hub/v1"
IDENTITYMESH_ENROLL_TOKEN="$token" "$bin" --data-dir "$relay_dir" --log info \
    relay run --hub "$hub" --name bench > "$logs/relay.out" 2> "$logs/relay.err" &
relay_pid=$!
pids+=("$relay_pid")
log "relay: serve on $base, relay agent pid $relay_pid, importing"
if ! relay_result=$(python3 "$work/drive.py" "$base" "$password" "$persons" bench); then
    log "the relay import failed; relay log:"; tail -20 "$logs/relay.err" >&2
    exit 1
fi
relay_hwm=$(hwm "$relay_pid")
relay_cpu=$(cpu "$relay_pid")
serve_hwm=$(hwm "$serve_pid")
serve_cpu=$(cpu "$serve_pid")
stop "$relay_pid"
stop "$serve_pid"
relay_line=$(emit relay "$relay_result" "$serve_hwm" "$serve_cpu" "$relay_hwm" "$relay_cpu")
echo "$relay_line"

# ---- 4. verdict ---------------------------------------------------------------------------
python3 - "$local_line" "$relay_line" <<'PY'
import json, sys
local, relay = json.loads(sys.argv[1]), json.loads(sys.argv[2])
ratio = relay["objects_per_sec"] / local["objects_per_sec"]
print(json.dumps({"phase": "verdict", "objects": local["objects"],
                  "local_objects_per_sec": local["objects_per_sec"],
                  "relay_objects_per_sec": relay["objects_per_sec"],
                  "relay_speed_over_local_speed": round(ratio, 3), "target": 0.5,
                  "verdict": "pass" if ratio >= 0.5 else "fail"}))
PY
