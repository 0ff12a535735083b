//! Read transactions: the Admin API reads through them while a run holds the write
//! transaction, so they must see the last committed state, never wait for the writer, and
//! refuse to write.

use identitymesh_domain::mesh::NewMeshObject;
use identitymesh_store::Store;
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::Duration;

use crate::fixtures::{at, attrs};

fn person(mail: &str) -> NewMeshObject {
    NewMeshObject {
        object_type: "person".into(),
        attributes: attrs(&[("mail", mail)]),
        provenance: BTreeMap::new(),
    }
}

/// Counts persons in a read transaction on another thread, within a deadline.
fn count_from_another_thread(store: &Store) -> u64 {
    let (done, answer) = mpsc::channel();
    let reader = store.clone();
    std::thread::spawn(move || {
        let mut tx = reader.begin_read().unwrap();
        let n = tx.count_mesh(Some("person")).unwrap();
        tx.commit().unwrap();
        let _ = done.send(n);
    });
    answer
        .recv_timeout(Duration::from_secs(10))
        .expect("a read transaction waited for the open write transaction")
}

pub fn reads_never_wait_for_the_writer(store: &Store) {
    let mut tx = store.begin().unwrap();
    tx.insert_mesh(&person("a@example.test"), at(0)).unwrap();
    tx.commit().unwrap();

    // a run's write transaction is open, with an uncommitted object
    let mut writer = store.begin().unwrap();
    writer
        .insert_mesh(&person("b@example.test"), at(1))
        .unwrap();
    assert_eq!(count_from_another_thread(store), 1, "only committed state");
    writer.commit().unwrap();
    assert_eq!(count_from_another_thread(store), 2, "the commit is seen");
}

pub fn reads_cannot_write(store: &Store) {
    let mut tx = store.begin_read().unwrap();
    let refused = tx.insert_mesh(&person("c@example.test"), at(2));
    assert!(refused.is_err(), "a write through a read transaction");
    drop(tx);
    let mut tx = store.begin_read().unwrap();
    assert_eq!(tx.count_mesh(None).unwrap(), 0, "nothing was written");
    tx.commit().unwrap();
}
