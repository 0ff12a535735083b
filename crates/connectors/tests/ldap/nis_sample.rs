//! The 1,265-record OpenLDAP NIS sample (`../shared/data/ldap/openldap-nis-sample.ldif`)
//! loaded with `ldapadd -c` into its own suffix, then imported whole: the imported count
//! equals the number of entries in the server, and a sample entry is checked.

use crate::harness::{ROOT_PW, Slapd, import_all, open};
use identitymesh_connectors::ImportRecord;
use identitymesh_domain::Value;
use identitymesh_ldap::Dn;
use std::path::Path;

const NIS_BASE: &str = "o=SGI,c=US";
const NIS_ADMIN: &str = "cn=admin,o=SGI,c=US";

fn nis_config(url: &str) -> String {
    format!(
        r#"
[connectors.dir]
type = "ldap"
object_type = "nis"
anchor = "entryUUID"
attributes = [
  {{ name = "entryUUID" }},
  {{ name = "objectClass", multi = true }},
  {{ name = "cn", multi = true }},
  {{ name = "gidNumber", type = "integer" }},
  {{ name = "memberUid", multi = true }},
  {{ name = "ipNetworkNumber" }},
]
secrets = {{ bind_password = "nis-bind" }}

[connectors.dir.ldap]
url = "{url}"
bind_dn = "{NIS_ADMIN}"
base_dn = "{NIS_BASE}"
page_size = 250
"#
    )
}

#[tokio::test]
async fn the_nis_sample_is_imported_whole() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/ldap/openldap-nis-sample.ldif");
    let ldif = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let records = ldif.lines().filter(|l| l.starts_with("dn:")).count();
    assert_eq!(records, 1_265);
    let Some(slapd) = Slapd::start(&[NIS_BASE]) else {
        return;
    };
    let (_, errors) = slapd.ldapadd(NIS_ADMIN, &ldif, true);
    let in_server = slapd.count(NIS_ADMIN, NIS_BASE, "(objectClass=*)");
    // The sample is not clean: duplicates and entries the schema refuses are reported by
    // the server, and the rest is loaded.
    let mut by_kind = std::collections::BTreeMap::<&str, usize>::new();
    for e in &errors {
        *by_kind.entry(e.as_str()).or_default() += 1;
    }
    eprintln!(
        "NIS sample: {records} records, {in_server} entries in the server, refused: {by_kind:?}"
    );
    assert_eq!(
        in_server + errors.len(),
        records,
        "every record is either loaded or refused"
    );
    assert!(by_kind.keys().any(|k| k.contains("Already exists (68)")));

    let mut dir = open(&nis_config(&slapd.url()), ROOT_PW);
    let (imported, end) = import_all(dir.as_mut(), 200).await;
    assert!(end.complete, "{end:?}");
    let objects: Vec<_> = imported
        .into_iter()
        .map(|r| match r {
            ImportRecord::Upsert(o) => o,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(objects.len(), in_server);

    let named = |dn: &str| {
        let dn = Dn::parse(dn).unwrap();
        objects
            .iter()
            .find(|o| Dn::parse(o.name.as_deref().unwrap()).unwrap().matches(&dn))
            .unwrap()
    };
    let loopback = named("cn=loopback,o=SGI,c=US");
    assert_eq!(
        loopback.attributes.get("ipNetworkNumber").unwrap(),
        [Value::str("127")]
    );
    let names: Vec<_> = loopback
        .attributes
        .get("cn")
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(names, ["loopback", "loopback.sgi.com"]);
    // posixAccount entries without `cn` are refused by the schema: none is imported.
    assert!(objects.iter().all(|o| {
        !o.attributes
            .get("objectClass")
            .unwrap()
            .contains(&Value::str("posixAccount"))
    }));
    let sys = named("CN=sys, o=sgi, c=us");
    assert_eq!(sys.attributes.get("gidNumber").unwrap(), [Value::Int(0)]);
    let members: Vec<_> = sys
        .attributes
        .get("memberUid")
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(members, ["root", "bin", "sys", "adm"]);
    assert!(
        sys.attributes
            .get("objectClass")
            .unwrap()
            .contains(&Value::str("posixGroup"))
    );
}
