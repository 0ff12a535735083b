//! Active Directory delta import against a real Samba DC: `uSNChanged` above the watermark,
//! the watermark bound to the DC's invocationId, tombstones reported as deletions by
//! objectGUID and never imported as live objects.

use crate::ad_import::upserts;
use crate::samba::{Kind, LDAPS, Samba, ad_config, open_ad};
use identitymesh_connectors::{Connector, ImportEnd, ImportMode, ImportRecord, ImportShape};
use identitymesh_domain::watermark::Watermark;
use std::collections::BTreeMap;

async fn read(
    dir: &mut dyn Connector,
    mode: ImportMode,
) -> (ImportShape, Vec<ImportRecord>, ImportEnd) {
    let mut stream = dir.import(mode).await.unwrap();
    let shape = stream.shape();
    let mut records = Vec::new();
    loop {
        let batch = stream.next_batch(100).await.unwrap();
        if batch.is_empty() {
            break;
        }
        records.extend(batch);
    }
    (shape, records, stream.finish())
}

#[tokio::test]
async fn ad_delta_sees_exactly_the_changed_user_and_the_deleted_one_by_objectguid() {
    let Some(samba) = Samba::get() else {
        return;
    };
    let ou = samba.fresh_ou("Delta");
    let mut ldif = String::new();
    for i in 0..5 {
        ldif.push_str(&format!(
            "dn: CN=d{i},{ou}\nobjectClass: user\nsAMAccountName: delta{i}\n\n"
        ));
    }
    samba.ldapmodify(&ldif);
    let ca = format!("ca_file = \"{}\"", samba.ca_file.display());
    let mut dir = open_ad(&ad_config(LDAPS, &ou, Kind::User, &ca), &[]).unwrap();

    let (shape, records, end) = read(dir.as_mut(), ImportMode::Full).await;
    assert_eq!(shape, ImportShape::Full);
    assert!(end.complete, "{end:?}");
    let by_name: BTreeMap<String, String> = upserts(records)
        .into_iter()
        .map(|o| {
            (
                o.attributes.first_text("sAMAccountName").unwrap(),
                o.anchor.to_string(),
            )
        })
        .collect();
    assert_eq!(by_name.len(), 5);
    let w1 = end
        .watermark
        .clone()
        .expect("a full AD import gives a watermark");
    assert_eq!(w1.source_id, dir.source_id());

    // Nothing changed: an empty delta.
    let (shape, records, end) = read(dir.as_mut(), ImportMode::Delta(w1.clone())).await;
    assert_eq!(shape, ImportShape::Delta);
    assert!(records.is_empty() && end.complete, "{records:?}");

    // One user changed: exactly that one.
    samba.ldapmodify(&format!(
        "dn: CN=d2,{ou}\nchangetype: modify\nreplace: userPrincipalName\nuserPrincipalName: delta2@example.test\n\n"
    ));
    let (shape, records, end) = read(dir.as_mut(), ImportMode::Delta(w1.clone())).await;
    assert_eq!(shape, ImportShape::Delta);
    assert!(end.complete, "{end:?}");
    let changed = upserts(records);
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].anchor.as_str(), by_name["delta2"]);
    assert_eq!(
        changed[0]
            .attributes
            .first_text("userPrincipalName")
            .unwrap(),
        "delta2@example.test"
    );
    let w2 = end.watermark.unwrap();

    // One user deleted: reported as a deletion by its objectGUID, never as a live object.
    samba.ldapmodify(&format!("dn: CN=d4,{ou}\nchangetype: delete\n\n"));
    let (_, records, end) = read(dir.as_mut(), ImportMode::Delta(w2.clone())).await;
    assert!(end.complete, "{end:?}");
    let mine: Vec<&ImportRecord> = records
        .iter()
        .filter(|r| match r {
            ImportRecord::Delete { anchor, .. } => by_name.values().any(|a| a == anchor.as_str()),
            _ => true,
        })
        .collect();
    assert_eq!(mine.len(), 1, "{records:?}");
    match mine[0] {
        ImportRecord::Delete {
            anchor,
            object_type,
        } => {
            assert_eq!(anchor.as_str(), by_name["delta4"]);
            assert_eq!(object_type, "person");
        }
        other => panic!("expected the deletion, got {other:?}"),
    }

    // A watermark from another DC (another invocationId): an explicit full import instead.
    let foreign = Watermark {
        position: format!(
            "00000000-0000-0000-0000-00000000abcd:{}",
            w2.position.rsplit(':').next().unwrap()
        ),
        ..w2
    };
    let (shape, records, end) = read(dir.as_mut(), ImportMode::Delta(foreign)).await;
    assert_eq!(
        shape,
        ImportShape::Full,
        "a foreign watermark is not trusted"
    );
    assert!(end.complete);
    assert_eq!(
        upserts(records).len(),
        4,
        "the full read: five users less the deleted one"
    );
}
