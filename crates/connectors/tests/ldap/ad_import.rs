//! Active Directory import against a real Samba DC: LDAPS and StartTLS with the DC's CA,
//! objectGUID anchors in the standard text form and searched by their bytes, ranged `member`
//! retrieval past MaxValRange (C-12), `enabled` from userAccountControl (C-36).

use crate::harness::import_all;
use crate::samba::{DOMAIN, Kind, LDAP, LDAPS, Samba, ad_config, open_ad, pool_user};
use identitymesh_connectors::ImportRecord;
use identitymesh_domain::export::{
    AttributeChange, ExportItem, ExportOp, ExportOutcome, ExportReason, ExportState,
};
use identitymesh_domain::staged::ImportedObject;
use identitymesh_domain::{Anchor, ConnectorName, Value};
use std::collections::BTreeSet;

/// The upserts of a complete import.
pub fn upserts(records: Vec<ImportRecord>) -> Vec<ImportedObject> {
    records
        .into_iter()
        .map(|r| match r {
            ImportRecord::Upsert(o) => o,
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

/// An export item for the connector `dir`.
pub fn item(anchor: &Anchor, op: ExportOp) -> ExportItem {
    ExportItem {
        id: 1,
        connector: ConnectorName::parse("dir").unwrap(),
        staged_id: 1,
        anchor: anchor.clone(),
        mesh_id: None,
        op,
        reason: ExportReason::Provision,
        state: ExportState::Pending,
        attempts: 0,
        last_error: None,
        hold_id: None,
    }
}

#[tokio::test]
async fn ad_ldaps_and_starttls_trust_the_configured_ca_only() {
    let Some(samba) = Samba::get() else {
        return;
    };
    let ou = samba.fresh_ou("TlsProbe");
    samba.ldapmodify(&format!(
        "dn: CN=tls1,{ou}\nobjectClass: user\nsAMAccountName: tls1\n\n"
    ));
    let ca = format!("ca_file = \"{}\"", samba.ca_file.display());
    for (url, extra) in [
        (LDAPS, ca.clone()),
        (LDAP, format!("tls = \"starttls\"\n{ca}")),
    ] {
        let mut dir = open_ad(&ad_config(url, &ou, Kind::User, &extra), &[]).unwrap();
        let (records, end) = import_all(dir.as_mut(), 100).await;
        assert!(end.complete, "{url}: {end:?}");
        let users = upserts(records);
        assert_eq!(users.len(), 1, "{url}");
        assert_eq!(
            users[0].attributes.first_text("sAMAccountName").unwrap(),
            "tls1"
        );
    }
    // Without the DC's CA (the system roots only) the handshake is refused, never skipped.
    let mut untrusted = open_ad(&ad_config(LDAPS, &ou, Kind::User, ""), &[]).unwrap();
    let err = untrusted
        .import(identitymesh_connectors::ImportMode::Full)
        .await
        .err()
        .expect("an unknown CA must fail")
        .to_string();
    assert!(err.contains("cannot reach") && err.contains(LDAPS), "{err}");
}

#[tokio::test]
async fn c12_ranged_member_read_follows_past_1500_to_all_1800() {
    let Some(samba) = Samba::get() else {
        return;
    };
    let pool = samba.pool();
    let ou = samba.fresh_ou("Ranged");
    let mut ldif =
        format!("dn: CN=all-staff,{ou}\nobjectClass: group\nsAMAccountName: all-staff-ranged\n");
    for i in 0..1_800 {
        ldif.push_str(&format!("member: {}\n", pool_user(i)));
    }
    samba.ldapmodify(&format!("{ldif}\n"));
    // The server really ranges: one window holds at most 1500 values.
    let window = samba.search(&ou, "(cn=all-staff)", &["member;range=0-1499"]);
    assert_eq!(window.matches("member;range=0-1499: ").count(), 1_500);
    let next = samba.search(&ou, "(cn=all-staff)", &["member;range=1500-*"]);
    assert_eq!(next.matches("member;range=1500-*: ").count(), 300);

    let ca = format!("ca_file = \"{}\"", samba.ca_file.display());
    let mut groups = open_ad(&ad_config(LDAPS, &ou, Kind::Group, &ca), &[]).unwrap();
    let (records, end) = import_all(groups.as_mut(), 100).await;
    assert!(end.complete && !end.failed, "{end:?}");
    let group = upserts(records).remove(0);
    let members: BTreeSet<String> = group
        .attributes
        .get("member")
        .unwrap()
        .iter()
        .map(Value::to_text)
        .collect();
    assert_eq!(members.len(), 1_800, "every member, none twice");
    assert!(members.contains(&pool_user(0)) && members.contains(&pool_user(1_799)));
    assert!(!members.contains(&pool_user(1_800)));
    assert!(
        end.watermark.is_some(),
        "a complete AD read gives its position"
    );

    // The pool's users: all 2,600 read with paged results, anchors in GUID text form.
    let mut users = open_ad(&ad_config(LDAPS, pool, Kind::User, &ca), &[]).unwrap();
    let (records, end) = import_all(users.as_mut(), 500).await;
    assert!(end.complete, "{end:?}");
    let users = upserts(records);
    assert_eq!(users.len(), 2_600);
    let p42 = users
        .iter()
        .find(|u| u.attributes.first_text("sAMAccountName").as_deref() == Some("p00042"))
        .unwrap();
    assert_eq!(p42.anchor.as_str(), samba.guid_text(&pool_user(42)));
    assert_eq!(
        p42.attributes.first_text("objectGUID").unwrap(),
        p42.anchor.as_str()
    );
    // A new user without a password starts disabled: 0x2 is set in its UAC.
    assert_eq!(p42.attributes.get("enabled").unwrap(), [Value::Bool(false)]);
    let uac = p42.attributes.get("userAccountControl").unwrap()[0].clone();
    assert!(matches!(uac, Value::Int(v) if v & 2 == 2), "{uac:?}");
}

#[tokio::test]
async fn objectguid_round_trip_finds_the_entry_by_its_bytes() {
    let Some(samba) = Samba::get() else {
        return;
    };
    let ou = samba.fresh_ou("GuidProbe");
    samba.ldapmodify(&format!(
        "dn: CN=g1,{ou}\nobjectClass: user\nsAMAccountName: g1\n\n\
         dn: CN=g2,{ou}\nobjectClass: user\nsAMAccountName: g2\n\n"
    ));
    let ca = format!("ca_file = \"{}\"", samba.ca_file.display());
    let mut dir = open_ad(&ad_config(LDAPS, &ou, Kind::User, &ca), &[]).unwrap();
    let (records, _) = import_all(dir.as_mut(), 10).await;
    let g2 = upserts(records)
        .into_iter()
        .find(|o| o.name.as_deref() == Some(&format!("CN=g2,{ou}")[..]))
        .unwrap();
    assert_eq!(g2.anchor.as_str(), samba.guid_text(&format!("CN=g2,{ou}")));
    // The update finds the entry by `(objectGUID=\xx…)` and changes that one only.
    let change = ExportOp::Update {
        changes: vec![AttributeChange::Replace {
            attribute: "description".into(),
            values: vec![Value::str("found by GUID")],
        }],
        new_name: None,
    };
    let outcome = dir
        .apply_exports(&[item(&g2.anchor, change)])
        .await
        .unwrap();
    assert_eq!(
        outcome,
        vec![ExportOutcome::Applied {
            anchor: g2.anchor.clone()
        }]
    );
    let found = samba.search(&ou, "(description=found by GUID)", &["1.1"]);
    let dns: Vec<&str> = found.lines().filter(|l| l.starts_with("dn:")).collect();
    assert_eq!(dns, [format!("dn: CN=g2,{ou}")]);
    // An unknown GUID is not found (failed, not applied elsewhere).
    let unknown = Anchor::parse("00000000-0000-0000-0000-000000000001").unwrap();
    let change = ExportOp::Update {
        changes: vec![AttributeChange::Clear {
            attribute: "description".into(),
        }],
        new_name: None,
    };
    let outcome = dir.apply_exports(&[item(&unknown, change)]).await.unwrap();
    assert!(
        matches!(&outcome[0], ExportOutcome::Failed { .. }),
        "{outcome:?}"
    );
    assert!(
        samba
            .search(DOMAIN, "(description=found by GUID)", &["1.1"])
            .contains("CN=g2")
    );
}
