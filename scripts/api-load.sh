#!/usr/bin/env bash
# Load test of the Admin API: 200 concurrent clients (wrk) read mesh object details and run
# lists while the engine imports and syncs a synthetic HR export of N persons (default
# 100,000) on the embedded SQLite default. Prints one JSON line per client group with
# requests per second and latency percentiles, then a verdict line: object-detail p99 must
# stay under 200 ms. Exits non-zero when it does not, or when any request failed.
#
#   scripts/api-load.sh                          # 100,000 persons, 150 + 50 clients, 30 s
#   LOAD_PERSONS=20000 LOAD_SECONDS=15 scripts/api-load.sh
#   IDENTITYMESH_BIN=target/release/identitymesh scripts/api-load.sh
#
# Needs wrk (Debian: apt-get install wrk), curl and Python 3. The figures depend on the
# machine: record them in docs/benchmarks.md with the machine they ran on.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${IDENTITYMESH_BIN:-target/release/identitymesh}"
persons="${LOAD_PERSONS:-100000}"
seconds="${LOAD_SECONDS:-30}"
detail_clients="${LOAD_DETAIL_CLIENTS:-150}"
list_clients="${LOAD_LIST_CLIENTS:-50}"
command -v wrk > /dev/null || { echo "api-load: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
if [ ! -x "$bin" ]; then cargo build --release -q -p identitymesh; fi

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
data="$work/data"

# the example configuration and its sample data, then N synthetic persons added to the HR export
"$bin" --data-dir "$data" quickstart --json > "$work/quickstart.json"
python3 - "$data/hr.csv" "$persons" <<'PY'
import csv, sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, newline="", encoding="utf-8-sig") as f:
    header = next(csv.reader(f))
# the sample rows stay (the load reads their mesh objects); N synthetic persons are appended
with open(path, "rb") as f:
    ends_with_newline = f.read().endswith(b"\n")
with open(path, "a", newline="", encoding="utf-8") as f:
    if not ends_with_newline:
        f.write("\r\n")
    out = csv.writer(f)
    for i in range(n):
        row = {c: "" for c in header}
        row.update({
            "Employee_Name": f"Person{i:06d}, Load", "EmpID": str(200000 + i),
            "Position": "Engineer", "Department": f"Department {i % 40}",
            "EmploymentStatus": "Active", "Termd": "0", "DateofHire": "01/15/2020",
        })
        out.writerow([row[c] for c in header])
PY

password="load-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$password" | "$bin" users add loader --role admin --data-dir "$data" > /dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$bin" --data-dir "$data" serve --interval 0 --listen "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -fsS "$base/healthz" > /dev/null 2>&1 && break; sleep 0.2; done

# an API token, and the ids of existing mesh objects to read
python3 - "$base" "$password" "$work" <<'PY'
import json, sys, urllib.request, urllib.error, http.cookiejar
base, password, work = sys.argv[1:4]
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
def call(method, path, body=None, headers=None):
    try:
        return _call(method, path, body, headers)
    except urllib.error.HTTPError as e:
        sys.exit(f"api-load: {method} {path}: {e.code} {e.read().decode()}")
def _call(method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
        headers={"Content-Type": "application/json", "Origin": base, **(headers or {})})
    return json.load(opener.open(req))
csrf = call("POST", "/api/v1/session", {"name": "loader", "password": password})["csrf_token"]
token = call("POST", "/api/v1/tokens", {"name": "load", "role": "operator", "days": 1},
             {"X-CSRF-Token": csrf})["token"]
ids = [o["id"] for o in call("GET", "/api/v1/mesh?limit=200", headers={"Authorization": "Bearer " + token})["items"]]
assert ids, "no mesh objects to read"
open(f"{work}/token", "w").write(token)
lua_ids = ",".join(str(i) for i in ids)
done = '''
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"errors":%d,"non_2xx":%d,"seconds":%.1f,"rps":%.0f,"p50_ms":%.1f,"p90_ms":%.1f,"p99_ms":%.1f,"max_ms":%.1f}\\n',
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status, summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
'''
auth = f'wrk.headers["Authorization"] = "Bearer {token}"\n'
open(f"{work}/detail.lua", "w").write(auth + f"local ids = {{{lua_ids}}}\n" +
    'request = function() return wrk.format("GET", "/api/v1/mesh/" .. ids[math.random(#ids)]) end\n' + done)
open(f"{work}/runs.lua", "w").write(auth +
    'request = function() return wrk.format("GET", "/api/v1/runs?limit=20") end\n' + done)
PY
token=$(cat "$work/token")

start_run() {
    curl -fsS -X POST "$base/api/v1/connectors/hr/runs" -H "Authorization: Bearer $token" \
        -H "Content-Type: application/json" -d "{\"profile\": \"$1\"}"
}
wait_run() {
    python3 - "$base" "$token" "$1" <<'PY'
import json, sys, time, urllib.request
base, token, run = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
rid = run.get("run_id") or run.get("id")
while True:
    req = urllib.request.Request(f"{base}/api/v1/runs/{rid}", headers={"Authorization": "Bearer " + token})
    r = json.load(urllib.request.urlopen(req))
    r = r.get("run", r)
    status = r.get("status")
    if status not in ("running", "queued", None):
        print(json.dumps({"run": rid, "status": status, "started_at": r.get("started_at"), "ended_at": r.get("ended_at")}))
        break
    time.sleep(0.5)
PY
}

# the load runs while the import and then the sync of N persons run
wrk -t1 -c"$detail_clients" -d"${seconds}s" --timeout 10s -s "$work/detail.lua" "$base" > "$work/detail.out" &
detail_pid=$!
wrk -t1 -c"$list_clients" -d"${seconds}s" --timeout 10s -s "$work/runs.lua" "$base" > "$work/runs.out" &
runs_pid=$!
load_start=$(date +%s.%N)
import_run=$(start_run full-import)
wait_run "$import_run" | sed 's/^/import: /'
sync_run=$(start_run full-sync)
sync_started=$(date +%s.%N)
wait_run "$sync_run" | sed 's/^/sync:   /'
sync_ended=$(date +%s.%N)
wait "$detail_pid" "$runs_pid"
load_end=$(date +%s.%N)

detail=$(tail -1 "$work/detail.out"); runs=$(tail -1 "$work/runs.out")
echo "object detail ($detail_clients clients): $detail"
echo "run list      ($list_clients clients): $runs"
python3 - "$detail" "$runs" "$load_start" "$load_end" "$sync_started" "$sync_ended" "$persons" <<'PY'
import json, sys
detail, runs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
load_start, load_end, sync_start, sync_end = map(float, sys.argv[3:7])
overlap = max(0.0, min(load_end, sync_end) - max(load_start, sync_start))
verdict = {
    "persons": int(sys.argv[7]),
    "sync_seconds": round(sync_end - sync_start, 1),
    "sync_under_load_seconds": round(overlap, 1),
    "detail_p99_ms": detail["p99_ms"], "target_p99_ms": 200,
    "failed_requests": detail["errors"] + detail["non_2xx"] + runs["errors"] + runs["non_2xx"],
}
verdict["pass"] = verdict["detail_p99_ms"] < 200 and verdict["failed_requests"] == 0 and overlap > 0
print(json.dumps(verdict))
sys.exit(0 if verdict["pass"] else 1)
PY
