//! Stories of the store methods that do several steps in one call for the sync hot path:
//! each must leave the database exactly as the single-step methods it stands for would, and
//! store nothing when it fails.

use identitymesh_domain::MeshId;
use identitymesh_domain::export::{ExportOp, ExportReason, ExportState};
use identitymesh_domain::mesh::{MeshKey, NewMeshObject, Provenance};
use identitymesh_domain::staged::{Link, LinkKind, PendingImport};
use identitymesh_store::{StagedFilter, Store, StoreError};
use std::collections::BTreeMap;

use crate::fixtures::{anchor, at, attrs, connector, export, staged};

fn person(mail: &str) -> NewMeshObject {
    let p = Provenance {
        connector: "hr".into(),
        rule: "connectors.hr.mail".into(),
        at: "2024-01-01T00:00:00Z".into(),
    };
    NewMeshObject {
        object_type: "person".into(),
        attributes: attrs(&[("mail", mail)]),
        provenance: BTreeMap::from([("mail".to_owned(), p)]),
    }
}

fn key(attribute: &str, key: &str, unique: bool) -> MeshKey {
    MeshKey {
        attribute: attribute.into(),
        key: key.into(),
        unique,
    }
}

pub fn insert_mesh_with_keys(store: &Store) {
    let mut tx = store.begin().unwrap();
    let keys = [
        key("mail", "ada@example.test", true),
        key("sn", "lovelace", false),
        // listed twice: lands once
        key("sn", "lovelace", false),
    ];
    let ada = tx
        .insert_mesh_with_keys(&person("ada@example.test"), &keys, at(0))
        .unwrap();
    let got = tx.mesh_by_id(ada).unwrap().unwrap();
    assert_eq!(
        (got.version, got.object_type.as_str(), got.attributes),
        (1, "person", attrs(&[("mail", "ada@example.test")]))
    );
    assert_eq!(
        tx.mesh_ids_by_key("person", "mail", "ada@example.test")
            .unwrap(),
        vec![ada]
    );
    assert_eq!(
        tx.mesh_ids_by_key("person", "sn", "lovelace").unwrap(),
        vec![ada]
    );

    // a non-unique key may be shared
    let bob = tx
        .insert_mesh_with_keys(
            &person("bob@example.test"),
            &[
                key("mail", "bob@example.test", true),
                key("sn", "lovelace", false),
            ],
            at(1),
        )
        .unwrap();
    assert_eq!(
        tx.mesh_ids_by_key("person", "sn", "lovelace").unwrap(),
        vec![ada, bob]
    );

    // a unique key held by another object: the holder is named and nothing is stored
    let before = tx.count_mesh(Some("person")).unwrap();
    match tx.insert_mesh_with_keys(
        &person("ada@example.test"),
        &[
            key("sn", "byron", false),
            key("mail", "ada@example.test", true),
        ],
        at(2),
    ) {
        Err(StoreError::UniqueViolation {
            object_type,
            attribute,
            holder,
        }) => assert_eq!(
            (object_type.as_str(), attribute.as_str(), holder),
            ("person", "mail", ada.0)
        ),
        other => panic!("expected a unique violation, got {other:?}"),
    }
    assert_eq!(tx.count_mesh(Some("person")).unwrap(), before);
    assert!(
        tx.mesh_ids_by_key("person", "sn", "byron")
            .unwrap()
            .is_empty()
    );
    // the transaction is still usable, and a unique key of another type does not clash
    let other_type = NewMeshObject {
        object_type: "group".into(),
        ..person("ada@example.test")
    };
    tx.insert_mesh_with_keys(&other_type, &[key("mail", "ada@example.test", true)], at(3))
        .unwrap();
    // no keys at all
    let bare = tx
        .insert_mesh_with_keys(&person("carl@example.test"), &[], at(4))
        .unwrap();
    assert!(tx.mesh_by_id(bare).unwrap().is_some());
    tx.commit().unwrap();

    let mut tx = store.begin().unwrap();
    assert_eq!(tx.count_mesh(Some("person")).unwrap(), 3);
    assert_eq!(
        tx.mesh_ids_by_key("person", "mail", "ada@example.test")
            .unwrap(),
        vec![ada]
    );
}

pub fn insert_staged_with_export(store: &Store) {
    let mut tx = store.begin().unwrap();
    let run = tx
        .start_run(
            "directory",
            identitymesh_domain::run::RunProfile::FullSync,
            false,
            "test",
            at(0),
        )
        .unwrap();
    let mut target = staged("directory", "E1", run);
    target.link = Link::Joined {
        mesh_id: MeshId(7),
        how: LinkKind::Provisioned,
    };
    target.pending = PendingImport::None;
    let op = ExportOp::Add {
        name: Some("cn=E1".into()),
        attributes: attrs(&[("employeeId", "E1")]),
    };
    // the export's staged id is replaced by the new object's
    let queued = export("directory", 0, op.clone(), ExportReason::Provision);
    let (staged_id, queue_id) = tx
        .insert_staged_with_export(&target, &queued, run, at(1))
        .unwrap()
        .unwrap();

    let got = tx.staged_by_id(staged_id).unwrap().unwrap();
    assert_eq!(
        (got.anchor, got.link.clone(), got.pending),
        (anchor("E1"), target.link.clone(), PendingImport::None)
    );
    assert_eq!(
        tx.staged_for_mesh(MeshId(7))
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect::<Vec<_>>(),
        vec![staged_id]
    );
    let item = tx.export_for_staged(staged_id).unwrap().unwrap();
    assert_eq!(
        (
            item.id,
            item.staged_id,
            item.op,
            item.reason,
            item.state,
            item.mesh_id
        ),
        (
            queue_id,
            staged_id,
            op,
            ExportReason::Provision,
            ExportState::Pending,
            Some(MeshId(1))
        )
    );

    // the anchor is taken: nothing is written
    let staged_before = tx
        .count_staged(&connector("directory"), StagedFilter::All)
        .unwrap();
    let pending_before = tx
        .count_exports(&connector("directory"), ExportState::Pending, false)
        .unwrap();
    let again = export("directory", 0, ExportOp::Delete, ExportReason::Provision);
    assert_eq!(
        tx.insert_staged_with_export(&target, &again, run, at(2))
            .unwrap(),
        None
    );
    assert_eq!(
        tx.count_staged(&connector("directory"), StagedFilter::All)
            .unwrap(),
        staged_before
    );
    assert_eq!(
        tx.count_exports(&connector("directory"), ExportState::Pending, false)
            .unwrap(),
        pending_before
    );
    assert!(matches!(
        tx.export_for_staged(staged_id).unwrap().unwrap().op,
        ExportOp::Add { .. }
    ));
    // the same anchor in another connector is another object
    let elsewhere = staged("crm", "E1", run);
    assert!(
        tx.insert_staged_with_export(&elsewhere, &queued, run, at(3))
            .unwrap()
            .is_some()
    );
    tx.commit().unwrap();
}

pub fn set_staged_link_and_pending(store: &Store) {
    let mut tx = store.begin().unwrap();
    let id = tx.insert_staged(&staged("hr", "E1", 1)).unwrap();
    assert_eq!(
        tx.count_staged(&connector("hr"), StagedFilter::Pending)
            .unwrap(),
        1
    );
    let link = Link::Joined {
        mesh_id: MeshId(3),
        how: LinkKind::Projected,
    };
    tx.set_staged_link_and_pending(id, &link, PendingImport::None)
        .unwrap();
    let got = tx.staged_by_id(id).unwrap().unwrap();
    assert_eq!((got.link, got.pending), (link, PendingImport::None));
    assert_eq!(
        tx.count_staged(&connector("hr"), StagedFilter::Pending)
            .unwrap(),
        0
    );
    assert_eq!(
        tx.staged_for_mesh(MeshId(3))
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect::<Vec<_>>(),
        vec![id]
    );
    // the review list follows the link, as with set_staged_link
    let ambiguous = Link::Ambiguous {
        candidates: vec![MeshId(3), MeshId(4)],
        rule: "connectors.hr.join".into(),
    };
    tx.set_staged_link_and_pending(id, &ambiguous, PendingImport::Update)
        .unwrap();
    assert_eq!(
        tx.staged_needing_review(Some(&connector("hr")), 10)
            .unwrap()
            .iter()
            .map(|s| (s.id, s.pending))
            .collect::<Vec<_>>(),
        vec![(id, PendingImport::Update)]
    );
    assert!(tx.staged_for_mesh(MeshId(3)).unwrap().is_empty());
    // a missing object is an error
    assert!(
        tx.set_staged_link_and_pending(9999, &Link::Unjoined, PendingImport::None)
            .is_err()
    );
    tx.commit().unwrap();
}
