//! Per-item export: add, value-level modify, rename and move keeping the anchor (C-08),
//! delete; idempotent outcomes; a schema violation is a failure with its code.

use crate::harness::{ADMIN, ROOT_PW, SUFFIX, Slapd, import_all, open, person_config};
use identitymesh_connectors::{Connector, ImportRecord};
use identitymesh_domain::export::{
    AttributeChange, ExportItem, ExportOp, ExportOutcome, ExportReason, ExportState,
};
use identitymesh_domain::{Anchor, Attributes, ConnectorName, Value};

fn item(anchor: &Anchor, op: ExportOp) -> ExportItem {
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

fn person(uid: &str, sn: Option<&str>) -> Attributes {
    let mut a = Attributes::new();
    a.set_str("uid", uid);
    a.set_str("cn", format!("{uid} person"));
    if let Some(sn) = sn {
        a.set_str("sn", sn);
    }
    a.set("description", vec![Value::str("first")]);
    a
}

async fn apply_one(connector: &mut dyn Connector, item: ExportItem) -> ExportOutcome {
    let mut outcomes = connector.apply_exports(&[item]).await.unwrap();
    assert_eq!(outcomes.len(), 1);
    outcomes.remove(0)
}

fn applied(outcome: ExportOutcome) -> Anchor {
    match outcome {
        ExportOutcome::Applied { anchor } => anchor,
        other => panic!("expected applied, got {other:?}"),
    }
}

/// The entries as the connector imports them: (DN, anchor, attributes).
async fn entries(connector: &mut dyn Connector) -> Vec<(String, Anchor, Attributes)> {
    let (records, end) = import_all(connector, 100).await;
    assert!(end.complete, "{end:?}");
    records
        .into_iter()
        .map(|r| match r {
            ImportRecord::Upsert(o) => (o.name.unwrap(), o.anchor, o.attributes),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn c08_add_modify_move_delete_round_trip_keeps_the_anchor() {
    let Some(slapd) = Slapd::start(&[]) else {
        return;
    };
    slapd.ldapadd(
        ADMIN,
        &format!("dn: ou=Sales,{SUFFIX}\nobjectClass: organizationalUnit\nou: Sales\n\ndn: ou=Marketing,{SUFFIX}\nobjectClass: organizationalUnit\nou: Marketing\n\n"),
        false,
    );
    let mut dir = open(&person_config(&slapd.url(), ADMIN, SUFFIX, ""), ROOT_PW);
    let planned = Anchor::parse("planned-1").unwrap();
    let sales_dn = format!("uid=jdoe,ou=Sales,{SUFFIX}");

    // Add: the anchor reported is the server's entryUUID.
    let add = ExportOp::Add {
        name: Some(sales_dn.clone()),
        attributes: person("jdoe", Some("Doe")),
    };
    let anchor = applied(apply_one(dir.as_mut(), item(&planned, add.clone())).await);
    assert_ne!(anchor, planned);
    // Adding it again: "already exists" is looked up and linked to the same entry.
    assert_eq!(
        applied(apply_one(dir.as_mut(), item(&planned, add)).await),
        anchor
    );

    // Value-level modify: a value that exists and a value that is gone count as applied.
    let changes = vec![
        AttributeChange::AddValues {
            attribute: "description".into(),
            values: vec![Value::str("first"), Value::str("second")],
        },
        AttributeChange::RemoveValues {
            attribute: "description".into(),
            values: vec![Value::str("never-there")],
        },
        AttributeChange::Replace {
            attribute: "mail".into(),
            values: vec![Value::str("jdoe@example.test")],
        },
    ];
    let update = ExportOp::Update {
        changes,
        new_name: None,
    };
    assert_eq!(
        applied(apply_one(dir.as_mut(), item(&anchor, update)).await),
        anchor
    );

    // Move to Marketing (modrdn with newSuperior) with a changed description.
    let marketing_dn = format!("uid=jdoe,ou=Marketing,{SUFFIX}");
    let changes = vec![AttributeChange::RemoveValues {
        attribute: "description".into(),
        values: vec![Value::str("first")],
    }];
    let moved = ExportOp::Update {
        changes,
        new_name: Some(marketing_dn.clone()),
    };
    assert_eq!(
        applied(apply_one(dir.as_mut(), item(&anchor, moved)).await),
        anchor
    );

    let now = entries(dir.as_mut()).await;
    assert_eq!(now.len(), 1, "moved, not copied: {now:?}");
    let (dn, found, attributes) = &now[0];
    assert_eq!(
        (dn.as_str(), found),
        (marketing_dn.as_str(), &anchor),
        "the entryUUID survives the move"
    );
    assert_eq!(
        attributes.get("description").unwrap(),
        [Value::str("second")]
    );
    assert_eq!(
        attributes.first_text("mail").as_deref(),
        Some("jdoe@example.test")
    );

    // Rename in place.
    let renamed_dn = format!("uid=jdoe2,ou=Marketing,{SUFFIX}");
    let rename = ExportOp::Update {
        changes: vec![AttributeChange::Replace {
            attribute: "uid".into(),
            values: vec![Value::str("jdoe2")],
        }],
        new_name: Some(renamed_dn.clone()),
    };
    assert_eq!(
        applied(apply_one(dir.as_mut(), item(&anchor, rename)).await),
        anchor
    );
    let now = entries(dir.as_mut()).await;
    assert_eq!(
        (now[0].0.as_str(), &now[0].1),
        (renamed_dn.as_str(), &anchor)
    );

    // Delete, twice: the second finds nothing to delete and is applied.
    assert_eq!(
        applied(apply_one(dir.as_mut(), item(&anchor, ExportOp::Delete)).await),
        anchor
    );
    assert_eq!(
        applied(apply_one(dir.as_mut(), item(&anchor, ExportOp::Delete)).await),
        anchor
    );
    assert!(entries(dir.as_mut()).await.is_empty());
}

#[tokio::test]
async fn a_schema_violation_fails_with_its_result_code() {
    let Some(slapd) = Slapd::start(&[]) else {
        return;
    };
    let mut dir = open(&person_config(&slapd.url(), ADMIN, SUFFIX, ""), ROOT_PW);
    let planned = Anchor::parse("planned-2").unwrap();
    // inetOrgPerson requires sn.
    let add = ExportOp::Add {
        name: Some(format!("uid=nosn,ou=People,{SUFFIX}")),
        attributes: person("nosn", None),
    };
    match apply_one(dir.as_mut(), item(&planned, add)).await {
        ExportOutcome::Failed { message } => {
            assert!(
                message.contains("resultCode 65 (objectClassViolation)"),
                "{message}"
            );
        }
        other => panic!("a violation is never success: {other:?}"),
    }
    // Removing a required attribute from an existing entry: also a failure with its code.
    let add = ExportOp::Add {
        name: Some(format!("uid=ok,ou=People,{SUFFIX}")),
        attributes: person("ok", Some("Ok")),
    };
    let anchor = applied(apply_one(dir.as_mut(), item(&planned, add)).await);
    let clear = ExportOp::Update {
        changes: vec![AttributeChange::Clear {
            attribute: "sn".into(),
        }],
        new_name: None,
    };
    match apply_one(dir.as_mut(), item(&anchor, clear)).await {
        ExportOutcome::Failed { message } => {
            assert!(message.contains("resultCode 65"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // An update of an anchor that is not in the directory fails (nothing to change).
    let ghost = Anchor::parse("00000000-0000-0000-0000-000000000000").unwrap();
    let update = ExportOp::Update {
        changes: vec![AttributeChange::Clear {
            attribute: "mail".into(),
        }],
        new_name: None,
    };
    assert!(matches!(
        apply_one(dir.as_mut(), item(&ghost, update)).await,
        ExportOutcome::Failed { .. }
    ));
}

#[tokio::test]
async fn an_unreachable_server_is_an_export_error_not_an_outcome() {
    let Some(slapd) = Slapd::start(&[]) else {
        return;
    };
    let mut dir = open(&person_config(&slapd.url(), ADMIN, SUFFIX, ""), ROOT_PW);
    slapd.stop();
    let planned = Anchor::parse("planned-3").unwrap();
    let add = ExportOp::Add {
        name: Some(format!("uid=late,ou=People,{SUFFIX}")),
        attributes: person("late", Some("Late")),
    };
    let Err(err) = dir.apply_exports(&[item(&planned, add)]).await else {
        panic!("no outcome without a server");
    };
    assert!(err.to_string().contains(&slapd.url()), "{err}");
}
