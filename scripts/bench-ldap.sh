#!/usr/bin/env bash
# Issue 4's benchmark: IdentityMesh's LDAP export and import against a real OpenLDAP slapd,
# beside the directory's own speed limit (one `ldapadd` loading the same entries).
#
#   bash scripts/bench-ldap.sh [--persons N] [--keep]      # N defaults to 100000
#
# 1. Baseline: a fresh slapd database (port 3895) with the base entries; an LDIF of N
#    inetOrgPerson entries under ou=People (exactly the attributes IdentityMesh writes) is
#    loaded with one `ldapadd -x -D cn=admin,... -f people.ldif` process, timed.
# 2. IdentityMesh: a second fresh slapd database (port 3896) of the same configuration; a CSV
#    source with the same N persons and an LDAP target connector `directory`. Timed separately,
#    each its own `identitymesh run` process: `hr full-import`, `hr full-sync`,
#    `directory export` (the N adds) and `directory full-import` (the confirming import).
#    (An untimed `directory full-import` of the empty directory comes before the sync, as in
#    the example's cycle.) Then ldapsearch counts the entries: N + 2 base entries, or fail.
# 3. One JSON line per phase on standard output:
#      {"phase", "objects", "seconds", "objects_per_sec", "peak_rss_bytes", "cpu_seconds"}
#    (peak RSS of that phase's process from /usr/bin/time -v: identitymesh, or the ldapadd
#    client for the baseline), and a final line with export_seconds / ldapadd_seconds and the
#    verdict against the target "within 1.5x of ldapadd". Progress goes to standard error.
#
# Both slapd databases: back_mdb, maxsize 8 GiB, the same indexes and the same checkpoint
# setting, default durability (each write transaction is synced to disk, as in production).
#
# Needs: slapd and ldap-utils (`bash .ci/slapd.sh install`), python3, /usr/bin/time (Debian
# package `time`). The binary: $IDENTITYMESH_BIN, else target/release/identitymesh (built if
# missing). Exit status: 0 when every phase succeeded and the counts are right, whatever the
# verdict (the verdict is in the last line); 1 on any failure.
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

base_port=3895
im_port=3896
suffix="dc=example,dc=com"
admin="cn=admin,$suffix"
password="${IDENTITYMESH_BENCH_SLAPD_PASSWORD:-Bench-Test-Pw1}"
log() { echo "bench-ldap: $*" >&2; }

slapd_bin=$(command -v slapd || echo /usr/sbin/slapd)
[ -x "$slapd_bin" ] || { echo "slapd is not installed: run 'bash .ci/slapd.sh install'" >&2; exit 1; }
command -v ldapadd >/dev/null || { echo "ldap-utils is not installed" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed: apt-get install time" >&2; exit 1; }

bin="${IDENTITYMESH_BIN:-$repo/target/release/identitymesh}"
if [ ! -x "$bin" ]; then
    log "building $bin"
    (cd "$repo" && cargo build --release -q -p identitymesh)
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

for port in $base_port $im_port; do
    if ldapsearch -x -H "ldap://127.0.0.1:$port/" -b "" -s base >/dev/null 2>&1; then
        echo "port $port already answers LDAP: stop that server first" >&2
        exit 1
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/identitymesh-bench-ldap.XXXXXX")
data="$work/data"
mkdir -p "$data"

stop_slapd() { # DIR: stops the slapd started there, by its pid
    local dir="$1" pid
    [ -f "$dir/slapd.pid" ] || return 0
    pid=$(cat "$dir/slapd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    rm -f "$dir/slapd.pid"
}
cleanup() {
    stop_slapd "$work/slapd-ldapadd"
    stop_slapd "$work/slapd-identitymesh"
    if $keep; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_slapd() { # DIR PORT: a fresh database, the same configuration for both
    local dir="$1" port="$2" schema=/etc/ldap/schema
    mkdir -p "$dir/db"
    cat > "$dir/slapd.conf" <<EOF
include $schema/core.schema
include $schema/cosine.schema
include $schema/nis.schema
include $schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $dir/slapd.pid
argsfile $dir/slapd.args
sizelimit unlimited
loglevel none

database mdb
maxsize 8589934592
suffix "$suffix"
rootdn "$admin"
rootpw $password
directory $dir/db
checkpoint 1024 5
index objectClass eq
index entryUUID eq
index uid eq
index employeeNumber eq
EOF
    "$slapd_bin" -f "$dir/slapd.conf" -h "ldap://127.0.0.1:$port/" >"$dir/slapd.log" 2>&1 || {
        cat "$dir/slapd.log" >&2; return 1; }
    for _ in $(seq 1 200); do
        if ldapsearch -x -H "ldap://127.0.0.1:$port/" -b "" -s base >/dev/null 2>&1; then
            printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\ndn: ou=People,%s\nobjectClass: organizationalUnit\nou: People\n' \
                "$suffix" "$suffix" |
                ldapadd -x -H "ldap://127.0.0.1:$port/" -D "$admin" -w "$password" >/dev/null
            return 0
        fi
        sleep 0.05
    done
    echo "slapd did not answer on port $port within 10 s" >&2
    return 1
}

count_entries() { # PORT: entries in the whole suffix
    ldapsearch -x -H "ldap://127.0.0.1:$1/" -D "$admin" -w "$password" -LLL -b "$suffix" \
        "(objectClass=*)" 1.1 | grep -c '^dn:'
}

# The same N persons as a CSV source and as the LDIF IdentityMesh's rules produce from it.
log "writing $persons persons (CSV and LDIF)"
python3 - "$persons" "$data/hr.csv" "$work/people.ldif" "$suffix" <<'PY'
import csv, random, sys
n, csv_path, ldif_path, suffix = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
rng = random.Random(4)
given = ["Anna", "Bert", "Carla", "David", "Elena", "Frank", "Greta", "Hugo", "Ines", "Jonas",
         "Karin", "Lukas", "Maria", "Nils", "Olga", "Paul", "Rita", "Sven", "Tina", "Uwe"]
surnames = ["Meier", "Schmidt", "Novak", "Garcia", "Rossi", "Dubois", "Jensen", "Kowalski",
            "Silva", "Murphy", "Berg", "Lindqvist", "Horvath", "Costa", "Weber", "Fischer"]
departments = ["Sales", "Production", "Finance", "IT", "Research", "Logistics", "Legal"]
titles = ["Engineer", "Analyst", "Manager", "Technician", "Specialist", "Assistant"]
with open(csv_path, "w", newline="", encoding="utf-8") as c, \
        open(ldif_path, "w", encoding="utf-8") as l:
    w = csv.writer(c)
    w.writerow(["EmpID", "GivenName", "Surname", "Department", "Title"])
    for i in range(n):
        emp = str(100000 + i)
        g, s = rng.choice(given), rng.choice(surnames)
        d, t = rng.choice(departments), rng.choice(titles)
        w.writerow([emp, g, s, d, t])
        login = (g[:1] + s).lower() + emp
        display = f"{g} {s}"
        l.write(f"dn: uid={login},ou=People,{suffix}\n"
                "objectClass: inetOrgPerson\n"
                f"uid: {login}\ncn: {display}\nsn: {s}\ngivenName: {g}\n"
                f"displayName: {display}\nmail: {login}@example.test\ntitle: {t}\n"
                f"departmentNumber: {d}\nemployeeNumber: {emp}\nemployeeType: active\n\n")
PY

cat > "$data/identitymesh.toml" <<EOF
# scripts/bench-ldap.sh: an HR CSV source and one OpenLDAP target (ou=People, inetOrgPerson),
# modelled on examples/hr-to-directories/identitymesh.toml.

[mesh.person]
attributes = [
  { name = "employeeId", unique = true },
  { name = "login", unique = true },
  { name = "givenName" },
  { name = "sn" },
  { name = "displayName", case_sensitive = true },
  { name = "mail", email = true },
  { name = "department" },
  { name = "title" },
  { name = "status" },
  { name = "ldapUid" },
]

[connectors.hr]
type = "csv"
mesh_type = "person"
anchor = "EmpID"
precedence = 10
columns = ["EmpID", "GivenName", "Surname", "Department", "Title"]
projection = { delete_when_gone = true }

[connectors.hr.csv]
path = "hr.csv"

[[connectors.hr.join]]
mesh_attribute = "employeeId"
value = "trim(EmpID)"

[connectors.hr.flows_in]
employeeId = "trim(EmpID)"
givenName = "trim(GivenName)"
sn = "trim(Surname)"
displayName = "trim(GivenName) + \" \" + trim(Surname)"
login = "lower(left(trim(GivenName), 1) + trim(Surname)) + trim(EmpID)"
mail = "lower(left(trim(GivenName), 1) + trim(Surname)) + trim(EmpID) + \"@example.test\""
department = "trim(Department)"
title = "trim(Title)"
status = "\"active\""

[connectors.directory]
type = "ldap"
object_type = "inetOrgPerson"
mesh_type = "person"
anchor = "entryUUID"
attributes = [
  { name = "entryUUID" },
  { name = "uid" },
  { name = "cn" },
  { name = "sn" },
  { name = "givenName" },
  { name = "displayName", case_sensitive = true },
  { name = "mail" },
  { name = "title" },
  { name = "departmentNumber" },
  { name = "employeeNumber" },
  { name = "employeeType" },
]
secrets = { bind_password = "bench-bind" }

[connectors.directory.ldap]
url = "ldap://127.0.0.1:$im_port"
tls = "none"
bind_dn = "$admin"
base_dn = "ou=People,$suffix"
object_classes = ["inetOrgPerson"]

[[connectors.directory.join]]
mesh_attribute = "employeeId"
value = "employeeNumber"

[connectors.directory.flows_in]
ldapUid = "uid"

[connectors.directory.provisioning]
scope = "status == \"active\""
anchor = "employeeId"
name = "\"uid=\" + login + \",ou=People,$suffix\""
deprovision = "delete"
adopt = "never"

[connectors.directory.flows_out]
uid = "login"
cn = "displayName"
sn = "sn"
givenName = "givenName"
displayName = "displayName"
mail = "mail"
title = "title"
departmentNumber = "department"
employeeNumber = "employeeId"
employeeType = "status"

[connectors.directory.guards]
min_objects = 0
EOF

rss_bytes() { # TIMEFILE: "Maximum resident set size (kbytes)" of /usr/bin/time -v, in bytes
    awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 * 1024 }' "$1"
}
cpu_seconds() { # TIMEFILE: user + system seconds of /usr/bin/time -v
    awk -F: '/User time|System time/ { t += $2 } END { printf "%.2f", t }' "$1"
}
emit() { # PHASE OBJECTS SECONDS RSS CPU: one JSON line
    python3 -c 'import json, sys
p, o, s, r, c = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
print(json.dumps({"phase": p, "objects": o, "seconds": round(s, 3),
                  "objects_per_sec": round(o / s, 1) if s > 0 and o else None,
                  "peak_rss_bytes": r, "cpu_seconds": c}))' "$@"
}
timed() { # NAME CMD...: runs CMD under /usr/bin/time -v; sets $elapsed, $rss, $cpu; fails on error
    local name="$1" t0 t1 rc=0
    shift
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
    t1=$(date +%s%N)
    elapsed=$(python3 -c "print(($t1 - $t0) / 1e9)")
    rss=$(rss_bytes "$work/$name.time")
    cpu=$(cpu_seconds "$work/$name.time")
    if [ "$rc" -ne 0 ]; then
        log "$name failed (exit $rc)"
        cat "$work/$name.out" "$work/$name.err" >&2
        exit 1
    fi
}

log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# ------------------------------------------------------------------ 1. ldapadd baseline
log "baseline: slapd on 127.0.0.1:$base_port, ldapadd of $persons entries"
start_slapd "$work/slapd-ldapadd" "$base_port"
timed ldapadd ldapadd -x -H "ldap://127.0.0.1:$base_port/" -D "$admin" -w "$password" \
    -f "$work/people.ldif"
ldapadd_seconds=$elapsed
emit ldapadd "$persons" "$elapsed" "$rss" "$cpu"
got=$(count_entries "$base_port")
[ "$got" -eq $((persons + 2)) ] || { log "ldapadd left $got entries, expected $((persons + 2))"; exit 1; }
stop_slapd "$work/slapd-ldapadd"
rm -rf "$work/slapd-ldapadd/db"

# ------------------------------------------------------------------ 2. IdentityMesh
log "identitymesh: slapd on 127.0.0.1:$im_port"
start_slapd "$work/slapd-identitymesh" "$im_port"
im() { "$bin" --data-dir "$data" "$@"; }
printf '%s' "$password" | im secrets set bench-bind >&2
im config apply "$data/identitymesh.toml" >&2
im run directory full-import --json >"$work/directory-initial.json" \
    || { log "the initial import of the empty directory failed"; cat "$work/directory-initial.json" >&2; exit 1; }

check_stat() { # NAME KEY EXPECTED: the run report's stats.KEY must be EXPECTED; errors 0
    python3 - "$work/$1.out" "$2" "$3" <<'PY' || { cat "$work/$1.out" >&2; exit 1; }
import json, sys
rep = json.load(open(sys.argv[1]))
stats = rep.get("stats", rep)
key, want = sys.argv[2], int(sys.argv[3])
got = stats.get(key)
if got != want or stats.get("errors", 0):
    print(f"bench-ldap: {sys.argv[1]}: {key} = {got} (expected {want}), errors = {stats.get('errors')}",
          file=sys.stderr)
    sys.exit(1)
PY
}

declare -A secs
for step in "hr full-import full_import_csv" "hr full-sync full_sync" \
    "directory export export_ldap" "directory full-import confirming_import_ldap"; do
    read -r connector profile phase <<<"$step"
    log "$phase: identitymesh run $connector $profile"
    timed "$phase" "$bin" --data-dir "$data" run "$connector" "$profile" --json
    secs[$phase]=$elapsed
    emit "$phase" "$persons" "$elapsed" "$rss" "$cpu"
done
check_stat full_import_csv read "$persons"
check_stat full_sync queued_adds "$persons"
check_stat export_ldap exported_adds "$persons"
check_stat confirming_import_ldap read "$persons"

got=$(count_entries "$im_port")
log "slapd holds $got entries (expected $((persons + 2)))"
[ "$got" -eq $((persons + 2)) ] || { log "IdentityMesh left $got entries, expected $((persons + 2))"; exit 1; }
# and they are the entries the baseline loaded: same DNs, same attributes and values
ldapsearch -x -H "ldap://127.0.0.1:$im_port/" -D "$admin" -w "$password" -LLL -o ldif-wrap=no \
    -b "ou=People,$suffix" -s one "(objectClass=*)" '*' >"$work/exported.ldif"
python3 - "$work/people.ldif" "$work/exported.ldif" <<'PY' || exit 1
import sys
def entries(path):
    out = {}
    for block in open(path, encoding="utf-8").read().split("\n\n"):
        lines = [l for l in block.splitlines() if l and not l.startswith("#")]
        if not lines:
            continue
        dn = lines[0].split(": ", 1)[1].lower()
        out[dn] = sorted((k.lower(), v) for k, v in (l.split(": ", 1) for l in lines[1:]))
    return out
want, got = entries(sys.argv[1]), entries(sys.argv[2])
diff = [dn for dn in want if got.get(dn) != want[dn]] + [dn for dn in got if dn not in want]
if diff:
    print(f"bench-ldap: {len(diff)} entries differ from the LDIF, e.g. {diff[0]}: "
          f"{got.get(diff[0])} vs {want.get(diff[0])}", file=sys.stderr)
    sys.exit(1)
PY

log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "${secs[export_ldap]}" "$ldapadd_seconds" "$persons" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, sys
export, base, n, load = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ratio = export / base
print(json.dumps({"phase": "verdict", "objects": n, "export_seconds": round(export, 3),
                  "ldapadd_seconds": round(base, 3), "ratio": round(ratio, 3),
                  "target": "within 1.5x of ldapadd",
                  "verdict": "pass" if ratio <= 1.5 else "fail", "loadavg_after": load}))
PY
