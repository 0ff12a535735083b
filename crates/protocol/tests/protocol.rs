//! The wire protocol from the outside: every message round-trips, and every kind of bad
//! frame is refused with the error that names it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use identitymesh_domain::export::ExportOutcome;
use identitymesh_domain::staged::ImportedObject;
use identitymesh_domain::value::{Attributes, Value};
use identitymesh_domain::watermark::Watermark;
use identitymesh_domain::{Anchor, ConnectorName};
use identitymesh_protocol::*;
use proptest::prelude::*;

fn hello(min: u32, max: u32) -> Hello {
    Hello {
        min_version: min,
        max_version: max,
        agent_version: "identitymesh 0.1.0".into(),
        host: "relay-1.branch.example".into(),
        relay_id: None,
    }
}

fn person(anchor: &str, name: &str) -> ImportedObject {
    let mut attributes = Attributes::new();
    attributes.set("cn", vec![Value::str(name)]);
    attributes.set("objectGUID", vec![Value::Bytes(vec![0, 1, 2, 255])]);
    ImportedObject {
        object_type: "person".into(),
        anchor: Anchor::parse(anchor).unwrap(),
        name: Some(format!("cn={name},ou=People,dc=example,dc=test")),
        attributes,
    }
}

fn connector() -> ConnectorName {
    ConnectorName::parse("branch-ldap").unwrap()
}

fn every_message() -> Vec<Frame> {
    let watermark = Watermark {
        format: 2,
        source_id: "ldap://branch".into(),
        position: "cookie-1".into(),
    };
    vec![
        Frame::control(Message::Hello(hello(1, 1))),
        Frame::control(Message::Enroll(Enroll {
            token: EnrollmentToken("imr_enroll_secret".into()),
            public_key: "A".repeat(43),
            name: "branch office".into(),
        })),
        Frame::control(Message::Challenge(Challenge {
            nonce: "n".into(),
            version: 1,
            relay_id: Some("r-1".into()),
        })),
        Frame::control(Message::Proof(Proof {
            relay_id: "r-1".into(),
            signature: "sig".into(),
            received_upto: 3,
        })),
        Frame::control(Message::Welcome(Welcome {
            relay_id: "r-1".into(),
            connectors: vec!["branch-ldap".into()],
            heartbeat_seconds: 15,
            received_upto: 9,
        })),
        Frame::control(Message::Refused(Refusal {
            code: RefusalCode::Revoked,
            message: "revoked".into(),
        })),
        Frame::control(Message::Refused(Refusal {
            code: RefusalCode::LicenseLimit,
            message: "the license allows 1 relay_agents".into(),
        })),
        Frame::control(Message::Ping(Heartbeat { at_ms: 1 })),
        Frame::control(Message::Pong(Heartbeat { at_ms: 1 })),
        Frame::control(Message::Ack(Ack { upto: 4 })),
        Frame::control(Message::Credit(Credit {
            run_id: 7,
            batches: 4,
        })),
        Frame::reliable(
            1,
            Message::Command(Command::SyncTrigger {
                connector: connector(),
            }),
        ),
        Frame::reliable(
            2,
            Message::Command(Command::RunImport(ImportRequest {
                run_id: 7,
                connector: connector(),
                mode: ImportRequestMode::Delta {
                    watermark: watermark.clone(),
                },
                batch_size: 500,
            })),
        ),
        Frame::reliable(
            3,
            Message::Command(Command::ConfigReload(ConfigReload {
                version: 4,
                config_toml: "[mesh.person]\n".into(),
                connectors: vec![connector()],
            })),
        ),
        Frame::reliable(4, Message::Command(Command::CancelImport { run_id: 7 })),
        Frame::reliable(
            1,
            Message::ImportStarted(ImportStarted {
                run_id: 7,
                shape: WireImportShape::Full,
                source_id: "ldap://branch".into(),
            }),
        ),
        Frame::reliable(
            2,
            Message::ImportBatch(ImportBatch {
                run_id: 7,
                index: 0,
                records: vec![
                    WireRecord::Upsert(person("1001", "Ada")),
                    WireRecord::Delete {
                        object_type: "person".into(),
                        anchor: Anchor::parse("1002").unwrap(),
                    },
                ],
            }),
        ),
        Frame::reliable(
            3,
            Message::ImportFinished(ImportFinished {
                run_id: 7,
                batches: 1,
                end: WireImportEnd {
                    complete: true,
                    failed: false,
                    reason: None,
                    watermark: Some(watermark),
                },
            }),
        ),
        Frame::reliable(
            4,
            Message::ExportResults(ExportResults {
                run_id: 8,
                connector: connector(),
                results: vec![ExportResult {
                    item_id: 3,
                    outcome: ExportOutcome::Failed {
                        message: "busy".into(),
                    },
                }],
            }),
        ),
        Frame::reliable(
            5,
            Message::CommandFailed(CommandFailed {
                command_seq: 2,
                message: "unknown connector".into(),
            }),
        ),
        Frame::reliable(
            6,
            Message::ChangeNotice(ChangeNotice {
                connector: connector(),
            }),
        ),
    ]
}

#[test]
fn every_message_round_trips() {
    for frame in every_message() {
        let text = frame.encode();
        assert_eq!(Frame::decode(&text).unwrap(), frame, "{text}");
    }
}

#[test]
fn directions_are_disjoint_where_they_must_be() {
    for frame in every_message() {
        let m = &frame.message;
        assert!(m.sent_by_relay() || m.sent_by_hub(), "{}", m.name());
        if m.is_reliable() {
            assert!(m.sent_by_relay() != m.sent_by_hub(), "{}", m.name());
        }
    }
}

#[test]
fn the_license_limit_refusal_is_spelled_license_limit() {
    let json = serde_json::to_string(&RefusalCode::LicenseLimit).unwrap();
    assert_eq!(json, "\"license_limit\"");
}

#[test]
fn a_newer_version_is_refused_before_its_body_is_read() {
    let err = Frame::decode(r#"{"v":2,"type":"teleport","body":{}}"#).unwrap_err();
    assert!(matches!(
        err,
        ProtocolError::Version {
            got: 2,
            min: 1,
            max: 1
        }
    ));
    assert!(err.to_string().contains("upgrade"), "{err}");
    let refusal = negotiate(&hello(2, 3)).unwrap_err();
    assert_eq!(refusal.code, RefusalCode::VersionMismatch);
    assert_eq!(negotiate(&hello(1, 5)).unwrap(), 1);
}

#[test]
fn unknown_types_fields_and_bad_values_are_malformed() {
    let bad = [
        r#"{"v":1,"type":"teleport","body":{}}"#,
        r#"{"v":1,"type":"ping","body":{"at_ms":1,"extra":true}}"#,
        r#"{"v":1,"type":"ping","body":{"at_ms":1},"extra":1}"#,
        r#"{"v":1,"type":"ping","body":{"at_ms":"soon"}}"#,
        r#"{"type":"ping","body":{"at_ms":1}}"#,
        "not json",
        "",
    ];
    for text in bad {
        assert!(
            matches!(Frame::decode(text), Err(ProtocolError::Malformed(_))),
            "{text}"
        );
    }
    let zero_batch = r#"{"v":1,"seq":1,"type":"command","body":{"kind":"run_import","run_id":1,"connector":"hr","mode":{"mode":"full"},"batch_size":0}}"#;
    assert!(matches!(
        Frame::decode(zero_batch),
        Err(ProtocolError::Invalid {
            field: "batch_size",
            ..
        })
    ));
    let bad_key = r#"{"v":1,"type":"enroll","body":{"token":"t","public_key":"short","name":"x"}}"#;
    assert!(matches!(
        Frame::decode(bad_key),
        Err(ProtocolError::Invalid {
            field: "public_key",
            ..
        })
    ));
}

#[test]
fn sequencing_rules_are_enforced() {
    let unsequenced_command =
        r#"{"v":1,"type":"command","body":{"kind":"cancel_import","run_id":1}}"#;
    let zero = r#"{"v":1,"seq":0,"type":"command","body":{"kind":"cancel_import","run_id":1}}"#;
    let sequenced_ping = r#"{"v":1,"seq":3,"type":"ping","body":{"at_ms":1}}"#;
    for text in [unsequenced_command, zero, sequenced_ping] {
        assert!(
            matches!(Frame::decode(text), Err(ProtocolError::Sequencing { .. })),
            "{text}"
        );
    }
}

#[test]
fn an_oversized_frame_is_refused_unread() {
    let text = format!(
        r#"{{"v":1,"type":"ping","body":{{"at_ms":1}},"pad":"{}"}}"#,
        "x".repeat(MAX_FRAME_BYTES)
    );
    assert!(matches!(
        Frame::decode(&text),
        Err(ProtocolError::TooLarge { .. })
    ));
}

#[test]
fn the_enrollment_token_never_shows_in_debug() {
    let frame = &every_message()[1];
    let shown = format!("{frame:?}");
    assert!(!shown.contains("imr_enroll_secret"), "{shown}");
    assert!(shown.contains("***"));
}

#[test]
fn the_challenge_payload_binds_relay_origin_and_nonce() {
    let a = challenge_payload("r-1", "https://hub.example", "nonce");
    assert_ne!(a, challenge_payload("r-2", "https://hub.example", "nonce"));
    assert_ne!(
        a,
        challenge_payload("r-1", "https://other.example", "nonce")
    );
    assert_ne!(a, challenge_payload("r-1", "https://hub.example", "nonce2"));
    // length prefixes: moving a byte between fields changes the payload
    assert_ne!(
        challenge_payload("r-1x", "y", "n"),
        challenge_payload("r-1", "xy", "n")
    );
}

proptest! {
    /// The decoder's fuzz property, in the test suite: no input panics it.
    #[test]
    fn decode_never_panics_on_arbitrary_text(text in ".{0,400}") {
        let _ = Frame::decode(&text);
    }

    /// Nor does any mutation of a valid frame: each byte position replaced.
    #[test]
    fn decode_never_panics_on_mutated_frames(which in 0usize..20, at in 0usize..2000, byte in any::<u8>()) {
        let frames = every_message();
        let mut bytes = frames[which % frames.len()].encode().into_bytes();
        let at = at % bytes.len();
        bytes[at] = byte;
        if let Ok(text) = String::from_utf8(bytes) {
            let _ = Frame::decode(&text);
        }
    }

    /// Import batches of any content round-trip exactly.
    #[test]
    fn import_batches_round_trip(names in proptest::collection::vec("[^\u{0}]{0,20}", 0..20), seq in 1u64..u64::MAX) {
        let records = names
            .iter()
            .enumerate()
            .map(|(i, n)| WireRecord::Upsert(person(&format!("a{i}"), n)))
            .collect();
        let frame = Frame::reliable(seq, Message::ImportBatch(ImportBatch { run_id: 1, index: 0, records }));
        prop_assert_eq!(Frame::decode(&frame.encode()).unwrap(), frame);
    }
}
