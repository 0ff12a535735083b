//! Stories of the mesh (objects, keys, uniqueness) and of the export queue (replace, hold,
//! release, reject, fail, dead-letter).

use identitymesh_domain::export::{AttributeChange, ExportOp, ExportReason, ExportState};
use identitymesh_domain::mesh::{MeshKey, NewMeshObject, Provenance};
use identitymesh_domain::{MeshId, Value};
use identitymesh_store::{Store, StoreError};
use std::collections::BTreeMap;

use crate::fixtures::{at, attrs, connector, export, staged};

fn provenance(attribute: &str) -> BTreeMap<String, Provenance> {
    let p = Provenance {
        connector: "hr".into(),
        rule: format!("flows.in.{attribute}"),
        at: "2024-01-01T00:00:00Z".into(),
    };
    BTreeMap::from([(attribute.to_owned(), p)])
}

fn key(attribute: &str, key: &str, unique: bool) -> MeshKey {
    MeshKey {
        attribute: attribute.into(),
        key: key.into(),
        unique,
    }
}

pub fn mesh_and_keys(store: &Store) {
    let mut tx = store.begin().unwrap();
    let new = |mail: &str| NewMeshObject {
        object_type: "person".into(),
        attributes: attrs(&[("mail", mail)]),
        provenance: provenance("mail"),
    };
    let ada = tx.insert_mesh(&new("ada@example.test"), at(0)).unwrap();
    let bob = tx.insert_mesh(&new("bob@example.test"), at(0)).unwrap();
    let group = tx
        .insert_mesh(
            &NewMeshObject {
                object_type: "group".into(),
                attributes: attrs(&[]),
                provenance: BTreeMap::new(),
            },
            at(0),
        )
        .unwrap();
    let got = tx.mesh_by_id(ada).unwrap().unwrap();
    assert_eq!(
        (got.version, got.object_type.as_str(), got.provenance),
        (1, "person", provenance("mail"))
    );

    let mut changed = attrs(&[("mail", "ada@example.test")]);
    changed.set(
        "memberOf",
        vec![Value::Int(7), Value::Bool(true), Value::Bytes(vec![0, 255])],
    );
    tx.update_mesh(ada, &changed, &provenance("memberOf"), at(5))
        .unwrap();
    let got = tx.mesh_by_id(ada).unwrap().unwrap();
    assert_eq!((got.version, got.attributes), (2, changed));
    assert!(
        tx.update_mesh(MeshId(9999), &attrs(&[]), &BTreeMap::new(), at(5))
            .is_err()
    );

    tx.replace_mesh_keys(
        ada,
        "person",
        &[
            key("mail", "ada@example.test", true),
            key("sn", "lovelace", false),
        ],
    )
    .unwrap();
    tx.replace_mesh_keys(
        bob,
        "person",
        &[
            key("mail", "bob@example.test", true),
            key("sn", "lovelace", false),
        ],
    )
    .unwrap();
    assert_eq!(
        tx.mesh_ids_by_key("person", "sn", "lovelace").unwrap(),
        vec![ada, bob]
    );
    assert_eq!(
        tx.mesh_ids_by_key("person", "mail", "bob@example.test")
            .unwrap(),
        vec![bob]
    );
    assert_eq!(
        tx.mesh_ids_by_key("group", "sn", "lovelace").unwrap(),
        vec![]
    );

    // a unique key held by another object is refused with the holder, and nothing changes
    let clash = tx.replace_mesh_keys(bob, "person", &[key("mail", "ada@example.test", true)]);
    match clash {
        Err(StoreError::UniqueViolation {
            object_type,
            attribute,
            holder,
        }) => {
            assert_eq!(
                (object_type.as_str(), attribute.as_str(), holder),
                ("person", "mail", ada.0)
            );
        }
        other => panic!("expected a unique violation, got {other:?}"),
    }
    assert_eq!(
        tx.mesh_ids_by_key("person", "mail", "bob@example.test")
            .unwrap(),
        vec![bob]
    );
    // the same value, not unique, or in another type, is fine
    tx.replace_mesh_keys(group, "group", &[key("mail", "ada@example.test", true)])
        .unwrap();
    // re-stating one's own keys is fine
    tx.replace_mesh_keys(ada, "person", &[key("mail", "ada@example.test", true)])
        .unwrap();
    assert_eq!(
        tx.mesh_ids_by_key("person", "sn", "lovelace").unwrap(),
        vec![bob]
    );

    let ids = |page: Vec<identitymesh_domain::mesh::MeshObject>| {
        page.iter().map(|o| o.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(tx.mesh_page(None, 0, 10).unwrap()),
        vec![ada, bob, group]
    );
    assert_eq!(
        ids(tx.mesh_page(Some("person"), ada.0, 10).unwrap()),
        vec![bob]
    );
    assert_eq!(
        (
            tx.count_mesh(None).unwrap(),
            tx.count_mesh(Some("person")).unwrap()
        ),
        (3, 2)
    );

    tx.delete_mesh(ada).unwrap();
    assert!(tx.mesh_by_id(ada).unwrap().is_none());
    assert_eq!(
        tx.mesh_ids_by_key("person", "mail", "ada@example.test")
            .unwrap(),
        vec![]
    );
    // the freed value can be taken now
    tx.replace_mesh_keys(bob, "person", &[key("mail", "ada@example.test", true)])
        .unwrap();
    tx.commit().unwrap();
}

pub fn export_queue(store: &Store) {
    let ad = connector("ad");
    let update = |v: &str| ExportOp::Update {
        changes: vec![AttributeChange::Replace {
            attribute: "title".into(),
            values: vec![Value::str(v)],
        }],
        new_name: None,
    };
    let mut tx = store.begin().unwrap();
    let s: Vec<i64> = (1..=4)
        .map(|i| {
            tx.insert_staged(&staged("ad", &format!("a{i}"), 1))
                .unwrap()
        })
        .collect();
    let add = ExportOp::Add {
        name: Some("cn=a1".into()),
        attributes: attrs(&[("cn", "a1")]),
    };
    let e1 = tx
        .queue_export(&export("ad", s[0], add, ExportReason::Provision), 1, at(0))
        .unwrap();
    let e2 = tx
        .queue_export(
            &export("ad", s[1], update("v1"), ExportReason::Update),
            1,
            at(0),
        )
        .unwrap();
    let e3 = tx
        .queue_export(
            &export(
                "ad",
                s[2],
                ExportOp::Delete,
                ExportReason::DeprovisionDelete,
            ),
            1,
            at(0),
        )
        .unwrap();

    // replacing a pending (or failed) item keeps one item per object, with the new operation
    tx.fail_export(e2, "timeout", false, at(1)).unwrap();
    let failed = tx.export_for_staged(s[1]).unwrap().unwrap();
    assert_eq!(
        (failed.state, failed.attempts, failed.last_error.as_deref()),
        (ExportState::Failed, 1, Some("timeout"))
    );
    let again = tx
        .queue_export(
            &export("ad", s[1], update("v2"), ExportReason::Update),
            2,
            at(2),
        )
        .unwrap();
    assert_eq!(again, e2);
    let replaced = tx.export_for_staged(s[1]).unwrap().unwrap();
    assert_eq!(
        (replaced.op, replaced.state, replaced.attempts),
        (update("v2"), ExportState::Pending, 0)
    );
    assert_eq!(
        tx.count_exports(&ad, ExportState::Pending, false).unwrap(),
        3
    );
    assert_eq!(
        tx.count_exports(&ad, ExportState::Pending, true).unwrap(),
        1
    );

    // a guard holds everything pending; a held item is not replaced
    assert_eq!(tx.hold_pending_exports(&ad, 42).unwrap(), 3);
    let held = tx.export_for_staged(s[2]).unwrap().unwrap();
    assert_eq!((held.state, held.hold_id), (ExportState::Held, Some(42)));
    let kept = tx
        .queue_export(
            &export("ad", s[2], update("v3"), ExportReason::Update),
            3,
            at(3),
        )
        .unwrap();
    assert_eq!(kept, e3);
    assert_eq!(
        tx.export_for_staged(s[2]).unwrap().unwrap().op,
        ExportOp::Delete
    );
    let e4 = tx
        .queue_export(
            &export("ad", s[3], update("v1"), ExportReason::Update),
            3,
            at(3),
        )
        .unwrap();
    let page = tx.export_page(&ad, &[ExportState::Pending], 0, 10).unwrap();
    assert_eq!(page.iter().map(|e| e.id).collect::<Vec<_>>(), vec![e4]);
    let page = tx
        .export_page(&ad, &[ExportState::Held, ExportState::Pending], e1, 2)
        .unwrap();
    assert_eq!(page.iter().map(|e| e.id).collect::<Vec<_>>(), vec![e2, e3]);
    assert!(tx.export_page(&ad, &[], 0, 10).unwrap().is_empty());

    // release, hold again, reject
    assert_eq!(tx.release_held_exports(&ad).unwrap(), 3);
    assert_eq!(tx.export_for_staged(s[0]).unwrap().unwrap().hold_id, None);
    assert_eq!(tx.hold_pending_exports(&ad, 43).unwrap(), 4);
    tx.release_held_exports(&ad).unwrap();
    tx.hold_pending_exports(&ad, 44).unwrap();
    let rejected = tx.reject_held_exports(&ad).unwrap();
    assert_eq!(
        rejected.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![e1, e2, e3, e4]
    );
    assert_eq!(rejected[2].reason, ExportReason::DeprovisionDelete);
    assert_eq!(tx.count_exports(&ad, ExportState::Held, false).unwrap(), 0);

    // failures, dead letters, completion, cancellation
    let e5 = tx
        .queue_export(
            &export("ad", s[0], update("x"), ExportReason::Update),
            4,
            at(4),
        )
        .unwrap();
    tx.fail_export(e5, "conflict with mesh:3", true, at(5))
        .unwrap();
    let dead = tx.export_for_staged(s[0]).unwrap().unwrap();
    assert_eq!((dead.state, dead.attempts), (ExportState::DeadLetter, 1));
    assert_eq!(
        tx.queue_export(
            &export("ad", s[0], update("y"), ExportReason::Update),
            5,
            at(5)
        )
        .unwrap(),
        e5
    );
    assert_eq!(
        tx.export_page(&ad, &[ExportState::DeadLetter], 0, 10)
            .unwrap()
            .len(),
        1
    );
    let e6 = tx
        .queue_export(
            &export("ad", s[1], update("z"), ExportReason::Update),
            5,
            at(5),
        )
        .unwrap();
    tx.complete_export(e6).unwrap();
    assert!(tx.export_for_staged(s[1]).unwrap().is_none());
    assert_eq!(tx.cancel_exports_for_staged(s[0]).unwrap(), 1);
    assert_eq!(tx.cancel_exports_for_staged(s[0]).unwrap(), 0);
    tx.commit().unwrap();
}
