#!/usr/bin/env bash
# The main job end to end: HR export -> mesh -> OpenLDAP and Active Directory (Samba AD), with
# the shipped example configuration examples/hr-to-directories/identitymesh.toml.
#
#   bash scripts/e2e-directories.sh [--hr-csv FILE] [--keep]
#
# Starts a private slapd (port 3891; openldap-test.ldif loaded first as a pre-existing
# directory under dc=example,dc=com) and a Samba AD DC (127.0.0.1:389/636) with the .ci
# scripts, in a temporary directory; stores the bind passwords with `identitymesh secrets set`;
# applies the example; runs `identitymesh cycle` and checks the directories with ldapsearch;
# runs a second cycle that must change nothing; then, in a copy of the CSV, moves one employee
# to another department and terminates another, and checks the next cycle makes exactly those
# changes. Prints a JSON summary on standard output (progress goes to standard error) and exits
# non-zero if any check fails. The servers are stopped and the directory removed on exit
# (--keep keeps the directory, with the servers' logs).
#
# Needs: `bash .ci/slapd.sh install` and `bash .ci/samba.sh install` (as root), python3.
# The binary: $IDENTITYMESH_BIN, else target/release/identitymesh (built if missing).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
hr_csv="$repo/../shared/data/hr/HRDataset_v14.csv"
ldif="$repo/../shared/data/ldap/openldap-test.ldif"
keep=false
while [ $# -gt 0 ]; do
    case "$1" in
    --hr-csv) hr_csv="${2:?--hr-csv needs a file}"; shift 2 ;;
    --keep) keep=true; shift ;;
    *) echo "usage: $0 [--hr-csv FILE] [--keep]" >&2; exit 2 ;;
    esac
done
[ -f "$hr_csv" ] || { echo "HR export not found: $hr_csv (use --hr-csv FILE)" >&2; exit 2; }
[ -f "$ldif" ] || { echo "sample directory not found: $ldif" >&2; exit 2; }
hr_csv=$(cd "$(dirname "$hr_csv")" && pwd)/$(basename "$hr_csv")

port=3891
ldap_pw="${IDENTITYMESH_TEST_SLAPD_PASSWORD:-Secret-Test-Pw1}"
ad_pw="${IDENTITYMESH_TEST_SAMBA_PASSWORD:-Samba-Test-Pw1!}"
export IDENTITYMESH_TEST_SLAPD_PASSWORD="$ldap_pw" IDENTITYMESH_TEST_SAMBA_PASSWORD="$ad_pw"
started=$(date +%s)
log() { echo "e2e-directories: $*" >&2; }

bin="${IDENTITYMESH_BIN:-$repo/target/release/identitymesh}"
if [ ! -x "$bin" ]; then
    log "building $bin"
    (cd "$repo" && cargo build --release -q -p identitymesh)
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

work=$(mktemp -d "${TMPDIR:-/tmp}/identitymesh-e2e-dirs.XXXXXX")
data="$work/data"
cleanup() {
    bash "$repo/.ci/slapd.sh" stop "$work/slapd" >/dev/null 2>&1 || true
    bash "$repo/.ci/samba.sh" stop "$work/samba" >/dev/null 2>&1 || true
    if $keep; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# ------------------------------------------------------------------ OpenLDAP
log "starting slapd on 127.0.0.1:$port"
if ldapsearch -x -H "ldap://127.0.0.1:$port/" -b "" -s base >/dev/null 2>&1; then
    echo "port $port already answers LDAP: stop that server first" >&2; exit 1
fi
bash "$repo/.ci/slapd.sh" start "$work/slapd" "$port" "dc=example,dc=com" >&2
# The sample's entries use OpenLDAPperson (openldap.schema), which slapd.sh does not include:
# restart the same server with it.
if ! grep -q openldap.schema "$work/slapd/slapd.conf"; then
    bash "$repo/.ci/slapd.sh" stop "$work/slapd"
    sed -i 's|^include \(.*\)/inetorgperson.schema$|&\ninclude \1/openldap.schema|' "$work/slapd/slapd.conf"
    "$(command -v slapd || echo /usr/sbin/slapd)" -f "$work/slapd/slapd.conf" \
        -h "ldap://127.0.0.1:$port/" >"$work/slapd/slapd.log" 2>&1
    for _ in $(seq 1 100); do
        ldapsearch -x -H "ldap://127.0.0.1:$port/" -b "" -s base >/dev/null 2>&1 && break
        sleep 0.05
    done
fi
LDAP=(-x -H "ldap://127.0.0.1:$port/" -D "cn=admin,dc=example,dc=com" -w "$ldap_pw")
# the sample lists children before parents: add them parents first
python3 - "$ldif" > "$work/preexisting.ldif" <<'PY'
import base64, sys
blocks, cur = [], []
for line in open(sys.argv[1], encoding="utf-8").read().splitlines():
    if line.strip() == "":
        if cur: blocks.append(cur); cur = []
    elif not line.startswith("#"):
        cur.append(line)
if cur: blocks.append(cur)
def dn(block):
    text = "\n".join(block).replace("\n ", "")
    first = text.split("\n", 1)[0]
    if first.startswith("dn::"):
        return base64.b64decode(first[4:].strip()).decode()
    return first[3:].strip()
def depth(d):
    return len([p for p in d.replace("\\,", "").split(",") if p.strip()])
for b in sorted(blocks, key=lambda b: depth(dn(b))):
    print("\n".join(b) + "\n")
PY
ldapadd "${LDAP[@]}" -f "$work/preexisting.ldif" >"$work/ldapadd.log"
printf 'dn: ou=Leavers,dc=example,dc=com\nobjectClass: organizationalUnit\nou: Leavers\n' |
    ldapadd "${LDAP[@]}" >>"$work/ldapadd.log"
ldapsearch "${LDAP[@]}" -LLL -o ldif-wrap=no -b "dc=example,dc=com" "(objectClass=*)" '*' entryCSN \
    > "$work/before.ldif"

# ------------------------------------------------------------------ Samba AD
for _ in $(seq 1 60); do # a DC of the LDAP tests may still be stopping
    LDAPTLS_REQCERT=never timeout 2 ldapsearch -x -H ldap://127.0.0.1:389/ -b "" -s base \
        >/dev/null 2>&1 || break
    sleep 1
done
log "starting Samba AD (provisioning EXAMPLE.TEST)"
samba_out=$(bash "$repo/.ci/samba.sh" start "$work/samba")
echo "$samba_out" >&2
ca_file=$(echo "$samba_out" | sed -n 's/^ca_file=//p')
[ -f "$ca_file" ] || { echo "samba.sh printed no ca_file" >&2; exit 1; }
export LDAPTLS_CACERT="$ca_file"
AD=(-x -H "ldaps://127.0.0.1:636/" -D "CN=Administrator,CN=Users,DC=example,DC=test" -w "$ad_pw")
printf 'dn: OU=Staff,DC=example,DC=test\nobjectClass: organizationalUnit\nou: Staff\n' |
    ldapadd "${AD[@]}" >"$work/ad-ou.log"

# ------------------------------------------------------------------ IdentityMesh
mkdir -p "$data/certs"
cp "$ca_file" "$data/certs/ad-ca.pem"
cp "$hr_csv" "$data/hr.csv"
cp "$repo/examples/hr-to-directories/identitymesh.toml" "$data/identitymesh.toml"
im() { "$bin" --data-dir "$data" "$@"; }
printf '%s' "$ldap_pw" | im secrets set openldap-bind >&2
printf '%s' "$ad_pw" | im secrets set ad-bind >&2
im config apply "$data/identitymesh.toml" >&2

cycle() { # NAME: runs the default cycle, keeps its JSON report
    local t0; t0=$(date +%s)
    log "cycle $1"
    im cycle --json > "$work/$1.json" || true
    echo $(( $(date +%s) - t0 )) > "$work/$1.secs"
}
snapshot() { # NAME: both directories as LDIF
    ldapsearch "${LDAP[@]}" -LLL -o ldif-wrap=no -b "dc=example,dc=com" "(objectClass=*)" \
        '*' entryUUID entryCSN > "$work/$1.openldap.ldif"
    ldapsearch "${AD[@]}" -LLL -o ldif-wrap=no -b "OU=Staff,DC=example,DC=test" \
        "(objectClass=user)" sAMAccountName objectGUID userAccountControl department title \
        displayName mail manager employeeID uSNChanged > "$work/$1.ad.ldif"
}

cycle first && snapshot first
cycle second && snapshot second
# the change: the first active employee without reports moves department; the next one leaves
python3 - "$data/hr.csv" "$work/change.json" <<'PY'
import csv, json, sys
path = sys.argv[1]
with open(path, encoding="utf-8-sig", newline="") as f:
    rows = list(csv.DictReader(f))
fields = list(rows[0].keys())
def common(r):
    last, first = r["Employee_Name"].split(",", 1)
    return first.split()[0] + " " + " ".join(last.split())
managers = {" ".join(r["ManagerName"].split()) for r in rows}
movable = [r for r in rows if r["Termd"].strip() == "0" and common(r) not in managers]
mover, leaver = movable[0], movable[1]
old = " ".join(mover["Department"].split())
new = "Sales" if old != "Sales" else "Production"
mover["Department"] = new
leaver["Termd"] = "1"
leaver["EmploymentStatus"] = "Voluntarily Terminated"
leaver["DateofTermination"] = "12/1/2026"
with open(path, "w", encoding="utf-8", newline="") as f:
    w = csv.DictWriter(f, fieldnames=fields)
    w.writeheader()
    w.writerows(rows)
json.dump({"mover": mover["EmpID"], "from": old, "to": new, "leaver": leaver["EmpID"]},
          open(sys.argv[2], "w"))
PY
cycle third && snapshot third

python3 - "$work" "$hr_csv" "$(( $(date +%s) - started ))" <<'PY'
import base64, csv, json, re, sys
work, hr_csv, elapsed = sys.argv[1], sys.argv[2], int(sys.argv[3])
checks = []
def check(name, ok, detail=None):
    checks.append({"check": name, "ok": bool(ok), **({"detail": detail} if detail is not None else {})})

def ldif(path):
    """LDIF -> {dn: {attr_lower: [values]}} (DNs case-folded for lookups)."""
    out = {}
    for block in open(path, encoding="utf-8").read().split("\n\n"):
        entry, dn = {}, None
        for line in block.splitlines():
            if not line or line.startswith("#") or ":" not in line:
                continue
            name, _, value = line.partition(":")
            if value.startswith(":"):
                raw = base64.b64decode(value[1:].strip())
                try:
                    value = raw.decode()
                except UnicodeDecodeError:
                    value = raw.hex()
            else:
                value = value.strip()
            if name.lower() == "dn":
                dn = value
            else:
                entry.setdefault(name.lower(), []).append(value)
        if dn is not None:
            entry["_dn"] = [dn]
            out[dn.lower()] = entry
    return out

def report(name):
    try:
        return json.load(open(f"{work}/{name}.json"))
    except (OSError, ValueError) as e:
        return {"status": f"no report ({e})", "runs": []}

def totals(rep):
    t = {}
    for run in rep.get("runs", []):
        c = run["connector"]
        for k in ("exported_adds", "exported_updates", "exported_deletes", "queued_adds",
                  "queued_updates", "queued_deletes", "queued_disables", "errors", "held"):
            t.setdefault(c, {}).setdefault(k, 0)
            t[c][k] += run["stats"].get(k, 0)
    return t

def errors(rep):
    return [e for run in rep.get("runs", []) for e in run.get("errors", [])][:5]

with open(hr_csv, encoding="utf-8-sig", newline="") as f:
    rows = list(csv.DictReader(f))
active = [r for r in rows if r["Termd"].strip() == "0"]

def login(r):
    last, first = r["Employee_Name"].split(",", 1)
    clean = lambda s: re.sub("[^A-Za-z]", "", s)
    return (clean(first.split()[0])[:1] + clean(last)[:14]).lower() + r["EmpID"].strip()

def people(snap, ou):
    return {dn: e for dn, e in snap.items()
            if dn.endswith(f",ou={ou.lower()},dc=example,dc=com") and "employeenumber" in e}

def enabled(e):
    return not int(e.get("useraccountcontrol", ["0"])[0]) & 2

summary = {"hr_rows": len(rows), "active": len(active), "cycles": {}}
first, second, third = (ldif(f"{work}/{n}.openldap.ldif") for n in ("first", "second", "third"))
ad1, ad2, ad3 = (ldif(f"{work}/{n}.ad.ldif") for n in ("first", "second", "third"))
before = ldif(f"{work}/before.ldif")

# ---- cycle 1
rep = report("first")
summary["cycles"]["first"] = {"status": rep.get("status"), "seconds": int(open(f"{work}/first.secs").read()), "exports": totals(rep)}
check("cycle 1 completed without errors", rep.get("status") == "completed", errors(rep) or rep.get("status"))
ppl = people(first, "People")
summary["openldap_people"] = len(ppl)
check("OpenLDAP ou=People has one entry per active employee", len(ppl) == len(active), len(ppl))
uids = [e["uid"][0].lower() for e in ppl.values()]
check("OpenLDAP uids are unique and as generated", len(set(uids)) == len(uids) and set(uids) == {login(r) for r in active})
check("OpenLDAP ou=Leavers is empty", not people(first, "Leavers"))
managed = [e for e in first.values() if "employeenumber" in e]
check("OpenLDAP: nothing duplicated (one entry per employee number, no other new entries)",
      len(managed) == len({e["employeenumber"][0] for e in managed}) == len(active)
      and len(first) == len(before) + len(active), {"entries": len(first), "before": len(before)})
users = list(ad1.values())
summary["ad_users"] = len(users)
check("AD OU=Staff has one enabled user per active employee", len(users) == len(active) and all(enabled(u) for u in users), len(users))
check("AD sAMAccountNames are the generated logins", {u["samaccountname"][0].lower() for u in users} == {login(r) for r in active})
untouched = [dn for dn in before if dn not in first or before[dn] != {k: v for k, v in first[dn].items() if k != "entryuuid"}]
check("pre-existing OpenLDAP entries untouched", not untouched and len(before) > 0, untouched[:3])
cn_of = {}
for r in rows:
    last, first_name = r["Employee_Name"].split(",", 1)
    cn_of[first_name.split()[0] + " " + " ".join(last.split())] = r
sample = next(r for r in active if " ".join(r["ManagerName"].split()) in cn_of
              and cn_of[" ".join(r["ManagerName"].split())]["Termd"].strip() == "0")
mgr = cn_of[" ".join(sample["ManagerName"].split())]
dn = f"uid={login(sample)},ou=people,dc=example,dc=com"
entry = first.get(dn, {})
last, given = sample["Employee_Name"].split(",", 1)
expected = {
    "employeenumber": sample["EmpID"].strip(),
    "sn": " ".join(last.split()),
    "givenname": " ".join(given.split()),
    "departmentnumber": " ".join(sample["Department"].split()),
    "title": " ".join(sample["Position"].split()),
    "employeetype": "active",
    "manager": f"uid={login(mgr)},ou=People,dc=example,dc=com",
}
got = {k: entry.get(k, [None])[0] for k in expected}
summary["sample_entry"] = {"dn": entry.get("_dn", [dn])[0], **got}
check("sample OpenLDAP entry has the expected attributes (manager = the manager's DN)",
      all((got[k] or "").lower() == v.lower() for k, v in expected.items()), got)
ad_sample = next((u for u in users if u["samaccountname"][0].lower() == login(sample)), {})
ad_mgr = (ad_sample.get("manager") or [""])[0].lower()
check("sample AD user has department and manager", ad_sample.get("department", [None])[0] == expected["departmentnumber"]
      and ad_mgr == f"cn={login(mgr)},ou=staff,dc=example,dc=test", {"department": ad_sample.get("department"), "manager": ad_sample.get("manager")})

# ---- cycle 2: nothing to do
rep = report("second")
t = totals(rep)
summary["cycles"]["second"] = {"status": rep.get("status"), "seconds": int(open(f"{work}/second.secs").read()), "exports": t}
changed = sum(v for c in t.values() for k, v in c.items() if k.startswith(("exported_", "queued_")))
check("cycle 2 completed and queued or exported nothing", rep.get("status") == "completed" and changed == 0, errors(rep) or t)
check("cycle 2 left both directories as they were", first == second and ad1 == ad2,
      {"openldap_changed": [d for d in second if first.get(d) != second[d]][:3],
       "ad_changed": [d for d in ad2 if ad1.get(d) != ad2[d]][:3]})

# ---- cycle 3: one department change, one leaver
change = json.load(open(f"{work}/change.json"))
rep = report("third")
t = totals(rep)
summary["cycles"]["third"] = {"status": rep.get("status"), "seconds": int(open(f"{work}/third.secs").read()), "exports": t, "change": change}
want = {"exported_adds": 0, "exported_updates": 2, "exported_deletes": 0}
check("cycle 3 exported exactly two updates per directory (department, leaver)",
      rep.get("status") == "completed" and all({k: t.get(c, {}).get(k) for k in want} == want for c in ("openldap", "ad")), errors(rep) or t)
by_uuid = lambda snap: {e["entryuuid"][0]: e for e in snap.values() if "entryuuid" in e}
u2, u3 = by_uuid(second), by_uuid(third)
diff = sorted(u3[u]["_dn"][0] for u in u3 if u2.get(u) != u3[u])
summary["openldap_changed_entries"] = diff
rows_by_id = {r["EmpID"].strip(): r for r in rows}
mover_dn = f"uid={login(rows_by_id[change['mover']])},ou=People,dc=example,dc=com"
leaver_dn = f"uid={login(rows_by_id[change['leaver']])},ou=Leavers,dc=example,dc=com"
check("OpenLDAP: exactly the mover and the leaver changed", [d.lower() for d in diff] == sorted([mover_dn.lower(), leaver_dn.lower()]), diff)
check("OpenLDAP: the mover's departmentNumber changed",
      third.get(mover_dn.lower(), {}).get("departmentnumber") == [change["to"]])
leaver = third.get(leaver_dn.lower(), {})
old_leaver = second.get(leaver_dn.lower().replace("ou=leavers", "ou=people"), {})
check("OpenLDAP: the leaver moved to ou=Leavers (same entryUUID, employeeType terminated)",
      leaver.get("employeetype") == ["terminated"] and leaver.get("entryuuid") == old_leaver.get("entryuuid")
      and leaver.get("entryuuid") is not None and len(people(third, "People")) == len(active) - 1)
a2 = {e["objectguid"][0]: e for e in ad2.values()}
a3 = {e["objectguid"][0]: e for e in ad3.values()}
ad_diff = sorted(a3[g]["samaccountname"][0] for g in a3 if {k: v for k, v in a2.get(g, {}).items() if k != "usnchanged"} != {k: v for k, v in a3[g].items() if k != "usnchanged"})
summary["ad_changed_users"] = ad_diff
leaver_ad = next((u for u in a3.values() if u["samaccountname"][0] == login(rows_by_id[change["leaver"]])), {})
mover_ad = next((u for u in a3.values() if u["samaccountname"][0] == login(rows_by_id[change["mover"]])), {})
check("AD: exactly the mover and the leaver changed", ad_diff == sorted([login(rows_by_id[change["mover"]]), login(rows_by_id[change["leaver"]])]), ad_diff)
check("AD: the leaver is disabled, the others enabled", leaver_ad and not enabled(leaver_ad)
      and sum(enabled(u) for u in a3.values()) == len(active) - 1 and len(a3) == len(active))
check("AD: the mover's department changed", mover_ad.get("department") == [change["to"]])
check("pre-existing OpenLDAP entries still untouched", all(third.get(dn, {}).get("entrycsn") == before[dn].get("entrycsn") for dn in before))

summary["seconds"] = elapsed
summary["passed"] = sum(c["ok"] for c in checks)
summary["failed"] = sum(not c["ok"] for c in checks)
summary["checks"] = checks
print(json.dumps(summary, indent=2))
print(f"e2e-directories: {summary['passed']} passed, {summary['failed']} failed", file=sys.stderr)
sys.exit(1 if summary["failed"] else 0)
PY
