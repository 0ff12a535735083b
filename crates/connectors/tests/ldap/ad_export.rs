//! Active Directory export against a real Samba DC: a user added with its initial password
//! over LDAPS can bind; disable/enable flips only bit 0x2 (C-36); `accountExpires` as
//! FILETIME; no password over plain LDAP; a 2,600-member group written in chunks (C-12).

use crate::ad_import::{item, upserts};
use crate::harness::import_all;
use crate::samba::{Kind, LDAP, LDAPS, Samba, ad_config, open_ad, pool_user};
use identitymesh_connectors::Connector;
use identitymesh_domain::export::{AttributeChange, ExportOp, ExportOutcome};
use identitymesh_domain::{Anchor, Attributes, Value};

const USER_PW: &str = "Initial-Pw-42x!";

fn uac_of(samba: &Samba, base: &str, sam: &str) -> i64 {
    let out = samba.search(
        base,
        &format!("(sAMAccountName={sam})"),
        &["userAccountControl"],
    );
    out.lines()
        .find_map(|l| l.strip_prefix("userAccountControl: "))
        .unwrap()
        .parse()
        .unwrap()
}

async fn apply(dir: &mut dyn Connector, anchor: &Anchor, op: ExportOp) -> ExportOutcome {
    dir.apply_exports(&[item(anchor, op)])
        .await
        .unwrap()
        .remove(0)
}

/// Applies and asserts the outcome is `Applied`.
async fn applied(dir: &mut dyn Connector, anchor: &Anchor, op: ExportOp) -> Anchor {
    match apply(dir, anchor, op).await {
        ExportOutcome::Applied { anchor } => anchor,
        other => panic!("expected applied, got {other:?}"),
    }
}

fn set_enabled(enabled: bool) -> ExportOp {
    ExportOp::Update {
        changes: vec![AttributeChange::Replace {
            attribute: "enabled".into(),
            values: vec![Value::Bool(enabled)],
        }],
        new_name: None,
    }
}

#[tokio::test]
async fn c36_user_added_with_password_over_ldaps_binds_and_disable_keeps_other_bits() {
    let Some(samba) = Samba::get() else {
        return;
    };
    let ou = samba.fresh_ou("Accounts");
    let extra = format!(
        "ca_file = \"{}\"\ninitial_password = \"secret\"",
        samba.ca_file.display()
    );
    let toml = ad_config(LDAPS, &ou, Kind::User, &extra);
    let mut dir = open_ad(&toml, &[("initial_password", USER_PW)]).unwrap();
    let mut attrs = Attributes::new();
    attrs.set_str("sAMAccountName", "jdoe");
    attrs.set_str("userPrincipalName", "jdoe@example.test");
    attrs.set("enabled", vec![Value::Bool(true)]);
    attrs.set("userAccountControl", vec![Value::Int(66048)]);
    attrs.set_str("accountExpires", "2030-01-01T00:00:00Z");
    let add = ExportOp::Add {
        name: Some(format!("CN=Jane Doe,{ou}")),
        attributes: attrs,
    };
    let planned = Anchor::parse("planned").unwrap();
    let anchor = applied(dir.as_mut(), &planned, add.clone()).await;
    assert_eq!(
        anchor.as_str(),
        samba.guid_text(&format!("CN=Jane Doe,{ou}"))
    );
    // A retried add ("already exists") is looked up and linked to the same objectGUID.
    assert_eq!(applied(dir.as_mut(), &planned, add).await, anchor);
    assert_eq!(uac_of(samba, &ou, "jdoe"), 66048);
    assert!(
        samba.can_bind("jdoe@example.test", USER_PW),
        "the initial password works"
    );
    assert!(!samba.can_bind("jdoe@example.test", "Wrong-Pw-42x!"));

    let (records, _) = import_all(dir.as_mut(), 10).await;
    let jdoe = upserts(records).remove(0);
    assert_eq!(jdoe.attributes.get("enabled").unwrap(), [Value::Bool(true)]);
    assert_eq!(
        jdoe.attributes.first_text("accountExpires").unwrap(),
        "2030-01-01T00:00:00Z"
    );

    // Disable: 66048 → 66050, the user can no longer bind; enable: back to 66048.
    applied(dir.as_mut(), &anchor, set_enabled(false)).await;
    assert_eq!(uac_of(samba, &ou, "jdoe"), 66050);
    assert!(
        !samba.can_bind("jdoe@example.test", USER_PW),
        "a disabled account cannot bind"
    );
    applied(dir.as_mut(), &anchor, set_enabled(true)).await;
    assert_eq!(uac_of(samba, &ou, "jdoe"), 66048);
    assert!(samba.can_bind("jdoe@example.test", USER_PW));

    // Clearing the expiry writes "never"; the import then shows no expiry.
    let clear = ExportOp::Update {
        changes: vec![AttributeChange::Clear {
            attribute: "accountExpires".into(),
        }],
        new_name: None,
    };
    applied(dir.as_mut(), &anchor, clear).await;
    let raw = samba.search(&ou, "(sAMAccountName=jdoe)", &["accountExpires"]);
    assert!(raw.contains("accountExpires: 9223372036854775807"), "{raw}");
    let (records, _) = import_all(dir.as_mut(), 10).await;
    assert!(
        upserts(records)[0]
            .attributes
            .get("accountExpires")
            .is_none()
    );

    // A generated password: the account is created enabled (the DC accepted the password).
    let generated = ad_config(
        LDAPS,
        &ou,
        Kind::User,
        &extra.replace("\"secret\"", "\"generate\""),
    );
    let mut gen_dir = open_ad(&generated, &[]).unwrap();
    let mut attrs = Attributes::new();
    attrs.set_str("sAMAccountName", "gen1");
    attrs.set("enabled", vec![Value::Bool(true)]);
    let add = ExportOp::Add {
        name: Some(format!("CN=gen1,{ou}")),
        attributes: attrs,
    };
    applied(gen_dir.as_mut(), &planned, add).await;
    assert_eq!(uac_of(samba, &ou, "gen1"), 512);
}

#[tokio::test]
async fn an_initial_password_is_refused_over_plain_ldap() {
    let Some(samba) = Samba::get() else {
        return;
    };
    let toml = ad_config(
        LDAP,
        "OU=Nowhere,DC=example,DC=test",
        Kind::User,
        "initial_password = \"secret\"",
    );
    let err = open_ad(&toml, &[("initial_password", USER_PW)])
        .err()
        .unwrap();
    assert!(
        err.contains("unicodePwd") && err.contains("LDAPS or StartTLS"),
        "{err}"
    );
    assert!(!err.contains(USER_PW), "{err}");
    let _ = samba;
}

#[tokio::test]
async fn c12_a_group_of_2600_members_is_written_in_chunks_and_read_back() {
    let Some(samba) = Samba::get() else {
        return;
    };
    samba.pool();
    let ou = samba.fresh_ou("BigGroups");
    let extra = format!(
        "ca_file = \"{}\"\nchunk_size = 1000",
        samba.ca_file.display()
    );
    let mut dir = open_ad(&ad_config(LDAPS, &ou, Kind::Group, &extra), &[]).unwrap();
    let members: Vec<Value> = (0..2_600).map(|i| Value::str(pool_user(i))).collect();
    let mut attrs = Attributes::new();
    attrs.set_str("sAMAccountName", "big-2600");
    attrs.set("member", members.clone());
    let add = ExportOp::Add {
        name: Some(format!("CN=big,{ou}")),
        attributes: attrs,
    };
    let anchor = match apply(dir.as_mut(), &Anchor::parse("p").unwrap(), add).await {
        ExportOutcome::Applied { anchor } => anchor,
        other => panic!("{other:?}"),
    };
    let read_members = |records| -> usize {
        upserts(records)[0]
            .attributes
            .get("member")
            .map_or(0, <[Value]>::len)
    };
    let (records, end) = import_all(dir.as_mut(), 10).await;
    assert!(end.complete, "{end:?}");
    assert_eq!(read_members(records), 2_600);

    // Retried chunks are idempotent (chunks of 20 here): adding 45 values already present,
    // and removing the last 50 twice, both apply, and the count is exact. (Samba refuses each
    // such chunk, so each value is retried alone: kept small, a linked-value modify of a
    // 2,600-member group costs Samba tens of milliseconds.)
    let small = extra.replace("chunk_size = 1000", "chunk_size = 20");
    let mut dir = open_ad(&ad_config(LDAPS, &ou, Kind::Group, &small), &[]).unwrap();
    let again = ExportOp::Update {
        changes: vec![AttributeChange::AddValues {
            attribute: "member".into(),
            values: members[..45].to_vec(),
        }],
        new_name: None,
    };
    applied(dir.as_mut(), &anchor, again).await;
    for _ in 0..2 {
        let remove = ExportOp::Update {
            changes: vec![AttributeChange::RemoveValues {
                attribute: "member".into(),
                values: members[2_550..].to_vec(),
            }],
            new_name: None,
        };
        applied(dir.as_mut(), &anchor, remove).await;
    }
    let (records, _) = import_all(dir.as_mut(), 10).await;
    assert_eq!(read_members(records), 2_550);
}
