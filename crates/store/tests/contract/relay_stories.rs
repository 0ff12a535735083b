//! Relay agents: one-time enrollment tokens, unique names, presence owned by the instance
//! the relay is connected to, and the hub's outbox and inbox positions.

use identitymesh_store::{NewEnrollmentToken, NewRelay, RelayStatus, Store, StoreError, Tx};

use crate::fixtures::at;

fn committed<T>(store: &Store, step: impl FnOnce(&mut dyn Tx) -> T) -> T {
    let mut tx = store.begin().unwrap();
    let value = step(tx.as_mut());
    tx.commit().unwrap();
    value
}

fn token(name: &str, hash: &str, expires: i64) -> NewEnrollmentToken {
    NewEnrollmentToken {
        name: name.into(),
        token_hash: hash.into(),
        created_by: "user:ada".into(),
        created_at: at(0),
        expires_at: at(expires),
    }
}

fn relay(id: &str) -> NewRelay {
    NewRelay {
        id: id.into(),
        public_key: "k".repeat(43),
    }
}

pub fn enrollment_tokens_are_one_time_and_expire(store: &Store) {
    committed(store, |tx| {
        tx.insert_enrollment_token(&token("branch", "h1", 100))
            .unwrap();
        tx.insert_enrollment_token(&token("old", "h2", 5)).unwrap();
    });
    let enrolled = committed(store, |tx| {
        assert!(
            tx.enroll_relay("nope", &relay("r-0"), at(1))
                .unwrap()
                .is_none()
        );
        assert!(
            tx.enroll_relay("h2", &relay("r-0"), at(10))
                .unwrap()
                .is_none(),
            "expired"
        );
        tx.enroll_relay("h1", &relay("r-1"), at(10)).unwrap()
    });
    let enrolled = enrolled.expect("a fresh token enrolls");
    assert_eq!(
        (enrolled.status, enrolled.inbox_upto),
        (RelayStatus::Active, 0)
    );
    assert_eq!(enrolled.created_at, at(10));
    let again = committed(store, |tx| {
        tx.enroll_relay("h1", &relay("r-2"), at(11)).unwrap()
    });
    assert!(again.is_none(), "a used token enrolls nobody");
    // a second token with a name already taken enrolls nobody and says why
    committed(store, |tx| {
        tx.insert_enrollment_token(&token("branch", "h3", 100))
            .unwrap();
    });
    let mut tx = store.begin().unwrap();
    let taken = tx.enroll_relay("h3", &relay("r-3"), at(12)).unwrap_err();
    assert!(matches!(taken, StoreError::NameTaken { .. }), "{taken}");
    drop(tx);
    let tokens = committed(store, |tx| tx.enrollment_tokens().unwrap());
    let used = tokens.iter().find(|t| t.used_at.is_some()).unwrap();
    assert_eq!(tokens.iter().filter(|t| t.used_at.is_some()).count(), 1);
    assert_eq!(
        (used.used_at, used.relay_id.as_deref()),
        (Some(at(10)), Some("r-1"))
    );
    assert_eq!(committed(store, |tx| tx.relays().unwrap()).len(), 1);
}

pub fn relay_names_are_unique(store: &Store) {
    committed(store, |tx| {
        tx.insert_enrollment_token(&token("alpha", "ha", 100))
            .unwrap();
        tx.insert_enrollment_token(&token("beta", "hb", 100))
            .unwrap();
        tx.enroll_relay("ha", &relay("r-a"), at(1))
            .unwrap()
            .unwrap();
        tx.enroll_relay("hb", &relay("r-b"), at(1))
            .unwrap()
            .unwrap();
    });
    let mut tx = store.begin().unwrap();
    let taken = tx.rename_relay("r-b", "alpha").unwrap_err();
    assert!(matches!(taken, StoreError::NameTaken { .. }), "{taken}");
    drop(tx);
    committed(store, |tx| {
        assert!(tx.rename_relay("r-b", "gamma").unwrap());
        assert!(!tx.rename_relay("r-zz", "delta").unwrap());
        assert!(tx.set_relay_status("r-a", RelayStatus::Revoked).unwrap());
    });
    let relays = committed(store, |tx| tx.relays().unwrap());
    let names: Vec<_> = relays.iter().map(|r| (r.name.as_str(), r.status)).collect();
    assert_eq!(
        names,
        [
            ("alpha", RelayStatus::Revoked),
            ("gamma", RelayStatus::Active)
        ]
    );
}

pub fn presence_outbox_and_inbox(store: &Store) {
    committed(store, |tx| {
        tx.insert_enrollment_token(&token("p", "hp", 100)).unwrap();
        tx.enroll_relay("hp", &relay("r-p"), at(1))
            .unwrap()
            .unwrap();
        tx.relay_connected("r-p", "api-a", "host-1", "0.1.0", at(2))
            .unwrap();
        tx.relay_heartbeat("r-p", at(3)).unwrap();
        // an older connection's goodbye does not erase the newer presence
        tx.relay_disconnected("r-p", "api-b").unwrap();
    });
    let r = committed(store, |tx| tx.relay("r-p").unwrap().unwrap());
    assert_eq!(r.connected_instance.as_deref(), Some("api-a"));
    assert_eq!(
        (r.connected_since, r.last_heartbeat_at),
        (Some(at(2)), Some(at(3)))
    );
    assert_eq!(r.host.as_deref(), Some("host-1"));
    committed(store, |tx| tx.relay_disconnected("r-p", "api-a").unwrap());
    let r = committed(store, |tx| tx.relay("r-p").unwrap().unwrap());
    assert_eq!(r.connected_instance, None);

    let seqs = committed(store, |tx| {
        (1..=3)
            .map(|i| {
                tx.push_relay_outbox("r-p", &format!("frame {i}"), at(4))
                    .unwrap()
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(seqs, [1, 2, 3]);
    let (dropped, pending, next) = committed(store, |tx| {
        let dropped = tx.ack_relay_outbox("r-p", 2).unwrap();
        let pending = tx.relay_outbox("r-p").unwrap();
        let next = tx.push_relay_outbox("r-p", "frame 4", at(5)).unwrap();
        (dropped, pending, next)
    });
    assert_eq!((dropped, next), (2, 4));
    assert_eq!(pending, [(3, "frame 3".to_string())]);
    committed(store, |tx| {
        tx.relay_inbox_applied("r-p", 5).unwrap();
        tx.relay_inbox_applied("r-p", 3).unwrap();
    });
    assert_eq!(
        committed(store, |tx| tx.relay("r-p").unwrap().unwrap().inbox_upto),
        5
    );
}
