//! Stories of the Admin API's reads and user administration (issue 5): the connector-space
//! search (state filters, anchor, attribute value, paging, one connector only), a
//! configuration version by id, and changing, disabling and deleting users.

use identitymesh_domain::export::{ExportOp, ExportReason};
use identitymesh_domain::staged::{Link, LinkKind, PendingImport};
use identitymesh_domain::{Anchor, MeshId};
use identitymesh_store::{NewApiToken, NewUser, SessionRecord, SpaceQuery, SpaceState, Store};

use crate::fixtures::{anchor, at, attrs, connector, export, staged};

fn query(state: SpaceState) -> SpaceQuery {
    SpaceQuery {
        connector: connector("hr"),
        state,
        anchor: None,
        attribute: None,
        after_id: 0,
        limit: 500,
    }
}

fn anchors(store: &Store, q: &SpaceQuery) -> Vec<String> {
    let mut tx = store.begin().unwrap();
    let page = tx.space_page(q).unwrap();
    page.into_iter().map(|s| s.anchor.to_string()).collect()
}

/// hr: 1 pending add and unjoined; 2 joined, nothing pending, an export queued;
/// 3 joined, pending update, display name "Grace Hopper". ad: 1 (another connector).
fn seed(store: &Store) {
    let mut tx = store.begin().unwrap();
    let one = tx.insert_staged(&staged("hr", "1", 1)).unwrap();
    let two = tx.insert_staged(&staged("hr", "2", 1)).unwrap();
    let mut third = staged("hr", "3", 1);
    third.attributes = attrs(&[("employeeId", "3"), ("displayName", "Grace Hopper")]);
    let three = tx.insert_staged(&third).unwrap();
    tx.insert_staged(&staged("ad", "1", 1)).unwrap();
    let joined = Link::Joined {
        mesh_id: MeshId(7),
        how: LinkKind::Projected,
    };
    tx.set_staged_link_and_pending(two, &joined, PendingImport::None)
        .unwrap();
    tx.set_staged_link_and_pending(three, &joined, PendingImport::Update)
        .unwrap();
    tx.queue_export(
        &export("hr", two, ExportOp::Delete, ExportReason::Provision),
        1,
        at(0),
    )
    .unwrap();
    assert!(one > 0);
    tx.commit().unwrap();
}

pub fn space_search(store: &Store) {
    seed(store);
    assert_eq!(anchors(store, &query(SpaceState::All)), ["1", "2", "3"]);
    assert_eq!(
        anchors(store, &query(SpaceState::PendingImport)),
        ["1", "3"]
    );
    assert_eq!(anchors(store, &query(SpaceState::PendingExport)), ["2"]);
    assert_eq!(anchors(store, &query(SpaceState::Unjoined)), ["1"]);
    let by_anchor = SpaceQuery {
        anchor: Some(anchor("2")),
        ..query(SpaceState::All)
    };
    assert_eq!(anchors(store, &by_anchor), ["2"]);
    let by_value = SpaceQuery {
        attribute: Some(("displayName".into(), "grace HOPPER".into())),
        ..query(SpaceState::All)
    };
    assert_eq!(anchors(store, &by_value), ["3"], "ignoring case");
    let combined = SpaceQuery {
        state: SpaceState::Unjoined,
        ..by_value.clone()
    };
    assert!(anchors(store, &combined).is_empty(), "filters combine");
    let missing_attribute = SpaceQuery {
        attribute: Some(("nosuch".into(), "Ada".into())),
        ..query(SpaceState::All)
    };
    assert!(anchors(store, &missing_attribute).is_empty());
    let no_anchor = SpaceQuery {
        anchor: Some(Anchor::parse("999").unwrap()),
        ..query(SpaceState::All)
    };
    assert!(anchors(store, &no_anchor).is_empty());
}

pub fn space_paging(store: &Store) {
    seed(store);
    let first = SpaceQuery {
        limit: 2,
        ..query(SpaceState::All)
    };
    let mut tx = store.begin().unwrap();
    let page = tx.space_page(&first).unwrap();
    assert_eq!(page.len(), 2);
    let next = SpaceQuery {
        after_id: page[1].id,
        ..first
    };
    let rest = tx.space_page(&next).unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].anchor.as_str(), "3");
    assert_eq!(
        rest[0].attributes,
        attrs(&[("employeeId", "3"), ("displayName", "Grace Hopper")])
    );
}

pub fn config_version_by_id(store: &Store) {
    let mut tx = store.begin().unwrap();
    let v1 = tx.apply_config("a = 1", "h1", "user:ada", at(0)).unwrap();
    let v2 = tx.apply_config("a = 2", "h2", "user:bob", at(1)).unwrap();
    let got = tx.config_version(v1).unwrap().unwrap();
    assert_eq!(
        (got.content.as_str(), got.author.as_str(), got.created_at),
        ("a = 1", "user:ada", at(0))
    );
    assert_eq!(tx.config_version(v2).unwrap().unwrap().hash, "h2");
    assert_eq!(tx.config_version(v2 + 100).unwrap(), None);
}

fn user(name: &str, role: &str) -> NewUser {
    NewUser {
        name: name.into(),
        role: role.into(),
        password_hash: format!("$argon2id$stand-in-for-{name}"),
    }
}

fn access(user_id: i64, n: i64) -> (SessionRecord, NewApiToken) {
    let session = SessionRecord {
        id_hash: format!("s{user_id}-{n}"),
        user_id,
        created_at: at(0),
        last_seen_at: at(0),
        expires_at: at(100),
    };
    let token = NewApiToken {
        name: "ci".into(),
        user_id,
        role: "viewer".into(),
        token_hash: format!("t{user_id}-{n}"),
        created_at: at(0),
        expires_at: at(100),
    };
    (session, token)
}

pub fn user_administration(store: &Store) {
    let mut tx = store.begin().unwrap();
    let ada = tx
        .insert_user(&user("ada", "admin"), at(0))
        .unwrap()
        .unwrap();
    let bob = tx
        .insert_user(&user("bob", "admin"), at(0))
        .unwrap()
        .unwrap();
    let vera = tx
        .insert_user(&user("vera", "viewer"), at(0))
        .unwrap()
        .unwrap();
    assert_eq!(tx.enabled_admin_ids().unwrap(), [ada, bob]);
    for id in [bob, vera] {
        let (s, t) = access(id, 1);
        tx.insert_session(&s).unwrap();
        tx.insert_api_token(&t).unwrap();
    }
    assert!(tx.set_user_disabled(bob, Some(at(5))).unwrap());
    assert_eq!(
        tx.user_by_id(bob).unwrap().unwrap().disabled_at,
        Some(at(5))
    );
    assert_eq!(
        tx.enabled_admin_ids().unwrap(),
        [ada],
        "disabled admins do not count"
    );
    assert_eq!(tx.end_user_access(bob).unwrap(), 2, "a session and a token");
    assert_eq!(tx.session("sbob").unwrap(), None);
    assert!(
        tx.api_token_by_hash(&format!("t{bob}-1"))
            .unwrap()
            .is_none()
    );
    assert!(
        tx.session(&format!("s{vera}-1")).unwrap().is_some(),
        "others keep theirs"
    );
    assert!(tx.set_user_disabled(bob, None).unwrap());
    assert_eq!(tx.user_by_id(bob).unwrap().unwrap().disabled_at, None);
    assert!(tx.set_user_role(bob, "operator").unwrap());
    assert_eq!(tx.enabled_admin_ids().unwrap(), [ada]);
    assert!(tx.set_user_password(vera, "$argon2id$new").unwrap());
    assert_eq!(
        tx.user_by_id(vera).unwrap().unwrap().password_hash,
        "$argon2id$new"
    );
    assert!(tx.delete_user(vera).unwrap());
    assert!(tx.user_by_id(vera).unwrap().is_none());
    assert!(
        tx.api_token_by_hash(&format!("t{vera}-1"))
            .unwrap()
            .is_none()
    );
    assert!(tx.session(&format!("s{vera}-1")).unwrap().is_none());
    assert!(!tx.delete_user(vera).unwrap(), "already gone");
    assert!(!tx.set_user_role(9999, "admin").unwrap());
    tx.commit().unwrap();
}
