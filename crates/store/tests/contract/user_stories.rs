//! Stories of the Admin API's users, sessions and API tokens (issue 5), and the run counts
//! its metrics read. Only hashes pass through the store; these stories use stand-ins.

use identitymesh_domain::run::{RunProfile, RunStats, RunStatus};
use identitymesh_store::{NewApiToken, NewUser, SessionRecord, Store};

use crate::fixtures::at;

fn new_user(name: &str, role: &str) -> NewUser {
    NewUser {
        name: name.into(),
        role: role.into(),
        password_hash: format!("$argon2id$stand-in-for-{name}"),
    }
}

pub fn users_sessions_tokens(store: &Store) {
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.count_users().unwrap(), 0);
    let alice = tx
        .insert_user(&new_user("alice", "admin"), at(1))
        .unwrap()
        .unwrap();
    let bob = tx
        .insert_user(&new_user("bob", "viewer"), at(2))
        .unwrap()
        .unwrap();
    assert_eq!(
        tx.insert_user(&new_user("alice", "viewer"), at(3)).unwrap(),
        None,
        "a taken name is refused without an error"
    );
    assert_eq!(tx.count_users().unwrap(), 2);
    let got = tx.user_by_name("alice").unwrap().unwrap();
    assert_eq!(
        (got.id, got.role.as_str(), got.created_at),
        (alice, "admin", at(1))
    );
    assert!(
        !format!("{got:?}").contains("stand-in"),
        "Debug hides the hash"
    );
    assert_eq!(tx.user_by_id(bob).unwrap().unwrap().name, "bob");
    assert_eq!(tx.user_by_name("carol").unwrap(), None);
    let names: Vec<String> = tx.users().unwrap().into_iter().map(|u| u.name).collect();
    assert_eq!(names, ["alice", "bob"]);

    let session = SessionRecord {
        id_hash: "h1".into(),
        user_id: alice,
        created_at: at(10),
        last_seen_at: at(10),
        expires_at: at(20),
    };
    tx.insert_session(&session).unwrap();
    tx.insert_session(&SessionRecord {
        id_hash: "h2".into(),
        expires_at: at(40),
        ..session.clone()
    })
    .unwrap();
    tx.touch_session("h1", at(12)).unwrap();
    assert_eq!(tx.session("h1").unwrap().unwrap().last_seen_at, at(12));
    assert_eq!(tx.delete_expired_sessions(at(30)).unwrap(), 1);
    assert_eq!(tx.session("h1").unwrap(), None);
    assert!(tx.delete_session("h2").unwrap());
    assert!(!tx.delete_session("h2").unwrap());

    let token = NewApiToken {
        name: "ci".into(),
        user_id: bob,
        role: "viewer".into(),
        token_hash: "t1".into(),
        created_at: at(5),
        expires_at: at(50),
    };
    let id = tx.insert_api_token(&token).unwrap();
    let got = tx.api_token_by_hash("t1").unwrap().unwrap();
    assert_eq!((got.id, got.user_id, got.expires_at), (id, bob, at(50)));
    assert_eq!(tx.api_tokens().unwrap().len(), 1);
    assert!(tx.delete_api_token(id).unwrap());
    assert_eq!(tx.api_token_by_hash("t1").unwrap(), None);
    tx.commit().unwrap();
}

pub fn run_status_counts(store: &Store) {
    let mut tx = store.begin().unwrap();
    assert!(tx.run_status_counts().unwrap().is_empty());
    for (i, status) in [
        RunStatus::Completed,
        RunStatus::Completed,
        RunStatus::Failed,
    ]
    .into_iter()
    .enumerate()
    {
        let id = tx
            .start_run("hr", RunProfile::FullImport, false, "test", at(i as i64))
            .unwrap();
        tx.finish_run(id, status, &RunStats::default(), None, at(i as i64 + 1))
            .unwrap();
    }
    let counts = tx.run_status_counts().unwrap();
    assert_eq!(
        counts,
        vec![("completed".to_owned(), 2), ("failed".to_owned(), 1)]
    );
}
