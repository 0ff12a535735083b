//! Ids are never reused. Staged objects, mesh objects and export queue items are referred to
//! by id from links, queue items, audit records and run reports: an id that came back after
//! a delete would make an old reference point at a new, unrelated object. Each story deletes
//! the newest row (and then every row) and proves the next id is still greater, across
//! transactions and across a second handle on the same database (SQLite without
//! AUTOINCREMENT would hand out max(id) + 1, reusing the deleted id).

use identitymesh_domain::export::{ExportOp, ExportReason};
use identitymesh_domain::mesh::NewMeshObject;
use identitymesh_store::{DatabaseUrl, Store};
use std::collections::BTreeMap;

use crate::fixtures::{at, attrs, export, staged};

fn person(mail: &str) -> NewMeshObject {
    NewMeshObject {
        object_type: "person".into(),
        attributes: attrs(&[("mail", mail)]),
        provenance: BTreeMap::new(),
    }
}

/// Runs `step` in its own committed transaction.
fn committed<T>(store: &Store, step: impl FnOnce(&mut dyn identitymesh_store::Tx) -> T) -> T {
    let mut tx = store.begin().unwrap();
    let value = step(tx.as_mut());
    tx.commit().unwrap();
    value
}

pub fn mesh_ids_are_never_reused(store: &Store, url: &DatabaseUrl) {
    let (a, b) = committed(store, |tx| {
        let a = tx.insert_mesh(&person("a@example.test"), at(0)).unwrap();
        let b = tx.insert_mesh(&person("b@example.test"), at(0)).unwrap();
        (a, b)
    });
    assert!(b > a);
    committed(store, |tx| tx.delete_mesh(b).unwrap());
    let c = committed(store, |tx| {
        tx.insert_mesh(&person("c@example.test"), at(1)).unwrap()
    });
    assert!(
        c > b,
        "mesh id {c:?} after deleting {b:?}: an id was reused"
    );

    // an emptied table, seen through a second handle, still continues after the highest id
    committed(store, |tx| {
        tx.delete_mesh(a).unwrap();
        tx.delete_mesh(c).unwrap();
        assert_eq!(tx.count_mesh(None).unwrap(), 0);
    });
    let other = Store::open(url, false).unwrap();
    let d = committed(&other, |tx| {
        tx.insert_mesh(&person("d@example.test"), at(2)).unwrap()
    });
    assert!(d > c, "mesh id {d:?} after emptying the table at {c:?}");
    assert!(committed(store, |tx| tx.mesh_by_id(d).unwrap()).is_some());
    // and the reference to a deleted id stays dangling, not re-pointed
    assert!(committed(store, |tx| tx.mesh_by_id(b).unwrap()).is_none());
    assert!(committed(store, |tx| tx.mesh_by_id(c).unwrap()).is_none());
}

pub fn staged_ids_are_never_reused(store: &Store, url: &DatabaseUrl) {
    let (a, b) = committed(store, |tx| {
        let a = tx.insert_staged(&staged("hr", "a", 1)).unwrap();
        let b = tx.insert_staged(&staged("hr", "b", 1)).unwrap();
        (a, b)
    });
    assert!(b > a);
    committed(store, |tx| tx.delete_staged(b).unwrap());
    // the same connector and anchor again: a new object, with a new id
    let c = committed(store, |tx| tx.insert_staged(&staged("hr", "b", 2)).unwrap());
    assert!(c > b, "staged id {c} after deleting {b}: an id was reused");

    committed(store, |tx| {
        tx.delete_staged(a).unwrap();
        tx.delete_staged(c).unwrap();
    });
    let other = Store::open(url, false).unwrap();
    let d = committed(&other, |tx| {
        tx.insert_staged(&staged("hr", "a", 3)).unwrap()
    });
    assert!(d > c, "staged id {d} after emptying the table at {c}");
    assert!(committed(store, |tx| tx.staged_by_id(b).unwrap()).is_none());
    assert_eq!(
        committed(store, |tx| tx.staged_by_id(d).unwrap()).map(|s| s.id),
        Some(d)
    );
}

pub fn export_ids_are_never_reused(store: &Store, url: &DatabaseUrl) {
    let (s1, s2) = committed(store, |tx| {
        (
            tx.insert_staged(&staged("ad", "t1", 1)).unwrap(),
            tx.insert_staged(&staged("ad", "t2", 1)).unwrap(),
        )
    });
    let (e1, e2) = committed(store, |tx| {
        let e1 = tx
            .queue_export(
                &export("ad", s1, ExportOp::Delete, ExportReason::DeprovisionDelete),
                1,
                at(0),
            )
            .unwrap();
        let e2 = tx
            .queue_export(
                &export("ad", s2, ExportOp::Delete, ExportReason::DeprovisionDelete),
                1,
                at(0),
            )
            .unwrap();
        (e1, e2)
    });
    assert!(e2 > e1);
    // completing the newest item removes it; the next item (for the same object) is new
    committed(store, |tx| tx.complete_export(e2).unwrap());
    assert!(committed(store, |tx| tx.export_for_staged(s2).unwrap()).is_none());
    let e3 = committed(store, |tx| {
        tx.queue_export(
            &export("ad", s2, ExportOp::Delete, ExportReason::DeprovisionDelete),
            2,
            at(1),
        )
        .unwrap()
    });
    assert!(
        e3 > e2,
        "export id {e3} after completing {e2}: an id was reused"
    );

    // cancelled items free nothing either, seen through a second handle
    committed(store, |tx| {
        assert_eq!(tx.cancel_exports_for_staged(s1).unwrap(), 1);
        assert_eq!(tx.cancel_exports_for_staged(s2).unwrap(), 1);
    });
    let other = Store::open(url, false).unwrap();
    let e4 = committed(&other, |tx| {
        tx.queue_export(
            &export("ad", s1, ExportOp::Delete, ExportReason::DeprovisionDelete),
            3,
            at(2),
        )
        .unwrap()
    });
    assert!(e4 > e3, "export id {e4} after emptying the queue at {e3}");
    let item = committed(store, |tx| tx.export_for_staged(s1).unwrap()).unwrap();
    assert_eq!(item.id, e4);
}
